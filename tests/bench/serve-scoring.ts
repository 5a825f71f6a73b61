/**
 * (a) of the serving benchmark: one full scoring run (runScoring, exactly as the scoring job
 * runs it) against the raw floor of its own output, BatchWriteItem of as many score items
 * into the same scores table with the same batching (25 a request) and concurrency (4 in
 * flight) as DynamoScoreStore.putScores.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { rankKey } from '../../data/stores/dynamo-score-store';
import type { HistoryStore } from '../../data/stores/history-store';
import type { ScoreRecord, ScoreStore } from '../../data/stores/score-store';
import { chunk, mapLimit } from '../../data/util/async';
import type { ServiceDeps } from '../../functions/deps';
import { runScoring, type ScoringRunResult } from '../../models/scoring-run';

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

/** Where the run's wall time went, in seconds (pages run their steps one after another, so the phases add up). */
export interface Phases {
  /** Scan pages of partners. */
  list: number;
  /** From a page's first history Query to its last: loadHistory of every active partner, 8 at a time. */
  histories: number;
  /** From the last history read to the write: features, both models' predict + drivers (scoreHistories). */
  score: number;
  /** putScores: BatchWriteItem, 25 a request, 4 in flight. */
  write: number;
  historyQueries: number;
}

/**
 * Delegating stores that only note the time: runScoring's steps within a page are sequential
 * (list → histories → score → write), so each step is the time between these calls.
 */
function clocked(history: HistoryStore, scores: ScoreStore): { history: HistoryStore; scores: ScoreStore; phases: Phases; written: ScoreRecord[] } {
  const phases: Phases = { list: 0, histories: 0, score: 0, write: 0, historyQueries: 0 };
  const written: ScoreRecord[] = [];
  let first: number | undefined;
  let last = 0;
  const query = async <T>(fn: () => Promise<T>): Promise<T> => {
    first ??= performance.now();
    phases.historyQueries++;
    try {
      return await fn();
    } finally {
      last = performance.now();
    }
  };
  const span = async <T>(key: 'list' | 'write', fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    if (key === 'write' && first !== undefined) {
      phases.histories += (last - first) / 1000;
      phases.score += (started - last) / 1000;
      first = undefined;
    }
    try {
      return await fn();
    } finally {
      phases[key] += (performance.now() - started) / 1000;
    }
  };
  return {
    phases,
    written,
    history: {
      listPartners: (o) => span('list', () => history.listPartners(o)),
      listDeals: (o) => history.listDeals(o),
      getPartners: (ids) => history.getPartners(ids),
      partnersInCohort: (t, r, s) => history.partnersInCohort(t, r, s),
      partnerEvents: (id, until) => query(() => history.partnerEvents(id, until)),
      partnerDeals: (id, until) => query(() => history.partnerDeals(id, until)),
    },
    scores: {
      putRun: (r) => scores.putRun(r),
      listRuns: () => scores.listRuns(),
      putScores: (x) => {
        written.push(...x);
        return span('write', () => scores.putScores(x));
      },
      deleteRunScores: (id) => scores.deleteRunScores(id),
      getScores: (ids, asOf) => scores.getScores(ids, asOf),
      partnerScores: (id, limit) => scores.partnerScores(id, limit),
      rankedPage: (id, f, limit, cursor) => scores.rankedPage(id, f, limit, cursor),
    },
  };
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
  const { history, scores, phases, written } = clocked(deps.history, deps.scores);
  const run = await timed(() => runScoring({ history, models: deps.models, scores, modelCache: deps.modelCache, bands: deps.bands, log: () => undefined }, { asOf }));
  if (written.length !== run.value.scored) throw new Error(`the run reported ${run.value.scored} scores but wrote ${written.length}`);
  const rawRunId = `run_bench_raw_${rawAsOf.replace(/[-:.]/g, '')}`;
  // The items putScores stored (the record plus scoreKey and rankKey), under the fresh run key.
  const items = written.map((s) => ({ ...s, asOf: rawAsOf, runId: rawRunId, scoreKey: rawAsOf, rankKey: rankKey(s.churn.probability, s.partnerId) }));
  const bytes = items.reduce((sum, item) => sum + Buffer.byteLength(JSON.stringify(item)), 0);
  const raw = await timed(() => rawBatchWrite(deps, items, 4));
  return {
    run: { ...run.value, seconds: run.seconds, cpuSeconds: run.cpuSeconds, phases },
    raw: { items: items.length, bytes, seconds: raw.seconds, cpuSeconds: raw.cpuSeconds },
    storedIds: written.map((s) => s.partnerId).sort(),
  };
}
