// A door phone that reloads, or restarts, while the venue network is down still opens the
// door page, answers badges from the list it keeps, and uploads the queued scans once the
// network is back. The browser reaches Haven through a relay in this script; cutting the
// relay is the network going down (nothing answers, as when the venue's Wi-Fi fails).
import { chromium } from 'playwright-core';
import { createServer, connect } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { baseUrl, check, screenshot } from './lib.mjs';

const upstream = new URL(baseUrl);
const sockets = new Set();
const relay = createServer((client) => {
  const server = connect(Number(upstream.port), upstream.hostname);
  for (const s of [client, server]) {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  }
  client.pipe(server).pipe(client);
});
const listen = (port) => new Promise((resolve) => relay.listen(port, '127.0.0.1', () => resolve(relay.address().port)));
const port = await listen(0);
const site = `http://127.0.0.1:${port}`;
const door = `${site}/door/havenconf`;
const cut = async () => {
  await new Promise((resolve) => {
    relay.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
};
const restore = () => listen(port);

const profile = join(process.env.TEST_OUTPUT_DIR || 'test-output', 'profiles', `door-reload-${process.pid}`);
mkdirSync(profile, { recursive: true });
const phone = () =>
  chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
const watch = (page) => {
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  return page;
};
const hydrated = (page) => page.waitForSelector('html[data-hydrated="true"]', { state: 'attached', timeout: 30000 });
// What the door's service worker keeps: cache name -> paths.
const kept = (page) =>
  page.evaluate(async () => {
    const all = {};
    for (const name of await caches.keys()) {
      all[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
    }
    return all;
  });
async function scan(page, token, expected) {
  await page.fill('#wedge', token);
  await page.press('#wedge', 'Enter');
  await page.waitForSelector('#answer');
  check((await page.getAttribute('#answer', 'data-result')) === expected, `offline ${expected}`);
  check((await page.textContent('#answer')).includes('offline'), 'says it decided offline');
  await page.click('#answer');
}

let context;
let page;
try {
  context = await phone();
  const [name, value] = process.env.SESSION_COOKIE.split('=');
  await context.addCookies([{ name, value, url: site, expires: Math.floor(Date.now() / 1000) + 3600 }]);
  page = watch(context.pages()[0] || (await context.newPage()));

  // Online, once: the page registers its worker, which keeps the page and its assets.
  await page.goto(door);
  await hydrated(page);
  await page.waitForSelector('#list-age:has-text("old")');
  await page.fill('#gate', 'Reload');
  let cached = {};
  for (let i = 0; i < 100 && !Object.values(cached).some((paths) => paths.includes('/door/havenconf')); i++) {
    await page.waitForTimeout(100);
    cached = await kept(page);
  }
  const names = Object.keys(cached);
  check(names.length === 1 && names[0].startsWith('haven-door-'), `one cache, the door's: ${names}`);
  const paths = cached[names[0]];
  check(paths.includes('/door/havenconf'), `the door page is kept: ${paths}`);
  for (const ext of ['js', 'wasm', 'css']) {
    check(paths.some((p) => p.startsWith('/pkg/haven.') && p.endsWith(`.${ext}`)), `the ${ext} is kept: ${paths}`);
  }
  const strays = paths.filter((p) => p !== '/door/havenconf' && !/^\/pkg\/[^/]+\.[A-Za-z0-9_-]{22}\.[a-z]+$/.test(p));
  check(strays.length === 0, `nothing but the page and its assets is kept: ${strays}`);
  console.log(`kept: ${paths.length} entries`);

  // The network goes down and the page is reloaded: it opens and answers from its list.
  await cut();
  await page.reload();
  await hydrated(page);
  await page.waitForSelector('#list-age:has-text("old")');
  await page.waitForSelector('#door-status:has-text("OFFLINE")', { timeout: 20000 });
  check((await page.inputValue('#gate')) === 'Reload', 'the gate is remembered');
  await scan(page, process.env.GOOD, 'admit');
  await page.waitForSelector('#queued:has-text("1 scan(s) to upload")');
  await screenshot(page, 'door-offline-reloaded');
  console.log('reloaded offline');
  // Only the door page is kept: another event's door page does not open.
  const other = await context.newPage();
  const elsewhere = await other.goto(`${site}/door/another-event`).then(() => 'opened', () => 'failed');
  check(elsewhere === 'failed', `a page that was never loaded is not kept (${elsewhere})`);
  await other.close();

  // The phone restarts, still without network: the page opens, keeps its queue, answers.
  await context.close();
  context = await phone();
  page = watch(context.pages()[0] || (await context.newPage()));
  await page.goto(door);
  await hydrated(page);
  await page.waitForSelector('#list-age:has-text("old")');
  await page.waitForSelector('#queued:has-text("1 scan(s) to upload")');
  await scan(page, process.env.REVOKED, 'deny');
  await page.waitForSelector('#queued:has-text("2 scan(s) to upload")');
  console.log('restarted offline');

  // The network is back: both scans go up, once each.
  await restore();
  await page.waitForSelector('#queued', { state: 'detached', timeout: 30000 });
  await page.waitForSelector('#door-status:has-text("Online")');
  console.log('uploaded');

  // Signing out clears what the worker kept.
  await page.click('#door-sign-out');
  await page.waitForURL(`${site}/`);
  await hydrated(page);
  check(Object.keys(await kept(page)).length === 0, `nothing kept after signing out: ${JSON.stringify(await kept(page))}`);
  const unexpected = page.errors.filter(
    (e) => !e.includes('Failed to fetch') && !e.includes('ERR_CONNECTION_REFUSED') && !e.includes('ERR_FAILED'),
  );
  check(unexpected.length === 0, `no other errors: ${unexpected.join(' | ')}`);
  console.log('ok: the door page opens offline after a reload and a restart');
} catch (e) {
  console.error(`FAILED: door offline reload: ${e.stack || e}`);
  if (page) {
    console.error(`page ${page.url()} errors: ${JSON.stringify(page.errors)}`);
    try { await screenshot(page, 'FAILED-door-offline-reload'); } catch (_) { /* closed */ }
  }
  process.exitCode = 1;
} finally {
  if (context) await context.close();
  relay.close();
  for (const s of sockets) s.destroy();
}
