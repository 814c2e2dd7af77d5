// A responder's open page shows an arrival alert the moment a badge is scanned at a door,
// without reloading: the "Alerts" count and a notice with the gate and the instruction.
import { baseUrl, run, signedInPage, screenshot, waitForHydration, check } from './lib.mjs';

await run('an arrival alert appears live on an open page', async (browser) => {
  const page = await signedInPage(browser);
  await page.goto(`${baseUrl}/respond`);
  await waitForHydration(page);
  check((await page.locator('.live-count').count()) === 0, 'no alert before the scan');
  // Give the page's event stream a moment to connect, then scan Ken at the North gate as
  // a door device would.
  await page.waitForTimeout(1000);
  const scan = await fetch(`${baseUrl}/api/v1/scans`, {
    method: 'POST',
    headers: { authorization: `Bearer ${process.env.DEVICE}`, 'content-type': 'application/json' },
    body: JSON.stringify({ token: process.env.TOKEN, scan_id: crypto.randomUUID(), gate: 'North' }),
  });
  const answer = await scan.json();
  check(answer.result === 'alert', `the door answers alert: ${JSON.stringify(answer)}`);
  const started = Date.now();

  const toast = page.locator('.toast');
  await toast.waitFor({ timeout: 5000 });
  console.log(`shown after ${Date.now() - started} ms`);
  const text = await toast.textContent();
  check(text.includes('North') && text.includes('Find Ada and stay near her.'), `gate and instruction: ${text}`);
  check(!text.includes('Ken') && !text.includes('Okafor'), `never who: ${text}`);
  check((await page.textContent('.live-count')).trim() === '1', 'the count shows one alert');
  check(page.url().endsWith('/respond'), 'the page was not reloaded');
  await screenshot(page, 'notification-bell-live');

  await toast.locator('button:has-text("Dismiss")').click();
  await toast.waitFor({ state: 'detached' });
  check(page.errors.length === 0, `no errors: ${page.errors.join(' | ')}`);
});
