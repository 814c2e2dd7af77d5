// Benchmark (not a test): how long the door page takes to decide a scan offline, in
// Chromium, with BENCH_DENIED revoked ids in its list. Signs in with SIGNIN_LINK, opens
// the door page with ?bench=N&token=TOKEN and prints the page's own measurement.
import { baseUrl, run, newPage, waitForHydration } from './lib.mjs';

await run('offline verdict benchmark', async (browser) => {
  const page = await newPage(browser);
  await page.goto(process.env.SIGNIN_LINK);
  await page.click('button[type=submit]');
  await page.waitForURL((url) => !url.pathname.startsWith('/auth/'));
  const denied = process.env.BENCH_DENIED || '100000';
  await page.goto(`${baseUrl}/door/havenconf?bench=${denied}&token=${encodeURIComponent(process.env.TOKEN)}`);
  await waitForHydration(page);
  const out = await page.waitForSelector('#bench', { timeout: 120000 });
  console.log(`RESULT ${await out.textContent()}`);
});
