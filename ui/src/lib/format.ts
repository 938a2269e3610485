/**
 * Money and date formatting per UI language. Money is always in the STORE's currency (the
 * language never changes it); amounts arrive as integer minor units and are formatted from a
 * decimal string, never through floating-point arithmetic.
 */
import type { MoneyDto } from './bindings';

export type UiLocale = 'en' | 'es' | 'ja';

/** BCP 47 tags used for Intl per UI language. */
export const INTL_TAG: Record<UiLocale, string> = { en: 'en-US', es: 'es-ES', ja: 'ja-JP' };

const DIGITS: Record<string, number> = { JPY: 0, KRW: 0, EUR: 2, USD: 2, GBP: 2 };

/** Minor-unit exponent of a currency (0 for JPY, 2 for EUR). */
export function currencyDigits(currency: string): number {
  const known = DIGITS[currency];
  if (known !== undefined) return known;
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
    .maximumFractionDigits ?? 2;
}

/** Exact decimal string of minor units: (2197, 2) → "21.97", (-5, 2) → "-0.05". */
export function minorToDecimal(minor: number, digits: number): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not a safe integer: ${minor}`);
  const neg = minor < 0;
  const s = Math.abs(minor).toString().padStart(digits + 1, '0');
  const out = digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  return neg ? `-${out}` : out;
}

const cache = new Map<string, Intl.NumberFormat>();
function numberFormat(locale: UiLocale, currency: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let f = cache.get(key);
  if (!f) {
    const digits = currencyDigits(currency);
    f = new Intl.NumberFormat(INTL_TAG[locale], {
      style: 'currency',
      currency,
      currencyDisplay: 'narrowSymbol',
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    cache.set(key, f);
  }
  return f;
}

/**
 * Formats an amount of the store's currency in the UI language: es `23,04 €`, en `€23.04`,
 * en `¥1,270`, ja `1,270円` (the form Japanese registers and receipts print).
 */
export function formatMoney(m: MoneyDto, locale: UiLocale): string {
  return formatMinor(m.minor, m.currency, locale);
}

export function formatMinor(minor: number, currency: string, locale: UiLocale): string {
  const digits = currencyDigits(currency);
  const dec = minorToDecimal(minor, digits);
  const f = numberFormat(locale, currency);
  // Intl accepts decimal strings exactly (ES2023 Intl.NumberFormat v3).
  const asNumber = dec as unknown as number;
  if (locale === 'ja' && currency === 'JPY') {
    const parts = f.formatToParts(asNumber);
    const num = parts
      .filter((p) => p.type !== 'currency' && p.type !== 'literal')
      .map((p) => p.value)
      .join('');
    return `${num}円`;
  }
  return f.format(asNumber);
}

/** A plain number in the UI language (quantities, stock). */
export function formatNumber(n: number, locale: UiLocale, fractionDigits = 0): string {
  return new Intl.NumberFormat(INTL_TAG[locale], {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  }).format(n);
}

/** Grams as kilograms with three decimals: 350 → es "0,350 kg". */
export function formatWeight(grams: number, locale: UiLocale): string {
  return `${formatNumber(grams / 1000, locale, 3)} kg`;
}

/** Date per language: es 22/11/2026, ja 2026年11月22日, en Nov 22, 2026. */
export function formatDate(d: Date, locale: UiLocale): string {
  if (locale === 'es') {
    return new Intl.DateTimeFormat('es-ES', { day: '2-digit', month: '2-digit', year: 'numeric' }).format(d);
  }
  return new Intl.DateTimeFormat(INTL_TAG[locale], { dateStyle: locale === 'ja' ? 'long' : 'medium' }).format(d);
}

/** Time of day, 24 h in es and ja: 14:32. */
export function formatTime(d: Date, locale: UiLocale): string {
  return new Intl.DateTimeFormat(INTL_TAG[locale], { hour: '2-digit', minute: '2-digit' }).format(d);
}

export function formatDateTime(d: Date, locale: UiLocale): string {
  return `${formatDate(d, locale)} ${formatTime(d, locale)}`;
}

/** Parses what a cashier typed as an amount ("20", "20,50", "20.5") into minor units. */
export function parseAmount(text: string, currency: string): number | null {
  const digits = currencyDigits(currency);
  const t = text.trim().replace(/\s/g, '');
  const m = /^(\d{1,12})(?:[.,](\d*))?$/.exec(t);
  if (!m) return null;
  const frac = (m[2] ?? '');
  if (frac.length > digits) return null;
  return Number(m[1]) * 10 ** digits + (frac ? Number(frac.padEnd(digits, '0')) : 0);
}
