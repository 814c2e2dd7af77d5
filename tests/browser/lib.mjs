// Shared helpers for Haven's browser tests: launch Debian's Chromium headless through
// playwright-core, collect console errors, and save screenshots under test-output/.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const baseUrl = process.env.BASE_URL;
if (!baseUrl) throw new Error('BASE_URL is not set');
const outDir = process.env.TEST_OUTPUT_DIR || 'test-output';

export async function launch(extraArgs = []) {
  const userDataDir = join(outDir, 'profiles', `${process.pid}-${Date.now()}`);
  mkdirSync(userDataDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...extraArgs,
    ],
  });
  return browser;
}

// A page whose console errors and page errors are recorded, so a test can assert that
// hydration raised none (a CSP violation shows up here too).
const pages = [];

export async function newPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  pages.push(page);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  return page;
}

export async function screenshot(page, name) {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

// Resolves once the wasm app has hydrated (the frontend sets this attribute).
export async function waitForHydration(page) {
  await page.waitForSelector('html[data-hydrated="true"]', { state: 'attached', timeout: 30000 });
}

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

// Runs a test body, printing a clear failure and exiting non-zero on any error.
export async function run(name, body) {
  let browser;
  try {
    browser = await launch(JSON.parse(process.env.CHROMIUM_ARGS || '[]'));
    await body(browser);
    console.log(`ok: ${name}`);
  } catch (e) {
    console.error(`FAILED: ${name}: ${e.stack || e}`);
    for (const page of pages) {
      console.error(`page ${page.url()} errors: ${JSON.stringify(page.errors)}`);
      try { await screenshot(page, `FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`); } catch (_) { /* closed */ }
    }
    process.exitCode = 1;
  } finally {
    if (browser) await browser.close();
  }
}

// Signs the browser context in with a session cookie the test minted
// (SESSION_COOKIE="haven_session=...").
export async function signedInPage(browser, cookie = process.env.SESSION_COOKIE) {
  const page = await newPage(browser);
  const [name, value] = cookie.split('=');
  await page.context().addCookies([{ name, value, url: baseUrl }]);
  return page;
}

// Waits until the test writes a file (e.g. a link it received by e-mail) and returns its text.
export async function waitForFile(path, timeoutMs = 30000) {
  const { readFile } = await import('node:fs/promises');
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const text = (await readFile(path, 'utf8')).trim();
      if (text) return text;
    } catch (_) { /* not yet */ }
    if (Date.now() > until) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
