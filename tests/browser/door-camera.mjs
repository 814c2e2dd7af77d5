// The door page reads a badge from the camera (Chromium's fake camera plays a video of
// the badge) and fills the screen with the answer.
import { baseUrl, run, newPage, screenshot, waitForHydration, check } from './lib.mjs';

await run(`the camera scan of a badge answers ${process.env.EXPECT}`, async (browser) => {
  const page = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.context().grantPermissions(['camera'], { origin: baseUrl });
  const [name, value] = process.env.SESSION_COOKIE.split('=');
  await page.context().addCookies([{ name, value, url: baseUrl }]);
  await page.goto(`${baseUrl}/door/havenconf`);
  await waitForHydration(page);
  await page.click('#camera-start');
  await page.waitForSelector('#answer', { timeout: 20000 });
  const result = await page.getAttribute('#answer', 'data-result');
  const reason = await page.getAttribute('#answer', 'data-reason');
  await screenshot(page, `door-camera-${process.env.EXPECT.replace('/', '-')}`);
  check(`${result}${reason ? '/' + reason : ''}` === process.env.EXPECT, `answer ${result}/${reason}`);
  const text = await page.textContent('#answer');
  check(text.includes(process.env.NAME), `the holder's name is shown: ${text}`);
  check(page.errors.length === 0, `no errors: ${page.errors.join(' | ')}`);
});
