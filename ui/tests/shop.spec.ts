import { expect, test, type Page } from '@playwright/test';
import { open, tapPin } from './helpers';

type Fake = { setShopReachable(reachable: boolean): void; shopPageMs: number };
const fake = (page: Page, f: string) =>
  page.evaluate((body) => {
    const reg = (window as unknown as { __fakeRegister: Fake }).__fakeRegister;
    return new Function('reg', body)(reg);
  }, f);

async function login(page: Page, lang: 'en' | 'es' | 'ja', pin: string) {
  await open(page);
  await page.getByTestId(`lang-${lang}`).click();
  await tapPin(page, pin);
  await expect(page.getByTestId('sync')).toBeVisible();
}

test('an admin refuses plain http, tests the connection, saves, and imports the catalog with a progress bar', async ({ page }) => {
  await login(page, 'en', '0000');
  await page.getByTestId('sync').click();
  await page.getByTestId('open-shop-settings').click();
  const url = page.getByTestId('shop-url');
  await expect(url).toHaveValue('http://127.0.0.1:3000');
  await expect(page.getByTestId('shop-password')).toHaveValue('');

  // Plain http to another machine is refused, in words, and nothing is saved.
  await url.fill('http://shop.example.com');
  await page.getByTestId('shop-save').click();
  await expect(page.getByTestId('shop-error')).toHaveText(
    'Plain http:// is only allowed to this computer (localhost). Use the shop’s https:// address.',
  );
  await page.getByTestId('shop-test').click();
  await expect(page.getByTestId('shop-error')).toContainText('Plain http://');

  // A wrong password is refused by the shop; the right one connects.
  await url.fill('https://shop.example.com');
  await page.getByTestId('shop-password').fill('wrong');
  await page.getByTestId('shop-test').click();
  await expect(page.getByTestId('shop-error')).toContainText('refused the identifier or password');
  await page.getByTestId('shop-password').fill('s3cret');
  await page.getByTestId('shop-test').click();
  await expect(page.getByTestId('shop-note')).toContainText('Connected');
  await page.getByTestId('shop-save').click();
  await expect(page.getByTestId('shop-note')).toHaveText('Saved. The sync runs with these settings now.');
  await expect(page.getByTestId('shop-password')).toHaveValue('');
  await expect(page.getByTestId('shop-password')).toHaveAttribute('placeholder', /saved/);

  // Import: the bar moves through the pages and the import can be run again (pages slowed so a
  // loaded machine still sees each step).
  await fake(page, 'reg.shopPageMs = 700;');
  for (const round of [1, 2]) {
    await page.getByTestId('shop-import').click();
    const bar = page.getByTestId('shop-import-progress').locator('progress');
    await expect(bar).toBeVisible();
    await expect(page.getByTestId('shop-import-count')).toHaveText('40 of 120 products');
    await expect(page.getByTestId('shop-import-count')).toHaveText('80 of 120 products');
    await expect(page.getByTestId('shop-note')).toHaveText('Import finished: 120 products.');
    await expect(page.getByTestId('shop-import-last')).toHaveText('Last import: 120 products.', { timeout: 5000 });
    expect(round).toBeGreaterThan(0);
  }

  // Esc goes back to the panel, then to the sale.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('sync-details')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shop-overlay')).toHaveCount(0);
});

test('the selling goes on while the catalog imports', async ({ page }) => {
  await login(page, 'en', '0000');
  await fake(page, 'reg.shopPageMs = 600;');
  await page.getByTestId('sync').click();
  await page.getByTestId('open-shop-settings').click();
  await page.getByTestId('shop-import').click();
  await expect(page.getByTestId('shop-import-progress')).toBeVisible();
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.getByTestId('search').fill('8400000000017');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cart')).toContainText('Whole milk');
});

test('a manager sees the web shop settings read-only and a Spanish error for http', async ({ page }) => {
  await login(page, 'es', '9999');
  await page.getByTestId('sync').click();
  await page.getByTestId('open-shop-settings').click();
  await expect(page.getByTestId('shop-url')).toHaveAttribute('readonly', '');
  await expect(page.getByTestId('shop-save')).toHaveCount(0);
  await expect(page.getByTestId('shop-readonly')).toBeVisible();
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.getByTestId('logout').click();
  await tapPin(page, '0000');
  await page.getByTestId('sync').click();
  await page.getByTestId('open-shop-settings').click();
  await page.getByTestId('shop-url').fill('http://tienda.example.com');
  await page.getByTestId('shop-save').click();
  await expect(page.getByTestId('shop-error')).toContainText('http:// sin cifrar solo se permite hacia este ordenador');
});

test('the sync panel shows the queue, the last error in words and the conflicts', async ({ page }) => {
  await login(page, 'ja', '9999');
  await fake(page, 'reg.setShopReachable(false);');
  await expect(page.getByTestId('sync')).toContainText('オフライン');
  await page.getByTestId('sync').click();
  await expect(page.getByTestId('sync-state')).toHaveText('オフライン');
  await expect(page.getByTestId('sync-queued')).toHaveText('0');
  await expect(page.getByTestId('sync-last-error')).toContainText('ショップに接続できません');
  await expect(page.getByTestId('sync-last-error')).toContainText('connection refused');
  await expect(page.getByTestId('sync-conflicts')).toHaveText('1');
  await expect(page.getByTestId('sync-pickups')).toHaveText('2');
  await expect(page.getByTestId('sync-last-success')).toHaveText('なし');
});

test('a cashier hands a pickup over with the keyboard, offline, and it reaches the shop once back', async ({ page }) => {
  await login(page, 'en', '1234');
  await fake(page, 'reg.setShopReachable(false);');
  // Keyboard only: Tab to the sync indicator, Enter, Enter on Pickups, Enter on the first order.
  await page.getByTestId('sync').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('open-pickups')).toBeFocused();
  await expect(page.getByTestId('open-conflicts')).toHaveCount(0); // cashiers do not see conflicts
  await page.keyboard.press('Enter');
  const first = page.getByTestId('pickup-WEB-1001');
  await expect(first).toContainText('Lucía Gómez');
  await expect(first).toContainText('2 ×');
  await expect(page.getByTestId('pickup-pay-WEB-1002')).toHaveText('Not paid yet: take payment at the counter');
  await expect(page.getByTestId('hand-over-WEB-1001')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('pickups-note')).toHaveText('Order WEB-1001 handed over.');
  await expect(page.getByTestId('pickup-status-WEB-1001')).toHaveText('Handed over — the shop is being told');
  await expect(page.getByTestId('hand-over-WEB-1001')).toHaveCount(0); // no second hand-over
  await expect(page.getByTestId('sync')).toContainText('1 queued');

  await fake(page, 'reg.setShopReachable(true);');
  await expect(first).toHaveCount(0);
  await expect(page.getByTestId('pickup-WEB-1002')).toBeVisible();
  await expect(page.getByTestId('sync')).not.toContainText('queued');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shop-overlay')).toHaveCount(0);
});

test('a manager marks a stock conflict reviewed; it is kept in the reviewed list', async ({ page }) => {
  await login(page, 'en', '9999');
  await page.getByTestId('sync').click();
  await page.getByTestId('open-conflicts').click();
  const row = page.getByTestId('conflict-1');
  await expect(row).toContainText('the shop had 0 in stock');
  await expect(row).toContainText('Sliced bread');
  await expect(row).toContainText(/T\d+-000007/); // terminal and receipt of the sale
  await expect(row.locator('td').nth(1)).toHaveText('2');
  await page.getByTestId('conflict-review-1').click();
  await expect(page.getByTestId('conflicts-empty')).toHaveText('No stock conflicts.');
  await page.getByTestId('conflicts-show-reviewed').check();
  await expect(page.getByTestId('conflict-reviewed-1')).toContainText('Reviewed by Marta');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('sync-conflicts')).toHaveText('0');
});
