// A decision from proposal to final appeal, as people do it: the responder proposes on
// the case page, the organizer records it, the person appeals through the link in the
// notice they received, an administrator who took no part lifts it, and a second appeal
// is refused.
import { baseUrl, run, newPage, signedInPage, screenshot, waitForHydration, waitForFile, check } from './lib.mjs';

await run('a decision is appealed through the notice and decided finally', async (browser) => {
  // The responder proposes an expulsion on the case.
  const rae = await signedInPage(browser, process.env.RESPONDER_COOKIE);
  await rae.goto(`${baseUrl}/cases/${process.env.REFERENCE}`);
  await waitForHydration(rae);
  await rae.click('summary:has-text("Propose a decision")');
  const ken = await rae.locator('#propose-person option', { hasText: 'Ken Okafor' }).getAttribute('value');
  await rae.selectOption('#propose-person', ken);
  await rae.selectOption('#propose-kind', 'expulsion');
  await rae.fill('#propose-reasons', 'He followed the reporter again at the welcome evening.');
  await rae.click('button:has-text("Propose to the deciders")');
  await rae.waitForSelector('.notice.ok:has-text("Proposed")');

  // The organizer records it.
  const olu = await signedInPage(browser, process.env.ORGANIZER_COOKIE);
  await olu.goto(`${baseUrl}/manage/decisions`);
  await waitForHydration(olu);
  const proposal = olu.locator('article.proposal', { hasText: 'Ken Okafor' });
  check(await proposal.locator('select[name="input[kind]"]').inputValue() === 'expulsion', 'the form starts from the proposal');
  await proposal.locator('button:has-text("Record this decision")').click();
  await olu.waitForSelector('.notice.ok:has-text("Decision recorded")');
  await screenshot(olu, 'decision-recorded');
  console.log('recorded');

  // Ken appeals through the link in his notice, without signing in.
  const link = await waitForFile(process.env.LINK_FILE);
  const anon = await newPage(browser);
  await anon.goto(link);
  await waitForHydration(anon);
  check((await anon.textContent('h3')).includes('Expulsion'), 'the page shows the decision');
  await anon.fill('.appeal-form textarea', 'I left early that evening; please ask the volunteers at the desk.');
  await anon.click('button:has-text("Send my appeal")');
  await anon.waitForSelector('.notice.ok:has-text("Your appeal was received")');
  await screenshot(anon, 'appeal-sent');

  // The organizer took part: the page says so and offers no form.
  await olu.reload();
  await waitForHydration(olu);
  await olu.waitForSelector('article.appeal-to-decide .notice.bad:has-text("took part")');
  check(await olu.locator('article.appeal-to-decide button:has-text("Decide the appeal")').count() === 0, 'no form for a participant');

  // An administrator who took no part lifts it.
  const avery = await signedInPage(browser, process.env.ADMIN_COOKIE);
  await avery.goto(`${baseUrl}/manage/decisions`);
  await waitForHydration(avery);
  const appeal = avery.locator('article.appeal-to-decide', { hasText: 'I left early' });
  await appeal.locator('input[value="lift"]').check();
  await appeal.locator('textarea[name="input[reasons]"]').fill('Volunteers confirm he left at 20:00.');
  await appeal.locator('button:has-text("Decide the appeal")').click();
  await avery.waitForSelector('.notice.ok:has-text("Appeal decided")');
  await screenshot(avery, 'appeal-decided');

  // Final: no form any more, and the server refuses a second appeal.
  await anon.goto(link);
  await waitForHydration(anon);
  check(await anon.locator('.appeal-form').count() === 0, 'no appeal form on a decided appeal');
  const token = link.split('/').pop();
  const refused = await anon.evaluate(async (token) => {
    const res = await fetch('/fn/appeal_by_link', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, text: 'And again.' }),
    });
    return { status: res.status, text: await res.text() };
  }, token);
  check(refused.status === 422 && refused.text.includes('already been appealed'), `second appeal refused: ${JSON.stringify(refused)}`);
  const kenPage = await signedInPage(browser, process.env.KEN_COOKIE);
  await kenPage.goto(`${baseUrl}/me`);
  await waitForHydration(kenPage);
  await kenPage.waitForSelector('#decisions:has-text("final: decided on appeal")');
  check((await kenPage.textContent('#decisions')).includes('No measure (lifted)'), 'Ken sees the outcome');
  check(await kenPage.locator('#decisions .appeal-form').count() === 0, 'and cannot appeal again');
  await screenshot(kenPage, 'decision-final');
  for (const p of [rae, olu, anon, avery, kenPage]) {
    const bad = p.errors.filter((e) => !e.includes('422'));
    check(bad.length === 0, `no page errors: ${bad.join(' | ')}`);
  }
});
