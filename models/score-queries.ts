import { NotFoundError } from '../data/errors';
import type { RunRecord, ScoreDetail, ScoreRecord, ScoreStore } from '../data/stores/score-store';

/**
 * Completed runs, newest asOf first. Cached for a moment per process: every score read needs
 * them, and a run completing is seen within RUNS_TTL_MS (immediately in the process that ran it).
 */
const RUNS_TTL_MS = 2_000;
const runCache = new WeakMap<ScoreStore, { at: number; runs: Promise<RunRecord[]> }>();

export function completedRuns(store: ScoreStore, now = Date.now()): Promise<RunRecord[]> {
  const cached = runCache.get(store);
  if (cached && now - cached.at < RUNS_TTL_MS) return cached.runs;
  const runs = store.listRuns().then((all) => all.filter((r) => r.status === 'complete'));
  runs.catch(() => runCache.delete(store));
  runCache.set(store, { at: now, runs });
  return runs;
}

export function forgetRuns(store: ScoreStore): void {
  runCache.delete(store);
}

/** The completed run a list reads: the newest, or the newest at or before asOf. */
export async function runFor(store: ScoreStore, asOf?: string): Promise<RunRecord | undefined> {
  const runs = await completedRuns(store);
  return asOf ? runs.find((r) => r.asOf <= asOf) : runs[0];
}

const brief = (d: ScoreDetail | null): Omit<ScoreDetail, 'drivers'> | null => (d ? { probability: d.probability, riskBand: d.riskBand, modelVersion: d.modelVersion } : null);

export interface PartnerScoresView {
  partnerId: string;
  asOf: string;
  runId: string;
  churn: ScoreDetail;
  topPerformer: ScoreDetail | null;
  change: number | null;
  history: { asOf: string; churn: Omit<ScoreDetail, 'drivers'> | null; topPerformer: Omit<ScoreDetail, 'drivers'> | null }[];
}

/** A partner's latest score with its history: one query on the partner's scores, plus the (cached) run list. */
export async function partnerScoresView(store: ScoreStore, partnerId: string, historyLimit = 24): Promise<PartnerScoresView> {
  const [scores, runs] = await Promise.all([store.partnerScores(partnerId, historyLimit + 8), completedRuns(store)]);
  const complete = new Set(runs.map((r) => r.runId));
  const visible: ScoreRecord[] = scores.filter((s) => complete.has(s.runId));
  const latest = visible[0];
  if (!latest) throw new NotFoundError(`No scores for partner ${partnerId}: it is unknown, was not active at any scored date, or no scoring run has completed.`);
  return {
    partnerId,
    asOf: latest.asOf,
    runId: latest.runId,
    churn: latest.churn,
    topPerformer: latest.topPerformer,
    change: latest.change,
    history: visible.slice(0, historyLimit).map((s) => ({ asOf: s.asOf, churn: brief(s.churn), topPerformer: brief(s.topPerformer) })),
  };
}
