// A responder plans an escort on a case; the escort signs in, sees only their assignment,
// and acknowledges it.
import { baseUrl, run, newPage, screenshot, waitForHydration, check } from './lib.mjs';

async function as(browser, cookie) {
  const page = await newPage(browser);
  const [name, value] = cookie.split('=');
  await page.context().addCookies([{ name, value, url: baseUrl }]);
  return page;
}

await run('a responder plans an escort and the escort acknowledges it', async (browser) => {
  const reference = process.env.REFERENCE;
  const team = await as(browser, process.env.RESPONDER_COOKIE);
  await team.goto(`${baseUrl}/cases/${reference}`);
  await waitForHydration(team);
  await team.click('summary:has-text("Add an escort")');
  await team.check('label:has-text("Eli Escort") input');
  await team.fill('#start-1', process.env.WINDOW_START);
  await team.fill('#end-1', process.env.WINDOW_END);
  await team.fill('#meeting-point', 'South entrance');
  await team.fill('#escort-contact', 'Call +49 30 222');
  await team.click('form:has(#meeting-point) button[type=submit]');
  await team.waitForSelector('.precaution >> text=South entrance');
  check((await team.textContent('.precautions')).includes('Eli Escort (not yet acknowledged)'), 'the plan lists the escort');
  await screenshot(team, 'plan-escort-added');

  const escort = await as(browser, process.env.ESCORT_COOKIE);
  await escort.goto(`${baseUrl}/escort`);
  await waitForHydration(escort);
  const card = escort.locator('.assignment', { hasText: 'South entrance' });
  await card.waitFor();
  const text = await card.textContent();
  check(text.includes('Escort Barbara Moreau') && text.includes('Call +49 30 222'), `who and how: ${text}`);
  check(!text.includes('grabbed') && !text.includes(reference), 'never the case');
  await card.locator('button:has-text("Acknowledge")').click();
  await escort.locator('.assignment', { hasText: 'South entrance' }).locator('text=Acknowledged').waitFor();
  await screenshot(escort, 'escort-assignments');
  check(escort.errors.length === 0, `no errors: ${escort.errors.join(' | ')}`);

  await team.reload();
  await team.waitForSelector('.precautions >> text=Eli Escort (acknowledged)');
});
