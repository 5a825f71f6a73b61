import { NotFoundError, ValidationError } from '../data/errors';
import { ShardOrderError, type HistoryStore, type PartnerRecords, type ShardReads } from '../data/stores/history-store';
import type { ModelStore } from '../data/stores/model-store';
import type { RunRecord, ScoreRecord, ScoreStore } from '../data/stores/score-store';
import type { ModelCache } from './artifact-store';
import { isActiveAt } from './labels';
import { forgetRuns } from './score-queries';
import { loadChampions, scoreHistories, type Bands, type Champions } from './scoring';
import type { ModelName } from './types';

export interface ScoringDeps {
  history: HistoryStore;
  models: ModelStore;
  scores: ScoreStore;
  modelCache: ModelCache;
  bands: Bands;
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** Something an operator should see (a fallback taken, a stale shard skipped); `log` when absent. */
  warn?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface ScoringRunResult {
  runId: string;
  asOf: string;
  scored: number;
  models: { churn: string; topPerformer?: string };
}

/** One attempt of a run, as its shards need it: the same plan goes to every shard (an SQS message each on AWS). */
export interface ScoringRunPlan {
  runId: string;
  asOf: string;
  shards: number;
  models: { churn: string; topPerformer?: string };
  /** The previous complete run's asOf, for `change`. */
  previousAsOf?: string;
  jobId?: string;
  /** Identifies the attempt: shards of an earlier attempt of the same asOf neither write nor count. */
  startedAt: string;
}

/** Shards of an in-process run and how many run at once: they share the process's CPU with the store. */
export const DEFAULT_SHARDS = 4;
const SHARD_CONCURRENCY = 2;
export const MAX_SHARDS = 1000;
const DEFAULT_PAGE_SIZE = 200;

/** One run per asOf: running the same asOf again replaces that run, whatever state it was left in. */
export const runIdFor = (asOf: string): string => `run_${asOf.replace(/[-:.]/g, '')}`;

/**
 * Starts (or restarts) the run of asOf: loads champions, records the run 'running' with
 * `shards` shards, wipes scores of any earlier attempt of this runId. The run stays invisible
 * (in churn-risk lists and partner histories) until its last shard is recorded.
 */
export async function startScoringRun(deps: ScoringDeps, params: { asOf: string; jobId?: string; shards?: number }): Promise<ScoringRunPlan> {
  const { asOf } = params;
  const shards = params.shards ?? DEFAULT_SHARDS;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new ValidationError(`shards must be an integer from 1 to ${MAX_SHARDS}.`, [{ path: 'shards', message: `must be an integer from 1 to ${MAX_SHARDS}` }]);
  }
  const runId = runIdFor(asOf);
  const champions = await loadChampions(deps.models, deps.modelCache);
  const models = { churn: champions.churn.version, ...(champions.topPerformer ? { topPerformer: champions.topPerformer.version } : {}) };
  const runs = await deps.scores.listRuns();
  const previous = runs.find((r) => r.status === 'complete' && r.asOf < asOf);
  const startedAt = new Date().toISOString();
  const jobId = params.jobId ? { jobId: params.jobId } : {};

  await deps.scores.putRun({ runId, asOf, status: 'running', startedAt, models, shards, shardScored: {}, ...jobId });
  const wiped = await deps.scores.deleteRunScores(runId);
  if (wiped > 0) deps.log('replacing an earlier run of the same asOf', { runId, wiped });
  return { runId, asOf, shards, models, ...(previous ? { previousAsOf: previous.asOf } : {}), ...jobId, startedAt };
}

/**
 * Scores shard `shard` (0-based) of the plan: the partners of parallel-scan segment `shard`
 * of `plan.shards`, a page at a time. Idempotent: running it again rewrites the same items and
 * counts once. Records the shard done; exactly one caller, the one completing the last shard,
 * gets runComplete: true, and the run is then complete (with its total scored count).
 */
export async function runScoringShard(deps: ScoringDeps, plan: ScoringRunPlan, shard: number): Promise<{ scored: number; runComplete: boolean }> {
  const { scored, runComplete } = await scoreShard(deps, plan, shard, { failed: false }, {});
  return { scored, runComplete };
}

/**
 * In-process: start + every shard, SHARD_CONCURRENCY at a time (the local job runner). The
 * first failure stops the other shards at their next page and is thrown once nothing is left
 * in flight; the run then stays invisible until the same asOf is run again.
 */
export async function runScoring(
  deps: ScoringDeps,
  params: { asOf: string; jobId?: string; shards?: number; pageSize?: number; onProgress?: (p: string) => void },
): Promise<ScoringRunResult> {
  const plan = await startScoringRun(deps, { asOf: params.asOf, ...(params.jobId ? { jobId: params.jobId } : {}), ...(params.shards !== undefined ? { shards: params.shards } : {}) });
  const context: RunContext = { failed: false };
  let total = 0;
  const onScored = (n: number): void => {
    total += n;
    params.onProgress?.(`scored ${total} partners`);
  };
  let next = 0;
  let failure: { error: unknown } | undefined;
  let completed: RunRecord | undefined;
  const worker = async (): Promise<void> => {
    while (!context.failed && next < plan.shards) {
      const shard = next++;
      try {
        const result = await scoreShard(deps, plan, shard, context, { onScored, ...(params.pageSize ? { pageSize: params.pageSize } : {}) });
        if (result.runComplete) completed = result.run;
      } catch (error) {
        context.failed = true;
        if (!(error instanceof ShardStopped)) failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SHARD_CONCURRENCY, plan.shards) }, worker));
  if (failure) throw failure.error;
  if (!completed) {
    // Only another caller recording the same attempt's last shard at the same moment could have won the completion.
    const run = (await deps.scores.listRuns()).find((r) => r.asOf === plan.asOf);
    if (run?.status !== 'complete' || run.startedAt !== plan.startedAt) throw new Error(`scoring run ${plan.runId} did not complete: another run of the same asOf restarted it`);
    completed = run;
  }
  return { runId: plan.runId, asOf: plan.asOf, scored: completed.scored ?? total, models: plan.models };
}

/** Shared by the shards of one in-process run: set when any of them fails. */
interface RunContext {
  failed: boolean;
}

/** A shard gave up because another shard of the same in-process run failed (that failure is the run's error). */
class ShardStopped extends Error {
  constructor() {
    super('stopped: another shard of this run failed');
    this.name = 'ShardStopped';
  }
}

/** Stores whose scan order refused a scan-merge once: their later shards read by query straight away (and warn once). */
const mergeRefused = new WeakSet<HistoryStore>();

interface ShardOptions {
  pageSize?: number;
  onScored?: (n: number) => void;
}

async function scoreShard(deps: ScoringDeps, plan: ScoringRunPlan, shard: number, context: RunContext, options: ShardOptions): Promise<{ scored: number; runComplete: boolean; run?: RunRecord }> {
  if (!Number.isInteger(shard) || shard < 0 || shard >= plan.shards) {
    throw new ValidationError(`shard must be an integer from 0 to ${plan.shards - 1}.`, [{ path: 'shard', message: `must be an integer from 0 to ${plan.shards - 1}` }]);
  }
  const warn = deps.warn ?? deps.log;
  const fields = { runId: plan.runId, asOf: plan.asOf, shard, shards: plan.shards };
  // A late or redelivered shard of an attempt that was restarted since must not write into the new one.
  const current = (await deps.scores.listRuns()).find((r) => r.asOf === plan.asOf);
  if (current?.startedAt !== plan.startedAt) {
    warn('scoring shard skipped: its run was restarted or removed', { ...fields, startedAt: plan.startedAt, current: current?.startedAt ?? null });
    return { scored: 0, runComplete: false };
  }
  const champions = await championsOf(deps, plan.models);
  const pass = (reads?: ShardReads): Promise<number> => scorePass(deps, plan, shard, champions, context, options, reads);

  let scored: number;
  if (mergeRefused.has(deps.history)) {
    scored = await pass('query');
  } else {
    try {
      scored = await pass();
    } catch (error) {
      if (!(error instanceof ShardOrderError)) throw error;
      // Whatever the merge wrote is rewritten by this pass (same keys): the shard ends as a clean one.
      if (!mergeRefused.has(deps.history)) {
        mergeRefused.add(deps.history);
        warn('scan-merge history reads refused (the store does not scan in the order the merge needs): reading histories by query from now on', { ...fields, reason: error.message });
      }
      scored = await pass('query');
    }
  }

  const recorded = await deps.scores.recordShard({ asOf: plan.asOf, startedAt: plan.startedAt }, shard, scored, new Date().toISOString());
  if (recorded.outcome === 'superseded') {
    warn('scoring shard not counted: its run was restarted while it ran', fields);
    return { scored, runComplete: false };
  }
  if (recorded.outcome === 'recorded') {
    deps.log('scoring shard done', { ...fields, scored });
    return { scored, runComplete: false, ...(recorded.run ? { run: recorded.run } : {}) };
  }
  forgetRuns(deps.scores);
  deps.log('scoring run complete', { runId: plan.runId, asOf: plan.asOf, scored: recorded.run?.scored, shards: plan.shards });
  return { scored, runComplete: true, ...(recorded.run ? { run: recorded.run } : {}) };
}

/** The plan's model versions (not whatever is champion now: a run scores every shard with the same models). */
async function championsOf(deps: ScoringDeps, models: ScoringRunPlan['models']): Promise<Champions> {
  const load = async (model: ModelName, version: string): Promise<Champions['churn']> => {
    const record = await deps.models.get(model, version);
    if (!record) throw new NotFoundError(`Model ${model} version ${version}, which this scoring run started with, is no longer in the registry: start the run again.`);
    return { version, model: await deps.modelCache.get(record.artifactPrefix) };
  };
  const [churn, topPerformer] = await Promise.all([load('churn', models.churn), models.topPerformer ? load('top-performer', models.topPerformer) : undefined]);
  return { churn, ...(topPerformer ? { topPerformer } : {}) };
}

/**
 * One pass over the shard: each page of histories scored, then written while the next page is
 * read and scored (one page's writes in flight at most). Returns how many partners it scored.
 */
async function scorePass(
  deps: ScoringDeps,
  plan: ScoringRunPlan,
  shard: number,
  champions: Champions,
  context: RunContext,
  options: ShardOptions,
  reads?: ShardReads,
): Promise<number> {
  let scored = 0;
  let writing: Promise<void> | undefined;
  // This shard's own failed write is its error; another shard's failure only stops it.
  const stopIfFailed = async (): Promise<void> => {
    if (!context.failed) return;
    if (writing) await writing;
    throw new ShardStopped();
  };
  const pages = deps.history.shardHistories({
    segment: shard,
    segments: plan.shards,
    until: plan.asOf,
    pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
    include: (partner) => isActiveAt(partner, plan.asOf),
    ...(reads ? { reads } : {}),
  });
  try {
    for await (const page of pages) {
      await stopIfFailed();
      const records = await scorePage(deps, plan, champions, page);
      if (writing) await writing;
      await stopIfFailed();
      if (records.length === 0) continue;
      const write = deps.scores.putScores(records);
      // Noted at once (not when awaited, a page later), so no shard starts another write after a failed one.
      write.catch(() => {
        context.failed = true;
      });
      writing = write;
      scored += records.length;
      options.onScored?.(records.length);
    }
    if (writing) await writing;
  } catch (error) {
    // Nothing left running behind the error: what is stored is final when the caller sees it.
    if (writing) await writing.catch(() => undefined);
    if (scored > 0) options.onScored?.(-scored);
    throw error;
  }
  return scored;
}

async function scorePage(deps: ScoringDeps, plan: ScoringRunPlan, champions: Champions, page: readonly PartnerRecords[]): Promise<ScoreRecord[]> {
  const scores = scoreHistories(champions, page, plan.asOf, deps.bands);
  if (scores.length === 0) return [];
  const before = plan.previousAsOf ? await deps.scores.getScores(scores.map((s) => s.partnerId), plan.previousAsOf) : new Map<string, ScoreRecord>();
  const byId = new Map(page.map((h) => [h.partner.partnerId, h.partner]));
  const scoredAt = new Date().toISOString();
  return scores.map((s) => {
    const partner = byId.get(s.partnerId)!;
    const prior = before.get(s.partnerId);
    return {
      partnerId: s.partnerId,
      asOf: plan.asOf,
      runId: plan.runId,
      name: partner.name,
      tier: partner.tier,
      region: partner.region,
      segment: partner.segment,
      churn: s.churn,
      topPerformer: s.topPerformer,
      change: prior ? Math.round((s.churn.probability - prior.churn.probability) * 1e6) / 1e6 : null,
      scoredAt,
    };
  });
}
