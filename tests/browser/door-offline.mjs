// The door page keeps working when the network fails: it checks badges against the list
// it synced, queues the scans, keeps them while it is signed out, and uploads each once
// when the network (and its session) is back.
import { baseUrl, run, newPage, screenshot, waitForHydration, check } from './lib.mjs';

await run('the door page works offline and uploads its scans once', async (browser) => {
  const page = await newPage(browser);
  const [name, value] = process.env.SESSION_COOKIE.split('=');
  await page.context().addCookies([{ name, value, url: baseUrl }]);
  await page.goto(`${baseUrl}/door/havenconf`);
  await waitForHydration(page);
  await page.waitForSelector('#list-age:has-text("old")');
  await page.fill('#gate', 'West');

  await page.context().setOffline(true);
  for (const [token, expected] of [[process.env.GOOD, 'admit'], [process.env.REVOKED, 'deny']]) {
    await page.fill('#wedge', token);
    await page.press('#wedge', 'Enter');
    await page.waitForSelector('#answer');
    check((await page.getAttribute('#answer', 'data-result')) === expected, `offline ${expected}`);
    check((await page.textContent('#answer')).includes('offline'), 'says it decided offline');
    await screenshot(page, `door-offline-${expected}`);
    await page.click('#answer');
  }
  await page.waitForSelector('#door-status:has-text("OFFLINE")');
  await page.waitForSelector('#queued:has-text("2 scan(s) to upload")');

  // Back on the network but signed out: the scans stay on the device, and the page says why.
  await page.context().clearCookies();
  await page.context().setOffline(false);
  await page.waitForSelector('#door-problem:has-text("sign in again")', { timeout: 20000 });
  check((await page.textContent('#queued')).includes('2 scan(s) to upload'), 'the scans are kept while signed out');
  await screenshot(page, 'door-offline-signed-out');

  // Signed in again: each scan goes up once and the notice clears.
  await page.context().addCookies([{ name, value, url: baseUrl }]);
  await page.waitForSelector('#queued', { state: 'detached', timeout: 20000 });
  await page.waitForSelector('#door-problem', { state: 'detached' });
  await page.waitForSelector('#door-status:has-text("Online")');
  console.log('uploaded');
  const unexpected = page.errors.filter(
    (e) => !e.includes('Failed to fetch') && !e.includes('ERR_INTERNET_DISCONNECTED') && !e.includes('401'),
  );
  check(unexpected.length === 0, `no other errors: ${unexpected.join(' | ')}`);
});
