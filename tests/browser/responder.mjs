// A responder works a case from the queue; the reporter sees the answer and who read it.
import { baseUrl, run, newPage, screenshot, waitForHydration, check } from './lib.mjs';

async function as(browser, cookie) {
  const page = await newPage(browser);
  const [name, value] = cookie.split('=');
  await page.context().addCookies([{ name, value, url: baseUrl }]);
  return page;
}

await run('a responder acknowledges a case and writes to the reporter', async (browser) => {
  const reference = process.env.REFERENCE;
  const team = await as(browser, process.env.RESPONDER_COOKIE);
  await team.goto(`${baseUrl}/respond/havenconf`);
  await waitForHydration(team);
  await team.click(`text=${reference}`);
  await team.waitForURL(`${baseUrl}/cases/${reference}`);
  await team.waitForSelector('.narrative');
  check((await team.textContent('.narrative')).includes('The lights went out'), 'the team reads the narrative');
  await waitForHydration(team);
  await team.selectOption('#status', 'acknowledged');
  await team.click('.actions form:has(#status) button');
  await team.waitForSelector('.status >> text=Acknowledged');
  await team.fill('#message-body', 'We have read this and will call you.');
  await team.click('form:has(#message-body) button');
  await team.waitForSelector('.messages >> text=We have read this and will call you.');
  await screenshot(team, 'responder-case');
  check(team.errors.length === 0, `no errors: ${team.errors.join(' | ')}`);

  const reporter = await as(browser, process.env.REPORTER_COOKIE);
  await reporter.goto(`${baseUrl}/cases/${reference}`);
  await reporter.waitForSelector('.messages');
  check((await reporter.textContent('.messages')).includes('We have read this'), 'the reporter sees the message');
  check((await reporter.textContent('.status')).includes('Acknowledged'), 'and the status');
  check((await reporter.textContent('.readers')).includes('Rae Responder'), 'and who read it');
  await screenshot(reporter, 'reporter-case');
});
