import { expect, test, type Page } from '@playwright/test';
import { loggedIn, scanBurst } from './helpers';

// Returns of sales this register did not make, found in the web shop (mirrors
// api/src/remote_returns.rs): another register's receipt, a web order's code, and what the
// screen says when the shop cannot be reached.

type FakeWindow = {
  __fakeRegister: {
    setShopReachable(reachable: boolean): void;
    returnsMade: { number: string; original: string | null; refunds: { kind: string; amount: { minor: number } }[] }[];
  };
};
const fake = (page: Page, body: string) =>
  page.evaluate((b) => new Function('reg', b)((window as unknown as FakeWindow).__fakeRegister), body);

test('another register’s receipt is found in the shop, says where it was sold, and is refunded to its card', async ({ page }) => {
  await loggedIn(page);
  await page.keyboard.press('Shift+F12');
  await expect(page.getByTestId('returns')).toBeVisible();
  await scanBurst(page, 'T01-000042');
  await expect(page.getByTestId('returns-origin')).toHaveText('Vendido en la caja T01');
  await expect(page.getByTestId('returns-line')).toHaveCount(2);
  await expect(page.getByTestId('returns-left').nth(0)).toHaveText('2');
  await page.getByTestId('returns-plus').nth(0).click();
  await expect(page.getByTestId('returns-refund')).toContainText('Tarjeta');
  await page.keyboard.press('F12');
  await expect(page.getByTestId('returns-done')).toContainText('T02R-000001');
  await expect(page.getByTestId('receipt')).toContainText('T01-000042');
  const made = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.returnsMade);
  expect(made.map((r) => r.refunds.map((x) => x.kind))).toEqual([['card']]);

  // Offline: the copy kept on this register is shown, flagged; a receipt never fetched is not.
  await page.keyboard.press('F2');
  await fake(page, 'reg.setShopReachable(false);');
  await scanBurst(page, 'T01-000042');
  await expect(page.getByTestId('returns-offline-copy')).toBeVisible();
  await expect(page.getByTestId('returns-left').nth(0)).toHaveText('1');
  await page.keyboard.press('Escape');
  await page.getByTestId('returns-code').fill('T01-000077');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('returns-error')).toContainText('no hay conexión con la tienda online');
  await fake(page, 'reg.setShopReachable(true);');
  await page.getByTestId('returns-code').fill('T01-000077');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('returns-error')).toContainText('ni en la tienda online');
});

test('a web order paid online is refunded in cash with a manager, never to the online payment', async ({ page }) => {
  await loggedIn(page);
  await page.keyboard.press('Shift+F12');
  await expect(page.getByTestId('returns')).toBeVisible();
  await page.getByTestId('returns-code').fill('WQ7Z2K9D');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('returns-origin')).toHaveText('Pedido web WQ7Z2K9D');
  await expect(page.getByTestId('returns-paid-online')).toBeVisible();
  // The original payment is not a choice; cash is chosen.
  await expect(page.getByTestId('returns-to-original')).toHaveCount(0);
  await expect(page.getByTestId('returns-to-cash')).toHaveClass(/chosen/);
  await page.getByTestId('returns-plus').nth(0).click();
  await expect(page.getByTestId('returns-needs-approval')).toBeVisible();
  await page.keyboard.press('F12');
  await page.getByTestId('returns-approval-pin').fill('9999');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('returns-done')).toBeVisible();
  await expect(page.getByTestId('receipt')).toContainText('WQ7Z2K9D');
  const made = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.returnsMade);
  expect(made.map((r) => r.refunds.map((x) => x.kind))).toEqual([['cash']]);
});
