import { expect, test } from '@playwright/test';
import { lines, loggedIn, MILK, scanBurst, tones, TSHIRT } from './helpers';

test('pay cash with a quick-cash note: change due shown large, receipt preview, new sale', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, MILK);
  await scanBurst(page, MILK);
  await scanBurst(page, TSHIRT);
  await expect(page.getByTestId('total')).toHaveText('21,97 €');
  await page.keyboard.press('F12');
  await expect(page.getByTestId('due')).toHaveText('21,97 €');
  // Notes at least as large as what is due: 50 € and 100 € (5, 10, 20 are too small).
  await expect(page.getByTestId('quick-cash').locator('button')).toHaveCount(2);
  await page.getByTestId('quick-5000').click();
  await expect(page.getByTestId('completed')).toBeVisible();
  await expect(page.getByTestId('change')).toHaveText('28,03 €');
  await expect(page.getByTestId('receipt-number')).toHaveText('Tique T02-000001');
  const receipt = page.getByTestId('receipt');
  await expect(receipt).toContainText('FACTURA SIMPLIFICADA');
  await expect(receipt).toContainText(/Cambio\s+28,03\s€/);
  await expect(receipt).toContainText(/Efectivo\s+50,00\s€/);
  // The header follows the register: the drawer opened for cash, the sale waits to sync.
  await expect(page.getByTestId('device-drawer')).toHaveText('Cajón: abierto');
  await expect(page.getByTestId('sync')).toContainText('1 en cola');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cart-empty')).toBeVisible();
  await expect(page.getByTestId('total')).toHaveText('0,00 €');
});

test('exact cash takes two keys after the last scan: F12, Enter', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, TSHIRT);
  await expect(lines(page)).toHaveCount(1);
  await page.keyboard.press('F12');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
  await expect(page.getByTestId('change')).toHaveText('0,00 €');
  await expect(page.getByTestId('done-total')).toHaveText('19,99 €');
  // The next customer's first scan starts the new sale directly.
  await scanBurst(page, MILK);
  await expect(page.getByTestId('completed')).toBeHidden();
  await expect(lines(page)).toHaveCount(1);
  await expect(page.getByTestId('total')).toHaveText('0,99 €');
});

test('cash typed in the amount field, partial cash then the rest', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, TSHIRT);
  await page.keyboard.press('F12');
  await page.keyboard.type('10', { delay: 80 });
  await expect(page.getByTestId('tendered')).toHaveValue('10');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('due')).toHaveText('9,99 €');
  await expect(page.getByTestId('tenders')).toContainText('Efectivo');
  // Part paid: Esc cannot go back.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('message')).toContainText('Ya se ha cobrado una parte de la venta');
  await page.keyboard.type('20,5', { delay: 80 });
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('change')).toHaveText('10,51 €');
});

test('a scan during payment is refused with a message and a tone, not lost silently', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, TSHIRT);
  await page.keyboard.press('F12');
  await expect(page.getByTestId('payment')).toBeVisible();
  await scanBurst(page, MILK);
  await expect(page.getByTestId('message')).toContainText('Cobro en curso: el escaneo no se ha añadido');
  expect((await tones(page)).at(-1)).toBe('error');
  await expect(page.getByTestId('tendered')).toHaveValue('');
  await expect(page.getByTestId('due')).toHaveText('19,99 €');
  // Esc goes back to the sale (nothing paid), and the scan can be repeated.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('payment')).toBeHidden();
  await scanBurst(page, MILK);
  await expect(lines(page)).toHaveCount(2);
});

test('F9 shows the last receipt', async ({ page }) => {
  await loggedIn(page);
  await page.keyboard.press('F9');
  await expect(page.getByTestId('last-receipt')).toContainText('Aún no hay tiques');
  await page.keyboard.press('Escape');
  await scanBurst(page, MILK);
  await page.keyboard.press('F12');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await page.keyboard.press('F9');
  await expect(page.getByTestId('last-receipt').getByTestId('receipt')).toContainText('T02-000001');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('last-receipt')).toBeHidden();
});

test('cash rounding: the cash due is shown beside the exact amount and exact cash pays it', async ({ page }) => {
  await loggedIn(page, 'cash=5'); // cash rounded to 0,05 €
  await scanBurst(page, MILK);
  await scanBurst(page, MILK);
  await scanBurst(page, TSHIRT);
  await page.keyboard.press('F12');
  await expect(page.getByTestId('due')).toHaveText('21,97 €');
  await expect(page.getByTestId('payment')).toContainText(/En efectivo:\s*21,95\s€/);
  await expect(page.getByTestId('pay-exact')).toContainText('21,95 €');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
  await expect(page.getByTestId('change')).toHaveText('0,00 €');
  await expect(page.getByTestId('receipt')).toContainText(/Efectivo\s+21,95\s€/);
});
