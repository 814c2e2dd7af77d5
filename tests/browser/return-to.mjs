// Sign-in links and OIDC sign-ins asked for with hostile `return_to` values: Chromium ends
// on this site's /me every time, never on another host.
import { baseUrl, run, newPage, waitForHydration, check } from './lib.mjs';
import { readFileSync } from 'node:fs';

// [{ value, link }]: a sign-in link requested with each value.
const links = JSON.parse(readFileSync(process.env.LINKS_FILE, 'utf8'));
const site = new URL(baseUrl).origin;

// Where the page ended up; a navigation to an unknown host fails, which leaves the page on
// Chromium's error page (not this site).
async function settle(page, leaving) {
  await page.waitForURL((u) => !u.href.startsWith(leaving), { timeout: 20000 }).catch(() => {});
  await page.waitForLoadState('load').catch(() => {});
  return new URL(page.url());
}

await run('hostile return_to values keep the browser on the site', async (browser) => {
  for (const { value, link } of links) {
    const page = await newPage(browser);
    await page.goto(link);
    await waitForHydration(page);
    await page.click('button[type=submit]').catch(() => {});
    const url = await settle(page, `${baseUrl}/auth/link/`);
    check(url.origin === site && url.pathname === '/me',
      `sign-in link with return_to ${JSON.stringify(value)} ended on ${url.href}`);
    await page.context().close();
  }
  for (const { value } of links) {
    const page = await newPage(browser);
    await page.goto(`${baseUrl}/auth/oidc/mock/start?return_to=${encodeURIComponent(value)}`).catch(() => {});
    const url = await settle(page, `${baseUrl}/auth/oidc/`);
    check(url.origin === site && url.pathname === '/me',
      `OIDC sign-in with return_to ${JSON.stringify(value)} ended on ${url.href}`);
    await page.context().close();
  }
});
