import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProgram } from '../../data/generator';
import type { RawRecord } from '../../data/ingest/ingest-batch';
import { ingestStream } from '../../data/ingest/ingest-stream';
import type { PartnerInput } from '../../data/schemas/partner';
import type { RecordKindName } from '../../data/stores/record-store';
import type { ScoreDetail, ScoreRecord, ScoreStore } from '../../data/stores/score-store';
import { loadAllHistories } from '../../models/load-histories';
import { forgetRuns } from '../../models/score-queries';
import { runScoring, type ScoringDeps } from '../../models/scoring-run';
import { loadChampions, scoreHistories } from '../../models/scoring';
import { trainModelVersion } from '../../models/training-run';
import { startTestStack, type TestStack } from '../helpers/test-stack';
import type { Problem } from '../../functions/app/problem';

/*
 * Scores end to end (contract §2, §3, §6): a small generated program plus hand-made partners
 * (boundary dates, hostile names) → real ingest → both models trained once → scoring runs
 * through the API → partner scores, churn-risk lists (filters, cursors, CSV), ad-hoc scoring,
 * an interrupted run redone, and who may read what. One stack for the whole file; the tests
 * run in order and build on each other:
 *
 *   A1 (2025-03-31)  first run                           (test 1)
 *   A2 (2025-06-30)  second run: history and change      (test 2)
 *   A3 (2025-07-31)  lands while a client is paging      (test 3)
 *   A4 (2025-08-31)  interrupted, then run again         (test 5)
 */

const END = '2025-06-30';
const END_INSTANT = '2025-06-30T23:59:59.999Z';
const A1 = '2025-03-31';
const A2 = '2025-06-30';
const A3 = '2025-07-31';
const A4 = '2025-08-31';
/** A date means the whole day (UTC). */
const instant = (date: string): string => `${date}T23:59:59.999Z`;
const DAY_MS = 86_400_000;

const CSV_NAME = 'Acme, "Best" Inc.\nEMEA\r\nline three';
const FORMULA_NAME = '=HYPERLINK("http://evil.example/x","click me")';
const DDE_NAME = "-2+3+cmd|' /C calc'!A0";

interface Job {
  jobId: string;
  type: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  params: Record<string, unknown>;
  result?: { runId: string; asOf: string; scored: number; models: { churn: string; topPerformer?: string } };
  error?: string;
}
type Driver = ScoreDetail['drivers'][number];
interface ChurnRiskItem {
  partnerId: string;
  name: string;
  tier: string;
  region: string;
  segment: string;
  probability: number;
  riskBand: string;
  change: number | null;
  drivers: Driver[];
}
interface ChurnRiskPage {
  asOf: string | null;
  runId: string | null;
  modelVersion: string | null;
  items: ChurnRiskItem[];
  nextCursor: string | null;
}
interface Brief {
  probability: number;
  riskBand: string;
  modelVersion: string;
}
interface PartnerScores {
  partnerId: string;
  asOf: string;
  runId: string;
  churn: ScoreDetail;
  topPerformer: ScoreDetail | null;
  change: number | null;
  history: { asOf: string; churn: Brief | null; topPerformer: Brief | null }[];
}
interface AdHoc {
  asOf: string;
  items: { partnerId: string; asOf: string; churn: ScoreDetail; topPerformer: ScoreDetail | null }[];
  notFound: string[];
  notScored: { partnerId: string; reason: string }[];
}

async function* asRecords(values: readonly unknown[]): AsyncGenerator<RawRecord> {
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    yield { index, raw: JSON.stringify(value), value };
  }
}

/** Independent of the service's own helpers: a partner is active on a date (the whole day) if it joined by then and had not churned by then. */
const activeOn = (p: PartnerInput, date: string): boolean => p.joinedAt <= date && !(p.churnedAt !== undefined && p.churnedAt <= date);
/** In its first 365 days at the end of `date`. */
const isNewOn = (p: PartnerInput, date: string): boolean => Date.parse(instant(date)) - Date.parse(`${p.joinedAt}T00:00:00Z`) < 365 * DAY_MS;
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const sortedIds = (items: readonly { partnerId: string }[]): string[] => items.map((i) => i.partnerId).sort();
const json = async <T>(response: Response): Promise<T> => (await response.json()) as T;

describe('scoring runs, partner scores, churn-risk lists and ad-hoc scores', () => {
  let stack: TestStack;
  let opsKey: string;
  let integrationKey: string;
  let partnerKey: string;
  let partners: PartnerInput[] = [];
  const byId = new Map<string, PartnerInput>();
  /** Run ids as reported by the jobs. */
  const runIds: Record<string, string> = {};

  async function expectProblem(response: Response, status: number): Promise<Problem> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = await json<Problem>(response);
    expect(body.status).toBe(status);
    expect(typeof body.detail).toBe('string');
    return body;
  }

  async function waitForJob(jobId: string, timeoutMs = 45_000): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await stack.request('GET', `/v1/jobs/${jobId}`, { key: opsKey });
      expect(response.status).toBe(200);
      const job = await json<Job>(response);
      if (job.status === 'succeeded' || job.status === 'failed') return job;
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** POST /v1/scoring/runs as ops and waits for the job; the job must succeed. */
  async function scoringRun(date: string): Promise<NonNullable<Job['result']>> {
    const response = await stack.request('POST', '/v1/scoring/runs', { key: opsKey, body: { asOf: date } });
    expect(response.status).toBe(202);
    const { jobId } = await json<{ jobId: string }>(response);
    expect(jobId).toEqual(expect.any(String));
    const job = await waitForJob(jobId);
    expect(job.error).toBeUndefined();
    expect(job.status).toBe('succeeded');
    expect(job.type).toBe('score');
    runIds[date] = job.result!.runId;
    return job.result!;
  }

  async function churnRisk(query: string, key = stack.adminKey): Promise<ChurnRiskPage> {
    const response = await stack.request('GET', `/v1/churn-risk${query ? `?${query}` : ''}`, { key });
    expect(response.status).toBe(200);
    return json<ChurnRiskPage>(response);
  }

  /** Every item of the current run (or of the run the filters' query reads), in one page. */
  async function fullList(query = ''): Promise<ChurnRiskPage> {
    const page = await churnRisk(`limit=1000${query ? `&${query}` : ''}`);
    expect(page.nextCursor).toBeNull();
    return page;
  }

  /** Every stored score of a run, read back through the store (all pages of its ranking). */
  async function runItems(store: ScoreStore, runId: string): Promise<ScoreRecord[]> {
    const items: ScoreRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.rankedPage(runId, {}, 100, cursor);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  async function partnerScores(partnerId: string, key = stack.adminKey): Promise<PartnerScores> {
    const response = await stack.request('GET', `/v1/partners/${encodeURIComponent(partnerId)}/scores`, { key });
    expect(response.status).toBe(200);
    return json<PartnerScores>(response);
  }

  const expectedActive = (date: string): string[] => partners.filter((p) => activeOn(p, date)).map((p) => p.partnerId).sort();

  beforeAll(async () => {
    stack = await startTestStack();
    // No direct (partner-less) deals: they play no part in scores and would only cost ingest time.
    const program = generateProgram({ partners: 200, seed: 11, end: END, years: 2, directDealsPerMonth: 0 });
    // Ingest time is most of this file's time. Logins and content views are ~90% of the events:
    // 1 in 25 is kept. The deals table holds one item per deal (its latest version), so only the
    // last version of each deal is sent: the stored state is the same as with every version.
    let kept = 0;
    const events = program.events.filter((e) => (e.type !== 'portal_login' && e.type !== 'content_view') || kept++ % 25 === 0);
    const lastVersion = new Map(program.deals.map((d) => [d.dealId, d]));
    const deals = program.deals.filter((d) => lastVersion.get(d.dealId) === d);
    const ingest = async (kind: RecordKindName, values: readonly unknown[]): Promise<void> => {
      const summary = await ingestStream(kind, asRecords(values), stack.deps, { source: 'test' });
      if (summary.rejected > 0 || summary.accepted !== values.length) throw new Error(`${kind}: ${summary.accepted}/${values.length} accepted, e.g. ${JSON.stringify(summary.rejectedSample[0])}`);
    };
    const base = { tier: 'gold', region: program.partners[0]!.region, segment: program.partners[0]!.segment, status: 'active' as const };
    const crafted: PartnerInput[] = [
      { ...base, partnerId: 'T-CSV', name: CSV_NAME, joinedAt: '2023-09-01' },
      { ...base, partnerId: 'T-FORMULA', name: FORMULA_NAME, joinedAt: '2023-10-01' },
      { ...base, partnerId: 'T-DDE', name: DDE_NAME, joinedAt: '2023-10-02' },
      // Churned on A1 itself: churned "at or before" A1, so never scored.
      { ...base, partnerId: 'T-CHURN-ON', name: 'Churned on A1', joinedAt: '2023-01-15', status: 'churned', churnedAt: A1 },
      // Churned the day after A1: scored at A1, not at A2.
      { ...base, partnerId: 'T-CHURN-AFTER', name: 'Churned after A1', joinedAt: '2023-01-15', status: 'churned', churnedAt: '2025-04-01' },
      // First year: joined 2024-04-01 is under 365 days before the end of A1; 2024-03-31 is over it.
      { ...base, partnerId: 'T-NEW-IN', name: 'In its first year at A1', joinedAt: '2024-04-01' },
      { ...base, partnerId: 'T-NEW-OUT', name: 'Just past its first year at A1', joinedAt: '2024-03-31' },
      { ...base, partnerId: 'T-JOIN-ON', name: 'Joined on A1', joinedAt: A1 },
      { ...base, partnerId: 'T-JOIN-AFTER', name: 'Joined after A1', joinedAt: '2025-04-01' },
    ];
    await ingest('partners', program.partners);
    await ingest('events', events);
    await ingest('deals', deals);
    // The hand-made partners go through the public route.
    const posted = await stack.request('POST', '/v1/partners', { key: stack.adminKey, body: crafted });
    expect(posted.status).toBe(200);
    expect(await json<{ accepted: number; rejected: unknown[] }>(posted)).toMatchObject({ accepted: crafted.length, rejected: [] });
    partners = [...program.partners, ...crafted];
    for (const p of partners) byId.set(p.partnerId, p);

    const trainingDeps = { history: stack.deps.history, models: stack.deps.models, objects: stack.deps.objects, log: () => undefined };
    // Both trainings read the same histories: loaded once.
    const histories = await loadAllHistories(stack.deps.history, END_INSTANT);
    const churn = await trainModelVersion(trainingDeps, { model: 'churn', asOf: END_INSTANT, seed: 3, histories });
    const top = await trainModelVersion(trainingDeps, { model: 'top-performer', asOf: END_INSTANT, seed: 3, histories });
    expect([churn.status, top.status]).toEqual(['champion', 'champion']);

    [opsKey, integrationKey, partnerKey] = await Promise.all([stack.keyFor('ops'), stack.keyFor('integration'), stack.keyFor('partner', 'T-CSV')]);
  }, 120_000);

  afterAll(async () => stack?.close());

  it('1. a scoring run scores exactly the partners active at asOf, top-performer only in their first 365 days', async () => {
    // Before any run: an empty list, not an error.
    const empty = await churnRisk('');
    expect(empty).toMatchObject({ asOf: null, runId: null, items: [], nextCursor: null });

    const result = await scoringRun(A1);
    expect(result.asOf).toBe(instant(A1));
    expect(result.runId).toBe('run_20250331T235959999Z');
    const expected = expectedActive(A1);
    // The boundaries are on the expected side, so the comparison below covers them.
    expect(expected).toContain('T-JOIN-ON');
    expect(expected).toContain('T-CHURN-AFTER');
    expect(expected).not.toContain('T-CHURN-ON');
    expect(expected).not.toContain('T-JOIN-AFTER');
    // The generated data has partners churned before A1 and partners who joined after it.
    expect(partners.filter((p) => p.churnedAt !== undefined && p.churnedAt <= A1).length).toBeGreaterThan(3);
    expect(partners.filter((p) => p.joinedAt > A1).length).toBeGreaterThan(3);
    expect(result.scored).toBe(expected.length);

    const stored = await runItems(stack.deps.scores, result.runId);
    expect(sortedIds(stored)).toEqual(expected);
    // Read through the API too: the same set, and churned partners have no score at all.
    const listed = await fullList();
    expect(listed.runId).toBe(result.runId);
    expect(listed.asOf).toBe(instant(A1));
    expect(sortedIds(listed.items)).toEqual(expected);
    await expectProblem(await stack.request('GET', '/v1/partners/T-CHURN-ON/scores', { key: stack.adminKey }), 404);
    await expectProblem(await stack.request('GET', '/v1/partners/T-JOIN-AFTER/scores', { key: stack.adminKey }), 404);

    let young = 0;
    for (const s of stored) {
      expect(s.asOf).toBe(instant(A1));
      expect(s.runId).toBe(result.runId);
      expect(s.churn.probability).toBeGreaterThanOrEqual(0);
      expect(s.churn.probability).toBeLessThanOrEqual(1);
      expect(s.churn.modelVersion).toBe(result.models.churn);
      // First run: nothing to compare with.
      expect(s.change).toBeNull();
      const isNew = isNewOn(byId.get(s.partnerId)!, A1);
      expect(s.topPerformer !== null, `${s.partnerId} joined ${byId.get(s.partnerId)!.joinedAt}`).toBe(isNew);
      if (s.topPerformer) {
        young++;
        expect(s.topPerformer.modelVersion).toBe(result.models.topPerformer);
      }
    }
    expect(young).toBeGreaterThan(3);
    expect(young).toBeLessThan(stored.length);
    expect(stored.find((s) => s.partnerId === 'T-NEW-IN')?.topPerformer).not.toBeNull();
    expect(stored.find((s) => s.partnerId === 'T-NEW-OUT')?.topPerformer).toBeNull();
  });

  it('2. a partner’s scores: latest, history newest first with change, drivers largest effect first and worded for a person; 404 when unknown', async () => {
    const result = await scoringRun(A2);
    expect(result.scored).toBe(expectedActive(A2).length);
    const a1 = new Map((await runItems(stack.deps.scores, runIds[A1]!)).map((s) => [s.partnerId, s]));
    const a2 = await runItems(stack.deps.scores, result.runId);
    expect(sortedIds(a2)).toEqual(expectedActive(A2));

    // Scored in both runs: history of two, newest first; change = p(A2) − p(A1).
    const both = a2.filter((s) => a1.has(s.partnerId));
    expect(both.length).toBeGreaterThan(100);
    let moved = 0;
    for (const s of both.slice(0, 25)) {
      const view = await partnerScores(s.partnerId);
      const before = a1.get(s.partnerId)!;
      expect(view.partnerId).toBe(s.partnerId);
      expect(view.asOf).toBe(instant(A2));
      expect(view.runId).toBe(result.runId);
      expect(view.churn).toEqual(s.churn);
      expect(view.topPerformer).toEqual(s.topPerformer);
      expect(view.history.map((h) => h.asOf)).toEqual([instant(A2), instant(A1)]);
      expect(view.history[0]!.churn).toEqual({ probability: s.churn.probability, riskBand: s.churn.riskBand, modelVersion: s.churn.modelVersion });
      expect(view.history[1]!.churn).toEqual({ probability: before.churn.probability, riskBand: before.churn.riskBand, modelVersion: before.churn.modelVersion });
      expect(view.change).not.toBeNull();
      expect(Math.abs(view.change! - (s.churn.probability - before.churn.probability))).toBeLessThanOrEqual(1.5e-6);
      if (view.change !== 0) moved++;
    }
    expect(moved).toBeGreaterThan(0);
    // Only in the newer run: no previous score, so no change.
    const newcomer = a2.find((s) => !a1.has(s.partnerId))!;
    expect(newcomer).toBeDefined();
    const fresh = await partnerScores(newcomer.partnerId);
    expect(fresh.change).toBeNull();
    expect(fresh.history.map((h) => h.asOf)).toEqual([instant(A2)]);
    // Only in the older run: its latest score is still the A1 one.
    const gone = await partnerScores('T-CHURN-AFTER');
    expect(gone.asOf).toBe(instant(A1));
    expect(gone.history.map((h) => h.asOf)).toEqual([instant(A1)]);
    // First year at A1, past it at A2: top-performer in the older entry only.
    const grown = await partnerScores('T-NEW-IN');
    expect(grown.topPerformer).toBeNull();
    expect(grown.history[0]!.topPerformer).toBeNull();
    expect(grown.history[1]!.topPerformer).not.toBeNull();

    // The churn-risk list carries the same change.
    const listed = new Map((await fullList()).items.map((i) => [i.partnerId, i]));
    for (const s of both) expect(listed.get(s.partnerId)!.change).toBe(s.change);
    expect(listed.get(newcomer.partnerId)!.change).toBeNull();

    // Drivers: largest |effect| first, labels for a person (not the feature's code name).
    let multi = 0;
    for (const s of a2) {
      for (const detail of [s.churn, s.topPerformer]) {
        if (!detail) continue;
        const drivers = detail.drivers;
        if (drivers.length >= 2) multi++;
        for (let i = 1; i < drivers.length; i++) expect(Math.abs(drivers[i - 1]!.effect)).toBeGreaterThanOrEqual(Math.abs(drivers[i]!.effect));
        for (const d of drivers) {
          expect(d.label).toMatch(/^[A-Z][^_]*: .+ — peers' median .+$/);
          expect(d.label).not.toContain(d.feature);
          expect(d.effect).not.toBe(0);
        }
      }
    }
    expect(multi).toBeGreaterThan(20);
    const shown = await partnerScores(both[0]!.partnerId);
    expect(shown.churn.drivers.length).toBeGreaterThan(0);
    expect(shown.churn.drivers).toEqual(both[0]!.churn.drivers);

    const unknown = await expectProblem(await stack.request('GET', '/v1/partners/NOPE-404/scores', { key: stack.adminKey }), 404);
    expect(unknown.detail).toContain('NOPE-404');
  });

  describe('3. the churn-risk list', () => {
    let full: ChurnRiskPage;

    beforeAll(async () => {
      full = await fullList();
    });

    it('is the latest run, ranked by probability, highest first', async () => {
      expect(full.runId).toBe(runIds[A2]);
      expect(full.asOf).toBe(instant(A2));
      expect(sortedIds(full.items)).toEqual(expectedActive(A2));
      for (let i = 1; i < full.items.length; i++) expect(full.items[i - 1]!.probability).toBeGreaterThanOrEqual(full.items[i]!.probability);
      expect(full.items[0]!.probability).toBeGreaterThan(full.items.at(-1)!.probability);
      // The default page is 50.
      const page = await churnRisk('');
      expect(page.items).toEqual(full.items.slice(0, 50));
      expect(page.nextCursor).toEqual(expect.any(String));
    });

    it('filters by tier, region, segment and minProbability: every match and nothing else', async () => {
      const pick = (field: 'tier' | 'region' | 'segment'): string => {
        const counts = new Map<string, number>();
        for (const i of full.items) counts.set(i[field], (counts.get(i[field]) ?? 0) + 1);
        // A value that neither matches everything nor only a handful.
        return [...counts].filter(([, n]) => n < full.items.length).sort((a, b) => b[1] - a[1])[0]![0];
      };
      const tier = pick('tier');
      const region = pick('region');
      const segment = pick('segment');
      // minProbability exactly equal to one item's probability: that item is in (at least).
      const floorItem = full.items[Math.floor(full.items.length / 3)]!;
      const min = floorItem.probability;
      const cases: [string, (i: ChurnRiskItem) => boolean][] = [
        [`tier=${tier}`, (i) => i.tier === tier],
        [`region=${encodeURIComponent(region)}`, (i) => i.region === region],
        [`segment=${encodeURIComponent(segment)}`, (i) => i.segment === segment],
        [`minProbability=${min}`, (i) => i.probability >= min],
        [`tier=${tier}&region=${encodeURIComponent(region)}&minProbability=${min / 2}`, (i) => i.tier === tier && i.region === region && i.probability >= min / 2],
        ['minProbability=1', (i) => i.probability >= 1],
        ['minProbability=0', () => true],
      ];
      for (const [query, match] of cases) {
        const expected = full.items.filter(match);
        const page = await fullList(query);
        expect(page.items, query).toEqual(expected);
        // The same through small pages (filters applied across page boundaries).
        const walked: ChurnRiskItem[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const next: ChurnRiskPage = await churnRisk(`${query}&limit=15${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          expect(next.items.length).toBeLessThanOrEqual(15);
          walked.push(...next.items);
          cursor = next.nextCursor;
          expect(++pages).toBeLessThan(100);
        } while (cursor);
        expect(walked, `${query} in pages`).toEqual(expected);
      }
      // The filters select something and leave something out.
      expect(full.items.filter((i) => i.tier === tier).length).toBeGreaterThan(0);
      expect(full.items.filter((i) => i.probability >= min)).toContainEqual(floorItem);
      expect(full.items.filter((i) => i.probability >= min).length).toBeLessThan(full.items.length);
    });

    it('bounds limit: 1 and 1000 are fine, 0, 1001 and non-numbers are 400 naming the field; a foreign cursor is 400', async () => {
      expect((await churnRisk('limit=1')).items).toEqual(full.items.slice(0, 1));
      for (const limit of ['0', '1001', '-1', 'ten', '2.5']) {
        const problem = await expectProblem(await stack.request('GET', `/v1/churn-risk?limit=${limit}`, { key: stack.adminKey }), 400);
        expect(problem.errors?.map((e) => e.path), limit).toEqual(['query.limit']);
      }
      for (const bad of ['-0.1', '1.5', 'high']) {
        const problem = await expectProblem(await stack.request('GET', `/v1/churn-risk?minProbability=${bad}`, { key: stack.adminKey }), 400);
        expect(problem.errors?.map((e) => e.path)).toEqual(['query.minProbability']);
      }
      // A cursor this API did not return: 400, not an empty page that looks like the end of the list.
      const badCursor = await expectProblem(await stack.request('GET', '/v1/churn-risk?cursor=not-a-cursor', { key: stack.adminKey }), 400);
      expect(badCursor.errors?.map((e) => e.path)).toEqual(['query.cursor']);
      // The right run with a made-up position (or another run's position): 400 too, not a store error.
      const real = JSON.parse(Buffer.from((await churnRisk('limit=2')).nextCursor!, 'base64url').toString('utf8')) as { runId: string; key: Record<string, string> };
      const forge = (value: unknown): string => encodeURIComponent(Buffer.from(JSON.stringify(value)).toString('base64url'));
      const forged = [
        { runId: real.runId, key: { partnerId: 1, scoreKey: 2 } },
        { runId: real.runId, key: { ...real.key, extra: 'x' } },
        { runId: real.runId, key: { ...real.key, runId: 'run_19990101T000000000Z' } },
      ];
      for (const value of forged) {
        const problem = await expectProblem(await stack.request('GET', `/v1/churn-risk?cursor=${forge(value)}`, { key: stack.adminKey }), 400);
        expect(problem.errors?.map((e) => e.path), JSON.stringify(value)).toEqual(['query.cursor']);
      }
      // The genuine cursor, re-encoded, still works: the check is not what refuses the forgeries.
      const genuine = await churnRisk(`limit=2&cursor=${forge(real)}`);
      expect(genuine.items).toEqual(full.items.slice(2, 4));
    });

    it('pages: every item once, in order, the same as one big page', async () => {
      const seen: ChurnRiskItem[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: ChurnRiskPage = await churnRisk(`limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.runId).toBe(runIds[A2]);
        expect(page.items.length).toBeLessThanOrEqual(7);
        if (page.nextCursor) expect(page.items.length).toBe(7);
        seen.push(...page.items);
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBeGreaterThanOrEqual(Math.ceil(full.items.length / 7));
      expect(new Set(seen.map((i) => i.partnerId)).size).toBe(seen.length);
      expect(seen).toEqual(full.items);
    });

    it('a cursor keeps reading its run while a newer run lands; a fresh request reads the new run', async () => {
      const first = await churnRisk('limit=25');
      expect(first.runId).toBe(runIds[A2]);
      expect(first.nextCursor).toEqual(expect.any(String));

      const landed = await scoringRun(A3);
      expect(landed.runId).not.toBe(runIds[A2]);

      const seen = [...first.items];
      let cursor: string | null = first.nextCursor;
      while (cursor) {
        const page: ChurnRiskPage = await churnRisk(`limit=25&cursor=${encodeURIComponent(cursor)}`);
        expect(page.runId).toBe(runIds[A2]);
        if (page.items.length > 0) expect(page.asOf).toBe(instant(A2));
        seen.push(...page.items);
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(full.items);

      const fresh = await fullList();
      expect(fresh.runId).toBe(landed.runId);
      expect(fresh.asOf).toBe(instant(A3));
      expect(sortedIds(fresh.items)).toEqual(expectedActive(A3));
      // A different run with different numbers (time has passed for every partner).
      const before = new Map(full.items.map((i) => [i.partnerId, i.probability]));
      expect(fresh.items.filter((i) => before.get(i.partnerId) !== i.probability).length).toBeGreaterThan(0);
      // asOf reads an older run on request.
      const older = await fullList(`asOf=${A2}`);
      expect(older.runId).toBe(runIds[A2]);
      expect(older.items).toEqual(full.items);
    });

    it('format=csv: a header row and the same rows as JSON, names with commas, quotes and line breaks intact, formulas neutralised', async () => {
      const page = await fullList();
      const response = await stack.request('GET', '/v1/churn-risk?limit=1000&format=csv', { key: stack.adminKey });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
      const text = await response.text();
      const header = 'partnerId,name,tier,region,segment,probability,riskBand,change,drivers';
      expect(text.startsWith(`${header}\r\n`)).toBe(true);
      expect(text.endsWith('\r\n')).toBe(true);
      // The hostile name is one quoted cell, its quotes doubled.
      expect(text).toContain(`"${CSV_NAME.replaceAll('"', '""')}"`);

      const rows = parseCsv(text, { relax_column_count: false }) as string[][];
      expect(rows[0]).toEqual(header.split(','));
      const body = rows.slice(1);
      expect(body).toHaveLength(page.items.length);
      const leading = /^[=+\-@\t\r]/;
      body.forEach((row, k) => {
        const item = page.items[k]!;
        expect(row).toHaveLength(9);
        const [partnerId, name, tier, region, segment, probability, riskBand, change, drivers] = row as [string, string, string, string, string, string, string, string, string];
        expect(partnerId).toBe(item.partnerId);
        if (leading.test(item.name)) {
          // Neutralised: it does not start a formula, and still reads as the name.
          expect(leading.test(name), name).toBe(false);
          expect(name.endsWith(item.name)).toBe(true);
          expect(name.length).toBeLessThanOrEqual(item.name.length + 1);
        } else {
          expect(name).toBe(item.name);
        }
        expect([tier, region, segment, riskBand]).toEqual([item.tier, item.region, item.segment, item.riskBand]);
        expect(Number(probability)).toBe(item.probability);
        expect(change === '' ? null : Number(change)).toBe(item.change);
        expect(drivers).toBe(item.drivers.map((d) => d.label).join(' | '));
      });
      const names = new Map(body.map((r) => [r[0], r[1]]));
      expect(names.get('T-CSV')).toBe(CSV_NAME);
      for (const id of ['T-FORMULA', 'T-DDE']) {
        const cell = names.get(id)!;
        expect(cell).toBeDefined();
        expect(leading.test(cell), cell).toBe(false);
      }
      // Negative numbers stay numbers (changes are negative for some partners).
      expect(body.some((r) => r[7]!.startsWith('-') && Number.isFinite(Number(r[7])))).toBe(true);

      // Filters and paging apply to CSV too; the next cursor is in a header.
      const small = await stack.request('GET', '/v1/churn-risk?limit=5&format=csv', { key: stack.adminKey });
      const smallRows = (parseCsv(await small.text()) as string[][]).slice(1);
      expect(smallRows.map((r) => r[0])).toEqual(page.items.slice(0, 5).map((i) => i.partnerId));
      const next = small.headers.get('x-next-cursor');
      expect(next).toEqual(expect.any(String));
      const second = await churnRisk(`limit=5&cursor=${encodeURIComponent(next!)}`);
      expect(second.items).toEqual(page.items.slice(5, 10));
    });
  });

  it('4. ad-hoc scoring: up to 1,000 ids, unknown and not-scored apart, the same numbers as a run of the same asOf', async () => {
    const a1 = new Map((await runItems(stack.deps.scores, runIds[A1]!)).map((s) => [s.partnerId, s]));
    const active = [...a1.keys()].sort();
    const sample = [...active.slice(0, 40), 'T-NEW-IN', 'T-NEW-OUT', 'T-JOIN-ON', 'T-CHURN-AFTER', 'T-CSV'];
    const churnedEarly = partners.find((p) => p.churnedAt !== undefined && p.churnedAt < A1)!;
    const ids = [...sample, 'UNKNOWN-1', 'T-CHURN-ON', 'T-JOIN-AFTER', churnedEarly.partnerId, 'UNKNOWN-2', sample[0]!];
    const response = await stack.request('POST', '/v1/score', { key: integrationKey, body: { partnerIds: ids, asOf: A1 } });
    expect(response.status).toBe(200);
    const out = await json<AdHoc>(response);
    expect(out.asOf).toBe(instant(A1));
    expect(out.notFound.sort()).toEqual(['UNKNOWN-1', 'UNKNOWN-2']);
    expect(out.notScored.map((n) => n.partnerId).sort()).toEqual([churnedEarly.partnerId, 'T-CHURN-ON', 'T-JOIN-AFTER'].sort());
    const reasons = new Map(out.notScored.map((n) => [n.partnerId, n.reason]));
    expect(reasons.get('T-CHURN-ON')).toMatch(/churned/);
    expect(reasons.get('T-JOIN-AFTER')).toMatch(/joined/);
    expect(sortedIds(out.items)).toEqual([...new Set(sample)].sort());
    for (const item of out.items) {
      const run = a1.get(item.partnerId)!;
      expect(item.asOf).toBe(instant(A1));
      expect(item.churn, item.partnerId).toEqual(run.churn);
      expect(item.topPerformer, item.partnerId).toEqual(run.topPerformer);
    }

    // 1,000 distinct ids: fine (known partners, scored or not, plus made-up ones).
    const known = [...active.slice(-30), 'T-CHURN-ON', 'T-JOIN-AFTER'];
    const thousand = [...known, ...Array.from({ length: 1000 - known.length }, (_, i) => `GHOST-${i}`)];
    expect(new Set(thousand).size).toBe(1000);
    const big = await stack.request('POST', '/v1/score', { key: stack.adminKey, body: { partnerIds: thousand, asOf: A1 } });
    expect(big.status).toBe(200);
    const bigOut = await json<AdHoc>(big);
    expect(sortedIds(bigOut.items)).toEqual(active.slice(-30));
    expect(bigOut.notScored.map((n) => n.partnerId).sort()).toEqual(['T-CHURN-ON', 'T-JOIN-AFTER']);
    expect(bigOut.notFound).toHaveLength(1000 - known.length);
    for (const item of bigOut.items) expect(item.churn.probability, item.partnerId).toBe(a1.get(item.partnerId)!.churn.probability);

    // 1,001: refused, naming the field; so are an empty list and a bad id.
    const tooMany = await expectProblem(await stack.request('POST', '/v1/score', { key: stack.adminKey, body: { partnerIds: [...thousand, 'ONE-MORE'] } }), 400);
    expect(tooMany.errors?.map((e) => e.path)).toEqual(['partnerIds']);
    const none = await expectProblem(await stack.request('POST', '/v1/score', { key: stack.adminKey, body: { partnerIds: [] } }), 400);
    expect(none.errors?.map((e) => e.path)).toEqual(['partnerIds']);
    const badAsOf = await expectProblem(await stack.request('POST', '/v1/score', { key: stack.adminKey, body: { partnerIds: ['T-CSV'], asOf: 'yesterday' } }), 400);
    expect(badAsOf.errors?.map((e) => e.path)).toEqual(['asOf']);
  });

  it('5. a run interrupted halfway stays invisible; running the same asOf again ends exactly as a clean run', async () => {
    const real = stack.deps.scores;
    const asOf = instant(A4);
    let calls = 0;
    const written: string[] = [];
    const faulty: ScoreStore = {
      putRun: (run) => real.putRun(run),
      recordShard: (run, shard, scored, now) => real.recordShard(run, shard, scored, now),
      listRuns: () => real.listRuns(),
      deleteRunScores: (runId) => real.deleteRunScores(runId),
      getScores: (ids, at) => real.getScores(ids, at),
      partnerScores: (id, limit) => real.partnerScores(id, limit),
      rankedPage: (runId, filter, limit, cursor) => real.rankedPage(runId, filter, limit, cursor),
      putScores: async (scores) => {
        if (++calls === 2) throw new Error('injected: the score store went away');
        await real.putScores(scores);
        written.push(...scores.map((s) => s.partnerId));
      },
    };
    const deps: ScoringDeps = { history: stack.deps.history, models: stack.deps.models, scores: faulty, modelCache: stack.deps.modelCache, bands: stack.deps.bands, log: () => undefined };
    await expect(runScoring(deps, { asOf, pageSize: 40 })).rejects.toThrow('injected');
    expect(calls).toBe(2);

    // Half a run is stored, marked running, and nobody sees it.
    const runs = await real.listRuns();
    const interrupted = runs.find((r) => r.asOf === asOf)!;
    expect(interrupted.status).toBe('running');
    const runId = interrupted.runId;
    const partial = await runItems(real, runId);
    expect(written.length).toBeGreaterThan(0);
    expect(sortedIds(partial)).toEqual([...written].sort());
    expect(partial.length).toBeLessThan(expectedActive(A4).length);
    forgetRuns(real);
    const list = await churnRisk('limit=5');
    expect(list.runId).toBe(runIds[A3]);
    expect(list.asOf).toBe(instant(A3));
    const victim = written.find((id) => !id.startsWith('T-'))!;
    expect((await partnerScores(victim)).asOf).toBe(instant(A3));

    // Meanwhile a partner that the broken run scored churns: a clean run at A4 does not score it.
    const update = { ...byId.get(victim)!, status: 'churned', churnedAt: '2025-08-15', updatedAt: new Date().toISOString() };
    const posted = await stack.request('POST', '/v1/partners', { key: stack.adminKey, body: [update] });
    expect(await json<{ accepted: number }>(posted)).toMatchObject({ accepted: 1 });

    // Run again, without the fault.
    const result = await scoringRun(A4);
    expect(result.runId).toBe(runId);
    const expected = expectedActive(A4).filter((id) => id !== victim);
    expect(result.scored).toBe(expected.length);
    const stored = await runItems(real, runId);
    expect(sortedIds(stored)).toEqual(expected);
    // Nothing left over from the broken attempt.
    expect((await real.getScores([victim], asOf)).size).toBe(0);
    expect((await partnerScores(victim)).asOf).toBe(instant(A3));

    // The same numbers as a clean computation as of A4 from the same data.
    const champions = await loadChampions(stack.deps.models, stack.deps.modelCache);
    const clean = scoreHistories(champions, await loadAllHistories(stack.deps.history, asOf), asOf, stack.deps.bands);
    expect(sortedIds(clean)).toEqual(expected);
    const cleanById = new Map(clean.map((s) => [s.partnerId, s]));
    const a3 = new Map((await runItems(real, runIds[A3]!)).map((s) => [s.partnerId, s]));
    for (const s of stored) {
      const want = cleanById.get(s.partnerId)!;
      expect(s.runId).toBe(runId);
      expect(s.asOf).toBe(asOf);
      expect(s.churn, s.partnerId).toEqual(want.churn);
      expect(s.topPerformer, s.partnerId).toEqual(want.topPerformer);
      const previous = a3.get(s.partnerId);
      expect(s.change).toBe(previous ? round6(s.churn.probability - previous.churn.probability) : null);
    }
    // And it is the visible run now.
    const now = await churnRisk('limit=1000');
    expect(now.runId).toBe(runId);
    expect(sortedIds(now.items)).toEqual(expected);
    expect((await real.listRuns()).find((r) => r.runId === runId)).toMatchObject({ status: 'complete', scored: expected.length });
  });

  it('6. roles: integration reads scores and scores ad hoc; partner keys read none of it; integration may not start runs', async () => {
    const someone = 'T-CSV';
    expect((await churnRisk('limit=3', integrationKey)).items).toHaveLength(3);
    expect((await partnerScores(someone, integrationKey)).partnerId).toBe(someone);
    const csv = await stack.request('GET', '/v1/churn-risk?limit=3&format=csv', { key: integrationKey });
    expect(csv.status).toBe(200);
    const adHoc = await stack.request('POST', '/v1/score', { key: integrationKey, body: { partnerIds: [someone] } });
    expect(adHoc.status).toBe(200);
    expect((await json<AdHoc>(adHoc)).items.map((i) => i.partnerId)).toEqual([someone]);

    const runsBefore = await stack.deps.scores.listRuns();
    // A partner key, even for its own partner.
    for (const [method, path, body] of [
      ['GET', '/v1/churn-risk', undefined],
      ['GET', '/v1/churn-risk?format=csv', undefined],
      ['GET', `/v1/partners/${someone}/scores`, undefined],
      ['GET', '/v1/partners/P-0001/scores', undefined],
      ['POST', '/v1/score', { partnerIds: [someone] }],
      ['POST', '/v1/scoring/runs', { asOf: '2025-09-30' }],
    ] as const) {
      await expectProblem(await stack.request(method, path, { key: partnerKey, ...(body ? { body } : {}) }), 403);
    }
    await expectProblem(await stack.request('POST', '/v1/scoring/runs', { key: integrationKey, body: { asOf: '2025-09-30' } }), 403);
    // No key at all: 401.
    await expectProblem(await stack.request('GET', '/v1/churn-risk'), 401);
    await expectProblem(await stack.request('POST', '/v1/score', { body: { partnerIds: [someone] } }), 401);
    // Nothing was started.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await stack.deps.scores.listRuns()).toEqual(runsBefore);
  });
});
