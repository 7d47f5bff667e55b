// Opens an evidence pack's index.html in Debian's headless Chromium (driven by playwright-core)
// and checks what an auditor would see: no console message of type error or warning, no page
// error, no network request, every section rendered, the SoA with all 38 Annex A controls, the
// figures equal to evidence.json's, the verification banner (green or the red failure first on
// the page), and a printable layout. Keeps full-page screenshots (screen and print media).
//
// Usage: node check-page.mjs PACK_DIR intact|tampered SCREENSHOT_PREFIX
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [packDir, expected, shotPrefix] = process.argv.slice(2);
if (!packDir || !['intact', 'tampered'].includes(expected) || !shotPrefix) {
  console.error('usage: node check-page.mjs PACK_DIR intact|tampered SCREENSHOT_PREFIX');
  process.exit(2);
}
const evidence = JSON.parse(readFileSync(resolve(packDir, 'evidence.json'), 'utf8'));
const pageUrl = pathToFileURL(resolve(packDir, 'index.html')).href;

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // Flags this machine needs (see /work/.library/env machines notes): no sandbox as root, no
  // GPU, and no background connections, which the closed network would refuse.
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const console_ = [];
  page.on('console', (message) => console_.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => console_.push(`pageerror: ${error.message}`));
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));

  const response = await page.goto(pageUrl, { waitUntil: 'load' });
  check(response === null || response.ok(), `index.html did not load: ${response?.status()}`);

  const problems = console_.filter((line) => /^(error|warning|pageerror):/.test(line));
  check(problems.length === 0, `console errors or warnings: ${problems.join(' | ')}`);
  const network = requests.filter((url) => url !== pageUrl);
  check(network.length === 0, `the page requested ${network.join(', ')}`);

  // Every section the issue lists, rendered (visible with a non-zero box).
  for (const id of ['verification', 'scope', 'soa', 'risks', 'impact', 'incidents', 'metrics', 'logs', 'gaps']) {
    const box = await page.locator(`#${id}`).boundingBox();
    check(box !== null && box.height > 0, `section #${id} is not rendered`);
  }
  const charts = await page.locator('svg').evaluateAll((svgs) =>
    svgs.map((svg) => [svg.getAttribute('aria-label'), svg.getBoundingClientRect().height]));
  check(charts.some(([label]) => label === 'risk heat map'), 'no risk heat map');
  check(charts.some(([label]) => label === 'decisions per day'), 'no decisions-per-day chart');
  check(charts.every(([, height]) => height > 0), `an SVG chart has no height: ${JSON.stringify(charts)}`);

  // The SoA: one row per Annex A control, the same as evidence.json.
  const soaRows = await page.locator('#soa-table tr[data-control]').count();
  check(soaRows === 38, `the SoA table has ${soaRows} rows, expected 38`);
  check(evidence.soa.length === 38, `evidence.json has ${evidence.soa.length} SoA rows`);

  // Figures on the page equal evidence.json's.
  const metric = async (name) => (await page.locator(`[data-metric="${name}"]`).first().textContent()).trim();
  const m = evidence.metrics;
  check(Number(await metric('records')) === m.records, 'records differ from evidence.json');
  check(Number(await metric('decisions')) === m.decisions, 'decisions differ from evidence.json');
  check(Number(await metric('denied')) === (m.by_verdict.deny ?? 0), 'denied differs from evidence.json');
  check(Number(await metric('incidents')) === evidence.incidents.length, 'incidents differ from evidence.json');
  check(Number(await metric('gap_count')) === evidence.gaps.length, 'gaps differ from evidence.json');
  for (const row of evidence.soa) {
    const shown = await page.locator(`[data-metric="control_records"][data-control="${row.control_id}"]`).textContent();
    check(Number(shown) === row.runtime_records, `${row.control_id}: page ${shown}, evidence ${row.runtime_records}`);
  }

  // The verification result: green when intact; red, first and unmissable when not.
  const banner = page.locator('#verification');
  const bannerText = await banner.textContent();
  const bannerBox = await banner.boundingBox();
  const scopeBox = await page.locator('#scope').boundingBox();
  check(bannerBox.y < scopeBox.y, 'the verification banner is not above the content');
  const colour = await banner.evaluate((element) => getComputedStyle(element).backgroundColor);
  if (expected === 'intact') {
    check(/intact/.test(bannerText) && !/FAILED/.test(bannerText), `banner says: ${bannerText}`);
    check(colour === 'rgb(232, 245, 233)', `intact banner colour ${colour}`);
  } else {
    check(/verification FAILED/.test(bannerText), `banner lacks the failure: ${bannerText}`);
    check(colour === 'rgb(255, 235, 238)', `failure banner colour ${colour}`);
    check(bannerBox.y < 200, `the failure banner starts at y=${bannerBox.y}, not at the top`);
    const gapCode = await page.locator('#gaps-table tr[data-gap]').first().getAttribute('data-gap');
    check(gapCode === 'audit_log.not_intact', `first gap is ${gapCode}`);
  }

  await page.screenshot({ path: `${shotPrefix}.png`, fullPage: true });

  // Prints well: on an A4-wide print layout nothing overflows sideways, and a PDF comes out.
  await page.emulateMedia({ media: 'print' });
  await page.setViewportSize({ width: 794, height: 1123 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, `print layout overflows sideways by ${overflow}px`);
  const pdf = await page.pdf({ format: 'A4', printBackground: true });
  check(pdf.subarray(0, 5).toString() === '%PDF-', 'no PDF from the print layout');
  await page.screenshot({ path: `${shotPrefix}-print.png`, fullPage: true });
  await context.close();
} finally {
  await browser.close();
}

if (failures.length > 0) {
  console.error(`FAIL ${packDir} (${expected}):\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log(`ok ${packDir} (${expected}): no console error, all sections rendered, 38 SoA rows, figures match evidence.json; screenshots ${shotPrefix}.png, ${shotPrefix}-print.png`);
