import { expect, type Page } from '@playwright/test';

/** Fixture barcodes of the fake register (real EAN-13 check digits). */
export const MILK = '8400000000017';
export const TSHIRT = '8400000000024';
export const BREAD = '8400000000031';
/** The same products in the Japanese store (demo scheme: prefix 45 for odd, 49 for even). */
export const JP_MILK = '4500000000018';
export const JP_TSHIRT = '4900000000023';
/** Apples keyed 25 00001 00000 C; this label carries 350 g. */
export const APPLES_350G = '2500001003508';

/**
 * A keyboard-wedge scanner: the code's keys 5 ms apart, then Enter — as trusted key events
 * through the browser's input pipeline (CDP Input.dispatchKeyEvent), each stamped with its own
 * time the way the OS stamps a USB scanner's keys. (`page.keyboard.type(code, { delay: 5 })`
 * sends the same events, but on a loaded 2-core machine its real gaps were measured at
 * 20–300 ms, which no scanner produces; the timestamps make the burst exact.)
 */
export async function scanBurst(page: Page, code: string, gapMs = 5): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const base = Date.now() / 1000;
  const sent: Promise<unknown>[] = [];
  [...code, 'Enter'].forEach((k, i) => {
    const enter = k === 'Enter';
    const common = {
      key: k,
      code: enter ? 'Enter' : /\d/.test(k) ? `Digit${k}` : `Key${k.toUpperCase()}`,
      windowsVirtualKeyCode: enter ? 13 : k.toUpperCase().charCodeAt(0),
      timestamp: base + (i * gapMs) / 1000,
    };
    sent.push(cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', text: enter ? '\r' : k, ...common }));
    sent.push(cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', ...common, timestamp: common.timestamp + 0.002 }));
  });
  await Promise.all(sent);
  await cdp.detach();
}

/** The wedge detector's recent keys (key@time:decision), for failure messages. */
export async function wedgeLog(page: Page): Promise<string> {
  return page.evaluate(() => ((window as unknown as { __wedgeRecent?: string[] }).__wedgeRecent ?? []).join(' '));
}

/** Opens the register (fresh storage) and waits for the PIN pad. */
export async function open(page: Page, query = ''): Promise<void> {
  await page.goto(query ? `/?${query}` : '/');
  await expect(page.getByTestId('pin-ok')).toBeVisible();
}

export async function tapPin(page: Page, pin: string): Promise<void> {
  for (const d of pin) await page.getByTestId(`pin-${d}`).click();
  await page.getByTestId('pin-ok').click();
}

/** Opens the register and logs Ana (cashier) in. */
export async function loggedIn(page: Page, query = ''): Promise<void> {
  await open(page, query);
  await tapPin(page, '1234');
  await expect(page.getByTestId('search')).toBeFocused();
}

export function lines(page: Page) {
  return page.getByTestId('line');
}

export async function tones(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __posTones?: string[] }).__posTones ?? []);
}

import { test as base } from '@playwright/test';
/** Prints the wedge log of a failed test (timing problems show up there). */
base.afterEach(async ({ page }, info) => {
  if (info.status !== info.expectedStatus) console.log(`[wedge] ${info.title}: ${await wedgeLog(page).catch(() => '')}`);
});
