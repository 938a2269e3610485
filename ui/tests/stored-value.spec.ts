import { expect, test, type Page } from '@playwright/test';
import { loggedIn, MILK, open, scanBurst, tapPin, TSHIRT } from './helpers';

// Stored value at the register in the Spanish store (the UI starts in Spanish) against the
// in-browser fake register, which mirrors api/src/stored_value.rs: gift cards sold (⇧F2) are
// untaxed lines that get their money only when the sale is paid; top-ups; the balance check by
// typing or by a swipe; customers (⇧F3) created, edited and put on a sale; a credit limit that
// a cashier changes only with a manager's PIN; the statement; paying the account in cash.

type FakeWindow = {
  __fakeRegister: {
    swipeGiftCard(number: string): void;
    auditLog: { action: string; approverId: string | null }[];
  };
};

/** Pays the sale on screen with exact cash and returns the receipt's text. */
async function payCash(page: Page): Promise<string> {
  await page.keyboard.press('F12');
  await page.getByTestId('tendered').press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
  // Money is formatted with a no-break space before the symbol.
  return ((await page.getByTestId('receipt').first().textContent()) ?? '').replace(/\u00a0/g, ' ');
}

async function newSale(page: Page): Promise<void> {
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cart-empty')).toBeVisible();
}

async function checkBalance(page: Page, number: string): Promise<void> {
  await page.keyboard.press('Shift+F2');
  await expect(page.getByTestId('giftcards')).toBeVisible();
  await page.keyboard.press('F3');
  await page.getByTestId('gift-number').fill(number);
  await page.getByTestId('gift-number').press('Enter');
}

test('a gift card sold with a generated number is untaxed and has its balance only after the sale', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, MILK);
  await expect(page.getByTestId('total')).toHaveText('0,99 €');
  for (const [id, key] of [['gift-cards', '⇧F2'], ['customers-open', '⇧F3']]) {
    const b = page.getByTestId(id);
    await expect(b.locator('kbd')).toHaveText(key);
    expect((await b.boundingBox())!.height, id).toBeGreaterThanOrEqual(44);
  }
  await page.keyboard.press('Shift+F2');
  await expect(page.getByTestId('giftcards')).toBeVisible();
  await expect(page.getByTestId('gift-mode-sell')).toHaveAttribute('aria-selected', 'true');
  await page.getByTestId('gift-quick-2500').click();
  await expect(page.getByTestId('gift-amount')).toHaveValue('25,00');
  await page.getByTestId('gift-add').click();
  await expect(page.getByTestId('giftcards')).toBeHidden();
  await expect(page.getByTestId('line-name').last()).toContainText('Tarjeta regalo ****');
  await expect(page.getByTestId('total')).toHaveText('25,99 €');
  const receipt = await payCash(page);
  // Only the milk's IVA; the card's number as a barcode with its balance.
  expect(receipt).toMatch(/4%\s+0,95\s*€\s+0,04\s*€/);
  expect(receipt).not.toMatch(/0%/);
  expect(receipt).toContain('Tarjeta regalo: no sujeta a IVA hasta su uso');
  expect(receipt).toContain('TARJETA REGALO');
  expect(receipt).toContain('Saldo 25,00 €');
  const number = /\[CODE128: (96\d{17})\]/.exec(receipt)?.[1];
  expect(number).toBeTruthy();
  await newSale(page);
  await checkBalance(page, number!);
  await expect(page.getByTestId('gift-balance')).toContainText('Saldo 25,00 €');
  await expect(page.getByTestId('gift-entries')).toContainText('Emitida');
});

test('a card sold in a sale that is voided never gets its money', async ({ page }) => {
  await open(page);
  await tapPin(page, '9999');
  await expect(page.getByTestId('search')).toBeFocused();
  await page.keyboard.press('Shift+F2');
  await expect(page.getByTestId('giftcards')).toBeVisible();
  await page.getByTestId('gift-number').fill('7001 0000 0001');
  await page.getByTestId('gift-amount').fill('10');
  await page.getByTestId('gift-amount').press('Enter');
  await expect(page.getByTestId('total')).toHaveText('10,00 €');
  // A gift card line takes no discount (Marta may discount, the card may not be).
  await page.keyboard.press('F3');
  await page.getByTestId('edit-value').fill('10');
  await page.getByTestId('reason-damaged').click();
  await page.getByTestId('edit-value').press('Enter');
  await expect(page.getByTestId('edit-dialog')).toContainText('no admite descuentos');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('edit-dialog')).toBeHidden();
  await page.keyboard.press('Shift+Delete');
  await expect(page.getByTestId('edit-dialog')).toBeVisible();
  await page.getByTestId('reason-customer_care').click();
  await page.getByTestId('edit-apply').click();
  await expect(page.getByTestId('cart-empty')).toBeVisible();
  await checkBalance(page, '700100000001');
  await expect(page.getByTestId('gift-error')).toContainText('Ninguna tarjeta regalo termina en');
});

test('a card is topped up in a sale, and a swipe on the balance screen shows the balance', async ({ page }) => {
  await loggedIn(page);
  await page.keyboard.press('Shift+F2');
  await page.keyboard.press('F2');
  await expect(page.getByTestId('gift-mode-top_up')).toHaveAttribute('aria-selected', 'true');
  await page.getByTestId('gift-number').fill('6006490000000024');
  await page.getByTestId('gift-amount').fill('10');
  await page.getByTestId('gift-add').click();
  await expect(page.getByTestId('line-name')).toContainText('Recarga tarjeta regalo ****0024');
  await expect(page.getByTestId('total')).toHaveText('10,00 €');
  const receipt = await payCash(page);
  expect(receipt).not.toContain('CODE128');
  await newSale(page);
  await page.keyboard.press('Shift+F2');
  await page.keyboard.press('F3');
  // The card reader: the swiped number fills the field and the balance shows.
  await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.swipeGiftCard(';6006490000000024=2912?'));
  await expect(page.getByTestId('gift-balance')).toContainText('****0024 · Saldo 15,00 €');
  await expect(page.getByTestId('gift-entries').locator('tbody tr')).toHaveCount(2);
  await expect(page.getByTestId('gift-entries').locator('tbody tr').first()).toContainText('Recarga');
  await expect(page.getByTestId('gift-entries').locator('tbody tr').last()).toContainText('Emitida');
  // Topping up a card that does not exist is refused before it reaches the sale.
  await page.keyboard.press('F2');
  await page.getByTestId('gift-number').fill('999');
  await page.getByTestId('gift-amount').fill('5');
  await page.getByTestId('gift-add').click();
  await expect(page.getByTestId('gift-error')).toContainText('Ninguna tarjeta regalo termina en');
  // A bank card's number is never kept as a gift card.
  await page.keyboard.press('F1');
  await page.getByTestId('gift-number').fill('4111 1111 1111 1111');
  await page.getByTestId('gift-amount').fill('5');
  await page.getByTestId('gift-add').click();
  await expect(page.getByTestId('gift-error')).toContainText('Es una tarjeta bancaria');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('cart-empty')).toBeVisible();
});

test('a customer is created, edited and put on the sale; the receipt names them', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, TSHIRT);
  await page.keyboard.press('Shift+F3');
  await expect(page.getByTestId('customers')).toBeVisible();
  await page.getByTestId('cust-new').click();
  await page.getByTestId('cust-name').fill('Ana Gil');
  await page.getByTestId('cust-email').fill('no-es-un-correo');
  await page.getByTestId('cust-save').click();
  await expect(page.getByTestId('cust-error')).toContainText('no es un e-mail');
  await page.getByTestId('cust-email').fill('ana@example.com');
  await page.getByTestId('cust-save').click();
  await expect(page.getByTestId('cust-done')).toHaveText('Guardado.');
  await expect(page.getByTestId('cust-limit')).toHaveText('Sin cuenta');
  await page.getByTestId('cust-name').fill('Ana Gil Pérez');
  await page.getByTestId('cust-phone').fill('600 123 456');
  await page.getByTestId('cust-save').click();
  await expect(page.getByTestId('cust-done')).toHaveText('Guardado.');
  await page.getByTestId('cust-attach').click();
  await expect(page.getByTestId('customers')).toBeHidden();
  await expect(page.getByTestId('customers-open')).toContainText('Ana Gil Pérez');
  // Found again by phone.
  await page.keyboard.press('Shift+F3');
  await expect(page.getByTestId('cust-attached')).toContainText('Ana Gil Pérez');
  await page.keyboard.press('Escape');
  await page.getByTestId('cust-search').fill('123 456');
  await expect(page.getByTestId('cust-result')).toContainText('Ana Gil Pérez');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('customers')).toBeHidden();
  const receipt = await payCash(page);
  expect(receipt).toContain('Cliente: Ana Gil Pérez');
});

test('a cashier changes a credit limit only with a manager’s PIN', async ({ page }) => {
  await loggedIn(page);
  await page.keyboard.press('Shift+F3');
  await page.getByTestId('cust-search').fill('pablo');
  await page.getByTestId('cust-result').click();
  await expect(page.getByTestId('cust-limit')).toHaveText('Sin cuenta');
  await page.getByTestId('cust-limit-input').fill('300');
  await page.getByTestId('cust-limit-save').click();
  await expect(page.getByTestId('cust-approval')).toBeVisible();
  await page.getByTestId('cust-approval-pin').fill('1234');
  await page.getByTestId('cust-approval-ok').click();
  await expect(page.getByTestId('cust-error')).toBeVisible();
  await expect(page.getByTestId('cust-limit')).toHaveText('Sin cuenta');
  await page.getByTestId('cust-approval-pin').fill('9999');
  await page.getByTestId('cust-approval-ok').click();
  await expect(page.getByTestId('cust-done')).toHaveText('Límite de crédito cambiado.');
  await expect(page.getByTestId('cust-limit')).toHaveText('300,00 €');
  await expect(page.getByTestId('cust-available')).toHaveText('300,00 €');
  const audit = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.auditLog.filter((a) => a.action === 'customer_limit'));
  expect(audit).toEqual([expect.objectContaining({ action: 'customer_limit', approverId: 'u-marta' })]);
});

test('the statement runs the balance; paying the account in cash lowers it and prints a receipt', async ({ page }) => {
  await loggedIn(page);
  // Bar El Sol buys a T-shirt on account.
  await scanBurst(page, TSHIRT);
  await page.keyboard.press('F12');
  await page.keyboard.press('F4');
  await page.getByTestId('customer-query').fill('sol');
  await page.getByTestId('customer-c-0003').click();
  await page.getByTestId('customer-amount').press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
  const sold = (await page.getByTestId('receipt-number').textContent()) ?? '';
  const receiptNo = /T\d+-\d{6}/.exec(sold)?.[0];
  await newSale(page);

  await page.keyboard.press('Shift+F3');
  await page.getByTestId('cust-search').fill('sol');
  await page.getByTestId('cust-result').click();
  await expect(page.getByTestId('cust-owed')).toHaveText('19,99 €');
  await expect(page.getByTestId('cust-statement').locator('kbd')).toHaveText('F2');
  await page.keyboard.press('F2');
  await expect(page.getByTestId('statement-row')).toHaveCount(1);
  await expect(page.getByTestId('statement-row')).toContainText(receiptNo!);
  await expect(page.getByTestId('statement-row')).toContainText('Cargo');
  await expect(page.getByTestId('statement-closing')).toHaveText('19,99 €');
  await page.keyboard.press('F5');
  await expect(page.getByTestId('receipt')).toContainText('EXTRACTO DE CUENTA');
  await page.keyboard.press('Escape');

  await page.keyboard.press('F4');
  await expect(page.getByTestId('pay-amount')).toHaveValue('19,99');
  await page.getByTestId('pay-amount').fill('15');
  await page.getByTestId('pay-cash').click();
  await page.getByTestId('pay-tendered').fill('20');
  await page.getByTestId('pay-confirm').click();
  await expect(page.getByTestId('paid-note')).toContainText('Pago T02-P-000001 de 15,00 € registrado. Queda por pagar: 4,99 €.');
  await expect(page.getByTestId('paid-change')).toHaveText('Cambio 5,00 €');
  await expect(page.getByTestId('receipt')).toContainText('JUSTIFICANTE DE PAGO A CUENTA');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('cust-owed')).toHaveText('4,99 €');
  await page.getByTestId('cust-statement').click();
  await expect(page.getByTestId('statement-row')).toHaveCount(2);
  await expect(page.getByTestId('statement-row').nth(1)).toContainText('T02-P-000001');
  await expect(page.getByTestId('statement-row').nth(1)).toContainText('-15,00 €');
  await expect(page.getByTestId('statement-row').nth(1)).toContainText('4,99 €');
  // Paying more than is owed is refused.
  await page.keyboard.press('Escape');
  await page.getByTestId('cust-pay').click();
  await page.getByTestId('pay-amount').fill('5');
  await page.getByTestId('pay-confirm').click();
  await expect(page.getByTestId('cust-error')).toContainText('El cliente solo debe 4,99 €');
});
