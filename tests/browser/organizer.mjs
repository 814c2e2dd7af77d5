// An organizer adds a registration by hand and imports a CSV file on the registrations page.
import { baseUrl, run, signedInPage, screenshot, waitForHydration, check } from './lib.mjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

await run('an organizer adds and imports registrations', async (browser) => {
  const page = await signedInPage(browser);
  await page.goto(`${baseUrl}/manage/events/havenconf/registrations`);
  await waitForHydration(page);
  check((await page.textContent('h2')).includes('(36)'), 'the demo has 36 registrations');

  await page.fill('#r-name', 'Grace Hopper');
  await page.fill('#r-email', 'grace@navy.example');
  await page.fill('#r-ticket', 'HC-9001');
  await page.click('form:has(#r-name) button[type=submit]');
  await page.waitForSelector('text=Added.');
  await page.waitForSelector('h2:has-text("(37)")');

  // The same person again: the form says what is wrong, next to the field.
  await page.fill('#r-name', 'Grace Hopper');
  await page.fill('#r-email', 'GRACE@navy.example');
  await page.click('form:has(#r-name) button[type=submit]');
  await page.waitForSelector('#email-error');
  check((await page.textContent('#email-error')).includes('already registered'), 'the duplicate is named');

  const file = join(process.env.TEST_OUTPUT_DIR, 'import.csv');
  writeFileSync(file, 'name,email,ticket_ref\nAlan Kay,alan@example.net,T-1\nBarbara Liskov,barbara@example.net,T-2\n');
  await page.setInputFiles('#csv-file', file);
  await page.waitForFunction(() => document.querySelector('#csv').value.includes('Alan Kay'));
  await page.click('form:has(#csv) button[type=submit]');
  await page.waitForSelector('text=Imported 2 registration(s); 0 were already registered.');
  await page.waitForSelector('h2:has-text("(39)")');

  await page.fill('#q', 'liskov');
  await page.click('form:has(#q) button[type=submit]');
  await page.waitForURL(/q=liskov/);
  await page.waitForSelector('table.registrations tbody tr');
  const rows = await page.$$eval('table.registrations tbody tr', (trs) => trs.map((t) => t.textContent));
  check(rows.length === 1 && rows[0].includes('barbara@example.net'), `search finds one: ${rows}`);
  await screenshot(page, 'organizer-registrations');
  // The refused duplicate shows in the console as a 422; nothing else may.
  const unexpected = page.errors.filter((e) => !e.includes('status of 422'));
  check(unexpected.length === 0, `no errors: ${unexpected.join(' | ')}`);
});
