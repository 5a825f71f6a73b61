import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardFixture, type DashboardFixture } from './dashboard-fixture';

/*
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core): ops reviews churn
 * risk, filters, pages, exports and opens a partner; the model and program pages; a partner key
 * sees only its own benchmarks and is refused everywhere else; sign-out and revocation end the
 * session. axe-core checks every page. Each page is screenshotted; the files replace the README's
 * docs/screenshots/ only under `npm run screenshots` (UPDATE_SCREENSHOTS=1), so a test run leaves
 * the work tree clean.
 * One stack, one small program and one browser for the whole file; the tests run in order.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const SCREENSHOTS = UPDATE_SCREENSHOTS ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : `${mkdtempSync(join(tmpdir(), 'ps-screens-'))}/`;

const pct = (p: number): string => `${(p * 100).toFixed(1)}%`;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core on the page as it is: no violation of any impact (minor ones included). */
async function expectAccessible(page: Page, label: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  const bad = violations.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, `${label}: axe-core violations`).toEqual([]);
}

async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage, animations: 'disabled' });
}

interface Row {
  partnerId: string;
  probability: string;
  tier: string;
}

const tableRows = (page: Page): Promise<Row[]> =>
  page.$$eval('#churn-table tbody tr', (rows) =>
    rows.map((r) => ({
      partnerId: r.getAttribute('data-partner-id') ?? '',
      probability: r.querySelector('td.prob')?.textContent?.trim() ?? '',
      tier: r.getAttribute('data-tier') ?? '',
    })),
  );

describe('dashboard in a browser', () => {
  let f: DashboardFixture;
  let browser: Browser;
  /** Requests to anywhere but the app: the pages must work offline. */
  const external: string[] = [];
  const cookieValues = new Set<string>();
  let ops: Page;

  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(f.url)) return route.continue();
      external.push(url);
      return route.abort();
    });
    return context;
  }

  async function signIn(context: BrowserContext, key: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${f.url}/`);
    await page.fill('#key', key);
    await Promise.all([page.waitForURL((u) => u.pathname !== '/' && u.pathname !== '/sign-in'), page.click('button[type=submit]')]);
    expect(page.url()).not.toContain('psk_');
    for (const c of await context.cookies()) cookieValues.add(c.value);
    return page;
  }

  const api = async <T>(path: string): Promise<T> => {
    const res = await f.stack.request('GET', path, { key: f.keys.admin });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (as .ci/run does), or set CHROMIUM_PATH.`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    [f, browser] = await Promise.all([
      startDashboardFixture(),
      chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] }),
    ]);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await f?.close();
    if (!UPDATE_SCREENSHOTS) rmSync(SCREENSHOTS, { recursive: true, force: true });
  });

  it('sign-in page: accessible; a wrong key is refused and no key ever reaches the URL', async () => {
    const context = await newContext();
    const page = await context.newPage();
    const response = await page.goto(`${f.url}/`);
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toMatch(/Sign in/);
    await expectAccessible(page, 'sign-in');
    await screenshot(page, 'sign-in', false);
    await page.fill('#key', 'psk_this-is-not-a-key');
    await Promise.all([page.waitForLoadState(), page.click('button[type=submit]')]);
    await expect(page.textContent('#signin-error')).resolves.toMatch(/unknown or has been revoked/);
    expect(page.url()).toBe(`${f.url}/sign-in`);
    await expectAccessible(page, 'sign-in with an error');
    await context.close();
  });

  it('ops signs in to the ranked list, with change arrows and drivers in words, and pages through it', async () => {
    ops = await signIn(await newContext(), f.keys.ops);
    expect(new URL(ops.url()).pathname).toBe('/churn-risk');
    const session = (await ops.context().cookies()).find((c) => c.name === 'ps_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(session.value).not.toContain(f.keys.ops);

    const first = await api<{ items: { partnerId: string; probability: number; change: number | null }[]; nextCursor: string | null }>('/v1/churn-risk?limit=25');
    const rows = await tableRows(ops);
    expect(rows.map((r) => r.partnerId)).toEqual(first.items.map((i) => i.partnerId));
    expect(rows.map((r) => r.probability)).toEqual(first.items.map((i) => pct(i.probability)));
    // Three runs: most partners have a change, shown with an arrow and a spoken direction.
    const changed = first.items.filter((i) => i.change !== null && Math.abs(i.change) >= 0.0005).length;
    expect(changed).toBeGreaterThan(0);
    expect(await ops.locator('#churn-table .change-up, #churn-table .change-down').count()).toBe(changed);
    expect(await ops.locator('#churn-table .drivers li').count()).toBeGreaterThan(rows.length);
    await expectAccessible(ops, 'churn risk');
    await screenshot(ops, 'churn-risk', false);

    expect(first.nextCursor).not.toBeNull();
    await Promise.all([ops.waitForURL(/cursor=/), ops.click('a[rel=next]')]);
    const second = await api<{ items: { partnerId: string }[] }>(`/v1/churn-risk?limit=25&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect((await tableRows(ops)).map((r) => r.partnerId)).toEqual(second.items.map((i) => i.partnerId));
    await expect(ops.textContent('#list-status')).resolves.toMatch(/^Rows 26–/);
  });

  let filterQuery = '';

  it('filters by tier and minimum probability', async () => {
    const all = await api<{ items: { tier: string; probability: number }[] }>('/v1/churn-risk?limit=1000');
    const counts = new Map<string, number>();
    for (const i of all.items) counts.set(i.tier, (counts.get(i.tier) ?? 0) + 1);
    const tier = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const sorted = all.items.filter((i) => i.tier === tier).map((i) => i.probability).sort((a, b) => a - b);
    // A threshold that keeps about half of that tier, so both the filter and what it drops are seen.
    const min = Math.floor(sorted[Math.floor(sorted.length / 2)]! * 1000) / 10;

    await ops.goto(`${f.url}/churn-risk`);
    await ops.selectOption('#f-tier', tier);
    await ops.fill('#f-min', String(min));
    await Promise.all([ops.waitForURL(/tier=/), ops.click('button:has-text("Apply filters")')]);
    const url = new URL(ops.url());
    expect(url.searchParams.get('tier')).toBe(tier);
    expect(url.searchParams.get('min')).toBe(String(min));

    filterQuery = `tier=${encodeURIComponent(tier)}&minProbability=${min / 100}`;
    const expected = await api<{ items: { partnerId: string; probability: number; tier: string }[] }>(`/v1/churn-risk?limit=25&${filterQuery}`);
    const rows = await tableRows(ops);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.partnerId)).toEqual(expected.items.map((i) => i.partnerId));
    for (const r of rows) expect(r.tier).toBe(tier);
    for (const i of expected.items) expect(i.probability).toBeGreaterThanOrEqual(min / 100);
    expect(rows.length).toBeLessThan(counts.get(tier)!);
    // The form keeps the filter it shows.
    await expect(ops.inputValue('#f-tier')).resolves.toBe(tier);
  });

  it('exports the current filter as CSV, the same rows the API gives', async () => {
    const [download] = await Promise.all([ops.waitForEvent('download'), ops.click('a:has-text("Export CSV")')]);
    expect(download.suggestedFilename()).toMatch(/^churn-risk-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    const res = await f.stack.request('GET', `/v1/churn-risk?limit=1000&format=csv&${filterQuery}`, { key: f.keys.admin });
    expect(csv).toBe(await res.text());
    expect(csv.trim().split('\n').length).toBeGreaterThan(1);
  });

  it('opens a partner: scores, history chart, drivers, activity and benchmarks', async () => {
    // The highest-ranked partner of the filter that was scored before too (its history has several runs).
    const link = ops.locator('#churn-table tbody tr', { has: ops.locator('.change-up, .change-down') }).first().locator('td:nth-child(2) a');
    const name = (await link.textContent())!.trim();
    await Promise.all([ops.waitForURL(/\/partners\/[^/]+$/), link.click()]);
    const partnerId = decodeURIComponent(new URL(ops.url()).pathname.split('/')[2]!);
    await expect(ops.textContent('h1')).resolves.toBe(name);

    const scores = await api<{ churn: { probability: number; drivers: { label: string }[] }; history: unknown[] }>(`/v1/partners/${encodeURIComponent(partnerId)}/scores`);
    await expect(ops.textContent('#risk-probability')).resolves.toBe(pct(scores.churn.probability));
    expect(scores.history.length).toBeGreaterThan(1);
    expect(await ops.locator('#history-chart circle.dot-churn').count()).toBe(scores.history.length);
    expect(await ops.locator('#history-table tbody tr').count()).toBe(scores.history.length);
    const drivers = await ops.$$eval('#churn-drivers tbody td:first-child', (cells) => cells.map((c) => c.textContent ?? ''));
    expect(drivers).toHaveLength(scores.churn.drivers.length);
    scores.churn.drivers.forEach((d, i) => expect(drivers[i]).toContain(d.label));
    expect(await ops.locator('#activity-events tbody tr').count()).toBe(9);

    const bench = await api<{ metrics: unknown[]; withheld: string[] }>(`/v1/partners/${encodeURIComponent(partnerId)}/benchmarks`);
    expect(await ops.locator('#bench-table tbody tr').count()).toBe(bench.metrics.length);
    await expectAccessible(ops, 'partner');
    await screenshot(ops, 'partner');
  });

  it('models page: versions with metrics, the champions’ ROC and reliability curves, AUC by tier, promotion', async () => {
    await ops.goto(`${f.url}/models`);
    const models = await api<{ model: string; version: string; status: string; aucByTier: Record<string, number | null> }[]>('/v1/models');
    for (const model of ['churn', 'top-performer']) {
      expect(await ops.locator(`#versions-${model} tbody tr`).count()).toBe(models.filter((m) => m.model === model).length);
      // Real holdout curves: a ROC path from (0,0) to (1,1) and at least one reliability point.
      const roc = (await ops.getAttribute(`#roc-chart-${model} polyline.roc`, 'points'))!.trim().split(/\s+/);
      expect(roc.length).toBeGreaterThan(2);
      expect(await ops.locator(`#rel-chart-${model} circle.rel-dot`).count()).toBeGreaterThan(0);
      const champion = models.find((m) => m.model === model && m.status === 'champion')!;
      const tierText = (await ops.textContent(`#auc-chart-${model} desc`))!;
      for (const tier of Object.keys(champion.aucByTier)) expect(tierText).toContain(tier);
    }
    await expectAccessible(ops, 'models');
    await screenshot(ops, 'models');

    const challenger = models.find((m) => m.model === 'top-performer' && m.status !== 'champion')!;
    const button = ops.locator(`#versions-top-performer tr[data-version="${challenger.version}"] button`);
    await Promise.all([ops.waitForURL(/promoted=/), button.click()]);
    await expect(ops.textContent('#promoted')).resolves.toContain(challenger.version);
    const after = await api<{ model: string; version: string; status: string }[]>('/v1/models');
    expect(after.find((m) => m.version === challenger.version)?.status).toBe('champion');
    expect(after.filter((m) => m.model === 'top-performer' && m.status === 'champion')).toHaveLength(1);
  });

  it('program page: the API’s metrics for the default period and for a period chosen in the form', async () => {
    await ops.goto(`${f.url}/program`);
    const stat = (label: string) => ops.locator('#program-stats .stat', { hasText: label }).locator('dd');
    const year = await api<{ deals: { attachRate: number; sourced: { wonDeals: number } } }>('/v1/metrics/program');
    await expect(stat('attach rate').textContent()).resolves.toMatch(new RegExp(`^${pct(year.deals.attachRate).replace('.', '\\.')}`));
    await expectAccessible(ops, 'program');
    await screenshot(ops, 'program');

    const to = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
    const from = new Date(Date.now() - 120 * 86_400_000).toISOString().slice(0, 10);
    await ops.fill('#p-from', from);
    await ops.fill('#p-to', to);
    await Promise.all([ops.waitForURL(/from=/), ops.click('button:has-text("Show period")')]);
    const period = await api<{ deals: { attachRate: number | null; sourced: { wonDeals: number } } }>(`/v1/metrics/program?from=${from}&to=${to}`);
    await expect(stat('sourced').textContent()).resolves.toContain(`${period.deals.sourced.wonDeals} deals`);
    expect(period.deals.sourced.wonDeals).not.toBe(year.deals.sourced.wonDeals);
    await expect(ops.textContent('.lede')).resolves.toContain(`from ${from} to ${to}`);
  });

  it('sign-out ends the session: pages send back to the sign-in form', async () => {
    await Promise.all([ops.waitForURL(/signedOut/), ops.click('button:has-text("Sign out")')]);
    await expect(ops.textContent('.notice')).resolves.toContain('signed out');
    expect((await ops.context().cookies()).find((c) => c.name === 'ps_session')).toBeUndefined();
    await ops.goto(`${f.url}/churn-risk`);
    expect(new URL(ops.url()).pathname).toBe('/');
    await expect(ops.locator('#key').count()).resolves.toBe(1);
    await ops.context().close();
  });

  it('a partner key, signed in by keyboard, sees its own anonymized benchmarks and nothing else', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${f.url}/`);
    const focused = async (): Promise<string> => page.evaluate(() => `${document.activeElement?.tagName.toLowerCase()}#${document.activeElement?.id}|${document.activeElement?.textContent?.trim().slice(0, 30)}`);
    await page.keyboard.press('Tab');
    await expect(focused()).resolves.toContain('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await expect(focused()).resolves.toMatch(/^input#key/);
    await page.keyboard.type(f.keys.partner);
    await Promise.all([page.waitForURL(/benchmarks/), page.keyboard.press('Enter')]);
    expect(new URL(page.url()).pathname).toBe(`/partners/${f.partnerId}/benchmarks`);
    for (const c of await context.cookies()) cookieValues.add(c.value);

    // Only its own page in the navigation.
    const nav = await page.$$eval('nav[aria-label="Dashboard"] a', (links) => links.map((l) => l.textContent));
    expect(nav).toEqual(['Your benchmarks']);
    const bench = await api<{ cohort: { size: string; tier: string }; metrics: { metric: string; value: number | null }[]; withheld: string[] }>(
      `/v1/partners/${encodeURIComponent(f.partnerId)}/benchmarks`,
    );
    expect(await page.locator('#bench-table tbody tr').count()).toBe(bench.metrics.length);
    expect(await page.locator('#bench-table svg path.own').count()).toBe(bench.metrics.filter((m) => m.value !== null).length);
    expect(await page.locator('#bench-table svg rect.iqr').count()).toBe(bench.metrics.length);
    const cohort = (await page.textContent('#bench-cohort'))!;
    expect(cohort).toContain(bench.cohort.size);
    expect(cohort).toContain(bench.cohort.tier);
    expect(await page.locator('#bench-withheld li').count()).toBe(bench.withheld.length);
    // Nothing that names a peer: the only partner id on the page is its own.
    expect(((await page.content()).match(/P-\d{5}/g) ?? []).every((id) => id === f.partnerId)).toBe(true);
    await expectAccessible(page, 'partner benchmarks');
    await screenshot(page, 'partner-benchmarks');

    // Skip link: Enter moves focus to the content.
    await page.goto(page.url());
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect(focused()).resolves.toMatch(/^main#content/);

    for (const path of [`/partners/${f.otherPartnerId}/benchmarks`, `/partners/${f.otherPartnerId}`, `/partners/${f.partnerId}`, '/churn-risk', '/churn-risk/export', '/models', '/program']) {
      const response = await page.goto(`${f.url}${path}`);
      expect(response?.status(), path).toBe(403);
      await expect(page.textContent('#problem'), path).resolves.toMatch(/may not|only its own partner/);
    }
    await expectAccessible(page, 'refused page');
    await context.close();
  });

  it('a revoked key’s session ends at once', async () => {
    const created = await f.stack.deps.apiKeys.create({ name: 'browser revoke', role: 'ops' });
    const context = await newContext();
    const page = await signIn(context, created.key);
    expect(new URL(page.url()).pathname).toBe('/churn-risk');
    await f.stack.deps.apiKeys.revoke(created.id);
    await page.reload();
    expect(new URL(page.url()).pathname).toBe('/');
    await expect(page.textContent('.notice')).resolves.toContain('session has ended');
    await context.close();
  });

  it('loaded nothing from elsewhere and logged no key or session', () => {
    expect(external).toEqual([]);
    const secrets = [...Object.values(f.keys), ...[...cookieValues].filter((v) => v.length > 20)];
    for (const line of f.stack.logLines) for (const s of secrets) expect(line.includes(s), line.slice(0, 200)).toBe(false);
  });
});
