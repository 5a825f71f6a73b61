import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProgram } from '../../data/generator';
import type { RawRecord } from '../../data/ingest/ingest-batch';
import { ingestStream } from '../../data/ingest/ingest-stream';
import type { DealInput } from '../../data/schemas/deal';
import type { EventInput } from '../../data/schemas/event';
import type { PartnerInput } from '../../data/schemas/partner';
import type { ScanOrder } from '../../data/stores/dynalite-order';
import { DynamoHistoryStore } from '../../data/stores/dynamo-history-store';
import { ShardOrderError, type HistoryStore, type PartnerRecords, type ShardReadParams, type ShardReads } from '../../data/stores/history-store';
import type { RecordKindName } from '../../data/stores/record-store';
import type { ScoreRecord, ScoreStore } from '../../data/stores/score-store';
import { StoreUnavailableError } from '../../data/errors';
import { loadAllHistories } from '../../models/load-histories';
import { completedRuns, forgetRuns } from '../../models/score-queries';
import { runScoring, runScoringShard, startScoringRun, type ScoringDeps, type ScoringRunPlan } from '../../models/scoring-run';
import { loadChampions, scoreHistories, type PartnerScore } from '../../models/scoring';
import { trainModelVersion } from '../../models/training-run';
import { startTestStack, type TestStack } from '../helpers/test-stack';

/*
 * Scoring runs split into shards (parallel-scan segments), against the embedded stores:
 * - the two history-read strategies ('query', 'scan-merge') return the same histories for every
 *   partner, whatever the segment count, and the segments partition the partners exactly;
 * - a store whose scan order is not the one the merge relies on is caught, and the shard is
 *   read again by query, ending with the scores of a clean run;
 * - shards retried, completed in any order or at once, or left over from a restarted attempt:
 *   the run completes exactly once, with every partner counted once;
 * - a run interrupted by a failing shard stays invisible, and running it again ends as a clean run.
 */

const END = '2025-06-30';
const END_INSTANT = `${END}T23:59:59.999Z`;
/** Mid-history: events and deals after it exist, and must not be read. */
const MID = '2024-12-31T23:59:59.999Z';
const GHOSTS = ['GHOST-1', 'GHOST-2', 'GHOST-3'];

async function* asRecords(values: readonly unknown[]): AsyncGenerator<RawRecord> {
  for (let index = 0; index < values.length; index++) yield { index, raw: JSON.stringify(values[index]), value: values[index] };
}

const sortedIds = (items: readonly { partnerId: string }[]): string[] => items.map((i) => i.partnerId).sort();

async function readShard(store: HistoryStore, params: ShardReadParams): Promise<PartnerRecords[]> {
  const out: PartnerRecords[] = [];
  for await (const page of store.shardHistories(params)) {
    expect(page.length).toBeGreaterThan(0);
    expect(page.length).toBeLessThanOrEqual(params.pageSize ?? 200);
    out.push(...page);
  }
  return out;
}

/** A store that scans in another order than dynalite (as real DynamoDB does): any hash, same key shape. */
const otherOrder: ScanOrder = {
  key: (id) => `${createHash('sha1').update(id).digest('hex').slice(0, 6)}/${Buffer.from(id).toString('hex')}/`,
  inSegment: (key, segment, segments) => parseInt(key.slice(0, 3), 16) % segments === segment,
};

describe('scoring runs in shards', () => {
  let stack: TestStack;
  let partners: PartnerInput[];
  let quiet: string;
  const versions = new Map<string, number>();
  const latestDeal = new Map<string, DealInput>();
  const warnings: string[] = [];

  const deps = (overrides: Partial<ScoringDeps> = {}): ScoringDeps => ({
    history: stack.deps.history,
    models: stack.deps.models,
    scores: stack.deps.scores,
    modelCache: stack.deps.modelCache,
    bands: stack.deps.bands,
    log: () => undefined,
    warn: (message) => void warnings.push(message),
    ...overrides,
  });
  const store = (shardReads: ShardReads, scanOrder?: ScanOrder): DynamoHistoryStore =>
    new DynamoHistoryStore(stack.clients.ddb, stack.config.tables, { shardReads, ...(scanOrder ? { scanOrder } : {}) });

  /** Every stored score of a run (all pages of its ranking). */
  async function runItems(runId: string): Promise<ScoreRecord[]> {
    const items: ScoreRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await stack.deps.scores.rankedPage(runId, {}, 100, cursor);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  const clean = new Map<string, Map<string, PartnerScore>>();
  /** What a clean run as of asOf scores: the partners' histories read by query, scored in one go. */
  async function cleanScores(asOf: string): Promise<Map<string, PartnerScore>> {
    let scores = clean.get(asOf);
    if (!scores) {
      const champions = await loadChampions(stack.deps.models, stack.deps.modelCache);
      scores = new Map(scoreHistories(champions, await loadAllHistories(stack.deps.history, asOf), asOf, stack.deps.bands).map((s) => [s.partnerId, s]));
      clean.set(asOf, scores);
    }
    return scores;
  }

  /** The run's stored scores are exactly a clean run's: the same partners, the same numbers and drivers. */
  async function expectClean(runId: string, asOf: string): Promise<void> {
    const want = await cleanScores(asOf);
    const stored = await runItems(runId);
    expect(sortedIds(stored)).toEqual([...want.keys()].sort());
    for (const s of stored) {
      expect(s.asOf).toBe(asOf);
      expect(s.churn, s.partnerId).toEqual(want.get(s.partnerId)!.churn);
      expect(s.topPerformer, s.partnerId).toEqual(want.get(s.partnerId)!.topPerformer);
    }
  }

  const runOf = async (asOf: string) => (await stack.deps.scores.listRuns()).find((r) => r.asOf === asOf);

  beforeAll(async () => {
    stack = await startTestStack();
    const program = generateProgram({ partners: 120, seed: 23, end: END, years: 2, directDealsPerMonth: 1 });
    // Logins and content views are most of the events and add nothing here but ingest time: 1 in 10 kept.
    let kept = 0;
    const events: EventInput[] = program.events.filter((e) => (e.type !== 'portal_login' && e.type !== 'content_view') || kept++ % 10 === 0);
    quiet = 'Q-QUIET';
    partners = [...program.partners, { partnerId: quiet, name: 'No events, no deals', tier: 'gold', region: program.partners[0]!.region, segment: program.partners[0]!.segment, status: 'active', joinedAt: '2024-01-15' }];
    // Events and a deal of partners the program does not have: never read into anyone's history.
    const ghostEvents: EventInput[] = GHOSTS.flatMap((partnerId, g) =>
      Array.from({ length: 4 }, (_, i) => ({ eventId: `ghost-${g}-${i}`, partnerId, type: 'support_ticket' as const, occurredAt: `2024-0${i + 1}-10T10:00:00.000Z` })),
    );
    const someDeal = program.deals.find((d) => d.partnerId)!;
    const ghostDeal: DealInput = { ...someDeal, dealId: 'ghost-deal', partnerId: GHOSTS[0]! };
    for (const d of program.deals) {
      versions.set(d.dealId, (versions.get(d.dealId) ?? 0) + 1);
      latestDeal.set(d.dealId, d);
    }
    const ingest = async (kind: RecordKindName, values: readonly unknown[]): Promise<void> => {
      const summary = await ingestStream(kind, asRecords(values), stack.deps, { source: 'test' });
      if (summary.rejected > 0) throw new Error(`${kind}: ${summary.rejected} rejected, e.g. ${JSON.stringify(summary.rejectedSample[0])}`);
    };
    await ingest('partners', partners);
    await ingest('events', [...events, ...ghostEvents]);
    // Every version of every deal, in order: the stored item is each deal's latest version.
    await ingest('deals', [...program.deals, ghostDeal]);

    const histories = await loadAllHistories(stack.deps.history, END_INSTANT);
    const trainingDeps = { history: stack.deps.history, models: stack.deps.models, objects: stack.deps.objects, log: () => undefined };
    for (const model of ['churn', 'top-performer'] as const) {
      const trained = await trainModelVersion(trainingDeps, { model, asOf: END_INSTANT, seed: 5, histories });
      expect(trained.status).toBe('champion');
    }
  }, 180_000);

  afterAll(async () => stack?.close());

  it("scan-merge and query read the same histories for every partner; a run's segments hold every partner exactly once", async () => {
    const merge = store('scan-merge');
    const query = store('query');
    let updatedDeals = 0;
    let laterEvents = 0;
    for (const [until, segmentCounts] of [[MID, [1, 3, 7]], [undefined, [1, 3]]] as const) {
      for (const segments of segmentCounts) {
        const seen: string[] = [];
        for (let segment = 0; segment < segments; segment++) {
          const params = { segment, segments, ...(until ? { until } : {}) };
          const merged = await readShard(merge, { ...params, pageSize: 9 });
          const queried = await readShard(query, { ...params, pageSize: 9 });
          // Same partners in the same (scan) order, same events and deals, field for field.
          expect(merged.map((h) => h.partner.partnerId)).toEqual(queried.map((h) => h.partner.partnerId));
          expect(merged).toEqual(queried);
          seen.push(...merged.map((h) => h.partner.partnerId));
          for (const h of merged) {
            if (until) expect(h.events.every((e) => e.occurredAt <= until) && h.deals.every((d) => d.createdAt <= until)).toBe(true);
            // A deal sent in several versions is there once, as its latest version.
            for (const d of h.deals) {
              const latest = latestDeal.get(d.dealId)!;
              expect(d.stage).toBe(latest.stage);
              if (versions.get(d.dealId)! > 1) updatedDeals++;
            }
          }
        }
        expect(seen.sort()).toEqual(sortedIds(partners));
      }
    }
    // The cases the comparison must have covered.
    const all = await readShard(merge, { segment: 0, segments: 1 });
    const upToMid = new Map((await readShard(merge, { segment: 0, segments: 1, until: MID })).map((h) => [h.partner.partnerId, h]));
    for (const h of all) laterEvents += h.events.length - upToMid.get(h.partner.partnerId)!.events.length;
    expect(laterEvents).toBeGreaterThan(0);
    expect(updatedDeals).toBeGreaterThan(0);
    expect(all.find((h) => h.partner.partnerId === quiet)).toMatchObject({ events: [], deals: [] });
    expect(all.some((h) => h.events.some((e) => GHOSTS.includes(e.partnerId)) || h.deals.some((d) => d.dealId === 'ghost-deal'))).toBe(false);
    // And the same as the per-partner reads everything else uses.
    for (const h of all.slice(0, 15)) {
      expect(h.events).toEqual(await stack.deps.history.partnerEvents(h.partner.partnerId));
      expect(h.deals).toEqual(await stack.deps.history.partnerDeals(h.partner.partnerId));
    }
    // `include` narrows what is yielded, not what is scanned past.
    const gold = await readShard(merge, { segment: 1, segments: 3, include: (p) => p.tier === 'gold' });
    expect(gold.length).toBeGreaterThan(0);
    expect(gold).toEqual((await readShard(query, { segment: 1, segments: 3 })).filter((h) => h.partner.tier === 'gold'));
  });

  it('the local stack reads shards by scan-merge: Scan pages only, no Query', async () => {
    // stack.deps.history is built by createDeps with the embedded endpoint.
    const requests: string[] = [];
    const middleware = stack.clients.dynamo.middlewareStack;
    middleware.add(
      (next, context) => async (args) => {
        requests.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'testRequestLog' },
    );
    try {
      const merged = await readShard(stack.deps.history, { segment: 0, segments: 2, until: MID });
      expect(merged.length).toBeGreaterThan(10);
      expect(new Set(requests)).toEqual(new Set(['ScanCommand']));
      expect(requests.length).toBeLessThan(merged.length / 2);
      requests.length = 0;
      await readShard(stack.deps.history, { segment: 0, segments: 2, until: MID, reads: 'query' });
      expect(requests.filter((r) => r === 'QueryCommand')).toHaveLength(2 * merged.length);
    } finally {
      middleware.remove('testRequestLog');
    }
  });

  it('a store that scans in another order is caught on any segment count, and the run reads it by query instead, ending as a clean run', async () => {
    const misordered = store('scan-merge', otherOrder);
    for (const segments of [1, 3]) {
      await expect(readShard(misordered, { segment: 0, segments })).rejects.toBeInstanceOf(ShardOrderError);
    }
    const asOf = '2025-01-31T23:59:59.999Z';
    warnings.length = 0;
    const result = await runScoring(deps({ history: misordered }), { asOf, shards: 3, pageSize: 20 });
    expect(result.scored).toBe((await cleanScores(asOf)).size);
    await expectClean(result.runId, asOf);
    // Warned once, not once a shard.
    expect(warnings.filter((w) => w.startsWith('scan-merge history reads refused'))).toHaveLength(1);
    expect(await runOf(asOf)).toMatchObject({ status: 'complete', scored: result.scored, shards: 3 });
  });

  it('a scan-merge pass that wrote wrong scores before its violation was found is overwritten by the query pass', async () => {
    const real = store('scan-merge');
    let corrupted = 0;
    // The merge's first page comes back with every history emptied, then the order check "fails".
    const lying: HistoryStore = Object.assign(Object.create(real) as HistoryStore, {
      shardHistories: (params: ShardReadParams): AsyncIterable<PartnerRecords[]> => {
        if (params.reads === 'query') return real.shardHistories(params);
        return (async function* () {
          for await (const page of real.shardHistories(params)) {
            corrupted += page.length;
            yield page.map((h) => ({ ...h, events: [], deals: [] }));
            throw new ShardOrderError('events', 'injected by the test');
          }
        })();
      },
    });
    const asOf = '2025-02-28T23:59:59.999Z';
    const plan = await startScoringRun(deps(), { asOf, shards: 2 });
    const written: string[] = [];
    const scores: ScoreStore = Object.assign(Object.create(stack.deps.scores) as ScoreStore, {
      putScores: async (records: readonly ScoreRecord[]) => {
        written.push(...records.map((r) => r.partnerId));
        await stack.deps.scores.putScores(records);
      },
    });
    const outcomes = [await runScoringShard(deps({ history: lying, scores }), plan, 0), await runScoringShard(deps({ history: lying, scores }), plan, 1)];
    expect(corrupted).toBeGreaterThan(0);
    // Those partners were written twice: wrong, then right.
    expect(written.length).toBe((await cleanScores(asOf)).size + corrupted);
    expect(outcomes.map((o) => o.runComplete)).toEqual([false, true]);
    expect(outcomes[0]!.scored + outcomes[1]!.scored).toBe((await cleanScores(asOf)).size);
    await expectClean(plan.runId, asOf);
  });

  it('shards retried and completed in any order: the run completes exactly once, every partner counted once', async () => {
    const asOf = '2025-03-31T23:59:59.999Z';
    const expected = (await cleanScores(asOf)).size;
    const plan = await startScoringRun(deps(), { asOf, shards: 3 });
    expect(plan).toMatchObject({ asOf, shards: 3, runId: 'run_20250331T235959999Z' });
    expect(await runOf(asOf)).toMatchObject({ status: 'running', shards: 3, shardScored: {}, startedAt: plan.startedAt });

    const first = await runScoringShard(deps(), plan, 2);
    const again = await runScoringShard(deps(), plan, 2);
    expect(first).toEqual({ scored: again.scored, runComplete: false });
    expect(again.runComplete).toBe(false);
    expect((await runOf(asOf))!.shardScored).toEqual({ 2: first.scored });
    expect((await runScoringShard(deps(), plan, 0)).runComplete).toBe(false);
    // Two of three shards done: still invisible.
    forgetRuns(stack.deps.scores);
    expect((await completedRuns(stack.deps.scores)).map((r) => r.asOf)).not.toContain(asOf);
    const last = await runScoringShard(deps(), plan, 1);
    expect(last.runComplete).toBe(true);
    const run = await runOf(asOf);
    expect(run).toMatchObject({ status: 'complete', scored: expected, startedAt: plan.startedAt });
    expect(Object.values(run!.shardScored!).reduce((a, b) => a + b, 0)).toBe(expected);
    expect((await completedRuns(stack.deps.scores)).map((r) => r.asOf)).toContain(asOf);
    await expectClean(plan.runId, asOf);

    // A shard redelivered after the run completed: same items rewritten, nothing counted twice, no second completion.
    expect((await runScoringShard(deps(), plan, 1)).runComplete).toBe(false);
    expect(await runOf(asOf)).toMatchObject({ status: 'complete', scored: expected, completedAt: run!.completedAt });
    await expectClean(plan.runId, asOf);

    // Run again, every shard twice and all at once: exactly one caller completes it.
    const rerun = await startScoringRun(deps(), { asOf, shards: 4 });
    const results = await Promise.all([0, 1, 2, 3, 3, 2, 1, 0].map((shard) => runScoringShard(deps(), rerun, shard)));
    expect(results.filter((r) => r.runComplete)).toHaveLength(1);
    expect(await runOf(asOf)).toMatchObject({ status: 'complete', scored: expected, shards: 4, startedAt: rerun.startedAt });
    await expectClean(rerun.runId, asOf);

    // Bad shard numbers are refused, naming the field.
    await expect(runScoringShard(deps(), rerun, 4)).rejects.toMatchObject({ status: 400, errors: [{ path: 'shard' }] });
    await expect(startScoringRun(deps(), { asOf, shards: 0 })).rejects.toMatchObject({ status: 400, errors: [{ path: 'shards' }] });
  });

  it('a shard of an attempt that was restarted neither writes nor counts', async () => {
    const asOf = '2025-04-30T23:59:59.999Z';
    const old: ScoringRunPlan = await startScoringRun(deps(), { asOf, shards: 2 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const plan = await startScoringRun(deps(), { asOf, shards: 2 });
    expect(plan.startedAt).not.toBe(old.startedAt);
    warnings.length = 0;
    expect(await runScoringShard(deps(), old, 0)).toEqual({ scored: 0, runComplete: false });
    expect(warnings).toEqual([expect.stringMatching(/restarted/)]);
    expect(await runItems(plan.runId)).toEqual([]);
    // Recording directly on behalf of the old attempt is refused by the store too.
    expect(await stack.deps.scores.recordShard(old, 0, 5, new Date().toISOString())).toEqual({ outcome: 'superseded' });
    const outcomes = [await runScoringShard(deps(), plan, 1), await runScoringShard(deps(), plan, 0)];
    expect(outcomes.map((o) => o.runComplete)).toEqual([false, true]);
    expect(await runOf(asOf)).toMatchObject({ status: 'complete', startedAt: plan.startedAt, scored: (await cleanScores(asOf)).size });
    await expectClean(plan.runId, asOf);
  });

  it('a run interrupted by a failing shard stays invisible and writes nothing more; running it again ends as a clean run', async () => {
    const asOf = '2025-05-31T23:59:59.999Z';
    let calls = 0;
    const written: string[] = [];
    const faulty: ScoreStore = Object.assign(Object.create(stack.deps.scores) as ScoreStore, {
      putScores: async (records: readonly ScoreRecord[]) => {
        if (++calls === 3) throw new Error('injected: the score store went away');
        await stack.deps.scores.putScores(records);
        written.push(...records.map((r) => r.partnerId));
      },
    });
    await expect(runScoring(deps({ scores: faulty }), { asOf, shards: 3, pageSize: 10 })).rejects.toThrow('injected');
    // No shard started another write after the failed one, and nothing was left running.
    expect(calls).toBe(3);
    const run = (await runOf(asOf))!;
    expect(run.status).toBe('running');
    const partial = await runItems(run.runId);
    expect(sortedIds(partial)).toEqual([...written].sort());
    expect(partial.length).toBeLessThan((await cleanScores(asOf)).size);
    forgetRuns(stack.deps.scores);
    expect((await completedRuns(stack.deps.scores)).map((r) => r.asOf)).not.toContain(asOf);

    // A shard whose history reads fail halfway, run on its own: it throws, and is not counted.
    const plan = await startScoringRun(deps(), { asOf, shards: 2 });
    const real = stack.deps.history;
    const failing: HistoryStore = Object.assign(Object.create(real) as HistoryStore, {
      shardHistories: (params: ShardReadParams): AsyncIterable<PartnerRecords[]> =>
        (async function* () {
          let pages = 0;
          for await (const page of real.shardHistories({ ...params, pageSize: 10 })) {
            if (++pages === 2) throw new StoreUnavailableError('DynamoDB');
            yield page;
          }
        })(),
    });
    await expect(runScoringShard(deps({ history: failing }), plan, 1)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect((await runOf(asOf))!.shardScored).toEqual({});
    // The shard retried (as SQS would), then the other: complete, and clean.
    expect((await runScoringShard(deps(), plan, 1)).runComplete).toBe(false);
    expect((await runScoringShard(deps(), plan, 0)).runComplete).toBe(true);
    await expectClean(plan.runId, asOf);

    // And the in-process run of the same asOf, start to end.
    const result = await runScoring(deps(), { asOf });
    expect(result.scored).toBe((await cleanScores(asOf)).size);
    await expectClean(result.runId, asOf);
  });
});
