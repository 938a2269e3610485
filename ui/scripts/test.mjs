// `npm test`: builds the UI, runs the unit tests (vitest) and the browser tests (Playwright in
// Debian's Chromium against the built UI and the fake register), then prints one summary line
// `N passed, N failed` last. Exits non-zero if anything failed or nothing ran.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';

const ui = fileURLToPath(new URL('..', import.meta.url));
const out = `${ui}test-results`;
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const t0 = Date.now();

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: ui, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let passed = 0;
let failed = 0;
const problems = [];

const tBuild = Date.now();
if (run('npx', ['vite', 'build', '--logLevel', 'warn']) !== 0) {
  console.log('build failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const buildMs = Date.now() - tBuild;

mkdirSync(out, { recursive: true });
const unitJson = `${out}/unit.json`;
rmSync(unitJson, { force: true });
const tUnit = Date.now();
const unitStatus = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${unitJson}`]);
const unitMs = Date.now() - tUnit;
const unit = readJson(unitJson);
if (unit) {
  passed += unit.numPassedTests;
  failed += unit.numFailedTests;
} else problems.push('vitest wrote no report');
if (unitStatus !== 0 && !(unit && unit.numFailedTests > 0)) problems.push(`vitest exited ${unitStatus}`);

let uiMs = 0;
if (!existsSync(chromium)) {
  problems.push(`Chromium not found at ${chromium}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
} else {
  const uiJson = `${out}/browser.json`;
  rmSync(uiJson, { force: true });
  const tUi = Date.now();
  // A free port for the static server, so parallel runs (or another project's server) never clash.
  const port = process.env.UI_TEST_PORT ?? (await freePort());
  const uiStatus = run('npx', ['playwright', 'test', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: uiJson,
    UI_TEST_PORT: String(port),
  });
  uiMs = Date.now() - tUi;
  const rep = readJson(uiJson);
  if (rep?.stats) {
    passed += rep.stats.expected;
    failed += rep.stats.unexpected + (rep.stats.flaky ?? 0);
  } else problems.push('playwright wrote no report');
  if (uiStatus !== 0 && !(rep?.stats?.unexpected > 0)) problems.push(`playwright exited ${uiStatus}`);
}

console.log(`\nbuild ${(buildMs / 1000).toFixed(1)} s · unit ${(unitMs / 1000).toFixed(1)} s · browser ${(uiMs / 1000).toFixed(1)} s · total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
for (const p of problems) console.log(`problem: ${p}`);
if (problems.length) failed += problems.length;
if (passed + failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
