// Runs the shared scenario in headless Chromium (Debian's /usr/bin/chromium, driven by the pinned
// playwright-core; no browser download): serves wasm/ on 127.0.0.1 with a tiny static server,
// opens tests/browser/index.html, prints each case and exits non-zero on any failure.
// Usage: node wasm/tests/browser/run.mjs   (after run_tests.sh has built pkg/web)
import { createServer } from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  const file = join(root, path);
  const allowed = (path.startsWith(`${sep}pkg${sep}web${sep}`) || path.startsWith(`${sep}tests${sep}`)) && !path.includes('..');
  try {
    if (!allowed) throw new Error('not served');
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream' });
    res.end(body);
  } catch {
    if (path !== `${sep}favicon.ico`) console.log(`404: ${req.url}`);
    res.writeHead(404);
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/tests/browser/index.html`;

const userDataDir = await mkdtemp(join(tmpdir(), 'letterseal-chromium-'));
let failed = 0;
let passed = 0;
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`page error: ${e}`));
  page.on('console', (m) => { if (m.type() === 'error') console.log(`console: ${m.text()}`); });
  await page.goto(url);
  const version = await page.evaluate(() => navigator.userAgent);
  console.log(`# ${version}`);
  await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 300_000 });
  const results = await page.evaluate(() => window.__results);
  for (const r of results) {
    if (r.ok) {
      passed++;
      console.log(`ok - ${r.name}`);
    } else {
      failed++;
      console.log(`not ok - ${r.name}\n${r.error}`);
    }
  }
  if (results.length === 0) failed++;
} catch (e) {
  failed++;
  console.log(`runner error: ${e && e.stack}`);
} finally {
  if (context) await context.close();
  server.close();
  await rm(userDataDir, { recursive: true, force: true });
}
console.log(`chromium: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
