// A registrant asks for a sign-in link, opens it from the e-mail, and lands on their page.
import { baseUrl, run, newPage, screenshot, waitForHydration, waitForFile, check } from './lib.mjs';

await run('a registrant signs in with a link from their e-mail', async (browser) => {
  const page = await newPage(browser);
  await page.goto(`${baseUrl}/signin`);
  await waitForHydration(page);
  await page.fill('#email', process.env.EMAIL);
  await page.click('button[type=submit]');
  await page.waitForSelector('text=a sign-in link is on its way');
  await screenshot(page, 'signin-link-sent');

  const link = await waitForFile(process.env.LINK_FILE);
  await page.goto(link);
  await waitForHydration(page);
  await page.click('button[type=submit]');
  await page.waitForURL(`${baseUrl}/me`);
  await page.waitForSelector('h1');
  check((await page.textContent('h1')) === process.env.NAME, `the page is theirs: ${await page.textContent('h1')}`);
  check((await page.textContent('.registrations')).includes('HavenConf'), 'their registration is listed');
  // The header learns of the new session as the page changes.
  await page.waitForSelector(`.site-header >> text=${process.env.NAME}`);
  await screenshot(page, 'my-page');
  check(page.errors.length === 0, `no errors: ${page.errors.join(' | ')}`);
});
