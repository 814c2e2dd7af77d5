// Signing out of a door phone removes the door's list and queue from the browser, but
// never a scan that still waits: the page says so and keeps it until it is uploaded, or,
// told "sign out anyway" on the person's page, keeps only the waiting scan.
import { baseUrl, run, newPage, screenshot, waitForHydration, check } from './lib.mjs';

const doorKeys = (page) =>
  page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('haven.door.') && k !== 'haven.door.gate'));
// Another page of the same browser context (the same storage), its errors recorded.
async function samePhone(context) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  return page;
}
const queued = (page) =>
  page.evaluate(() => JSON.parse(localStorage.getItem('haven.door.havenconf.queue') || '[]').length);

await run('signing out of the door page keeps waiting scans and then clears the door data', async (browser) => {
  const page = await newPage(browser);
  const context = page.context();
  const [name, value] = process.env.SESSION_COOKIE.split('=');
  await context.addCookies([{ name, value, url: baseUrl }]);
  await page.goto(`${baseUrl}/door/havenconf`);
  await waitForHydration(page);
  await page.waitForSelector('#list-age:has-text("old")');
  await page.fill('#gate', 'Sign-out');

  // Offline, one scan waits.
  await context.setOffline(true);
  await page.fill('#wedge', process.env.GOOD);
  await page.press('#wedge', 'Enter');
  await page.waitForSelector('#answer[data-result="admit"]');
  await page.click('#answer');
  await page.waitForSelector('#queued:has-text("1 scan(s) to upload")');

  // Signing out now: the page says the scan waits and keeps it, and the list.
  await page.click('#door-sign-out');
  await page.waitForSelector('#door-problem:has-text("1 scan(s) still wait to be uploaded")');
  check(page.url() === `${baseUrl}/door/havenconf`, `still on the door page: ${page.url()}`);
  const kept = await doorKeys(page);
  check(kept.includes('haven.door.havenconf.list') && kept.includes('haven.door.havenconf.queue'), `kept: ${kept}`);
  check((await queued(page)) === 1, 'the waiting scan is kept');
  await screenshot(page, 'door-sign-out-waiting');
  await page.close();

  // The person's page says so too, and does not sign out unless told "anyway".
  await context.setOffline(false);
  const me = await samePhone(context);
  await me.goto(`${baseUrl}/me`);
  await waitForHydration(me);
  await me.waitForSelector('#door-scans-waiting:has-text("1 door scan(s) on this device still wait")');
  await me.click('#sign-out button[type="submit"]');
  await me.waitForSelector('#sign-out-anyway');
  check(me.url() === `${baseUrl}/me`, `still on the person's page: ${me.url()}`);
  check((await me.textContent('#door-scans-waiting')).includes('still signed in'), 'says they are still signed in');
  check((await queued(me)) === 1 && (await doorKeys(me)).includes('haven.door.havenconf.list'), 'nothing removed');
  const syncStatus = await me.evaluate(async () => (await fetch('/api/v1/events/havenconf/door-sync')).status);
  check(syncStatus === 200, `still signed in: ${syncStatus}`);

  // Back at the door, online: the scan goes up; now signing out clears the door data.
  const door = await samePhone(context);
  await door.goto(`${baseUrl}/door/havenconf`);
  await waitForHydration(door);
  await door.waitForSelector('#door-status:has-text("Online")');
  await door.waitForSelector('#queued', { state: 'detached', timeout: 20000 });
  check((await queued(door)) === 0, 'uploaded');
  console.log('uploaded');
  await door.click('#door-sign-out');
  await door.waitForURL(`${baseUrl}/`, { timeout: 20000 });
  await waitForHydration(door);
  const left = await doorKeys(door);
  check(left.length === 0, `no door list or queue left: ${left}`);
  const after = await door.evaluate(async () => (await fetch('/api/v1/events/havenconf/door-sync')).status);
  check(after === 401, `signed out: ${after}`);
  await screenshot(door, 'door-signed-out');
  for (const p of [me, door]) {
    const unexpected = p.errors.filter(
      (e) => !e.includes('Failed to fetch') && !e.includes('ERR_INTERNET_DISCONNECTED') && !e.includes('401'),
    );
    check(unexpected.length === 0, `no other errors: ${unexpected.join(' | ')}`);
  }

  // On another phone, signing out "anyway" from the person's page keeps only the waiting
  // scan: the door list goes.
  const other = await newPage(browser);
  const phone = other.context();
  const [name2, value2] = process.env.SECOND_COOKIE.split('=');
  await phone.addCookies([{ name: name2, value: value2, url: baseUrl }]);
  await other.goto(`${baseUrl}/door/havenconf`);
  await waitForHydration(other);
  await other.waitForSelector('#list-age:has-text("old")');
  await other.fill('#gate', 'Anyway');
  await phone.setOffline(true);
  await other.fill('#wedge', process.env.GOOD);
  await other.press('#wedge', 'Enter');
  await other.waitForSelector('#queued:has-text("1 scan(s) to upload")');
  await other.close();
  await phone.setOffline(false);
  const page2 = await samePhone(phone);
  await page2.goto(`${baseUrl}/me`);
  await waitForHydration(page2);
  await page2.waitForSelector('#door-scans-waiting');
  await page2.click('#sign-out button[type="submit"]');
  await page2.click('#sign-out-anyway');
  await page2.waitForURL(`${baseUrl}/`, { timeout: 20000 });
  await waitForHydration(page2);
  const rest = await doorKeys(page2);
  check(JSON.stringify(rest) === '["haven.door.havenconf.queue"]', `only the queue is left: ${rest}`);
  check((await queued(page2)) === 1, 'the waiting scan is kept');
  const status2 = await page2.evaluate(async () => (await fetch('/api/v1/events/havenconf/door-sync')).status);
  check(status2 === 401, `signed out anyway: ${status2}`);
});
