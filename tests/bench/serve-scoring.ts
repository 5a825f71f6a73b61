/**
 * (a) of the serving benchmark: one full scoring run (runScoring, exactly as the scoring job
 * runs it: shards, two at a time) against the raw floor of its own output, BatchWriteItem of
 * as many score items into the same scores table with the same batching (25 a request) and
 * concurrency (4 in flight) as DynamoScoreStore.putScores.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { rankKey, runPartKey, runPartOf } from '../../data/stores/dynamo-score-store';
import type { HistoryStore, ShardReadParams } from '../../data/stores/history-store';
import type { ScoreRecord, ScoreStore } from '../../data/stores/score-store';
import { chunk, mapLimit } from '../../data/util/async';
import type { ServiceDeps } from '../../functions/deps';
import { isActiveAt } from '../../models/labels';
import { DEFAULT_SHARDS, runScoring, type ScoringRunResult } from '../../models/scoring-run';
import { loadChampions, scoreHistories } from '../../models/scoring';

type Item = Record<string, unknown>;

export interface Timed {
  seconds: number;
  /** CPU seconds (user + system) of this process over the measurement; the stores run in it too. */
  cpuSeconds: number;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T } & Timed> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await fn();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { value, seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

/**
 * What the run did, and what its parts cost alone. The run's shards share one event loop with
 * the stores and overlap their reads, scoring and writes, so time measured inside the run
 * cannot be split by phase; instead, after the run, the same shards' histories are read again
 * and scored (nothing written), timing each part on its own.
 */
export interface Phases {
  shards: number;
  /** DynamoDB requests the run made, by command (counted on the SDK client). */
  requests: Record<string, number>;
  /** Reading every shard's histories alone, as the run reads them (one shard at a time). */
  read: Timed;
  /** Scoring them alone: scoreHistories with both champions (features, predict, drivers), synchronous, so wall ≈ CPU. */
  score: Timed;
  /** Partners read and scored in that pass. */
  partners: number;
}

/** Delegating scores store that keeps what was written. */
function recording(scores: ScoreStore): { scores: ScoreStore; written: ScoreRecord[] } {
  const written: ScoreRecord[] = [];
  return {
    written,
    scores: {
      putRun: (r) => scores.putRun(r),
      recordShard: (run, shard, n, now) => scores.recordShard(run, shard, n, now),
      listRuns: () => scores.listRuns(),
      putScores: (x) => {
        written.push(...x);
        return scores.putScores(x);
      },
      deleteRunScores: (id) => scores.deleteRunScores(id),
      getScores: (ids, asOf) => scores.getScores(ids, asOf),
      partnerScores: (id, limit) => scores.partnerScores(id, limit),
      rankedPage: (id, f, limit, cursor) => scores.rankedPage(id, f, limit, cursor),
    },
  };
}

/** Reads every shard's histories as the run does and scores each page, timing the two apart. */
async function partsAlone(deps: ServiceDeps, asOf: string, shards: number): Promise<Pick<Phases, 'read' | 'score' | 'partners'>> {
  const champions = await loadChampions(deps.models, deps.modelCache);
  const read: Timed = { seconds: 0, cpuSeconds: 0 };
  const score: Timed = { seconds: 0, cpuSeconds: 0 };
  const add = (into: Timed, from: Timed): void => {
    into.seconds += from.seconds;
    into.cpuSeconds += from.cpuSeconds;
  };
  let partners = 0;
  for (let segment = 0; segment < shards; segment++) {
    const pages = deps.history.shardHistories({ segment, segments: shards, until: asOf, include: (p) => isActiveAt(p, asOf) })[Symbol.asyncIterator]();
    for (;;) {
      const next = await timed(() => pages.next());
      add(read, next);
      if (next.value.done) break;
      const page = next.value.value;
      add(score, await timed(async () => scoreHistories(champions, page, asOf, deps.bands)));
      partners += page.length;
    }
  }
  return { read, score, partners };
}

/** Counts the DynamoDB requests sent through `deps.clients` while `fn` runs, by command name. */
async function countingRequests<T>(deps: ServiceDeps, counts: Record<string, number>, fn: () => Promise<T>): Promise<T> {
  const name = 'benchRequestCounter';
  const stack = deps.clients.dynamo.middlewareStack;
  stack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      counts[command] = (counts[command] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    return await fn();
  } finally {
    stack.remove(name);
  }
}

export interface ScoringFigures {
  run: ScoringRunResult & Timed & { phases: Phases };
  raw: { items: number; bytes: number } & Timed;
}

/** BatchWriteItem of `items`, 25 a request, `concurrency` requests in flight, unprocessed items retried. */
export async function rawBatchWrite(deps: ServiceDeps, items: readonly Item[], concurrency: number): Promise<void> {
  const table = deps.config.tables.scores;
  await mapLimit(chunk(items, 25), concurrency, async (batch) => {
    let pending: Item[] = batch.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= 8) throw new Error('raw BatchWriteItem: items still unprocessed after 8 attempts');
      const out = await deps.clients.ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
      pending = (out.UnprocessedItems?.[table] as Item[] | undefined) ?? [];
    }
  });
}

/**
 * The run, then the raw writes of the same items under a fresh run key (another scoreKey and
 * runId, so nothing the run wrote is overwritten, and the product never shows them: that run
 * is not in the runs list). Returns the figures and the ids of the scored partners.
 */
export async function measureScoring(deps: ServiceDeps, asOf: string, rawAsOf: string): Promise<ScoringFigures & { storedIds: string[] }> {
  const { scores, written } = recording(deps.scores);
  const requests: Record<string, number> = {};
  let shards = 0;
  const history: HistoryStore = Object.assign(Object.create(deps.history) as HistoryStore, {
    shardHistories: (params: ShardReadParams) => {
      shards = Math.max(shards, params.segments);
      return deps.history.shardHistories(params);
    },
  });
  const scoringDeps = { history, models: deps.models, scores, modelCache: deps.modelCache, bands: deps.bands, log: () => undefined };
  const run = await timed(() => countingRequests(deps, requests, () => runScoring(scoringDeps, { asOf, shards: DEFAULT_SHARDS })));
  // A shard redone (a scan-merge refused by the store) writes its partners twice: the last write is what is stored.
  const stored = [...new Map(written.map((s) => [s.partnerId, s])).values()];
  if (stored.length !== run.value.scored) throw new Error(`the run reported ${run.value.scored} scores but wrote ${stored.length}`);
  const rawRunId = `run_bench_raw_${rawAsOf.replace(/[-:.]/g, '')}`;
  // The items putScores stored (the record plus scoreKey, rankKey and runPart), under the fresh run key.
  const items = stored.map((s) => ({ ...s, asOf: rawAsOf, runId: rawRunId, scoreKey: rawAsOf, rankKey: rankKey(s.churn.probability, s.partnerId), runPart: runPartKey(rawRunId, runPartOf(s.partnerId)) }));
  const bytes = items.reduce((sum, item) => sum + Buffer.byteLength(JSON.stringify(item)), 0);
  const raw = await timed(() => rawBatchWrite(deps, items, 4));
  const parts = await partsAlone(deps, asOf, shards);
  return {
    run: { ...run.value, seconds: run.seconds, cpuSeconds: run.cpuSeconds, phases: { shards, requests, ...parts } },
    raw: { items: items.length, bytes, seconds: raw.seconds, cpuSeconds: raw.cpuSeconds },
    storedIds: stored.map((s) => s.partnerId).sort(),
  };
}

/** "Scan 142, BatchWriteItem 800, …", most first. */
export const requestSummary = (requests: Record<string, number>): string =>
  Object.entries(requests)
    .sort((a, b) => b[1] - a[1])
    .map(([command, n]) => `${command} ${new Intl.NumberFormat('en-US').format(n)}`)
    .join(', ');
