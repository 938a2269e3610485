import { expect, test } from '@playwright/test';
import { open, tapPin } from './helpers';

type Fake = { testPages: string[] };
const testPages = (page: import('@playwright/test').Page) =>
  page.evaluate(() => (window as unknown as { __fakeRegister: Fake }).__fakeRegister.testPages.length);

test('a manager opens Settings → Devices, diagnoses, tests the printer and goes back with Esc', async ({ page }) => {
  await open(page);
  await page.getByTestId('lang-en').click();
  await tapPin(page, '9999');
  await page.getByTestId('devices-open').click();
  const screen = page.getByTestId('devices');
  await expect(screen).toBeVisible();
  await expect(page.getByTestId('devices-status-printer')).toContainText('Printer');
  await expect(page.getByTestId('devices-status-printer')).toContainText('ready');

  await page.getByTestId('devices-diagnose').click();
  await expect(page.getByTestId('devices-check-printer')).toContainText('answers');
  await expect(page.getByTestId('devices-diagnosis')).toContainText('/dev/ttyUSB0');

  expect(await testPages(page)).toBe(0);
  await page.getByTestId('devices-test-printer').click();
  await expect(page.getByTestId('devices-note')).toHaveText('Test sent to Printer.');
  expect(await testPages(page)).toBe(1);

  // A manager may look but not save; the configuration is read-only.
  await expect(page.getByTestId('devices-save')).toHaveCount(0);
  await expect(screen).toContainText('Only an administrator can change the device settings.');

  await page.keyboard.press('Escape');
  await expect(screen).toHaveCount(0);
  await page.keyboard.press('F8');
  await expect(screen).toBeVisible();
});

test('an admin sees invalid JSON refused in the chosen language; a cashier has no Devices button', async ({ page }) => {
  await open(page);
  await page.getByTestId('lang-es').click();
  await tapPin(page, '0000');
  await page.getByTestId('devices-open').click();
  const config = page.getByTestId('devices-config');
  await expect(config).toHaveValue(/\{/);
  await config.fill('{"printer": ');
  await page.getByTestId('devices-save').click();
  await expect(page.getByTestId('devices-error')).toContainText('La configuración de dispositivos no es válida');
  await config.fill('{"drawer": {"connection": "none"}}');
  await page.getByTestId('devices-save').click();
  await expect(page.getByTestId('devices-note')).toContainText('al volver a iniciar');
  await page.getByTestId('devices-close').click();
  await page.getByTestId('logout').click();

  await tapPin(page, '1234');
  await expect(page.getByTestId('who')).toContainText('Ana');
  await expect(page.getByTestId('devices-open')).toHaveCount(0);
  await page.keyboard.press('F8');
  await expect(page.getByTestId('devices')).toHaveCount(0);
});
