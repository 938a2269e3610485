import { expect, test, type Page } from '@playwright/test';
import { loggedIn, MILK, open, scanBurst, tapPin, TSHIRT } from './helpers';

// Cash management (F1) in the Spanish store (the UI starts in Spanish) against the in-browser
// fake register, which mirrors the register's rules: a cashier (Ana, 1234) may open her till
// but needs a manager (Marta, 9999) to approve cash out and no sale, and may not take the X
// report or close the day; the count at the end of the day is blind.

type FakeWindow = {
  __fakeRegister: {
    auditLog: { action: string; userId: string | null; approverId: string | null }[];
    zReports: { zNumber: number; overShort: { minor: number } }[];
  };
};

async function asManager(page: Page, query = ''): Promise<void> {
  await open(page, query);
  await tapPin(page, '9999');
  await expect(page.getByTestId('search')).toBeFocused();
}

/** Sells what was scanned for exact cash (F12, Enter) and starts the next sale. */
async function sellExactCash(page: Page, codes: string[]): Promise<void> {
  for (const c of codes) await scanBurst(page, c);
  await page.keyboard.press('F12');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cart-empty')).toBeVisible();
}

async function openWithFloat(page: Page, pieces: [number, number][], total: string): Promise<void> {
  await page.keyboard.press('F1');
  await expect(page.getByTestId('cash-state')).toHaveText('La caja está cerrada.');
  await page.getByTestId('cash-open').click();
  for (const [value, qty] of pieces) await page.getByTestId(`cash-qty-${value}`).fill(String(qty));
  await expect(page.getByTestId('cash-count-total')).toHaveText(`Contado: ${total}`);
  await page.getByTestId('cash-open-confirm').click();
  await expect(page.getByTestId('cash-done')).toHaveText('La caja está abierta.');
  await expect(page.getByTestId('cash-state')).toContainText(`Fondo inicial: ${total}`);
}

test('a manager opens with a counted float, drops cash to the safe and reads the X report', async ({ page }) => {
  await asManager(page);
  await page.keyboard.press('F1');
  await expect(page.getByTestId('cash')).toBeVisible();
  // Touch counting: + twice on the 20 € note, 10 one-euro coins typed; the total follows live.
  await page.getByTestId('cash-open').click();
  await page.getByTestId('cash-plus-2000').click();
  await page.getByTestId('cash-plus-2000').click();
  await expect(page.getByTestId('cash-count-total')).toHaveText('Contado: 40,00 €');
  await page.getByTestId('cash-qty-100').fill('10');
  await expect(page.getByTestId('cash-count-total')).toHaveText('Contado: 50,00 €');
  await page.getByTestId('cash-minus-2000').click();
  await page.getByTestId('cash-plus-2000').click();
  await page.getByTestId('cash-open-confirm').click();
  await expect(page.getByTestId('cash-state')).toContainText('Fondo inicial: 50,00 €');

  await page.getByTestId('cash-out').click();
  await page.getByTestId('cash-amount').fill('20');
  await page.getByTestId('cash-reason-safe_drop').click();
  await page.getByTestId('cash-confirm').click();
  await expect(page.getByTestId('cash-done')).toHaveText('Registrado. El cajón está abierto.');
  await expect(page.getByTestId('device-drawer')).toHaveText('Cajón: abierto');

  // Back to the sale (Esc), sell the T-shirt for exact cash, then the X report.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('cash')).toBeHidden();
  await sellExactCash(page, [TSHIRT]);
  await page.keyboard.press('F1');
  await page.getByTestId('cash-x').click();
  await expect(page.getByTestId('cash-report-title')).toHaveText('Informe X (la caja sigue abierta)');
  await expect(page.getByTestId('cash-report-sales')).toHaveText('1');
  // 50 € float − 20 € to the safe + 19,99 € cash sale.
  await expect(page.getByTestId('cash-report-expected')).toHaveText('49,99 €');
  await expect(page.getByTestId('cash-over-short')).toBeHidden();
  await page.getByTestId('cash-report-done').click();
  await expect(page.getByTestId('cash-state')).toContainText('Abierta desde');
});

test('end of day: a blind count, then over/short and the numbered Z report', async ({ page }) => {
  await asManager(page);
  await openWithFloat(page, [[2000, 5]], '100,00 €');
  await page.keyboard.press('Escape');
  await sellExactCash(page, [MILK, TSHIRT]);
  await page.keyboard.press('F1');
  await page.getByTestId('cash-end-of-day').click();
  // Blind: nothing on the count screen says what the drawer should hold (120,98 €).
  await expect(page.getByTestId('cash-count')).toBeVisible();
  await expect(page.getByTestId('cash')).not.toContainText('120,98');
  await page.getByTestId('cash-qty-2000').fill('6');
  await page.getByTestId('cash-qty-50').fill('1');
  await page.getByTestId('cash-qty-20').fill('2');
  await expect(page.getByTestId('cash-count-total')).toHaveText('Contado: 120,90 €');
  await page.getByTestId('cash-count-done').click();
  await expect(page.getByTestId('cash')).toContainText('¿Cerrar la caja con 120,90 € contados?');
  await page.getByTestId('cash-close-confirm').click();
  await expect(page.getByTestId('cash-report-title')).toHaveText('Informe Z nº 1');
  const diff = page.getByTestId('cash-over-short');
  await expect(diff).toContainText('Falta');
  await expect(diff).toContainText('-0,08 €');
  await expect(page.getByTestId('cash-report-expected')).toHaveText('120,98 €');
  await expect(page.getByTestId('cash-report-counted')).toHaveText('120,90 €');
  await expect(page.getByTestId('cash-report-tender-cash')).toContainText('20,98 €');
  await expect(page.getByTestId('cash-report-cashier')).toHaveText([/^Marta \(1\)\s*20,98\s€$/]);
  await page.getByTestId('cash-report-done').click();
  await expect(page.getByTestId('cash-state')).toHaveText('La caja está cerrada. · último Z: nº 1');
  const z = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.zReports);
  expect(z.map((r) => [r.zNumber, r.overShort.minor])).toEqual([[1, -8]]);
  // Any Z report of the terminal can be looked up again by its number.
  await page.getByTestId('cash-z-number').fill('2');
  await page.getByTestId('cash-z-show').click();
  await expect(page.getByTestId('cash-error')).toHaveText('No hay informe Z nº 2 en este terminal.');
  await page.getByTestId('cash-z-number').fill('1');
  await page.getByTestId('cash-z-show').click();
  await expect(page.getByTestId('cash-report-title')).toHaveText('Informe Z nº 1');
  await expect(page.getByTestId('cash-over-short')).toContainText('-0,08 €');
});

test('a cashier opens her till; a manager approves a cash out with her PIN; X and Z are for managers', async ({ page }) => {
  await loggedIn(page);
  await openWithFloat(page, [[1000, 3]], '30,00 €');
  await expect(page.getByTestId('cash-x')).toBeDisabled();
  await expect(page.getByTestId('cash-end-of-day')).toBeDisabled();
  await expect(page.getByTestId('cash')).toContainText('El informe X y el cierre del día son para encargados.');
  await page.getByTestId('cash-out').click();
  await page.getByTestId('cash-amount').fill('10');
  await page.getByTestId('cash-reason-petty_cash').click();
  await page.getByTestId('cash-confirm').click();
  await expect(page.getByTestId('cash-approval')).toBeVisible();
  await expect(page.getByTestId('cash-approval-pin')).toBeFocused();
  await page.getByTestId('cash-approval-pin').fill('4444');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cash-error')).toContainText('PIN incorrecto');
  await page.getByTestId('cash-approval-pin').fill('9999');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cash-done')).toHaveText('Registrado. El cajón está abierto.');
  const log = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.auditLog);
  expect(log.filter((a) => a.action === 'cash_out')).toEqual([
    expect.objectContaining({ userId: 'u-ana', approverId: 'u-marta' }),
  ]);
  // "Other" needs words before anything is sent.
  await page.getByTestId('cash-no-sale').click();
  await page.getByTestId('cash-reason-other').click();
  await page.getByTestId('cash-confirm').click();
  await expect(page.getByTestId('cash-error')).toContainText('Elige un motivo');
});

test('the first sale opens the register by itself with no float; a Japanese drawer counts yen', async ({ page }) => {
  await loggedIn(page);
  await sellExactCash(page, [MILK]);
  await page.getByTestId('cash-open-screen').click();
  await expect(page.getByTestId('cash-state')).toContainText('abierta con la primera venta');
  await expect(page.getByTestId('cash-state')).toContainText('Fondo inicial: 0,00 €');

  await open(page, 'store=jp');
  await tapPin(page, '9999');
  await page.keyboard.press('F1');
  await page.getByTestId('cash-open').click();
  await expect(page.getByTestId('cash-denom-10000')).toContainText('10,000円');
  await expect(page.getByTestId('cash-denom-2000')).toContainText('2,000円');
  await expect(page.getByTestId('cash-denom-1')).toContainText('1円');
  await page.getByTestId('cash-qty-10000').fill('1');
  await page.getByTestId('cash-qty-1000').fill('5');
  await page.getByTestId('cash-qty-1').fill('7');
  await expect(page.getByTestId('cash-count-total')).toHaveText('計数合計: 15,007円');
});

test('an administrator makes sales wait for a counted float: the cashier is told to open the register first', async ({ page }) => {
  await open(page);
  await tapPin(page, '0000');
  await page.keyboard.press('F1');
  await page.getByTestId('cash-require-float').check();
  await expect(page.getByTestId('cash-done')).toHaveText('Ajuste guardado.');
  await page.keyboard.press('Escape');
  await page.getByTestId('logout').click();
  await tapPin(page, '1234');
  await expect(page.getByTestId('search')).toBeFocused();
  await scanBurst(page, MILK);
  await expect(page.getByTestId('message')).toContainText('Abra primero la caja');
  await expect(page.getByTestId('cart-empty')).toBeVisible();
  await openWithFloat(page, [[500, 4]], '20,00 €');
  await page.keyboard.press('Escape');
  await scanBurst(page, MILK);
  await expect(page.getByTestId('total')).toHaveText('0,99 €');
});

test('beyond the tolerance the drawer is counted again, blind, before the register closes', async ({ page }) => {
  await open(page);
  await tapPin(page, '0000');
  await page.keyboard.press('F1');
  await page.getByTestId('cash-tolerance').fill('1');
  await page.getByTestId('cash-tolerance-save').click();
  await expect(page.getByTestId('cash-done')).toHaveText('Ajuste guardado.');
  await expect(page.getByTestId('cash-tolerance')).toHaveValue('1.00');
  await page.keyboard.press('Escape');
  await openWithFloat(page, [[2000, 2]], '40,00 €');
  await page.getByTestId('cash-end-of-day').click();
  // 2 € short: more than 1 €, so the register asks for a second count and says nothing more.
  await page.getByTestId('cash-qty-2000').fill('1');
  await page.getByTestId('cash-qty-1000').fill('1');
  await page.getByTestId('cash-qty-200').fill('4');
  await page.getByTestId('cash-count-done').click();
  await page.getByTestId('cash-close-confirm').click();
  await expect(page.getByTestId('cash-error')).toHaveText('El recuento no cuadra. Cuente otra vez todo el cajón (el segundo recuento cierra la caja).');
  await expect(page.getByTestId('cash-count-total')).toHaveText('Contado: 0,00 €');
  await expect(page.getByTestId('cash')).not.toContainText('40,00 € esperado');
  // The second count closes, whatever it says.
  await page.getByTestId('cash-qty-2000').fill('1');
  await page.getByTestId('cash-qty-1000').fill('1');
  await page.getByTestId('cash-qty-200').fill('4');
  await page.getByTestId('cash-count-done').click();
  await page.getByTestId('cash-close-confirm').click();
  await expect(page.getByTestId('cash-report-title')).toHaveText('Informe Z nº 1');
  await expect(page.getByTestId('cash-over-short')).toContainText('-2,00 €');
});
