import { expect, type Page, test } from '@playwright/test';
import { loggedIn, MILK, scanBurst, TSHIRT } from './helpers';

// Fixtures of the fake (the register's demo data): gift cards and customers.
const GIFT_50 = '6006490000000017'; // 50,00 €
const GIFT_5 = '6006490000000024'; // 5,00 €

type Kind = 'cash' | 'card' | 'gift_card' | 'store_credit' | 'account';

/** Rings up a T-shirt (19,99 €) and opens the payment screen. */
async function tshirtAtPayment(page: Page, query = ''): Promise<void> {
  await loggedIn(page, query);
  await scanBurst(page, TSHIRT);
  await expect(page.getByTestId('total')).toHaveText('19,99 €');
  await page.keyboard.press('F12');
  await expect(page.getByTestId('due')).toHaveText('19,99 €');
}

/** Pays `amount` (typed like the cashier types it, e.g. "10") with `kind`; without an amount, what is due. */
async function payWith(page: Page, kind: Kind, amount?: string): Promise<void> {
  switch (kind) {
    case 'cash':
      if (amount) await page.getByTestId('tendered').fill(amount);
      await page.getByTestId('tendered').press('Enter');
      return;
    case 'card':
      if (amount) await page.getByTestId('tendered').fill(amount);
      await page.getByTestId('tender-card').click();
      await expect(page.getByTestId('card-pending')).toBeHidden({ timeout: 5_000 });
      return;
    case 'gift_card':
      await page.keyboard.press('F2');
      await page.getByTestId('giftcard-number').fill(GIFT_50);
      await page.getByTestId('giftcard-number').press('Enter');
      await expect(page.getByTestId('giftcard-balance')).toContainText('****0017');
      if (amount) await page.getByTestId('giftcard-amount').fill(amount);
      await page.getByTestId('giftcard-amount').press('Enter');
      return;
    case 'store_credit':
    case 'account':
      await page.keyboard.press(kind === 'store_credit' ? 'F3' : 'F4');
      await page.getByTestId('customer-query').fill('lucía');
      await page.getByTestId('customer-c-0001').click();
      if (amount) await page.getByTestId('customer-amount').fill(amount);
      await page.getByTestId('customer-amount').press('Enter');
      return;
  }
}

/** How each tender reads on the (fake) receipt. */
const ON_RECEIPT: Record<Kind, RegExp> = {
  cash: /Efectivo\s+/,
  card: /Tarjeta\s+/,
  gift_card: /Tarjeta regalo \*\*\*\*0017\s+/,
  store_credit: /Vale Lucía Martín\s+/,
  account: /A cuenta Lucía Martín\s+/,
};

const KINDS: Kind[] = ['cash', 'card', 'gift_card', 'store_credit', 'account'];

for (const kind of KINDS) {
  test(`pays the whole sale by ${kind}`, async ({ page }) => {
    // Milk (0,99 €): within every fixture's balance (Lucía has 15,00 € of store credit).
    await loggedIn(page);
    await scanBurst(page, MILK);
    await page.keyboard.press('F12');
    await expect(page.getByTestId('due')).toHaveText('0,99 €');
    await payWith(page, kind);
    await expect(page.getByTestId('completed')).toBeVisible();
    await expect(page.getByTestId('change')).toHaveText('0,00 €');
    await expect(page.getByTestId('receipt')).toContainText(new RegExp(ON_RECEIPT[kind].source + '0,99\\s€'));
  });
}

for (let i = 0; i < KINDS.length; i++) {
  for (let j = i + 1; j < KINDS.length; j++) {
    const [first, second] = [KINDS[i], KINDS[j]];
    test(`split: 10,00 € by ${first}, the rest by ${second}`, async ({ page }) => {
      await tshirtAtPayment(page);
      await payWith(page, first, '10');
      await expect(page.getByTestId('due')).toHaveText('9,99 €');
      await expect(page.getByTestId('tender-line')).toHaveCount(1);
      await payWith(page, second);
      await expect(page.getByTestId('completed')).toBeVisible();
      const receipt = page.getByTestId('receipt');
      await expect(receipt).toContainText(new RegExp(ON_RECEIPT[first].source + '10,00\\s€'));
      await expect(receipt).toContainText(new RegExp(ON_RECEIPT[second].source + '9,99\\s€'));
    });
  }
}

test('a gift card with too little on it: the balance is shown and a larger amount is refused', async ({ page }) => {
  await tshirtAtPayment(page);
  await page.getByTestId('tender-gift_card').click();
  await page.getByTestId('giftcard-number').fill(`${GIFT_5.slice(0, 4)} ${GIFT_5.slice(4)}`);
  await page.getByTestId('giftcard-check').click();
  await expect(page.getByTestId('giftcard-balance')).toContainText('Saldo 5,00 €');
  // The amount offered is what the card holds, not what is due.
  await expect(page.getByTestId('giftcard-amount')).toHaveValue('5,00');
  await page.getByTestId('giftcard-amount').fill('6');
  await page.getByTestId('giftcard-amount').press('Enter');
  await expect(page.getByTestId('message')).toContainText('La tarjeta regalo solo tiene 5,00 €');
  await expect(page.getByTestId('due')).toHaveText('19,99 €');
  // Partial redemption: all 5,00 € from the card, the rest in cash.
  await page.getByTestId('giftcard-amount').fill('5');
  await page.getByTestId('giftcard-amount').press('Enter');
  await expect(page.getByTestId('due')).toHaveText('14,99 €');
  await expect(page.getByTestId('message')).toContainText('Tarjeta regalo ****0024: le quedan 0,00 €');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('giftcard-panel')).toBeHidden();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
});

test('an unknown gift card number is refused', async ({ page }) => {
  await tshirtAtPayment(page);
  await page.keyboard.press('F2');
  await page.getByTestId('giftcard-number').fill('6006490000009999');
  await page.getByTestId('giftcard-number').press('Enter');
  await expect(page.getByTestId('message')).toContainText('Ninguna tarjeta regalo termina en ****9999');
});

test('a gift card scanned while its panel is open fills the number instead of the sale', async ({ page }) => {
  await tshirtAtPayment(page);
  await page.keyboard.press('F2');
  await expect(page.getByTestId('giftcard-number')).toBeFocused();
  await scanBurst(page, GIFT_50);
  await expect(page.getByTestId('giftcard-balance')).toContainText('Saldo 50,00 €');
  await expect(page.getByTestId('giftcard-amount')).toHaveValue('19,99');
});

test('the account refuses a charge over the credit limit and a customer without an account', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, TSHIRT);
  await page.keyboard.press('F4');
  await page.keyboard.type('30');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('total')).toHaveText('599,70 €');
  await page.keyboard.press('F12');
  await page.keyboard.press('F4');
  await page.getByTestId('customer-query').fill('Pablo');
  await expect(page.getByTestId('customer-c-0002')).toContainText('Sin cuenta');
  await page.getByTestId('customer-c-0002').click();
  await page.getByTestId('customer-amount').fill('10');
  await page.getByTestId('customer-amount').press('Enter');
  await expect(page.getByTestId('message')).toContainText('Pablo Ruiz no tiene cuenta de cliente');
  await page.keyboard.press('Escape');
  await page.keyboard.press('F4');
  await page.getByTestId('customer-query').fill('sol');
  await page.getByTestId('customer-c-0003').click();
  await expect(page.getByTestId('customer-chosen')).toContainText('Cuenta: 500,00 € disponible');
  await page.getByTestId('customer-amount').fill('599,70');
  await page.getByTestId('customer-amount').press('Enter');
  await expect(page.getByTestId('message')).toContainText('Supera el límite de crédito: a Bar El Sol solo se le pueden cargar 500,00 € más');
  await expect(page.getByTestId('due')).toHaveText('599,70 €');
  // Within the limit it goes on account; the rest is cash.
  await page.getByTestId('customer-amount').fill('500');
  await page.getByTestId('customer-amount').press('Enter');
  await expect(page.getByTestId('due')).toHaveText('99,70 €');
});

test('a non-cash tender cannot exceed what is due: change is only given in cash', async ({ page }) => {
  await tshirtAtPayment(page);
  await payWith(page, 'gift_card', '25');
  await expect(page.getByTestId('message')).toContainText('el cambio solo se da en efectivo');
  await expect(page.getByTestId('due')).toHaveText('19,99 €');
});

test('a pending card payment is cancelled with Esc; nothing is charged and the card can be taken again', async ({ page }) => {
  await tshirtAtPayment(page);
  // The simulated terminal waits for a card on amounts ending in ,05.
  await page.getByTestId('tendered').fill('10,05');
  await page.keyboard.press('F1');
  await expect(page.getByTestId('card-pending')).toContainText('10,05 €');
  await expect(page.getByTestId('card-terminal-state')).toHaveText('esperando la tarjeta');
  // While the terminal waits, no other tender and no going back.
  await expect(page.getByTestId('tender-gift_card')).toBeDisabled();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('message')).toContainText('Pago con tarjeta cancelado. No se ha cobrado nada.');
  await expect(page.getByTestId('card-pending')).toBeHidden();
  await expect(page.getByTestId('due')).toHaveText('19,99 €');
  await expect(page.getByTestId('tender-line')).toHaveCount(0);
  await page.getByTestId('tender-card').click();
  await expect(page.getByTestId('completed')).toBeVisible();
  await expect(page.getByTestId('receipt')).toContainText(/Tarjeta\s+19,99\s€/);
});

test('quick cash keys follow the currency’s notes: yen 1000, 5000, 10000', async ({ page }) => {
  await loggedIn(page, 'store=jp');
  await scanBurst(page, '4500000000018'); // milk: every note covers it
  await page.keyboard.press('F12');
  const quick = page.getByTestId('quick-cash').locator('button');
  await expect(quick).toHaveCount(3);
  await expect(page.getByTestId('quick-10000')).toBeVisible();
});

test('e-mail receipt: a bad address is refused, a good one is queued then sent', async ({ page }) => {
  await tshirtAtPayment(page);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
  await expect(page.getByTestId('rc-print')).toContainText('Impreso');
  await page.keyboard.press('F2');
  await expect(page.getByTestId('rc-address')).toBeFocused();
  await page.getByTestId('rc-address').fill('ana@correo');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('message')).toContainText('«ana@correo» no es una dirección de correo');
  await expect(page.getByTestId('email-status')).toHaveCount(0);
  await page.getByTestId('rc-address').fill('ana@correo.es');
  await page.getByTestId('rc-send').click();
  await expect(page.getByTestId('email-status')).toContainText(/Correo a ana@correo.es: (en cola|enviado)/);
  await expect(page.getByTestId('email-status')).toContainText('✓ Correo a ana@correo.es: enviado');
  // Enter still starts the next sale.
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cart-empty')).toBeVisible();
});

test('e-mail receipt while offline waits in the queue and goes once back online', async ({ page }) => {
  await tshirtAtPayment(page);
  await page.keyboard.press('Enter');
  await page.evaluate(() => (window as unknown as { __fakeRegister: { setOnline(o: boolean): void } }).__fakeRegister.setOnline(false));
  await page.keyboard.press('F2');
  await page.getByTestId('rc-address').fill('ana@correo.es');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('email-status')).toContainText('se reintentará');
  await page.evaluate(() => (window as unknown as { __fakeRegister: { setOnline(o: boolean): void } }).__fakeRegister.setOnline(true));
  await expect(page.getByTestId('email-status')).toContainText('✓ Correo a ana@correo.es: enviado');
});

test('when the terminal asks, nothing prints until Print or Both is chosen', async ({ page }) => {
  await tshirtAtPayment(page, 'print=ask');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
  await expect(page.getByTestId('rc-print')).toHaveText(/^Imprimir/);
  const printed = () => page.evaluate(() => (window as unknown as { __fakeRegister: { printedSales: string[] } }).__fakeRegister.printedSales.length);
  expect(await printed()).toBe(0);
  await page.keyboard.press('F3');
  await expect(page.getByTestId('rc-print')).toContainText('✓ Impreso');
  await expect(page.getByTestId('rc-address')).toBeFocused();
  expect(await printed()).toBe(1);
  await page.getByTestId('rc-address').fill('ana@correo.es');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('email-status')).toContainText('enviado');
});

test('a gift card swiped on the card reader opens the gift-card panel with its balance', async ({ page }) => {
  await tshirtAtPayment(page);
  await page.evaluate((n) => (window as unknown as { __fakeRegister: { swipeGiftCard(n: string): void } }).__fakeRegister.swipeGiftCard(n), GIFT_50);
  await expect(page.getByTestId('giftcard-panel')).toBeVisible();
  await expect(page.getByTestId('giftcard-balance')).toContainText('****0017 · Saldo 50,00 €');
  await page.getByTestId('giftcard-amount').press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
});

test('after paying on account, the e-mail field offers the customer’s address', async ({ page }) => {
  await tshirtAtPayment(page);
  await page.keyboard.press('F4');
  await page.getByTestId('customer-query').fill('martín');
  await page.getByTestId('customer-query').press('Enter');
  await expect(page.getByTestId('customer-chosen')).toContainText('Lucía Martín');
  await page.getByTestId('customer-amount').press('Enter');
  await expect(page.getByTestId('completed')).toBeVisible();
  await page.keyboard.press('F2');
  await expect(page.getByTestId('rc-address')).toHaveValue('cliente@example.com');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('email-status')).toContainText('✓ Correo a cliente@example.com: enviado');
});

test('an address the mail server refuses for good is shown as refused, not retried', async ({ page }) => {
  await tshirtAtPayment(page);
  await page.keyboard.press('Enter');
  await page.keyboard.press('F2');
  await page.getByTestId('rc-address').fill('nobody@correo.es');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('email-status')).toContainText('rechazado por el servidor de correo');
});
