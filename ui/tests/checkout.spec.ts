import { expect, test, type Page } from '@playwright/test';
import { lines, loggedIn, MILK, open, scanBurst, tapPin, TSHIRT } from './helpers';

// Discounts, price overrides, voids, park and resume, a typed weight and a reprinted copy, in
// the Spanish store (the UI starts in Spanish) against the in-browser fake register, which
// mirrors the register's permission rules: a cashier (Ana, 1234) needs a manager (Marta, 9999)
// to approve discounts, overrides and voiding the sale; a manager needs nobody.

async function audit(page: Page): Promise<{ action: string; userId: string | null; approverId: string | null; detail: Record<string, unknown> }[]> {
  return page.evaluate(() => (window as unknown as { __fakeRegister: { auditLog: never[] } }).__fakeRegister.auditLog);
}

async function asManager(page: Page): Promise<void> {
  await open(page);
  await tapPin(page, '9999');
  await expect(page.getByTestId('search')).toBeFocused();
}

test('a cashier gives 10 % off a line: a manager approves with her PIN, a wrong PIN is refused first', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, TSHIRT);
  await expect(page.getByTestId('total')).toHaveText('19,99 €');
  await page.keyboard.press('F3');
  const dialog = page.getByTestId('edit-dialog');
  await expect(dialog).toContainText('Descuento en Camiseta azul M');
  await page.getByTestId('edit-value').fill('10');
  await page.getByTestId('reason-damaged').click();
  await page.getByTestId('edit-value').press('Enter');
  // The register asks for approval: the dialog says who asks what and why.
  const approval = page.getByTestId('approval');
  await expect(approval).toContainText('Ana pide: 10 % de descuento en Camiseta azul M');
  await expect(approval).toContainText('Motivo: Dañado');
  await expect(page.getByTestId('total')).toHaveText('19,99 €');
  await page.getByTestId('approval-pin').fill('5555');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('approval-error')).toContainText('PIN incorrecto');
  await expect(page.getByTestId('total')).toHaveText('19,99 €');
  // Marta taps her PIN on the pad.
  for (const d of '9999') await page.getByTestId(`apin-${d}`).click();
  await page.getByTestId('approval-ok').click();
  await expect(approval).toBeHidden();
  await expect(dialog).toBeHidden();
  // 19,99 × 10 % = 1,999 → 2,00 off.
  await expect(page.getByTestId('total')).toHaveText('17,99 €');
  await expect(lines(page).first().getByTestId('line-discount')).toHaveText('Descuento 10 % −2,00 € (aprobado por Marta)');
  const log = await audit(page);
  expect(log.map((a) => a.action)).toEqual(['approval_failed', 'line_discount']);
  expect(log[0].detail.failure).toBe('wrong_pin');
  expect(log[1]).toMatchObject({ userId: 'u-ana', approverId: 'u-marta' });
  expect(log[1].detail).toMatchObject({ reason: 'damaged', total_before: 1999, total_after: 1799 });
});

test('a manager gives an amount off the whole sale without being asked for a PIN', async ({ page }) => {
  await asManager(page);
  await scanBurst(page, MILK);
  await scanBurst(page, TSHIRT);
  await expect(page.getByTestId('total')).toHaveText('20,98 €');
  await page.getByTestId('order-discount').click();
  await page.getByTestId('mode-amount').click();
  await page.getByTestId('edit-value').fill('2,50');
  await page.getByTestId('reason-customer_care').click();
  await page.getByTestId('edit-apply').click();
  await expect(page.getByTestId('edit-dialog')).toBeHidden();
  await expect(page.getByTestId('approval')).toHaveCount(0);
  await expect(page.getByTestId('total')).toHaveText('18,48 €');
  await expect(page.getByTestId('discounts')).toContainText('−2,50 €');
  // The discount is shared over the lines in proportion: 0,99 and 19,99 → 0,12 and 2,38.
  await expect(lines(page).nth(0).getByTestId('line-amount')).toHaveText('0,87 €');
  await expect(lines(page).nth(1).getByTestId('line-amount')).toHaveText('17,61 €');
  // A percentage on the sale replaces it: 10 % of 20,98 = 2,10.
  await page.keyboard.press('F5');
  await page.getByTestId('edit-value').fill('10');
  await page.getByTestId('reason-promotion').click();
  await page.getByTestId('edit-value').press('Enter');
  await expect(page.getByTestId('total')).toHaveText('18,88 €');
  const log = await audit(page);
  expect(log.map((a) => [a.action, a.userId, a.approverId])).toEqual([
    ['order_discount', 'u-marta', null],
    ['order_discount', 'u-marta', null],
  ]);
});

test('a price override: refused for a cashier until approved, a reason is required, cancel changes nothing', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, TSHIRT);
  await page.keyboard.press('F6');
  await expect(page.getByTestId('edit-dialog')).toContainText('Nuevo precio de Camiseta azul M');
  await expect(page.getByTestId('edit-dialog')).toContainText('Ahora 19,99 €');
  await page.getByTestId('edit-value').fill('15');
  await page.getByTestId('edit-value').press('Enter');
  await expect(page.getByTestId('edit-error')).toHaveText('Elige un motivo (para «Otro», escribe unas palabras).');
  await page.getByTestId('reason-other').click();
  await page.getByTestId('edit-value').press('Enter');
  await expect(page.getByTestId('edit-error')).toContainText('Elige un motivo');
  await page.getByTestId('edit-note').fill('etiqueta equivocada en el estante');
  await page.getByTestId('edit-note').press('Enter');
  await expect(page.getByTestId('approval')).toContainText('precio de Camiseta azul M de 19,99 € a 15,00 €');
  // The manager is not there: cancel. Nothing changed, nothing recorded.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('approval')).toBeHidden();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('edit-dialog')).toBeHidden();
  await expect(page.getByTestId('total')).toHaveText('19,99 €');
  expect(await audit(page)).toEqual([]);
  // Again, approved this time.
  await page.getByTestId('override').click();
  await page.getByTestId('edit-value').fill('15');
  await page.getByTestId('reason-price_match').click();
  await page.getByTestId('edit-apply').click();
  await page.getByTestId('approval-pin').fill('9999');
  await page.getByTestId('approval-pin').press('Enter');
  await expect(page.getByTestId('total')).toHaveText('15,00 €');
  await expect(lines(page).first().getByTestId('line-override')).toHaveText('antes 19,99 € → 15,00 €');
  const log = await audit(page);
  expect(log.map((a) => a.action)).toEqual(['price_override']);
  expect(log[0].detail).toMatchObject({ before: { unit_price: 1999 }, after: { unit_price: 1500 }, reason: 'price_match' });
});

test('a manager overrides a price directly, with no approval dialog', async ({ page }) => {
  await asManager(page);
  await scanBurst(page, MILK);
  await page.keyboard.press('F6');
  await page.getByTestId('edit-value').fill('0,50');
  await page.getByTestId('reason-damaged').click();
  await page.getByTestId('edit-value').press('Enter');
  await expect(page.getByTestId('total')).toHaveText('0,50 €');
  await expect(page.getByTestId('approval')).toHaveCount(0);
  expect((await audit(page)).map((a) => [a.action, a.approverId])).toEqual([['price_override', null]]);
});

test('park a sale, serve the next customer, resume it: the sale on screen is parked in its place', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, MILK);
  await scanBurst(page, MILK);
  await page.keyboard.press('F7');
  await expect(page.getByTestId('cart-empty')).toBeVisible();
  await expect(page.getByTestId('parked-list')).toContainText('Aparcadas (1)');
  await scanBurst(page, TSHIRT);
  await page.keyboard.press('F11');
  const rows = page.getByTestId('parked-row');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('Ana');
  await expect(rows.first()).toContainText('Líneas: 1');
  await expect(rows.first()).toContainText('1,98 €');
  await expect(page.getByTestId('parked')).toContainText('La venta en pantalla se aparcará antes.');
  await rows.first().getByTestId('resume').click();
  await expect(page.getByTestId('parked')).toBeHidden();
  await expect(lines(page)).toHaveCount(1);
  await expect(lines(page).first()).toContainText('2 × Leche entera 1L');
  await expect(page.getByTestId('total')).toHaveText('1,98 €');
  await expect(page.getByTestId('parked-list')).toContainText('Aparcadas (1)');
  await page.getByTestId('parked-list').click();
  await expect(rows.first()).toContainText('19,99 €');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('parked')).toBeHidden();
  // Not during payment: the payment screen has no park action.
  await page.keyboard.press('F12');
  await expect(page.getByTestId('park')).toHaveCount(0);
  expect((await audit(page)).map((a) => a.action)).toEqual(['sale_parked', 'sale_parked', 'sale_resumed']);
});

test('void a line (the cashier may) and void the whole sale (with approval): both are recorded', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, MILK);
  await scanBurst(page, TSHIRT);
  await page.keyboard.press('Delete');
  await expect(lines(page)).toHaveCount(1);
  await expect(page.getByTestId('total')).toHaveText('0,99 €');
  await page.keyboard.press('Shift+Delete');
  await expect(page.getByTestId('edit-dialog')).toContainText('¿Anular toda la venta (0,99 €)?');
  await page.getByTestId('reason-customer_care').click();
  await page.getByTestId('edit-apply').click();
  await expect(page.getByTestId('approval')).toContainText('anular toda la venta de 0,99 €');
  await page.getByTestId('approval-pin').fill('1234');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('approval-error')).toContainText('no puede aprobar esto');
  await page.getByTestId('approval-pin').fill('9999');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cart-empty')).toBeVisible();
  await expect(page.getByTestId('message')).toContainText('Venta anulada');
  const log = await audit(page);
  expect(log.map((a) => a.action)).toEqual(['line_void', 'approval_failed', 'sale_void']);
  expect(log[0].detail).toMatchObject({ line: 2, total_before: 2098, total_after: 99 });
  expect(log[1].detail.failure).toBe('not_allowed');
  expect(log[2]).toMatchObject({ userId: 'u-ana', approverId: 'u-marta' });
  expect(log[2].detail).toMatchObject({ line_count: 1, total: 99, reason: 'customer_care' });
});

test('sell by weight: a typed weight in kilograms for a product with a plain EAN', async ({ page }) => {
  await loggedIn(page);
  await page.getByTestId('search').pressSequentially('cerezas', { delay: 40 });
  await page.getByTestId('tile').filter({ hasText: 'Cerezas a granel' }).click();
  await expect(page.getByTestId('qty-entry')).toBeVisible();
  await page.getByTestId('unit-kg').click();
  await page.getByTestId('qty-input').pressSequentially('0,35', { delay: 40 });
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('qty-entry')).toBeHidden();
  // 5,99 €/kg × 0,350 kg = 2,0965 → 2,10 €
  await expect(lines(page).first()).toContainText('0,350 kg');
  await expect(lines(page).first().getByTestId('line-amount')).toHaveText('2,10 €');
  // Scanning its plain EAN asks for the weight too, in grams this time.
  await scanBurst(page, '8400000009997');
  await expect(page.getByTestId('qty-entry')).toBeVisible();
  await page.getByTestId('qty-input').pressSequentially('1000', { delay: 40 });
  await page.keyboard.press('Enter');
  await expect(lines(page)).toHaveCount(2);
  await expect(page.getByTestId('total')).toHaveText('8,09 €');
});

test('touch targets of the new actions are at least 44 px, and each shows its key', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, MILK);
  for (const [id, key] of [['line-discount', 'F3'], ['order-discount', 'F5'], ['override', 'F6'], ['void-sale', '⇧Del'], ['park', 'F7'], ['parked-list', 'F11'], ['reprint-copy', '⇧F9']]) {
    const b = page.getByTestId(id);
    await expect(b.locator('kbd')).toHaveText(key);
    const box = (await b.boundingBox())!;
    expect(box.height, id).toBeGreaterThanOrEqual(44);
    expect(box.width, id).toBeGreaterThanOrEqual(44);
  }
});

test('a copy of the last receipt goes to the printer marked COPIA, and is recorded', async ({ page }) => {
  await loggedIn(page);
  await page.keyboard.press('Shift+F9');
  await expect(page.getByTestId('message')).toContainText('no hay nada que reimprimir');
  await scanBurst(page, MILK);
  await page.keyboard.press('F12');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cart-empty')).toBeVisible();
  await page.keyboard.press('Shift+F9');
  const receipt = page.getByTestId('last-receipt').getByTestId('receipt');
  await expect(receipt).toContainText('*** COPIA ***');
  await expect(receipt).toContainText('FACTURA SIMPLIFICADA');
  await expect(page.getByTestId('message')).toContainText('Copia de la factura T02-000001 enviada a la impresora');
  const copies = await page.evaluate(() => (window as unknown as { __fakeRegister: { printedCopies: string[][] } }).__fakeRegister.printedCopies);
  expect(copies).toHaveLength(1);
  expect(copies[0][0]).toBe('*** COPIA ***');
  // (The cash drawer's own rows, e.g. the register opening, may come first.)
  const reprints = (await audit(page)).filter((a) => a.action === 'receipt_reprinted');
  expect(reprints).toEqual([{ action: 'receipt_reprinted', userId: 'u-ana', approverId: null, detail: { receipt: 'T02-000001' } }]);
});
