// Signing in with an OpenID Connect provider from the sign-in page.
import { baseUrl, run, newPage, waitForHydration, check } from './lib.mjs';

await run('a registrant signs in with their SSO account', async (browser) => {
  const page = await newPage(browser);
  await page.goto(`${baseUrl}/signin`);
  await waitForHydration(page);
  await page.click('text=Sign in with Mock SSO');
  await page.waitForURL(`${baseUrl}/me`);
  await page.waitForSelector('h1');
  check((await page.textContent('h1')) === process.env.NAME, `signed in as ${await page.textContent('h1')}`);
  check(page.errors.length === 0, `no errors: ${page.errors.join(' | ')}`);
});
