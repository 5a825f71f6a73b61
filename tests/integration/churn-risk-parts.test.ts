import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../data/errors';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../data/stores/aws-clients';
import { DynamoScoreStore, firstReadLimit, RUN_PARTS, rankKey, runPartKey, runPartOf } from '../../data/stores/dynamo-score-store';
import type { ChurnRiskFilter, ScoreRecord } from '../../data/stores/score-store';
import { startTestStack, type TestStack } from '../helpers/test-stack';

/*
 * The write-sharded byRun index: a run's scores live under RUN_PARTS index keys and a ranked
 * page is a k-way merge of them. Checked against an independent global sort of everything
 * written, through small pages, with filters, ties, another run landing mid-walk and wipes,
 * on the embedded DynamoDB.
 */

const N = 80;
const ids = Array.from({ length: N }, (_, i) => `P-${String(i).padStart(4, '0')}`);
// Few distinct probabilities, so most items tie and the partner id decides; 0.333333331 and
// 0.333333334 differ only past rankKey's 8 decimals, so they tie too.
const PROBABILITIES = [0, 0.1, 0.25, 0.5, 0.5, 0.73, 0.9, 1, 0.333333331, 0.333333334];
const TIERS = ['gold', 'silver', 'bronze'];

function runScores(runId: string, asOf: string, shift: number): ScoreRecord[] {
  return ids.map((partnerId, i) => {
    const probability = PROBABILITIES[(i * 7 + shift) % PROBABILITIES.length]!;
    return {
      partnerId,
      asOf,
      runId,
      name: `Partner ${i}`,
      tier: TIERS[i % 3]!,
      region: `region-${i % 5}`,
      segment: 'smb',
      churn: { probability, riskBand: probability >= 0.25 ? 'high' : probability >= 0.1 ? 'medium' : 'low', modelVersion: 'v-test', drivers: [] },
      topPerformer: null,
      change: i % 4 === 0 ? null : 0.01,
      scoredAt: asOf,
    };
  });
}

/** The order one index over the whole run gives: rankKey ascending (probability descending, then partner id). */
const globalOrder = (scores: readonly ScoreRecord[], keep: (s: ScoreRecord) => boolean = () => true): ScoreRecord[] =>
  scores.filter(keep).sort((a, b) => {
    const [ka, kb] = [rankKey(a.churn.probability, a.partnerId), rankKey(b.churn.probability, b.partnerId)];
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });

const A = { runId: 'run_20250601T235959999Z', asOf: '2025-06-01T23:59:59.999Z' };
const B = { runId: 'run_20250602T235959999Z', asOf: '2025-06-02T23:59:59.999Z' };
const C = { runId: 'run_20250603T235959999Z', asOf: '2025-06-03T23:59:59.999Z' };
const D = { runId: 'run_20250604T235959999Z', asOf: '2025-06-04T23:59:59.999Z' };

describe('churn-risk ranking over a write-sharded byRun index', () => {
  let stack: TestStack;
  let store: DynamoScoreStore;
  let runA: ScoreRecord[];
  /** Every Query sent through `counted`, with its Limit, and the most in flight at once. */
  let counting: AwsClients;
  let counted: DynamoScoreStore;
  const queries: { runPart: string; limit: number | undefined }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    stack = await startTestStack();
    store = new DynamoScoreStore(stack.clients.ddb, stack.config.tables.scores);
    runA = runScores(A.runId, A.asOf, 0);
    await store.putScores(runA);
    counting = createAwsClients({ region: 'us-east-1', dynamoEndpoint: stack.config.dynamoEndpoint! });
    counting.ddb.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'QueryCommand') return next(args);
        const input = args.input as { ExpressionAttributeValues: Record<string, string>; Limit?: number };
        queries.push({ runPart: input.ExpressionAttributeValues[':r']!, limit: input.Limit });
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: 'initialize', name: 'countQueries' },
    );
    counted = new DynamoScoreStore(counting.ddb, stack.config.tables.scores);
  });
  afterAll(async () => {
    if (counting) destroyAwsClients(counting);
    await stack?.close();
  });

  /** The items stored under one index key. */
  async function partItems(runId: string, part: number): Promise<Record<string, unknown>[]> {
    const out = await stack.clients.ddb.send(
      new QueryCommand({ TableName: stack.config.tables.scores, IndexName: 'byRun', KeyConditionExpression: 'runPart = :r', ExpressionAttributeValues: { ':r': runPartKey(runId, part) } }),
    );
    return out.Items ?? [];
  }

  /** A whole run through pages of `limit`; between pages, `between(page number)` may do something. */
  async function walk(s: DynamoScoreStore, runId: string, filter: ChurnRiskFilter, limit: number, between?: (page: number) => Promise<void>): Promise<ScoreRecord[]> {
    const seen: ScoreRecord[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await s.rankedPage(runId, filter, limit, cursor);
      expect(page.items.length).toBeLessThanOrEqual(limit);
      // Short only at the end.
      if (page.nextCursor) expect(page.items.length, `page ${pages} of ${limit}`).toBe(limit);
      seen.push(...page.items);
      cursor = page.nextCursor;
      expect(++pages).toBeLessThanOrEqual(N + 2);
      if (cursor && between) await between(pages);
    } while (cursor);
    return seen;
  }

  const idsOf = (scores: readonly ScoreRecord[]): string[] => scores.map((s) => s.partnerId);

  it('stores a run under RUN_PARTS index keys, each partner under the part of its id, every attribute kept', async () => {
    expect(RUN_PARTS).toBe(16);
    expect(new Set(ids.map(runPartOf)).size).toBe(RUN_PARTS);
    let total = 0;
    for (let part = 0; part < RUN_PARTS; part++) {
      const items = await partItems(A.runId, part);
      expect(items.length, `part ${part}`).toBeGreaterThan(0);
      for (const item of items) {
        expect(runPartOf(String(item.partnerId))).toBe(part);
        expect(item).toMatchObject({ runId: A.runId, runPart: `${A.runId}#${part}`, scoreKey: A.asOf });
      }
      // Each part is read in rankKey order.
      const keys = items.map((i) => String(i.rankKey));
      expect(keys).toEqual([...keys].sort());
      total += items.length;
    }
    expect(total).toBe(N);
  });

  it('merges the parts into the order of a global sort of every item, ties broken by partner id', async () => {
    const expected = globalOrder(runA);
    const page = await store.rankedPage(A.runId, {}, 1000);
    expect(page.nextCursor).toBeUndefined();
    // The records as written: runId kept, no index bookkeeping (runPart, rankKey, scoreKey) leaks out.
    expect(page.items).toEqual(expected);
    for (let i = 1; i < page.items.length; i++) {
      const [a, b] = [page.items[i - 1]!, page.items[i]!];
      const [pa, pb] = [Number((1 - a.churn.probability).toFixed(8)), Number((1 - b.churn.probability).toFixed(8))];
      expect(pa < pb || (pa === pb && a.partnerId < b.partnerId), `${a.partnerId} before ${b.partnerId}`).toBe(true);
    }
    // The ties are real: many items share a probability, across parts.
    const tied = runA.filter((s) => s.churn.probability === 0.5);
    expect(tied.length).toBeGreaterThan(12);
    expect(new Set(tied.map((s) => runPartOf(s.partnerId))).size).toBeGreaterThan(5);
  });

  it('pages of 1, 2 and 7 return every item exactly once, in the global order, with and without filters', async () => {
    // Small pages with a filter take several rounds of Queries each: one walk by 2, the rest by 7.
    const cases: [ChurnRiskFilter, (s: ScoreRecord) => boolean, number[]][] = [
      [{}, () => true, [1, 2, 7]],
      [{ tier: 'gold' }, (s) => s.tier === 'gold', [2, 7]],
      [{ minProbability: 0.5 }, (s) => s.churn.probability >= 0.5, [7]],
      [{ tier: 'silver', region: 'region-2', minProbability: 0.1 }, (s) => s.tier === 'silver' && s.region === 'region-2' && s.churn.probability >= 0.1, [7]],
      [{ tier: 'platinum' }, () => false, [7]],
    ];
    for (const [filter, keep, limits] of cases) {
      const expected = idsOf(globalOrder(runA, keep));
      for (const limit of limits) {
        const seen = idsOf(await walk(store, A.runId, filter, limit));
        expect(new Set(seen).size, `${JSON.stringify(filter)} by ${limit}`).toBe(seen.length);
        expect(seen, `${JSON.stringify(filter)} by ${limit}`).toEqual(expected);
      }
    }
  });

  it('keeps a pinned page sequence while another run lands, and walks both runs interleaved', async () => {
    const expected = idsOf(globalOrder(runA));
    const runB = runScores(B.runId, B.asOf, 3);
    // Run B lands (its scores, then its run record) between pages 2 and 3 of a walk of A by 2.
    const seen = await walk(store, A.runId, {}, 2, async (page) => {
      if (page !== 2) return;
      await store.putScores(runB);
      await store.putRun({ runId: B.runId, asOf: B.asOf, status: 'complete', startedAt: B.asOf, completedAt: B.asOf, scored: N, models: { churn: 'v-test' } });
    });
    expect(idsOf(seen)).toEqual(expected);

    // Both runs by 7, alternately: each cursor stays in its run.
    const walks = [A, B].map((r) => ({ runId: r.runId, cursor: undefined as string | undefined, seen: [] as ScoreRecord[], done: false }));
    while (walks.some((w) => !w.done)) {
      for (const w of walks.filter((x) => !x.done)) {
        const page = await store.rankedPage(w.runId, {}, 7, w.cursor);
        w.seen.push(...page.items);
        w.cursor = page.nextCursor;
        w.done = !page.nextCursor;
      }
    }
    expect(idsOf(walks[0]!.seen)).toEqual(expected);
    expect(walks[0]!.seen.every((s) => s.runId === A.runId)).toBe(true);
    expect(walks[1]!.seen).toEqual(globalOrder(runB));
    expect(idsOf(walks[1]!.seen)).not.toEqual(expected);
    // A cursor of one run does not read another.
    const first = await store.rankedPage(A.runId, {}, 2);
    await expect(store.rankedPage(B.runId, {}, 2, first.nextCursor)).rejects.toBeInstanceOf(ValidationError);
  });

  it('reads the parts at once, each first with its share of the page, and only the parts still open', async () => {
    queries.length = 0;
    maxInFlight = 0;
    const first = await counted.rankedPage(A.runId, {}, 5);
    expect(first.items).toEqual(globalOrder(runA).slice(0, 5));
    // No filter, parts of ~5 items: one round, one Query per part, all in flight together.
    expect(queries).toHaveLength(RUN_PARTS);
    expect(new Set(queries.map((q) => q.runPart))).toEqual(new Set(Array.from({ length: RUN_PARTS }, (_, p) => runPartKey(A.runId, p))));
    expect(firstReadLimit(5)).toBeLessThan(5);
    expect(queries.every((q) => q.limit === firstReadLimit(5))).toBe(true);
    expect(maxInFlight).toBe(RUN_PARTS);

    // Near the end of the run only the parts not exhausted are in the cursor, and only they are read.
    const all = globalOrder(runA);
    const cursor = JSON.parse(Buffer.from(first.nextCursor!, 'base64url').toString('utf8')) as { runId: string; key: { scoreKey: string; parts: Record<string, string | null> } };
    expect(cursor.runId).toBe(A.runId);
    expect(Object.keys(cursor.key.parts)).toHaveLength(RUN_PARTS);
    let next = await counted.rankedPage(A.runId, {}, 50, first.nextCursor);
    expect(next.items).toEqual(all.slice(5, 55));
    queries.length = 0;
    next = await counted.rankedPage(A.runId, {}, 50, next.nextCursor);
    expect(next.items).toEqual(all.slice(55));
    expect(next.nextCursor).toBeUndefined();
    expect(queries.length).toBeLessThan(RUN_PARTS);
    expect(queries.every((q) => q.limit! <= 50)).toBe(true);
  });

  it('a first read is a share of the page, not the page: 16 parts read ~1.5× a page of 1,000, not 16×', async () => {
    expect(firstReadLimit(1)).toBe(1);
    expect(firstReadLimit(50)).toBeLessThan(50 / 3);
    expect(firstReadLimit(1000) * RUN_PARTS).toBeLessThan(1000 * 1.6);
    for (let want = 1; want <= 1000; want++) expect(firstReadLimit(want)).toBeGreaterThanOrEqual(Math.min(want, Math.ceil(want / RUN_PARTS)));
  });

  it('reads a part again when the top of the run sits in it, and the page is still the global order', async () => {
    // 40 partners of part 0 above everyone else: a page of 50 needs ~40 of part 0, far past its first read.
    const inPartZero = Array.from({ length: 4000 }, (_, i) => `Z-${String(i).padStart(4, '0')}`).filter((id) => runPartOf(id) === 0).slice(0, 40);
    expect(inPartZero).toHaveLength(40);
    const base = runScores(D.runId, D.asOf, 3);
    const top = inPartZero.map((partnerId, i) => ({ ...base[i % base.length]!, partnerId, churn: { ...base[0]!.churn, probability: 0.99 - i / 1000 } }));
    const runD = [...base, ...top];
    await store.putScores(runD);
    queries.length = 0;
    const page = await counted.rankedPage(D.runId, {}, 50);
    expect(page.items).toEqual(globalOrder(runD).slice(0, 50));
    const partZero = queries.filter((q) => q.runPart === runPartKey(D.runId, 0));
    expect(partZero.length).toBeGreaterThan(1);
    expect(partZero[0]!.limit).toBe(firstReadLimit(50));
    // Every other part is read once, with its share.
    expect(queries.filter((q) => q.runPart !== runPartKey(D.runId, 0)).every((q) => q.limit === firstReadLimit(50))).toBe(true);
    // And walking the rest in pages of 7 neither skips nor repeats.
    const rest = await walk(store, D.runId, {}, 7);
    expect(rest).toEqual(globalOrder(runD));
    expect(await store.deleteRunScores(D.runId)).toBe(runD.length);
  });

  it('wipes every part of a run, and nothing of another', async () => {
    await store.putScores(runScores(C.runId, C.asOf, 5));
    expect((await store.rankedPage(C.runId, {}, 1000)).items).toHaveLength(N);
    expect(await store.deleteRunScores(C.runId)).toBe(N);
    for (let part = 0; part < RUN_PARTS; part++) expect(await partItems(C.runId, part), `part ${part}`).toEqual([]);
    expect(await store.rankedPage(C.runId, {}, 1000)).toEqual({ items: [] });
    expect(await store.deleteRunScores(C.runId)).toBe(0);
    expect((await store.rankedPage(A.runId, {}, 1000)).items).toEqual(globalOrder(runA));
  });

  it('takes a floor raised between pages without a store error: only what is left above it', async () => {
    const all = globalOrder(runA);
    for (const read of [10, 50]) {
      const first = await store.rankedPage(A.runId, {}, read);
      // Some parts stand before the new floor, others past it (nothing left there for this filter).
      const rest = await store.rankedPage(A.runId, { minProbability: 0.9 }, 1000, first.nextCursor);
      expect(idsOf(rest.items), `after ${read}`).toEqual(idsOf(all.slice(read).filter((s) => s.churn.probability >= 0.9)));
    }
    expect(all.slice(10).filter((s) => s.churn.probability >= 0.9).length).toBeGreaterThan(3);
    expect(all.slice(50).filter((s) => s.churn.probability >= 0.9)).toEqual([]);
  });

  it('refuses a cursor it did not issue (a 400), and takes a genuine one re-encoded', async () => {
    const genuine = await store.rankedPage(A.runId, {}, 3);
    const real = JSON.parse(Buffer.from(genuine.nextCursor!, 'base64url').toString('utf8')) as { runId: string; key: { scoreKey: string; parts: Record<string, string | null> } };
    const forge = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const [partOfFirst, at] = Object.entries(real.key.parts).find(([, v]) => v !== null)!;
    const otherPart = String((Number(partOfFirst) + 1) % RUN_PARTS);
    const forged: unknown[] = [
      { runId: A.runId, key: { partnerId: 'P-0001', rankKey: at, runId: A.runId, scoreKey: A.asOf } },
      { runId: A.runId, key: { ...real.key, extra: 'x' } },
      { ...real, extra: 1 },
      { runId: A.runId, key: { ...real.key, parts: {} } },
      { runId: A.runId, key: { ...real.key, parts: { 16: null } } },
      { runId: A.runId, key: { ...real.key, parts: { '01': null } } },
      { runId: A.runId, key: { ...real.key, parts: { [otherPart]: at } } },
      { runId: A.runId, key: { ...real.key, parts: { [partOfFirst]: 'x'.repeat(20) } } },
      { runId: A.runId, key: { ...real.key, parts: { [partOfFirst]: 5 } } },
      { runId: A.runId, key: { parts: real.key.parts } },
      { runId: A.runId, key: { ...real.key, scoreKey: ' ' } },
      { runId: A.runId, key: { ...real.key, scoreKey: '' } },
      { runId: A.runId, key: { ...real.key, scoreKey: 'x'.repeat(1100) } },
      { runId: A.runId, key: null },
      [],
    ];
    for (const value of forged) await expect(store.rankedPage(A.runId, {}, 3, forge(value)), JSON.stringify(value)).rejects.toBeInstanceOf(ValidationError);
    await expect(store.rankedPage(A.runId, {}, 3, 'not-a-cursor')).rejects.toBeInstanceOf(ValidationError);
    expect((await store.rankedPage(A.runId, {}, 3, forge(real))).items).toEqual(globalOrder(runA).slice(3, 6));
  });
});
