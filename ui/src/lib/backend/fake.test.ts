import { describe, expect, it } from 'vitest';
import { checkDigit, demoBarcode } from '../gtin';
import { fixtureBarcodes } from './fake-catalog';
import { FakeRegister, FIXTURE_BARCODES } from './fake';

async function rejects(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    return e as { code: string; params: Record<string, string> };
  }
  throw new Error('expected a refusal');
}

describe('the fake register (a test double that must stay honest)', () => {
  it('fixtures carry real EAN-13 check digits and the catalog is deterministic', () => {
    expect(FIXTURE_BARCODES.milk).toBe('8400000000017');
    expect(FIXTURE_BARCODES.tshirt).toBe('8400000000024');
    expect(fixtureBarcodes('jp').milk).toBe('4500000000018');
    expect(fixtureBarcodes('jp').tshirt).toBe('4900000000023');
    // The same scheme as the register's demo catalog: product i has demoBarcode(country, i).
    const jp = new FakeRegister({ store: 'jp' }).catalog;
    expect(jp.find((p) => p.sku === 'SKU-00001')?.barcode).toBe(demoBarcode('JP', 8));
    const a = new FakeRegister().catalog;
    const b = new FakeRegister().catalog;
    expect(a.map((p) => p.barcode)).toEqual(b.map((p) => p.barcode));
    expect(a.length).toBeGreaterThan(300);
    for (const p of a) expect(Number(p.barcode[12])).toBe(checkDigit(p.barcode.slice(0, 12)));
    expect(new Set(a.map((p) => p.barcode)).size).toBe(a.length);
  });

  it('Spain: IVA per rate, tax-inclusive, half up once per rate', async () => {
    const r = new FakeRegister();
    await r.login('1234');
    await r.scan(FIXTURE_BARCODES.milk);
    await r.scan(FIXTURE_BARCODES.milk);
    const s = await r.scan(FIXTURE_BARCODES.tshirt);
    expect(s.total.minor).toBe(2197);
    expect(s.taxes.map((t) => [t.label, t.tax.minor, t.net.minor])).toEqual([
      ['21%', 347, 1652],
      ['4%', 8, 190],
    ]);
  });

  it('Japan: tax rounded down once per rate (the LOCALE.md worked shape)', async () => {
    const r = new FakeRegister({ store: 'jp' });
    await r.login('1234');
    // 8 % items totalling ¥644 → ⌊644 × 8 / 108⌋ = 47; 10 % items ¥626 → ⌊626 × 10 / 110⌋ = 56
    const p8 = r.catalog.find((p) => p.tax.bps === 800 && !p.byWeight)!;
    const p10 = r.catalog.find((p) => p.tax.bps === 1000)!;
    p8.price = 322;
    p10.price = 313;
    await r.scan(p8.barcode);
    await r.scan(p8.barcode);
    await r.scan(p10.barcode);
    const s = await r.scan(p10.barcode);
    expect(s.taxes.map((t) => [t.label, t.gross.minor, t.tax.minor])).toEqual([
      ['10%', 626, 56],
      ['8%', 644, 47],
    ]);
  });

  it('refusals change nothing: bad codes, quantities, payment in progress', async () => {
    const r = new FakeRegister();
    await r.login('1234');
    const s1 = await r.scan(FIXTURE_BARCODES.tshirt);
    expect((await rejects(r.scan('8400000000018'))).params).toEqual({ expected: '7', found: '8' });
    expect((await rejects(r.scan('8499999999990'))).code).toBe('scan.unknown_code');
    expect((await rejects(r.setQuantity(s1.lines[0].id, 0))).code).toBe('cart.quantity_out_of_range');
    expect((await rejects(r.setQuantity(s1.lines[0].id, 10_000))).params.max).toBe('9999');
    await r.startPayment();
    expect((await rejects(r.scan(FIXTURE_BARCODES.milk))).code).toBe('sale.payment_in_progress');
    const now = await r.currentSale();
    expect(now.lines.map((l) => [l.sku, l.quantity])).toEqual(s1.lines.map((l) => [l.sku, l.quantity]));
    expect(now.total).toEqual(s1.total);
  });

  it('cash: change, partial tender, completion with a receipt and a fresh sale', async () => {
    const r = new FakeRegister();
    await r.login('1234');
    await r.scan(FIXTURE_BARCODES.tshirt);
    await r.startPayment();
    const part = await r.pay('cash', 1000);
    expect(part.completed).toBeNull();
    expect(part.sale.payment.remaining.minor).toBe(999);
    expect((await rejects(r.cancelPayment())).code).toBe('pay.tenders_taken');
    const done = await r.pay('cash', 2000);
    expect(done.completed?.change.minor).toBe(1001);
    expect(done.completed?.receiptNumber).toBe('T02-000001');
    expect(done.sale.lines).toEqual([]);
    expect((await r.lastReceipt())?.lines.join('\n')).toContain('Camiseta azul M');
  });

  it('five wrong PINs lock the login for five minutes', async () => {
    let now = new Date('2026-11-22T10:00:00Z');
    const r = new FakeRegister({ now: () => now });
    for (let left = 4; left >= 1; left--) {
      expect((await rejects(r.login('0001'))).params.attemptsLeft).toBe(String(left));
    }
    const locked = await rejects(r.login('0001'));
    expect(locked.code).toBe('auth.locked');
    expect(locked.params.until).toBe('2026-11-22T10:05:00.000Z');
    expect((await rejects(r.login('1234'))).code).toBe('auth.locked');
    now = new Date('2026-11-22T10:05:01Z');
    expect((await r.login('1234')).user.name).toBe('Ana');
  });

  it('an amount that would overflow a sale is refused and the cart is unchanged', async () => {
    const r = new FakeRegister();
    await r.login('1234');
    const p = r.catalog.find((x) => x.variantId === 'v-wine')!;
    p.price = 1_000_000_000_000; // 10 000 000 000,00 € a bottle
    const s = await r.scan(p.barcode);
    const line = s.lines[0];
    const e = await rejects(r.setQuantity(line.id, 11)); // 1,1 × 10^13 minor units > the limit
    expect(e.code).toBe('cart.overflow');
    const now = await r.currentSale();
    expect(now.lines[0].quantity).toBe(1);
    expect(now.total.minor).toBe(1_000_000_000_000);
  });

  it('a by-weight product added without a weight is refused, naming the product', async () => {
    const r = new FakeRegister();
    await r.login('1234');
    const e = await rejects(r.addProduct('v-apples'));
    expect(e.code).toBe('cart.needs_weight');
    expect(e.params.product).toBe('Manzanas Golden');
    // The scale's label carries the grams: 25 00001 00350 C.
    const s = await r.scan('2500001003508');
    expect(s.lines[0].quantity).toBe(350);
    expect(s.lines[0].amount.minor).toBe(87);
  });
});
