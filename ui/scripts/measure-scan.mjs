// Measures, in Chromium against the fake register, the time from a scanner burst's Enter key
// (when the page handles it) to the new quantity painted on screen, over N scans. This is the UI's
// own share of "scan → line on screen" (the fake answers in microseconds; the real register's
// IPC and lookup come on top). Usage: npm run build && node scripts/measure-scan.mjs [N]
import { chromium } from 'playwright-core';
import { serveDist } from './serve.mjs';

const N = Number(process.argv[2] ?? 60);
const srv = await serveDist(0);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--mute-audio'],
});
const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
// Installed before the app's own listeners (the scanner detector swallows the Enter of a scan).
await page.addInitScript(() => {
  const w = window;
  w.__lat = [];
  let enterAt = 0;
  window.addEventListener('keydown', (e) => { if (e.key === 'Enter') enterAt = performance.now(); }, { capture: true });
  document.addEventListener('DOMContentLoaded', () => {
    // Enter handled → the frame after the cart changed (what the cashier sees).
    new MutationObserver(() => {
      if (!enterAt) return;
      const t0 = enterAt;
      enterAt = 0;
      requestAnimationFrame(() => setTimeout(() => w.__lat.push(performance.now() - t0), 0));
    }).observe(document.getElementById('app'), { subtree: true, childList: true, characterData: true });
  });
});
await page.goto(srv.url);
for (const d of '1234') await page.getByTestId(`pin-${d}`).click();
await page.getByTestId('pin-ok').click();
await page.getByTestId('search').waitFor();
await page.evaluate(() => { window.__lat = []; });
const code = '8400000000024';
for (let i = 0; i < N; i++) {
  const cdp = await page.context().newCDPSession(page);
  const base = Date.now() / 1000;
  await Promise.all([...code, 'Enter'].flatMap((k, j) => {
    const enter = k === 'Enter';
    const c = { key: k, code: enter ? 'Enter' : `Digit${k}`, windowsVirtualKeyCode: enter ? 13 : k.charCodeAt(0), timestamp: base + j * 0.005 };
    return [cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', text: enter ? '\r' : k, ...c }), cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', ...c })];
  }));
  await cdp.detach();
  await page.waitForFunction((n) => window.__lat.length >= n, i + 1);
}
const lat = (await page.evaluate(() => window.__lat)).sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(1);
const qty = await page.getByTestId('line-qty').first().textContent();
console.log(`scan (Enter) → line painted, ${lat.length} scans: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat.at(-1).toFixed(1)} ms; line now ${qty}`);
await browser.close();
await srv.close();
