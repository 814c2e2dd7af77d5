// A responder of an organization that requires a second factor signs in with an e-mail
// link, is asked to set up an authenticator app, scans (reads) its key, confirms it with a
// code, keeps the recovery codes and reaches the safety team's page; the next sign-in
// passes with the app's next code, the one after with a recovery code. The app is played
// by an RFC 6238 generator written here.
import { createHmac } from 'node:crypto';
import { baseUrl, run, newPage, screenshot, waitForHydration, check } from './lib.mjs';

function base32Bytes(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    bits += i.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

// The six-digit code of a (base32) secret for the current 30-second step.
function totp(secret, now = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const mac = createHmac('sha1', base32Bytes(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return value.toString().padStart(6, '0');
}

// RFC 6238's SHA-1 vector at 59 s: the generator itself is right.
check(totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59 * 1000) === '287082', 'the test generator follows RFC 6238');

await run('a responder sets up an authenticator app and signs in with it', async (browser) => {
  const page = await newPage(browser);
  await page.goto(process.env.LINK);
  await waitForHydration(page);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => u.pathname === '/signin/second-factor');
  check(new URL(page.url()).searchParams.get('return_to') === '/respond', `return_to is kept: ${page.url()}`);
  await waitForHydration(page);
  check((await page.textContent('#held-back')).includes('Safety team'), 'the page says which roles wait');

  await page.click('#begin-totp');
  await page.waitForSelector('#totp-secret');
  check(await page.isVisible('.qr svg'), 'a QR code to scan');
  const secret = (await page.textContent('#totp-secret')).trim();
  await page.fill('#confirm-code', totp(secret));
  await page.click('.enrollment button[type=submit]');
  await page.waitForSelector('.recovery-codes li');
  const codes = await page.$$eval('.recovery-codes li', (items) => items.map((li) => li.textContent.trim()));
  check(codes.length === 10, `ten recovery codes: ${codes.length}`);
  await screenshot(page, 'second-factor-set-up');
  await page.click('#continue');
  await page.waitForURL(`${baseUrl}/respond`);
  await page.waitForSelector('text=HavenConf');
  check(page.errors.length === 0, `no errors: ${page.errors.join(' | ')}`);
  await page.context().close();

  // The next sign-in asks for a code: the app's, once its code has changed (a code is
  // accepted once), passes.
  const enrolledStep = Math.floor(Date.now() / 30000);
  const next = await newPage(browser);
  await next.goto(process.env.LINK2);
  await waitForHydration(next);
  await next.click('button[type=submit]');
  await next.waitForURL((u) => u.pathname === '/signin/second-factor');
  await waitForHydration(next);
  while (Math.floor(Date.now() / 30000) === enrolledStep) await new Promise((r) => setTimeout(r, 500));
  await next.fill('#code', totp(secret));
  await next.click('button[type=submit]');
  await next.waitForURL(`${baseUrl}/respond`);
  await next.waitForSelector('text=HavenConf');
  check(next.errors.length === 0, `no errors: ${next.errors.join(' | ')}`);
  await next.context().close();

  // And the one after that, with a recovery code instead.
  const third = await newPage(browser);
  await third.goto(process.env.LINK3);
  await waitForHydration(third);
  await third.click('button[type=submit]');
  await third.waitForURL((u) => u.pathname === '/signin/second-factor');
  await waitForHydration(third);
  await third.fill('#code', codes[0]);
  await third.click('button[type=submit]');
  await third.waitForURL(`${baseUrl}/respond`);
  await third.waitForSelector('text=HavenConf');
  check(third.errors.length === 0, `no errors: ${third.errors.join(' | ')}`);
});
