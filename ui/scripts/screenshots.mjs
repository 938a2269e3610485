// Screenshots of the register in a browser against the fake register (the lead takes the
// real-app ones): login and sale screens in en/es/ja, plus payment and completed views.
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
await browser.close();
await srv.close();
