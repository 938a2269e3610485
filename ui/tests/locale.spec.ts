import { expect, test } from '@playwright/test';
import { JP_MILK, JP_TSHIRT, lines, loggedIn, MILK, scanBurst, TSHIRT } from './helpers';

test('language en → es → ja changes labels and number format; the currency stays the store’s', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, MILK);
  await scanBurst(page, MILK);
  await scanBurst(page, TSHIRT);
  await page.getByTestId('lang-en').click();
  await expect(page.getByTestId('pay')).toContainText('Pay');
  await expect(page.getByTestId('total')).toHaveText('€21.97');
  await expect(page.getByTestId('tax-row').first()).toHaveText('VAT 21% €3.47');
  await expect(lines(page).first()).toContainText('Whole milk 1L');
  await page.getByTestId('lang-es').click();
  await expect(page.getByTestId('pay')).toContainText('Cobrar');
  await expect(page.getByTestId('total')).toHaveText('21,97 €');
  await expect(lines(page).first()).toContainText('Leche entera 1L');
  await page.getByTestId('lang-ja').click();
  await expect(page.getByTestId('pay')).toContainText('支払い');
  await expect(page.getByTestId('total')).toHaveText('€21.97');
  await expect(lines(page).first()).toContainText('牛乳 1L');
  // Remembered on this terminal.
  await page.reload();
  await expect(page.getByTestId('pin-ok')).toContainText('OK');
  await expect(page.getByRole('heading')).toHaveText('PINを入力してください');
});

test('a Japanese store: yen without decimals, ※ on reduced-rate lines, tax rounded down per rate', async ({ page }) => {
  await loggedIn(page, 'store=jp'); // the UI starts in the store's language
  await scanBurst(page, JP_MILK);
  await scanBurst(page, JP_TSHIRT);
  await expect(lines(page)).toHaveCount(2);
  await expect(lines(page).nth(0).getByTestId('reduced')).toHaveText('※');
  await expect(lines(page).nth(1).getByTestId('reduced')).toHaveCount(0);
  await expect(page.getByTestId('total')).toHaveText('2,178円');
  // 10 %: ⌊1980 × 10 / 110⌋ = 180; 8 %: ⌊198 × 8 / 108⌋ = 14
  await expect(page.getByTestId('tax-row').nth(0)).toHaveText('消費税 10% 180円');
  await expect(page.getByTestId('tax-row').nth(1)).toHaveText('消費税 8%※ 14円');
  await expect(page.getByTestId('totals')).toContainText('※は軽減税率対象');
  await page.getByTestId('lang-en').click();
  await expect(page.getByTestId('total')).toHaveText('¥2,178');
  await page.keyboard.press('F12');
  await expect(page.getByTestId('quick-5000')).toHaveText(/¥5,000/);
  await page.getByTestId('quick-5000').click();
  await expect(page.getByTestId('change')).toHaveText('¥2,822');
  await expect(page.getByTestId('receipt')).toContainText('登録番号 T1234567890123');
  await expect(page.getByTestId('receipt')).toContainText('※は軽減税率対象');
});
