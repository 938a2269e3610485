import { expect, test } from '@playwright/test';
import { MILK, open, scanBurst, tapPin } from './helpers';

test('a wrong PIN says how many tries are left; the right PIN logs in', async ({ page }) => {
  await open(page);
  await page.getByTestId('lang-en').click();
  await tapPin(page, '1111');
  await expect(page.getByTestId('message')).toHaveText(/Wrong PIN\. 4 tries left before the login locks\./);
  await tapPin(page, '1234');
  await expect(page.getByTestId('who')).toContainText('Ana (cashier)');
  await expect(page.getByTestId('message')).toHaveText('');
});

test('the PIN can be typed on a physical keyboard: digits, Backspace, Enter', async ({ page }) => {
  await open(page);
  // A person types: 90 ms between keys is far slower than a scanner.
  await page.keyboard.type('12345', { delay: 90 });
  await page.keyboard.press('Backspace');
  await expect(page.getByTestId('pin-dots').locator('.filled')).toHaveCount(4);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('who')).toContainText('Ana');
});

test('five wrong PINs lock the login, with the until-time in the chosen language', async ({ page }) => {
  await open(page);
  await page.getByTestId('lang-es').click();
  for (let i = 0; i < 4; i++) {
    await tapPin(page, '5555');
    await expect(page.getByTestId('message')).toContainText(`Quedan ${4 - i} intentos`);
  }
  await tapPin(page, '5555');
  const msg = page.getByTestId('message');
  await expect(msg).toContainText('Acceso bloqueado hasta las');
  await expect(msg).toHaveText(/hasta las \d{2}:\d{2};/);
  // Locked means locked: even the right PIN is refused now.
  await tapPin(page, '1234');
  await expect(msg).toContainText('Acceso bloqueado');
  await expect(page.getByTestId('pin-ok')).toBeVisible();
  // The message follows the language switch.
  await page.getByTestId('lang-ja').click();
  await expect(msg).toContainText('までログインできません');
});

test('a scan on the login screen is refused, not typed into the PIN', async ({ page }) => {
  await open(page);
  await page.getByTestId('lang-en').click();
  await scanBurst(page, '8400000000017');
  await expect(page.getByTestId('message')).toContainText('Log in before scanning');
  await expect(page.getByTestId('pin-dots').locator('.filled')).toHaveCount(0);
});

test('logging out keeps the sale in progress for the next login', async ({ page }) => {
  await open(page);
  await tapPin(page, '1234');
  await scanBurst(page, MILK);
  await expect(page.getByTestId('line')).toHaveCount(1);
  await page.getByTestId('logout').click();
  await expect(page.getByTestId('pin-ok')).toBeVisible();
  await tapPin(page, '9999');
  await expect(page.getByTestId('who')).toContainText('Marta');
  await expect(page.getByTestId('line')).toHaveCount(1);
  await expect(page.getByTestId('total')).toHaveText('0,99 €');
});
