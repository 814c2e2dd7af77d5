// The demo event page is rendered on the server, then hydrated: its disclosure button
// opens only once the wasm app runs.
import { baseUrl, run, newPage, screenshot, waitForHydration, check } from './lib.mjs';

await run('the demo event page hydrates and its disclosure opens', async (browser) => {
  const page = await newPage(browser);
  const response = await page.goto(`${baseUrl}/events/havenconf`);
  check(response.status() === 200, `status ${response.status()}`);
  check((await page.textContent('h1')) === 'HavenConf', 'the event name is the heading');
  check(!(await page.isVisible('#safety-team-info')), 'the panel starts closed');

  await waitForHydration(page);
  await page.click('button.disclosure');
  await page.waitForSelector('#safety-team-info', { state: 'visible', timeout: 5000 });
  const text = await page.textContent('#safety-team-info');
  check(text.includes('acknowledges it within 24 hours'), `panel text: ${text}`);
  check((await page.getAttribute('button.disclosure', 'aria-expanded')) === 'true', 'aria-expanded follows');
  await screenshot(page, 'event-page-hydrated');
  check(page.errors.length === 0, `no errors in the page: ${page.errors.join(' | ')}`);
});
