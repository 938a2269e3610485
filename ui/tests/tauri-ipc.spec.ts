import { expect, test, type Page } from '@playwright/test';
import type { ApiError, SaleDto, StatusDto } from '../src/lib/bindings';
import { MILK, scanBurst } from './helpers';

// The Tauri backend (src/lib/backend/tauri.ts) against a scripted stand-in for Tauri's IPC:
// every command must go through the single `api` command as { cmd, args }, rejections must
// arrive as the register's ApiError, and events must reach the screen.

const eur = (minor: number) => ({ minor, currency: 'EUR' });
const emptyPayment = { tenders: [], paid: eur(0), remaining: eur(0), remainingCash: eur(0), change: eur(0), complete: false };
const sale = (lines: number): SaleDto => ({
  revision: lines,
  stage: 'open',
  lines: Array.from({ length: lines }, (_, i) => ({
    id: i + 1,
    variantId: 'v-milk',
    sku: 'FX-001',
    names: { en: 'Whole milk 1L', es: 'Leche entera 1L', ja: '牛乳 1L' },
    quantity: 1,
    byWeight: false,
    unitPrice: eur(99),
    extended: eur(99),
    discount: eur(0),
    amount: eur(99),
    taxCode: 'ES-IVA-4',
    taxLabel: '4%',
    reduced: true,
    priceOverridden: false,
    note: null,
    lineDiscount: null,
    originalPrice: null,
    giftCard: null,
  })),
  lastLineId: lines || null,
  itemCount: lines,
  items: eur(99 * lines),
  discounts: eur(0),
  subtotal: eur(99 * lines),
  taxes: lines ? [{ code: 'ES-IVA-4', label: '4%', reduced: true, net: eur(95 * lines), tax: eur(4 * lines), gross: eur(99 * lines) }] : [],
  taxTotal: eur(4 * lines),
  total: eur(99 * lines),
  priceMode: 'tax_inclusive',
  payment: emptyPayment,
  orderDiscount: null,
  customer: null,
});

async function fakeTauri(page: Page) {
  await page.addInitScript(
    ({ empty, one }) => {
      const w = window as unknown as Record<string, unknown>;
      const calls: { cmd: string; args: unknown }[] = [];
      const listeners: Record<string, number[]> = {};
      let next = 1;
      w.__calls = calls;
      w.__emit = (event: string, payload: unknown) => {
        for (const id of listeners[event] ?? []) (w[`_${id}`] as (e: unknown) => void)({ event, id, payload });
      };
      w.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener: () => {} };
      w.__TAURI_INTERNALS__ = {
        metadata: { currentWindow: { label: 'main' }, currentWebview: { windowLabel: 'main', label: 'main' } },
        transformCallback(cb: unknown) {
          const id = next++;
          w[`_${id}`] = cb;
          return id;
        },
        async invoke(cmd: string, args: Record<string, unknown>) {
          if (cmd === 'plugin:event|listen') {
            (listeners[args.event as string] ??= []).push(args.handler as number);
            return next++;
          }
          if (cmd !== 'api') throw new Error(`unexpected command ${cmd}`);
          const { cmd: c, args: a } = args as { cmd: string; args: Record<string, unknown> };
          calls.push({ cmd: c, args: a });
          switch (c) {
            case 'app_info':
              return {
                store: { name: 'Tienda IPC', address: [], taxId: 'B1', country: 'ES', currency: 'EUR', locale: 'en', priceMode: 'tax_inclusive', cashIncrement: 1, quickCash: [500, 1000] },
                terminalId: 'T09', version: '0.1.0', locales: ['en', 'es', 'ja'], simulatedDevices: true,
              };
            case 'status':
              return { devices: [{ device: 'printer', state: 'ready', detail: null, simulated: true }], sync: { online: true, queued: 0, lastSuccess: null, conflicts: 0 } };
            case 'session':
              return null;
            case 'login':
              if (a.pin === '1234') return { user: { id: 'u1', name: 'Ana', role: 'cashier' }, permissions: ['sell'] };
              throw { code: 'auth.wrong_pin', message: 'wrong PIN', params: { attemptsLeft: '2' } };
            case 'current_sale':
              return empty;
            case 'scan':
              return one;
            default:
              throw { code: 'app.unknown_command', message: c, params: {} };
          }
        },
      };
    },
    { empty: sale(0), one: sale(1) },
  );
}

test('the Tauri backend: one `api` command, ApiError rejections, events to the screen', async ({ page }) => {
  await fakeTauri(page);
  await page.goto('/');
  await expect(page.getByTestId('store-name')).toHaveText('Tienda IPC');
  await page.getByTestId('lang-en').click();

  for (const d of '9999') await page.getByTestId(`pin-${d}`).click();
  await page.getByTestId('pin-ok').click();
  await expect(page.getByTestId('message')).toContainText('Wrong PIN. 2 tries left');

  for (const d of '1234') await page.getByTestId(`pin-${d}`).click();
  await page.getByTestId('pin-ok').click();
  await expect(page.getByTestId('who')).toContainText('Terminal T09');

  await scanBurst(page, MILK);
  await expect(page.getByTestId('line')).toHaveCount(1);
  await expect(page.getByTestId('total')).toHaveText('€0.99');
  const calls = (await page.evaluate(() => (window as unknown as { __calls: unknown[] }).__calls)) as { cmd: string; args: unknown }[];
  expect(calls.find((c) => c.cmd === 'login')).toEqual({ cmd: 'login', args: { pin: '9999' } });
  expect(calls.find((c) => c.cmd === 'scan')).toEqual({ cmd: 'scan', args: { code: MILK } });

  // Pushed events: a device scan, a refused device scan, a status change.
  const two = sale(2);
  await page.evaluate((s) => (window as unknown as { __emit: (e: string, p: unknown) => void }).__emit('sale_changed', s), two);
  await expect(page.getByTestId('line')).toHaveCount(2);
  const rejected: ApiError = { code: 'scan.check_digit', message: 'x', params: { expected: '7', found: '8' } };
  await page.evaluate((e) => (window as unknown as { __emit: (e: string, p: unknown) => void }).__emit('scan_rejected', e), rejected);
  await expect(page.getByTestId('message')).toContainText('check digit should be 7');
  const offline: StatusDto = { devices: [{ device: 'printer', state: 'warning', detail: 'paper_out', simulated: true }], sync: { configured: true, online: false, queued: 3, lastSuccess: null, conflicts: 0 } };
  await page.evaluate((s) => (window as unknown as { __emit: (e: string, p: unknown) => void }).__emit('status_changed', s), offline);
  await expect(page.getByTestId('sync')).toContainText('Offline · 3 queued');
  await expect(page.getByTestId('device-printer')).toHaveText('Printer: paper out');
});
