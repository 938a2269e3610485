import { expect, test } from '@playwright/test';
import { lines, loggedIn, MILK, scanBurst, tones, TSHIRT } from './helpers';

test('an unknown barcode and a wrong check digit: a clear message, the cart unchanged', async ({ page }) => {
  await loggedIn(page);
  await page.getByTestId('lang-en').click();
  await scanBurst(page, MILK);
  await expect(page.getByTestId('total')).toHaveText('€0.99');
  await scanBurst(page, '8499999999990'); // valid check digit, not in the catalog
  await expect(page.getByTestId('message')).toHaveText(/Code 8499999999990 is not in the catalog\. Search the item by name/);
  await expect(page.getByTestId('message').locator('[data-code]')).toHaveAttribute('data-code', 'scan.unknown_code');
  await scanBurst(page, '8400000000018'); // milk with a wrong check digit (7 is right)
  await expect(page.getByTestId('message')).toHaveText(/Misread barcode \(check digit should be 7\)\. Scan it again/);
  await expect(lines(page)).toHaveCount(1);
  await expect(lines(page).first().getByTestId('line-qty')).toHaveText('1 ×');
  await expect(page.getByTestId('total')).toHaveText('€0.99');
  expect((await tones(page)).slice(-2)).toEqual(['error', 'error']);
});

test('quantity 0 or absurd: a clear message, the cart unchanged', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, TSHIRT);
  await expect(page.getByTestId('total')).toHaveText('19,99 €');
  // '-' on a single unit would make 0: refused.
  await page.keyboard.press('-');
  await expect(page.getByTestId('message')).toHaveText(/La cantidad debe estar entre 1 y 9999/);
  await expect(lines(page).first().getByTestId('line-qty')).toHaveText('1 ×');
  // The entry: 0, then an absurd number (a barcode typed into the quantity).
  await page.keyboard.press('F4');
  await page.getByTestId('qty-input').pressSequentially('0', { delay: 60 });
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('qty-error')).toHaveText(/entre 1 y 9999/);
  await page.getByTestId('qty-input').fill('84000000000');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('qty-error')).toHaveText(/entre 1 y 9999/);
  await page.keyboard.press('Escape');
  await expect(lines(page)).toHaveCount(1);
  await expect(lines(page).first().getByTestId('line-qty')).toHaveText('1 ×');
  await expect(page.getByTestId('total')).toHaveText('19,99 €');
});

test('a scan into the quantity entry goes to the sale, not into the field', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, TSHIRT);
  await page.keyboard.press('F4');
  await expect(page.getByTestId('qty-input')).toBeFocused();
  await scanBurst(page, MILK);
  await expect(lines(page)).toHaveCount(2);
  // The scan closed the entry (the new line is selected now) and typed nothing anywhere.
  await expect(page.getByTestId('qty-entry')).toBeHidden();
  await expect(lines(page).nth(0).getByTestId('line-qty')).toHaveText('1 ×');
  await expect(lines(page).nth(1).getByTestId('line-qty')).toHaveText('1 ×');
  await expect(page.getByTestId('search')).toHaveValue('');
});
