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
  await page.getByTestId('devices-advanced').click();
  const config = page.getByTestId('devices-config');
  await expect(config).toHaveValue(/\{/);
  await config.fill('{"printer": ');
  await page.getByTestId('devices-save-json').click();
  await expect(page.getByTestId('devices-error')).toContainText('La configuración de dispositivos no es válida');
  await config.fill('{"drawer": {"connection": "none"}}');
  await page.getByTestId('devices-save-json').click();
  await expect(page.getByTestId('devices-note')).toContainText('al volver a iniciar');
  await page.getByTestId('devices-close').click();
  await page.getByTestId('logout').click();

  await tapPin(page, '1234');
  await expect(page.getByTestId('who')).toContainText('Ana');
  await expect(page.getByTestId('devices-open')).toHaveCount(0);
  await page.keyboard.press('F8');
  await expect(page.getByTestId('devices')).toHaveCount(0);
});

// --- devices: the picker, scan-something-now, swipe a card, test payment, developer panel ---

type FakeDevices = {
  savedDeviceConfig: string;
  simulateScan(code: string): Promise<null>;
  simulateDevice(command: string, value: number | null): Promise<null>;
};
const fake = <T>(page: import('@playwright/test').Page, f: (r: FakeDevices) => T | Promise<T>) =>
  page.evaluate(`(${f.toString()})(window.__fakeRegister)`) as Promise<T>;

test('an admin picks the devices discovery found, sets the options and saves; a manager sees them read-only', async ({ page }) => {
  await open(page);
  await page.getByTestId('lang-en').click();
  await tapPin(page, '0000');
  await page.keyboard.press('F8');
  // Discovery runs on opening: its devices are choices.
  const printer = page.getByTestId('pick-printer');
  await expect(printer.locator('option', { hasText: 'EPSON TM-T20III' })).toHaveCount(1);
  await printer.selectOption({ label: 'EPSON TM-T20III — usb 04b8:0e28 (bus 1 address 4)' });
  await page.getByTestId('pick-paper').selectOption('mm58');
  await page.getByTestId('pick-drawer').selectOption('through_printer');
  await page.getByTestId('pick-open-when').selectOption('low');
  await page.getByTestId('pick-left-open').fill('30');
  await page.getByTestId('pick-left-open').blur();
  await page.getByTestId('pick-scanner').selectOption({ label: 'Honeywell Scanner — /dev/input/by-id/usb-Honeywell_Scanner-event-kbd' });
  await page.getByTestId('pick-suffix').selectOption('cr_lf');
  // The payment terminal on the network, by address.
  await page.getByTestId('pick-payment_terminal').selectOption('tcp');
  await page.getByTestId('pick-payment_terminal-host').fill('192.168.1.50');
  await page.getByTestId('pick-payment_terminal-host').blur();
  await page.getByTestId('devices-save').click();
  await expect(page.getByTestId('devices-note')).toHaveText('Saved. The new device settings apply when the app starts again.');
  await expect(page.getByTestId('devices-restart')).toBeVisible();

  const saved = JSON.parse(await fake(page, (r) => r.savedDeviceConfig));
  expect(saved.printer.connection).toEqual({ kind: 'usb', vid: 0x04b8, pid: 0x0e28 });
  expect(saved.printer.paper).toBe('mm58');
  expect(saved.drawer).toMatchObject({ connection: 'through_printer', open_when: 'low', left_open_alert_s: 30 });
  expect(saved.scanner).toMatchObject({ connection: { kind: 'hid', path: '/dev/input/by-id/usb-Honeywell_Scanner-event-kbd' }, suffix: 'cr_lf' });
  expect(saved.payment_terminal.connection).toEqual({ kind: 'tcp', host: '192.168.1.50', port: 20007 });
  // The picker shows what was saved.
  await expect(page.getByTestId('pick-paper')).toHaveValue('mm58');
  await page.getByTestId('devices-close').click();
  await page.getByTestId('logout').click();

  await tapPin(page, '9999');
  await page.keyboard.press('F8');
  await expect(page.getByTestId('pick-paper')).toHaveValue('mm58');
  await expect(page.getByTestId('pick-printer')).toBeDisabled();
  await expect(page.getByTestId('devices-save')).toHaveCount(0);
  await expect(page.getByTestId('device-picker')).toContainText('Read only: only an administrator can change the devices.');
});

test('scan something now shows the code and its check digit verdict without adding it to the sale', async ({ page }) => {
  await open(page);
  await page.getByTestId('lang-es').click();
  await tapPin(page, '9999');
  await page.keyboard.press('F8');
  await page.getByTestId('devices-scan-now').click();
  await expect(page.getByTestId('devices-waiting')).toHaveText('Escanee ahora un código de barras con el escáner…');
  await fake(page, (r) => r.simulateScan('8400000000017'));
  await expect(page.getByTestId('devices-outcome')).toHaveText('8400000000017: dígito de control correcto. No se ha añadido a la venta.');
  await page.getByTestId('devices-scan-now').click();
  await expect(page.getByTestId('devices-waiting')).toBeVisible();
  await fake(page, (r) => r.simulateScan('8400000000018'));
  await expect(page.getByTestId('devices-outcome')).toHaveText(
    'Dígito de control incorrecto: se leyó 8, debería ser 7. No se ha añadido a la venta.',
  );
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('line')).toHaveCount(0);
});

test('swipe a card: a gift card shows its masked number, a bank card is refused and nothing kept', async ({ page }) => {
  await open(page);
  await page.getByTestId('lang-ja').click();
  await tapPin(page, '9999');
  await page.keyboard.press('F8');
  await page.getByTestId('devices-swipe').click();
  await expect(page.getByTestId('devices-waiting')).toHaveText('カードをリーダーに通してください…');
  await fake(page, (r) => r.simulateDevice('swipe_gift', null));
  await expect(page.getByTestId('devices-outcome')).toContainText('ギフト/ポイントカード ************0017');
  await page.getByTestId('devices-swipe').click();
  await fake(page, (r) => r.simulateDevice('swipe_bank', null));
  await expect(page.getByTestId('devices-outcome')).toHaveText('銀行カードです:拒否し、何も保存していません。カード決済は決済端末で行います。');
  await expect(page.getByTestId('devices-outcome')).not.toContainText('4111');
});

test('a test payment is authorized and reversed; a declined one says so in the chosen language', async ({ page }) => {
  await open(page);
  await page.getByTestId('lang-es').click();
  await tapPin(page, '9999');
  await page.keyboard.press('F8');
  await page.getByTestId('devices-test-payment').click();
  await expect(page.getByTestId('devices-outcome')).toContainText('Autorizado 0,10 € (recibo 1) y anulado al momento (recibo 2). No se ha cobrado nada.');
  await expect(page.getByTestId('devices-outcome')).toContainText('Mastercard ************1234');
  await fake(page, (r) => r.simulateDevice('terminal_decline', null));
  await page.getByTestId('devices-test-payment').click();
  await expect(page.getByTestId('devices-outcome')).toHaveText('Tarjeta denegada (Denegada). Pide otra tarjeta u otra forma de pago.');
  await expect(page.getByTestId('devices-outcome')).toHaveClass(/bad/);
});

test('the developer panel swipes cards and makes the next card payment fail the way a terminal does', async ({ page }) => {
  await open(page);
  await page.getByTestId('lang-en').click();
  await tapPin(page, '1234');
  await page.keyboard.press('F10');
  await expect(page.getByTestId('dev-swipe-bank')).toHaveText('Swipe bank card (refused)');
  await page.getByTestId('dev-terminal-decline').click();
  await expect(page.getByTestId('dev-terminal-armed')).toHaveText('Set: Is declined');
  await page.getByTestId('dev-p1').click();
  await expect(page.getByTestId('line')).toHaveCount(1);
  await page.keyboard.press('F10');
  await page.keyboard.press('F12');
  await page.getByTestId('tender-card').click();
  await expect(page.getByTestId('message')).toContainText('Card declined (Denegada)');
});
