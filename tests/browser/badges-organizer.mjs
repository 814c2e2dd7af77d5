// An organizer prints the badges of a selection of registrations (six to a page on A4 and
// on Letter), replaces a lost badge, and watches arrivals come in without reloading.
import { baseUrl, run, signedInPage, screenshot, waitForHydration, check } from './lib.mjs';

function pdfPages(buffer) {
  // Each page of a PDF is one object of type /Page (the tree's root is /Pages).
  return (buffer.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
}

await run('an organizer prints, replaces and watches arrivals', async (browser) => {
  const page = await signedInPage(browser);
  await page.goto(`${baseUrl}/manage/events/havenconf/registrations`);
  await waitForHydration(page);

  // Tick seven rows and print them.
  const boxes = page.locator('input[name="selection"]');
  const picked = [];
  for (let i = 0; i < 7; i++) {
    await boxes.nth(i).check();
    picked.push((await page.locator('table.registrations tbody tr').nth(i).locator('td').nth(1).textContent()).trim());
  }
  await page.click('button[form="print-form"]');
  await page.waitForURL(/\/badges\?selection=/);
  await page.waitForSelector('.print-badge');
  const names = (await page.locator('.print-name').allTextContents()).map((n) => n.trim());
  check(names.length === 7, `seven badges on the sheet, got ${names.length}`);
  check(picked.every((n) => names.includes(n)), `the sheet holds exactly the ticked people: ${names} vs ${picked}`);
  await page.waitForFunction(() => [...document.querySelectorAll('.print-badge img')].every((i) => i.complete && i.naturalWidth > 0));
  await screenshot(page, 'badge-sheet');

  await page.emulateMedia({ media: 'print' });
  for (const format of ['A4', 'Letter']) {
    const pages = pdfPages(await page.pdf({ format, printBackground: true }));
    check(pages === 2, `seven badges print on two ${format} pages (six to a page), got ${pages}`);
  }
  await page.emulateMedia({ media: 'screen' });
  console.log('printed');

  await page.click('text=E-mail every badge not yet sent');
  await page.waitForSelector('.notice.ok:has-text("queued for e-mail")');

  // Ada lost her badge.
  await page.goto(`${baseUrl}/manage/events/havenconf/registrations?q=ada.lovelace`);
  await waitForHydration(page);
  await page.click('table.registrations tbody tr:has-text("Ada Lovelace") button:has-text("Replace")');
  await page.waitForSelector('.notice.ok:has-text("Badge replaced")');
  console.log('replaced');

  // Arrivals update by themselves as the door scans.
  await page.goto(`${baseUrl}/manage/events/havenconf/arrivals`);
  await waitForHydration(page);
  const before = Number(await page.textContent('#admitted'));
  const res = await fetch(`${baseUrl}/api/v1/scans`, {
    method: 'POST',
    headers: { authorization: `Bearer ${process.env.DEVICE}`, 'content-type': 'application/json' },
    body: JSON.stringify({ token: process.env.ARRIVING, scan_id: crypto.randomUUID(), gate: 'Harbour gate' }),
  });
  check(res.ok && (await res.json()).result === 'admit', 'the device scan admits');
  await page.waitForSelector(`.gate-scans li:has-text("${process.env.ARRIVING_NAME}")`, { timeout: 15000 });
  check((await page.textContent('h3:has-text("Harbour gate")')) !== null, 'the gate is listed');
  check(Number(await page.textContent('#admitted')) === before + 1, 'the count went up by one');
  await screenshot(page, 'arrivals');
  check(page.errors.length === 0, `no page errors: ${page.errors.join(' | ')}`);
});
