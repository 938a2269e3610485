/**
 * GS1 check digits (EAN-8/13, UPC-A, GTIN-14) and the "looks like a barcode" rule the search
 * field uses. Mirrors pos-core's `gtin` module; the fake backend and the UI share it.
 */

/** GS1 mod-10 check digit of the digits before the check digit. */
export function checkDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const d = body.charCodeAt(body.length - 1 - i) - 48;
    sum += d * (i % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}

/** Appends the check digit to a 12-digit body. */
export function ean13(body12: string): string {
  if (!/^\d{12}$/.test(body12)) throw new Error(`EAN-13 body must be 12 digits: ${body12}`);
  return body12 + checkDigit(body12);
}

export type GtinCheck = { ok: true } | { ok: false; expected: number; found: number };

/** Checks the check digit of an all-digit code of GTIN length (8, 12, 13, 14). */
export function checkGtin(code: string): GtinCheck {
  const body = code.slice(0, -1);
  const expected = checkDigit(body);
  const found = Number(code[code.length - 1]);
  return expected === found ? { ok: true } : { ok: false, expected, found };
}

export function isGtinShaped(code: string): boolean {
  return /^\d+$/.test(code) && [8, 12, 13, 14].includes(code.length);
}

/**
 * A code typed by hand into the search field is taken as a scan when it looks like a barcode:
 * all digits, 8 to 14 long. Anything else is a search.
 */
export function looksLikeBarcode(text: string): boolean {
  return /^\d{8,14}$/.test(text.trim());
}

/**
 * The barcode of the `i`th product of the register's demo catalog (pos-store's `demo.rs`):
 * a GS1 prefix of the country (84 Spain; 45 or 49 Japan by odd/even index; 07 USA), the index
 * in 10 digits, the check digit. The developer panel and the fake catalog use the same scheme.
 */
export function demoBarcode(country: string, i: number): string {
  const prefix = country === 'JP' ? (i % 2 === 0 ? '49' : '45') : country === 'US' ? '07' : '84';
  return ean13(prefix + String(i).padStart(10, '0'));
}
