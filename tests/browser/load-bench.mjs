// Benchmark (not a test): what a first and a second visit cost. For `/` (signed out), the
// concern form (a registrant) and the door page (door staff), in a fresh browser profile:
// the bytes Chromium received (headers and bodies), cold and then warm (a reload), and
// what the same cold load is with brotli (Chromium asks for brotli over https only, so
// for each file under /pkg the size of its .br copy stands in for what was received).
// Then the door page on a slow network (1.6 Mbit/s each way, 150 ms round trip): the time
// from navigation until it can scan (hydrated, with its list), cold and warm.
//
// BASE_URL, SITE_PKG (the site's pkg directory), REGISTRANT_LINK, DOOR_LINK and
// SLOW_DOOR_LINK (single-use sign-in links) come from scripts/bench-load.sh. Prints RESULT lines.
import { baseUrl, run, newPage, waitForHydration } from './lib.mjs';
import { statSync } from 'node:fs';
import { join } from 'node:path';

const pkg = process.env.SITE_PKG;

// Signs the context in through the link's server function, without loading a page (so
// the cache stays cold).
async function signIn(context, link) {
  const token = link.split('/').pop();
  const res = await context.request.post(`${baseUrl}/fn/redeem_signin_link`, { form: { token } });
  if (!res.ok()) throw new Error(`sign-in failed: ${res.status()}`);
}

// Loads `path` in `page` and returns what came over the network.
async function load(page, path, ready) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map();
  let bytes = 0;
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
    const url = urls.get(e.requestId);
    if (url) urls.set(e.requestId, { url, bytes: e.encodedDataLength });
  });
  await page.goto(`${baseUrl}${path}`);
  await ready(page);
  await page.waitForLoadState('networkidle');
  await cdp.detach();
  const files = [...urls.values()].filter((v) => typeof v === 'object');
  const brotli = files.reduce((sum, f) => {
    const name = new URL(f.url).pathname.match(/^\/pkg\/(.+)$/);
    if (!name) return sum + f.bytes;
    try { return sum + statSync(join(pkg, `${name[1]}.br`)).size; } catch (_) { return sum + f.bytes; }
  }, 0);
  return { bytes, brotli, requests: files.length };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

await run('load benchmark', async (browser) => {
  const cases = [
    ['/', null, waitForHydration],
    ['/events/havenconf/concern', process.env.REGISTRANT_LINK, waitForHydration],
    ['/door/havenconf', process.env.DOOR_LINK, async (p) => {
      await waitForHydration(p);
      await p.waitForSelector('#list-age:has-text("old")');
    }],
  ];
  for (const [path, link, ready] of cases) {
    const page = await newPage(browser);
    if (link) await signIn(page.context(), link);
    const cold = await load(page, path, ready);
    const warm = await load(page, path, ready);
    console.log(`RESULT ${path} cold=${kb(cold.bytes)} (${cold.requests} requests; with brotli ${kb(cold.brotli)}) warm=${kb(warm.bytes)} (${warm.requests} requests)`);
    await page.context().close();
  }

  // The door on a slow network, cold (a new profile) and warm (the same profile again).
  const page = await newPage(browser);
  await signIn(page.context(), process.env.SLOW_DOOR_LINK);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 1.6e6 / 8,
  });
  for (const visit of ['cold', 'warm']) {
    const started = Date.now();
    await page.goto(`${baseUrl}/door/havenconf`, { timeout: 120000 });
    await waitForHydration(page);
    await page.waitForSelector('#list-age:has-text("old")', { timeout: 120000 });
    console.log(`RESULT door page ready to scan, 1.6 Mbit/s and 150 ms, ${visit}: ${((Date.now() - started) / 1000).toFixed(2)} s`);
  }
});
