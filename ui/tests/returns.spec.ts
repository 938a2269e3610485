import { expect, test, type Page } from '@playwright/test';
import { JP_MILK, JP_TSHIRT, loggedIn, MILK, scanBurst, tapPin, TSHIRT } from './helpers';

// Returns (⇧F12) against the in-browser fake register, which mirrors the register's rules:
// a receipt's QR code finds its sale; a line can be returned up to what is left of it; the money
// goes back the way it was paid; a return without a receipt needs a manager's PIN.

type FakeWindow = {
  __fakeRegister: {
    auditLog: { action: string; userId: string | null; approverId: string | null }[];
    returnsMade: { number: string; total: { minor: number }; refunds: { kind: string; amount: { minor: number } }[] }[];
  };
};

/** Sells what was scanned for exact cash (F12, Enter) and starts the next sale. */
async function sellExactCash(page: Page, codes: string[]): Promise<void> {
  for (const c of codes) await scanBurst(page, c);
  // Every scan is on the sale before paying (a loaded machine may apply them late).
  await expect(page.getByTestId('line')).toHaveCount(new Set(codes).size);
  await page.keyboard.press('F12');
  await expect(page.getByTestId('payment')).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cart-empty')).toBeVisible();
}

test('scan the receipt, return one of two milks, refund in cash and see the factura rectificativa', async ({ page }) => {
  await loggedIn(page);
  await sellExactCash(page, [MILK, MILK, TSHIRT]);
  await page.keyboard.press('Shift+F12');
  await expect(page.getByTestId('returns')).toBeVisible();
  await expect(page.getByTestId('returns-code')).toBeFocused();

  // A garbled scan says so; the receipt's QR code finds the sale.
  await scanBurst(page, 'XX');
  await expect(page.getByTestId('returns-error')).toContainText('no es un código de ticket');
  await scanBurst(page, 'T02-000001');
  await expect(page.getByTestId('returns-line')).toHaveCount(2);
  await expect(page.getByTestId('returns-left').nth(0)).toHaveText('2');

  // One milk back to stock; the register prices it; the money goes back in cash.
  await expect(page.getByTestId('returns-commit')).toBeDisabled();
  await page.getByTestId('returns-plus').nth(0).click();
  await expect(page.getByTestId('returns-qty').nth(0)).toHaveText('1');
  await expect(page.getByTestId('returns-total')).toHaveText('0,99 €');
  await expect(page.getByTestId('returns-refund')).toHaveText(/Efectivo\s*0,99\s€/);
  await page.keyboard.press('F12');
  await expect(page.getByTestId('returns-done')).toContainText('T02R-000001');
  const receipt = page.getByTestId('receipt');
  await expect(receipt).toContainText('FACTURA RECTIFICATIVA (SIMPLIFICADA)');
  await expect(receipt).toContainText('Rectifica a');
  await expect(receipt).toContainText('T02-000001');
  await expect(receipt).toContainText('-0,99');

  // The next return of the same receipt: one milk left; more than that cannot be chosen.
  await page.keyboard.press('F2');
  await scanBurst(page, 'T02-000001');
  await expect(page.getByTestId('returns-left').nth(0)).toHaveText('1');
  await page.getByTestId('returns-plus').nth(0).click();
  await expect(page.getByTestId('returns-plus').nth(0)).toBeDisabled();
  // Everything that is left (F4): the milk and the T-shirt, the T-shirt written off as damaged.
  await page.keyboard.press('F4');
  await page.getByTestId('returns-goods').nth(1).selectOption('damaged');
  await expect(page.getByTestId('returns-qty').nth(1)).toHaveText('1');
  await page.getByTestId('returns-commit').click();
  await expect(page.getByTestId('returns-done')).toContainText('T02R-000002');
  const made = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.returnsMade.map((r) => r.total.minor));
  expect(made).toEqual([99, 99 + 1999]);

  // Nothing is left: the lines show 0, and Esc goes back to the sale screen.
  await page.keyboard.press('F2');
  await scanBurst(page, 'T02-000001');
  await expect(page.getByTestId('returns-left')).toHaveText(['0', '0']);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('returns')).toBeHidden();
  await expect(page.getByTestId('search')).toBeFocused();
});

test('find a sale by its total, refund it to store credit for a customer', async ({ page }) => {
  await loggedIn(page);
  await sellExactCash(page, [TSHIRT]);
  await page.getByTestId('return').click();
  await page.getByTestId('returns-q-total').fill('19,99');
  await page.keyboard.press('F3');
  await expect(page.getByTestId('returns-found').locator('tr')).toHaveCount(1);
  await page.getByTestId('returns-open').click();
  await page.keyboard.press('F4');
  await page.getByTestId('returns-to-store_credit').click();
  await page.getByTestId('returns-customer-q').fill('Pablo');
  await page.getByTestId('returns-customer-hit').click();
  await expect(page.getByTestId('returns-customer')).toContainText('Pablo Ruiz');
  await expect(page.getByTestId('returns-refund')).toHaveText(/Vale\s+Pablo Ruiz\s*19,99\s€/);
  await page.keyboard.press('F12');
  await expect(page.getByTestId('returns-done')).toContainText('19,99 €');
  const refunds = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.returnsMade[0].refunds);
  expect(refunds).toEqual([expect.objectContaining({ kind: 'store_credit', amount: expect.objectContaining({ minor: 1999 }) })]);
});

test('a return without a receipt waits for a manager PIN and is audited', async ({ page }) => {
  await loggedIn(page);
  await page.keyboard.press('Shift+F12');
  await page.keyboard.press('F6');
  await page.getByTestId('returns-product').fill('Camiseta');
  await page.getByTestId('returns-product-hit').first().click();
  await expect(page.getByTestId('returns-item')).toHaveCount(1);
  // A product's barcode scanned here is the goods brought back (not a sale line).
  await scanBurst(page, MILK);
  await expect(page.getByTestId('returns-item')).toHaveCount(2);
  // One milk less: the line goes.
  await page.getByTestId('returns-item-minus').nth(1).click();
  await expect(page.getByTestId('returns-item')).toHaveCount(1);
  await page.getByTestId('returns-customer-q').fill('Luc');
  await page.getByTestId('returns-customer-hit').click();
  await expect(page.getByTestId('returns-needs-approval')).toBeVisible();
  await page.keyboard.press('F12');
  await expect(page.getByTestId('returns-approval')).toBeVisible();
  await expect(page.getByTestId('returns-approval-pin')).toBeFocused();
  await page.getByTestId('returns-approval-pin').fill('1234');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('returns-error')).toBeVisible();
  await page.getByTestId('returns-approval-pin').fill('9999');
  await page.getByTestId('returns-approval-ok').click();
  await expect(page.getByTestId('receipt')).toContainText('SIN TICKET');
  const audit = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.auditLog.map((a) => `${a.action}:${a.approverId ?? ''}`));
  expect(audit).toContain('approval_failed:u-ana');
  expect(audit).toContain('return_without_receipt:u-marta');
});

test('Japanese: the 返品 receipt names the original receipt', async ({ page }) => {
  await loggedIn(page, 'store=jp');
  await sellExactCash(page, [JP_MILK, JP_TSHIRT]);
  await page.keyboard.press('Shift+F12');
  await page.getByTestId('returns-code').fill('T02-000001');
  await page.keyboard.press('Enter');
  await page.keyboard.press('F4');
  await expect(page.getByTestId('returns-commit')).toContainText('返金する');
  await page.keyboard.press('F12');
  const receipt = page.getByTestId('receipt');
  await expect(receipt).toContainText('返品レシート');
  await expect(receipt).toContainText('元レシート');
  await expect(receipt).toContainText('返金合計');
});

test('an exchange: the milk brought back pays part of the T-shirt, the difference is paid in cash', async ({ page }) => {
  await loggedIn(page);
  await sellExactCash(page, [MILK]);
  // The new item first, then the return of the old one as an exchange (F8).
  await scanBurst(page, TSHIRT);
  await page.keyboard.press('Shift+F12');
  await scanBurst(page, 'T02-000001');
  await page.getByTestId('returns-plus').first().click();
  await expect(page.getByTestId('returns-exchange-hint')).toContainText('19,99');
  await page.keyboard.press('F8');
  await expect(page.getByTestId('returns')).toBeHidden();
  // The payment screen: the credit is a tender, only the difference is due.
  await expect(page.getByTestId('payment')).toBeVisible();
  await expect(page.getByTestId('tender-line')).toHaveCount(1);
  await expect(page.getByTestId('tender-line')).toContainText('T02R-000001');
  await expect(page.getByTestId('due')).toContainText('19,00');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
  await expect(page.getByTestId('receipt')).toContainText('T02R-000001');
  const made = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.returnsMade);
  expect(made.map((r) => r.refunds.map((x) => `${x.kind}:${x.amount.minor}`))).toEqual([['store_credit:99']]);
});

test('scanning a receipt on the sale screen opens its return; a product code still sells', async ({ page }) => {
  await loggedIn(page);
  await sellExactCash(page, [TSHIRT]);
  await scanBurst(page, 'T02-000001');
  await expect(page.getByTestId('returns')).toBeVisible();
  await expect(page.getByTestId('returns-line')).toHaveCount(1);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('returns')).toBeHidden();
  await scanBurst(page, MILK);
  await expect(page.getByTestId('line')).toHaveCount(1);
  // An unknown receipt number is an unknown code on the sale screen, as before.
  await scanBurst(page, 'T02-000099');
  await expect(page.getByTestId('returns')).toBeHidden();
});

test('a scanner device scan on the returns screen goes to the return, not to the sale', async ({ page }) => {
  await loggedIn(page);
  await page.keyboard.press('Shift+F12');
  await page.keyboard.press('F6');
  await page.evaluate((code) => (window as unknown as { __fakeRegister: { simulateScan(c: string): Promise<null> } }).__fakeRegister.simulateScan(code), MILK);
  await expect(page.getByTestId('returns-item')).toHaveCount(1);
  await expect(page.getByTestId('message')).not.toHaveClass(/error/);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('returns')).toBeHidden();
  await expect(page.getByTestId('cart-empty')).toBeVisible();
  // Closed: the scanner sells again.
  await page.evaluate((code) => (window as unknown as { __fakeRegister: { simulateScan(c: string): Promise<null> } }).__fakeRegister.simulateScan(code), MILK);
  await expect(page.getByTestId('line')).toHaveCount(1);
});

test('a cash refund shows in the X report: net total, the refund per tender and less cash expected', async ({ page }) => {
  await loggedIn(page);
  await sellExactCash(page, [MILK, MILK]);
  await page.keyboard.press('Shift+F12');
  await scanBurst(page, 'T02-000001');
  await page.getByTestId('returns-plus').nth(0).click();
  await expect(page.getByTestId('returns-refund')).toHaveText(/Efectivo\s*0,99\s€/);
  await page.keyboard.press('F12');
  await expect(page.getByTestId('returns-done')).toContainText('T02R-000001');
  await page.getByTestId('returns-close').click();
  await expect(page.getByTestId('returns')).toBeHidden();
  // A manager reads the X report.
  await page.getByTestId('logout').click();
  await tapPin(page, '9999');
  await page.keyboard.press('F1');
  await page.getByTestId('cash-x').click();
  await expect(page.getByTestId('cash-report-total')).toHaveText('1,98 €');
  await expect(page.getByTestId('cash-report-net')).toHaveText('0,99 €');
  await expect(page.getByTestId('cash-report-refund-cash')).toHaveText('Devuelto: Efectivo (1)−0,99 €');
  // The sale's 1,98 € in, the refund's 0,99 € out.
  await expect(page.getByTestId('cash-report-expected')).toHaveText('0,99 €');
});
