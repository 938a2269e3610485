import { describe, expect, it } from 'vitest';
import { formatDate, formatMinor, minorToDecimal, parseAmount } from './format';

/** Intl puts a no-break space before € in Spanish; compare with plain spaces. */
const plain = (s: string) => s.replace(/\u00a0|\u202f/g, ' ');

describe('money formatting', () => {
  it('euro in Spanish: comma decimals, symbol after', () => {
    expect(plain(formatMinor(2304, 'EUR', 'es'))).toBe('23,04 €');
    expect(plain(formatMinor(2197, 'EUR', 'es'))).toBe('21,97 €');
    expect(plain(formatMinor(5, 'EUR', 'es'))).toBe('0,05 €');
    expect(plain(formatMinor(123456, 'EUR', 'es'))).toBe('1234,56 €');
    expect(plain(formatMinor(12345678, 'EUR', 'es'))).toBe('123.456,78 €');
    expect(plain(formatMinor(-203, 'EUR', 'es'))).toBe('-2,03 €');
  });

  it('euro in English and Japanese', () => {
    expect(formatMinor(2304, 'EUR', 'en')).toBe('€23.04');
    expect(formatMinor(2304, 'EUR', 'ja')).toBe('€23.04');
  });

  it('yen has no decimals: ¥1,270 in English, 1,270円 in Japanese', () => {
    expect(formatMinor(1270, 'JPY', 'en')).toBe('¥1,270');
    expect(formatMinor(1270, 'JPY', 'ja')).toBe('1,270円');
    expect(formatMinor(0, 'JPY', 'ja')).toBe('0円');
    expect(formatMinor(1234567, 'JPY', 'ja')).toBe('1,234,567円');
  });

  it('is exact for large amounts (no floating point)', () => {
    expect(minorToDecimal(999_999_999_999_99, 2)).toBe('999999999999.99');
    expect(formatMinor(999_999_999_999_99, 'EUR', 'en')).toBe('€999,999,999,999.99');
    expect(minorToDecimal(7, 2)).toBe('0.07');
    expect(minorToDecimal(-7, 2)).toBe('-0.07');
  });

  it('parses typed cash amounts into minor units', () => {
    expect(parseAmount('20', 'EUR')).toBe(2000);
    expect(parseAmount('20,5', 'EUR')).toBe(2050);
    expect(parseAmount('20.05', 'EUR')).toBe(2005);
    expect(parseAmount('20,055', 'EUR')).toBeNull();
    expect(parseAmount('5000', 'JPY')).toBe(5000);
    expect(parseAmount('50.5', 'JPY')).toBeNull();
    expect(parseAmount('abc', 'EUR')).toBeNull();
  });
});

describe('dates', () => {
  const d = new Date(2026, 10, 22, 14, 5);
  it('Spanish dd/mm/yyyy, Japanese yyyy年m月d日', () => {
    expect(formatDate(d, 'es')).toBe('22/11/2026');
    expect(formatDate(d, 'ja')).toBe('2026年11月22日');
    expect(formatDate(d, 'en')).toBe('Nov 22, 2026');
  });
});
