import { defineConfig } from '@playwright/test';

// Browser tests drive the BUILT UI (ui/dist, served on 127.0.0.1) in Debian's Chromium against
// the in-browser fake register. No browser is downloaded: CI must `apt-get install chromium`.
const PORT = Number(process.env.UI_TEST_PORT ?? 4179);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'tests',
  testMatch: '*.spec.ts',
  fullyParallel: true,
  workers: process.env.CI ? 2 : 2,
  timeout: 20_000,
  expect: { timeout: 3_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    viewport: { width: 1024, height: 768 },
    launchOptions: {
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--mute-audio'],
    },
  },
  webServer: {
    command: `node scripts/serve.mjs ${PORT}`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: 10_000,
  },
});
