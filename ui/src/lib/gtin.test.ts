import { describe, expect, it } from 'vitest';
import { checkDigit, checkGtin, demoBarcode, ean13, looksLikeBarcode } from './gtin';
import { weightLabel } from './register.svelte';

describe('GTIN check digits (same results as pos-core)', () => {
  it('known codes validate, a changed digit is caught with the expected digit', () => {
    for (const c of ['4006381333931', '73513537', '036000291452', '10012345678902', '4901234567894']) {
      expect(checkGtin(c), c).toEqual({ ok: true });
    }
    expect(checkGtin('4006381333932')).toEqual({ ok: false, expected: 1, found: 2 });
    expect(checkDigit('840000000001')).toBe(7);
  });

  it('the register demo scheme: 84 + index in Spain, 45/49 by parity in Japan', () => {
    expect(demoBarcode('ES', 1)).toBe('8400000000017');
    expect(demoBarcode('ES', 2)).toBe('8400000000024');
    expect(demoBarcode('JP', 1)).toBe('4500000000018');
    expect(demoBarcode('JP', 2)).toBe('4900000000023');
  });

  it('a code typed in the search field is a scan only when it looks like a barcode', () => {
    expect(looksLikeBarcode('8400000000017')).toBe(true);
    expect(looksLikeBarcode(' 73513537 ')).toBe(true);
    expect(looksLikeBarcode('1234567')).toBe(false); // 7 digits: a search
    expect(looksLikeBarcode('123456789012345')).toBe(false); // 15 digits
    expect(looksLikeBarcode('leche')).toBe(false);
    expect(looksLikeBarcode('SKU-00012')).toBe(false);
  });

  it('a scale label carries the grams in a weight-prefixed code, with its own check digit', () => {
    const key = ean13('250000100000');
    expect(weightLabel(key, 350)).toBe('2500001003508');
    expect(weightLabel(key, 99_999)).toBe(ean13('250000199999'));
    expect(weightLabel(key, 100_000)).toBeNull(); // five digits only
    expect(weightLabel('8400000000017', 350)).toBeNull(); // not a scale-keyed item
    expect(weightLabel(null, 350)).toBeNull();
  });
});
