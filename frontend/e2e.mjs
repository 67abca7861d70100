// Browser end-to-end check in real headless Chromium (Debian's /usr/bin/chromium; playwright-core
// downloads no browser): on a 375-px phone viewport, sign up, complete the wizard in Chinese, see
// the result with its charts drawn, open the printable report (and print it to PDF), switch to
// English. Screenshots go to test-output/. Any console error (a CSP violation included) fails it.
//
//   smedx serve --listen 127.0.0.1:8080 &      # a server with an empty or throwaway database
//   cd frontend && npm ci && SMEDX_URL=http://127.0.0.1:8080 node e2e.mjs
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const base = process.env.SMEDX_URL || 'http://127.0.0.1:8080';
const out = process.env.SMEDX_SHOTS || new URL('../test-output/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const context = await browser.newContext({ viewport: { width: 375, height: 812 }, locale: 'zh-CN' });
const page = await context.newPage();
const problems = [];
// The one deliberate mistake in step 1 answers 422; Chromium logs that status as a console error.
let expect422 = false;
page.on('console', (m) => {
  if (m.type() !== 'error') { return; }
  if (expect422 && m.text().includes('422')) { return; }
  problems.push(`console: ${m.text()}`);
});
page.on('pageerror', (e) => problems.push(`page error: ${e}`));

function check(cond, what) { if (!cond) { throw new Error(`failed: ${what} (at ${page.url()})`); } }
async function shot(name, fullPage = false) { await page.screenshot({ path: `${out}/${name}.png`, fullPage }); }
async function tick(name, value) { await page.check(`input[name="${name}"][value="${value}"]`); }
async function next() { await Promise.all([page.waitForNavigation(), page.click('form.wizard button[type=submit]')]); }

await page.goto(`${base}/`);
check(await page.locator('text=开始免费自评估').count() > 0, 'home page in Chinese');
await shot('home-zh');
await page.goto(`${base}/search?q=${encodeURIComponent('设备经常停机，交期总是延误')}`);
check(await page.locator('mark').count() > 0, 'search highlights matched words');
await shot('search-zh', true);

await page.goto(`${base}/signup`);
const email = `e2e-${Date.now()}@example.cn`;
await page.fill('#enterprise', '某某精密五金');
await page.fill('#email', email);
await page.fill('#password', 'correct horse battery');
await page.fill('#confirm', 'correct horse battery');
await shot('signup-zh');
await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
check(/\/step\/1$/.test(page.url()), 'wizard opens at step 1');

// Step 1, first with a mistake: the message appears next to the field.
await page.fill('#industry', 'C3311');
await page.fill('#employees', 'abc');
await page.fill('#revenue_wan', '3200');
expect422 = true;
await next();
expect422 = false;
check(await page.locator('[data-field="employees"]').count() === 1, 'error next to employees');
await shot('wizard-step1-error-zh', true);
await page.fill('#employees', '85');
await tick('product_complexity', 'medium');
await tick('chain_position', 'midstream');
await page.check('input[name="in_cluster"]');
await page.check('input[name="supplies_chain_leader"]');
await next();
// Step 2
await tick('network', 'shopfloor_control');
await tick('network', 'application_network');
await page.fill('[id="equipment_digital.digital"]', '14');
await page.fill('[id="equipment_digital.total"]', '40');
await page.fill('[id="equipment_networked.networked"]', '6');
await page.fill('[id="equipment_networked.total"]', '40');
await tick('information_systems', 'multiple');
await tick('network_security', 'products');
await shot('wizard-step2-zh');
await next();
// Step 3
await tick('planning', 'piloting');
await page.fill('[id="funding.investment"]', '18');
await page.fill('[id="funding.revenue"]', '3200');
await next();
// Step 4
await page.fill('[id="quality.before"]', '96.5');
await page.fill('[id="quality.after"]', '97.8');
await next();
// Step 5
for (const [k, v] of [['product_design', 1], ['marketing', 1], ['planning', 1], ['production_control', 2], ['quality', 1], ['equipment', 1], ['safety', 1], ['procurement', 1], ['warehouse', 2], ['finance', 2], ['hr', 1], ['office', 2]]) {
  await tick(`scenarios.${k}`, String(v));
}
await shot('wizard-step5-zh');
await next();
// Step 6
await page.check('input[name="obstacles.budget"]');
await page.fill('#pain_points', '订单多了交期总是延误，计件工资经常算错，仓库老是找不到料');
await page.fill('#budget_wan', '30');
await next();

check(/\/assessments\/\d+$/.test(page.url()), 'result page after submitting');
await page.waitForSelector('#chart-gauge svg');
await page.waitForSelector('#chart-radar svg');
await page.waitForSelector('#chart-bar svg');
check(await page.locator('.level').count() > 0, 'level shown');
await shot('result-zh');
await shot('result-zh-full', true);
const resultUrl = page.url();

await page.goto(`${resultUrl}/report`);
await page.waitForSelector('#chart-bar svg');
check(await page.locator('[data-print]:not([hidden])').count() === 1, 'print button shown with JS');
await shot('report-zh', true);
// As when printing: print styles, and the charts redrawn for the printed width.
await page.emulateMedia({ media: 'print' });
await page.setViewportSize({ width: 794, height: 1123 });
await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
await shot('report-zh-print', true);
await page.pdf({ path: `${out}/report-zh.pdf`, format: 'A4', printBackground: true });
await page.emulateMedia({ media: null });
await page.setViewportSize({ width: 375, height: 812 });

// Switch to English with the link on the page.
await page.goto(resultUrl);
await Promise.all([page.waitForNavigation(), page.click('a.lang')]);
check(await page.locator('text=Recommended scenarios').count() > 0, 'result in English');
await page.waitForSelector('#chart-gauge svg');
await shot('result-en', true);
await page.goto(`${resultUrl}/report`);
await page.waitForSelector('#chart-bar svg');
await shot('report-en', true);
await page.goto(`${base}/`);
await shot('home-en');

// The web import, when the server was started with an administrator (SMEDX_ADMIN_EMAIL and
// SMEDX_ADMIN_PASSWORD, as `smedx serve` reads them): the clusters the sample names, then the
// sample workbook LibreOffice saved, imported with its counts shown.
if (process.env.SMEDX_ADMIN_EMAIL && process.env.SMEDX_ADMIN_PASSWORD) {
  const admin = await browser.newContext({ viewport: { width: 375, height: 812 }, locale: 'zh-CN' });
  const p = await admin.newPage();
  p.on('console', (m) => { if (m.type() === 'error') { problems.push(`import console: ${m.text()}`); } });
  p.on('pageerror', (e) => problems.push(`import page error: ${e}`));
  await p.goto(`${base}/login`);
  await p.fill('#email', process.env.SMEDX_ADMIN_EMAIL);
  await p.fill('#password', process.env.SMEDX_ADMIN_PASSWORD);
  await Promise.all([p.waitForNavigation(), p.click('main form button[type=submit]')]);
  await p.goto(`${base}/admin/clusters`);
  const listed = await p.content();
  for (const [id, region] of [['danyang-optics', '321100'], ['jiangning-intelligent', '320100'], ['kunshan-electronics', '320500'],
    ['wujiang-textile', '320500'], ['wuzhong-precision', '320500'], ['xuzhou-machinery', '320300']]) {
    if (listed.includes(`<code>${id}</code>`)) { continue; }
    await p.goto(`${base}/admin/clusters`);
    await p.fill('#id', id);
    await p.fill('#name', id);
    await p.fill('#region', region);
    await Promise.all([p.waitForNavigation(), p.click('main form button[type=submit]')]);
  }
  await p.goto(`${base}/imports`);
  await p.setInputFiles('#file', new URL('../fixtures/import-sample.xlsx', import.meta.url).pathname);
  await Promise.all([p.waitForNavigation(), p.click('#upload-form button[type=submit]')]);
  check(/\/imports\/\d+$/.test(p.url()), 'the upload becomes a job');
  await p.waitForSelector('[data-status="imported"]', { timeout: 120000 });
  check(await p.locator('text=导入完成').count() === 1, 'import finished');
  check(await p.locator('dd[data-count]').count() === 4, 'import counts shown');
  await p.screenshot({ path: `${out}/import-done-zh.png`, fullPage: true });
  // The imported firms on the dashboard: every chart drawn, in Chinese and in English.
  for (const lang of ['zh', 'en']) {
    await p.goto(`${base}/region?lang=${lang}`);
    await p.waitForSelector('.dash-chart svg', { timeout: 30000 });
    const charts = await p.locator('.dash-chart').count();
    const drawn = await p.locator('.dash-chart svg').count();
    check(charts >= 8 && drawn === charts, `dashboard (${lang}): ${drawn} of ${charts} charts drawn`);
    await p.screenshot({ path: `${out}/dashboard-${lang}.png`, fullPage: true });
  }
  // The enterprise list: filtered by the search box, and an empty state when nothing matches.
  await p.goto(`${base}/region/enterprises`);
  await p.fill('#f-q', '有限公司');
  await Promise.all([p.waitForNavigation(), p.click('form.dash-form button[type=submit]')]);
  check(p.url().includes('q='), 'the search is in the address');
  const found = await p.locator('table.dash-table tbody tr').count();
  check(found >= 1, `enterprise search lists ${found} rows`);
  check(await p.locator('.dash-exports a[href*="q="]').count() === 2, 'the exports keep the search');
  await p.screenshot({ path: `${out}/enterprises-zh.png`, fullPage: true });
  await p.goto(`${base}/region/enterprises?q=${encodeURIComponent('没有这样的企业')}`);
  check(await p.locator('.dash-empty').count() === 1, 'no match: the empty state');
  await admin.close();
}

await browser.close();
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`e2e: 1 passed, 0 failed (screenshots in ${out})`);
