// Screenshots of the register in a browser against the fake register (the lead takes the
// real-app ones): login and sale screens in en/es/ja, plus payment and completed views; in es/ja
// also cash, discount + approval, gift card, devices, web shop settings and parked sales.
// Usage: npm run screenshots  (builds first; writes ../docs/screenshots/browser-*.png)
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serveDist } from './serve.mjs';

const outDir = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const size = { width: Number(process.env.SHOT_W ?? 1024), height: Number(process.env.SHOT_H ?? 768) };
const srv = await serveDist(0);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--mute-audio'],
});

async function scan(page, code) {
  const cdp = await page.context().newCDPSession(page);
  const base = Date.now() / 1000;
  await Promise.all(
    [...code, 'Enter'].flatMap((k, i) => {
      const enter = k === 'Enter';
      const c = { key: k, code: enter ? 'Enter' : `Digit${k}`, windowsVirtualKeyCode: enter ? 13 : k.charCodeAt(0), timestamp: base + i * 0.005 };
      return [
        cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', text: enter ? '\r' : k, ...c }),
        cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', ...c }),
      ];
    }),
  );
  await cdp.detach();
  await page.waitForTimeout(60);
}

async function shoot(page, name) {
  await page.mouse.move(2, 760);
  await page.waitForTimeout(150);
  await page.screenshot({ path: `${outDir}${name}.png` });
  console.log(`wrote docs/screenshots/${name}.png`);
}

// Products 1–3 of each store's demo catalog (milk, T-shirt, bread) and a weighed apples label.
const CODES = {
  es: ['8400000000017', '8400000000017', '8400000000024', '2500001003508', '8400000000031'],
  jp: ['4500000000018', '4500000000018', '4900000000023', '2500001003508', '4500000000032'],
};
const suffix = size.width === 1024 ? '' : `-${size.width}`;

for (const [lang, store] of [['en', ''], ['es', ''], ['ja', 'store=jp']]) {
  const context = await browser.newContext({ viewport: size });
  const page = await context.newPage();
  await page.goto(srv.url + (store ? `?${store}` : ''));
  await page.getByTestId(`lang-${lang}`).click();
  await page.getByTestId('pin-1').click();
  await page.getByTestId('pin-2').click();
  await shoot(page, `browser-login-${lang}${suffix}`);
  if (lang === 'es') {
    await page.getByTestId('pin-ok').click(); // "12": a wrong PIN
    await shoot(page, `browser-login-error-${lang}${suffix}`);
    await page.getByTestId('pin-1').click();
    await page.getByTestId('pin-2').click();
  }
  await page.getByTestId('pin-3').click();
  await page.getByTestId('pin-4').click();
  await page.getByTestId('pin-ok').click();
  await page.getByTestId('search').waitFor();
  for (const c of CODES[store ? 'jp' : 'es']) await scan(page, c);
  await page.keyboard.press('ArrowUp');
  await page.getByTestId('search').pressSequentially(lang === 'ja' ? 'チョコ' : lang === 'es' ? 'choco' : 'choco', { delay: 70 });
  await page.getByTestId('tile').first().waitFor();
  await shoot(page, `browser-sale-${lang}${suffix}`);
  await page.getByTestId('search').fill('');
  await page.keyboard.press('F12');
  await page.getByTestId('payment').waitFor();
  await shoot(page, `browser-payment-${lang}${suffix}`);
  await page.locator('[data-testid=quick-cash] button').first().click();
  await page.getByTestId('completed').waitFor();
  await shoot(page, `browser-done-${lang}${suffix}`);
  await context.close();
}

// The newer screens, in es and ja: cash count (F1), discount and its approval (F3), the gift-card
// tender (F12, F2), Settings → Devices (F8), Settings → Web shop and the parked sales (F7, F11).
const TSHIRT = { es: '8400000000024', jp: '4900000000023' };
const GIFT_50 = '6006490000000017'; // the fake's demo gift card with 50,00 € (5000 minor units)

async function loggedIn(lang, store, pin) {
  const context = await browser.newContext({ viewport: size });
  const page = await context.newPage();
  await page.goto(srv.url + (store ? `?${store}` : ''));
  await page.getByTestId(`lang-${lang}`).click();
  for (const d of pin) await page.getByTestId(`pin-${d}`).click();
  await page.getByTestId('pin-ok').click();
  await page.getByTestId('search').waitFor();
  return { context, page };
}

for (const [lang, store] of [['es', ''], ['ja', 'store=jp']]) {
  const codes = CODES[store ? 'jp' : 'es'];
  const tshirt = TSHIRT[store ? 'jp' : 'es'];

  // Cash: a manager opens the register and counts the float by denomination.
  {
    const { context, page } = await loggedIn(lang, store, '9999');
    await page.keyboard.press('F1');
    await page.getByTestId('cash').waitFor();
    await page.getByTestId('cash-open').click();
    const pieces = store ? [[10000, 1], [1000, 5], [100, 12], [10, 8]] : [[2000, 2], [1000, 1], [100, 10], [50, 6]];
    for (const [value, qty] of pieces) await page.getByTestId(`cash-qty-${value}`).fill(String(qty));
    await page.getByTestId('cash-count-total').waitFor();
    await shoot(page, `browser-cash-${lang}${suffix}`);
    await context.close();
  }

  // Discount on a line by the cashier Ana, then the manager approval it needs.
  {
    const { context, page } = await loggedIn(lang, store, '1234');
    await scan(page, codes[0]);
    await scan(page, tshirt);
    await page.getByTestId('line').first().waitFor().catch(() => {});
    await page.keyboard.press('F3');
    await page.getByTestId('edit-dialog').waitFor();
    await page.getByTestId('edit-value').fill('10');
    await page.getByTestId('reason-damaged').click();
    await shoot(page, `browser-discount-${lang}${suffix}`);
    await page.getByTestId('edit-value').press('Enter');
    await page.getByTestId('approval').waitFor();
    await shoot(page, `browser-approval-${lang}${suffix}`);
    await context.close();
  }

  // Gift card tender: number entered, balance shown.
  {
    const { context, page } = await loggedIn(lang, store, '1234');
    await scan(page, tshirt);
    await page.keyboard.press('F12');
    await page.getByTestId('payment').waitFor();
    await page.keyboard.press('F2');
    await page.getByTestId('giftcard-number').fill(GIFT_50);
    await page.getByTestId('giftcard-number').press('Enter');
    await page.getByTestId('giftcard-balance').waitFor();
    await shoot(page, `browser-giftcard-${lang}${suffix}`);
    await context.close();
  }

  // Settings → Devices as the admin: the picker with what discovery found.
  {
    const { context, page } = await loggedIn(lang, store, '0000');
    await page.keyboard.press('F8');
    await page.getByTestId('devices').waitFor();
    const printer = page.getByTestId('pick-printer');
    await printer.locator('option', { hasText: 'EPSON' }).first().waitFor({ state: 'attached' });
    // Pick the printer discovery found, then bring the picker (below the status) into view.
    const epson = await printer.locator('option', { hasText: 'EPSON' }).first().textContent();
    await printer.selectOption({ label: epson.trim() });
    await page.getByTestId('device-picker').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shoot(page, `browser-devices-${lang}${suffix}`);
    await context.close();
  }

  // Settings → Web shop, from the sync indicator's panel, as the admin.
  {
    const { context, page } = await loggedIn(lang, store, '0000');
    await page.getByTestId('sync').click();
    await page.getByTestId('open-shop-settings').click();
    await page.getByTestId('shop-url').waitFor();
    await shoot(page, `browser-shop-${lang}${suffix}`);
    await context.close();
  }

  // Parked sales: two sales parked (F7), a third on screen, the list (F11).
  {
    const { context, page } = await loggedIn(lang, store, '1234');
    await scan(page, codes[0]);
    await scan(page, codes[0]);
    await page.keyboard.press('F7');
    await page.getByTestId('cart-empty').waitFor();
    await scan(page, tshirt);
    await scan(page, codes[4]);
    await page.keyboard.press('F7');
    await page.getByTestId('cart-empty').waitFor();
    await scan(page, codes[3]);
    await page.keyboard.press('F11');
    await page.getByTestId('parked-row').nth(1).waitFor();
    await shoot(page, `browser-parked-${lang}${suffix}`);
    await context.close();
  }
}
// --- stored value: gift cards (⇧F2: sell with quick amounts, balance) and customers (⇧F3: statement), es and ja ---
for (const [lang, store] of [['es', ''], ['ja', 'store=jp']]) {
  {
    const { context, page } = await loggedIn(lang, store, '1234');
    await page.keyboard.press('Shift+F2');
    await page.getByTestId('giftcards').waitFor();
    await page.getByTestId(store ? 'gift-quick-5000' : 'gift-quick-2500').click();
    await shoot(page, `browser-giftcard-sell-${lang}${suffix}`);
    await page.keyboard.press('F3');
    await page.getByTestId('gift-number').fill(GIFT_50);
    await page.getByTestId('gift-number').press('Enter');
    await page.getByTestId('gift-balance').waitFor();
    await shoot(page, `browser-giftcard-balance-${lang}${suffix}`);
    await context.close();
  }
  {
    const { context, page } = await loggedIn(lang, store, '1234');
    await scan(page, TSHIRT[store ? 'jp' : 'es']);
    await page.keyboard.press('F12');
    await page.keyboard.press('F4');
    await page.getByTestId('customer-query').fill(store ? 'さくら' : 'sol');
    await page.getByTestId('customer-c-0003').click();
    await page.getByTestId('customer-amount').press('Enter');
    await page.getByTestId('completed').waitFor();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Shift+F3');
    await page.getByTestId('cust-search').fill(store ? 'さくら' : 'sol');
    await page.getByTestId('cust-result').click();
    await page.getByTestId('cust-statement').click();
    await page.getByTestId('statement-print').click();
    await page.getByTestId('receipt').waitFor();
    await shoot(page, `browser-statement-${lang}${suffix}`);
    await context.close();
  }
}
// --- shop gift cards: Settings → Web shop's offline policy (admin) and the refused offline redemptions (manager), es and ja ---
for (const [lang, store] of [['es', ''], ['ja', 'store=jp']]) {
  {
    const { context, page } = await loggedIn(lang, store, '0000');
    await page.getByTestId('sync').click();
    await page.getByTestId('open-shop-settings').click();
    await page.getByTestId('gc-policy-allow').check();
    await page.getByTestId('gc-policy-limit').fill(store ? '5000' : '50');
    await page.getByTestId('gc-policy-save').click();
    await page.getByTestId('gc-policy-saved').waitFor();
    await page.getByTestId('gc-policy').scrollIntoViewIfNeeded();
    await shoot(page, `browser-giftcard-offline-policy-${lang}${suffix}`);
    await context.close();
  }
  {
    const { context, page } = await loggedIn(lang, store, '9999');
    await page.evaluate((jp) => {
      const reg = window.__fakeRegister;
      reg.flagGiftCardRedemption('6006000000001234', jp ? 3000 : 900, jp ? 1200 : 200);
      reg.flagGiftCardRedemption('6006000000005678', jp ? 2000 : 1500, 0, 'UNKNOWN_CARD');
    }, !!store);
    await page.getByTestId('sync').click();
    await page.getByTestId('open-conflicts').click();
    await page.getByTestId('gc-flagged-1').waitFor();
    await page.getByTestId('gc-flagged').scrollIntoViewIfNeeded();
    await shoot(page, `browser-giftcard-flagged-${lang}${suffix}`);
    await context.close();
  }
}
// --- returns: the returns screen (⇧F12) with a line picked, then the refund document, es and ja ---
for (const [lang, store] of [['es', ''], ['ja', 'store=jp']]) {
  const { context, page } = await loggedIn(lang, store, '1234');
  const codes = CODES[store ? 'jp' : 'es'];
  for (const c of [codes[0], codes[0], codes[2]]) await scan(page, c);
  await page.keyboard.press('F12');
  await page.getByTestId('payment').waitFor();
  await page.keyboard.press('Enter');
  await page.getByTestId('completed').waitFor();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Shift+F12');
  await page.getByTestId('returns-code').fill('T02-000001');
  await page.getByTestId('returns-code').press('Enter');
  await page.getByTestId('returns-line').first().waitFor();
  await page.getByTestId('returns-plus').first().click();
  await page.getByTestId('returns-goods').nth(1).selectOption('damaged');
  await page.getByTestId('returns-plus').nth(1).click();
  await page.getByTestId('returns-refund').first().waitFor();
  await shoot(page, `browser-returns-${lang}${suffix}`);
  await page.keyboard.press('F12');
  await page.getByTestId('returns-done').waitFor();
  await shoot(page, `browser-returns-done-${lang}${suffix}`);
  await context.close();
}
// --- staff: Settings → Staff (⇧F8) users, roles and the matrix, hours, the audit trail with Verify; clock in on the login screen, es and ja ---
for (const [lang, store] of [['es', ''], ['ja', 'store=jp']]) {
  {
    const context = await browser.newContext({ viewport: size });
    const page = await context.newPage();
    await page.goto(srv.url + (store ? `?${store}` : ''));
    await page.getByTestId(`lang-${lang}`).click();
    for (const d of '1234') await page.getByTestId(`pin-${d}`).click();
    await page.keyboard.press('Shift+F1');
    await page.getByTestId('clock-said').waitFor();
    await shoot(page, `browser-clock-${lang}${suffix}`);
    await context.close();
  }
  const { context, page } = await loggedIn(lang, store, '0000');
  await page.keyboard.press('Shift+F1');
  await page.keyboard.press('Shift+F8');
  await page.getByTestId('staff-users').waitFor();
  await page.getByTestId('staff-new-user').click();
  await page.getByTestId('staff-user-name').fill(store ? '佐藤' : 'Bea');
  await shoot(page, `browser-staff-users-${lang}${suffix}`);
  await page.getByTestId('staff-user-cancel').click();
  await page.keyboard.press('F2');
  await page.getByTestId('staff-role-name').fill(store ? 'シフトリーダー' : 'Jefe de turno');
  await page.getByTestId('staff-role-create').click();
  await page.getByTestId('staff-done').waitFor();
  await shoot(page, `browser-staff-roles-${lang}${suffix}`);
  await page.keyboard.press('F3');
  await page.getByTestId('hours-table').waitFor();
  await page.keyboard.press('F9');
  await page.getByTestId('hours-printed').waitFor();
  await shoot(page, `browser-staff-hours-${lang}${suffix}`);
  await page.keyboard.press('F4');
  await page.getByTestId('audit-table').waitFor();
  await page.keyboard.press('F6');
  await page.getByTestId('audit-verdict').waitFor();
  await shoot(page, `browser-staff-audit-${lang}${suffix}`);
  await context.close();
}
// --- returns of other registers' sales and web orders, fetched from the shop, es and ja ---
for (const [lang, store] of [['es', ''], ['ja', 'store=jp']]) {
  const { context, page } = await loggedIn(lang, store, '9999');
  await page.keyboard.press('Shift+F12');
  await page.getByTestId('returns-code').fill('T01-000042');
  await page.getByTestId('returns-code').press('Enter');
  await page.getByTestId('returns-origin').waitFor();
  await page.getByTestId('returns-plus').first().click();
  await page.getByTestId('returns-refund').first().waitFor();
  await shoot(page, `browser-returns-other-register-${lang}${suffix}`);
  await page.keyboard.press('Escape');
  await page.getByTestId('returns-code').fill('WQ7Z2K9D');
  await page.getByTestId('returns-code').press('Enter');
  await page.getByTestId('returns-paid-online').waitFor();
  await page.getByTestId('returns-plus').first().click();
  await page.getByTestId('returns-refund').first().waitFor();
  await shoot(page, `browser-returns-web-order-${lang}${suffix}`);
  await context.close();
}
await browser.close();
await srv.close();
