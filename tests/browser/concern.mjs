// Filing a concern: without JavaScript (a refused form comes back with what was typed),
// and on a phone with JavaScript.
import { baseUrl, run, newPage, screenshot, waitForHydration, check } from './lib.mjs';

async function signIn(page, cookie) {
  const [name, value] = cookie.split('=');
  await page.context().addCookies([{ name, value, url: baseUrl }]);
}

await run('a concern is filed without JavaScript, corrected once, and followed', async (browser) => {
  const page = await newPage(browser, { javaScriptEnabled: false });
  await signIn(page, process.env.SESSION_COOKIE);
  await page.goto(`${baseUrl}/events/havenconf/concern`);
  await page.fill('#person_name', 'Alan Okafor');
  // The browser lets this through (it has an @); Haven's check refuses it.
  await page.fill('#person_email', 'alan@localhost');
  await page.fill('#narrative', 'He stood too close at every break, and followed me to the station.');
  await page.check('input[name=wish_escort]');
  await page.fill('#escort_times', 'after the evening talks');
  await page.click('form.concern button[type=submit]');

  await page.waitForSelector('#form-problems');
  check((await page.inputValue('#narrative')).includes('followed me to the station'), 'the narrative is kept');
  check((await page.inputValue('#escort_times')) === 'after the evening talks', 'the escort times are kept');
  check(await page.isChecked('input[name=wish_escort]'), 'the checkbox is kept');
  check((await page.textContent('#person_email-error')).includes('is not an e-mail address'), 'the field says what to fix');
  await screenshot(page, 'concern-refused-nojs');

  await page.fill('#person_email', 'alan.okafor@example.org');
  await page.click('form.concern button[type=submit]');
  await page.waitForURL(/\/cases\/HVN-[0-9A-Z]{4}-[0-9A-Z]{4}\?filed=1/);
  await page.waitForSelector('text=Your report reached the safety team');
  check((await page.textContent('.narrative')).includes('followed me to the station'), 'the case shows what was sent');
  check((await page.textContent('.status')).includes('Received'), 'its status');
  await screenshot(page, 'concern-filed-nojs');
});

await run('a concern is filed on a phone', async (browser) => {
  const page = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await signIn(page, process.env.SESSION_COOKIE);
  await page.goto(`${baseUrl}/events/havenconf`);
  await waitForHydration(page);
  await page.click('a.button:has-text("Tell the safety team")');
  await page.waitForSelector('form.concern');
  await page.fill('#person_handle', '@someone');
  await page.fill('#narrative', 'Messages I did not want, on the event chat.');
  await page.check('input[name=contact_channel][value=email]');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `the form fits the phone's width (${width}px)`);
  await screenshot(page, 'concern-phone');
  await page.click('form.concern button[type=submit]');
  await page.waitForURL(/\/cases\/HVN-/);
  await page.waitForSelector('text=Messages I did not want');
  check(page.errors.length === 0, `no errors: ${page.errors.join(' | ')}`);
});
