import type { HistoryStore } from '../data/stores/history-store';
import type { ModelStore } from '../data/stores/model-store';
import type { ScoreRecord, ScoreStore } from '../data/stores/score-store';
import { mapLimit } from '../data/util/async';
import type { ModelCache } from './artifact-store';
import { loadHistory } from './load-histories';
import { isActiveAt } from './labels';
import { loadChampions, scoreHistories, type Bands } from './scoring';
import { forgetRuns } from './score-queries';

export interface ScoringDeps {
  history: HistoryStore;
  models: ModelStore;
  scores: ScoreStore;
  modelCache: ModelCache;
  bands: Bands;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

export interface ScoringRunResult {
  runId: string;
  asOf: string;
  scored: number;
  models: { churn: string; topPerformer?: string };
}

/** One run per asOf: running the same asOf again replaces that run, whatever state it was left in. */
export const runIdFor = (asOf: string): string => `run_${asOf.replace(/[-:.]/g, '')}`;

/**
 * Scores every partner active at asOf with both champions, a page of partners at a time
 * (memory stays bounded), writing each page's scores in batches. The run becomes visible
 * (in churn-risk lists and partner histories) only when its last page is stored; a run
 * that failed halfway is wiped and redone by the next run of the same asOf, so it ends as
 * a clean run would.
 */
export async function runScoring(deps: ScoringDeps, params: { asOf: string; jobId?: string; pageSize?: number; onProgress?: (p: string) => void }): Promise<ScoringRunResult> {
  const { asOf } = params;
  const runId = runIdFor(asOf);
  const champions = await loadChampions(deps.models, deps.modelCache);
  const models = { churn: champions.churn.version, ...(champions.topPerformer ? { topPerformer: champions.topPerformer.version } : {}) };
  const runs = await deps.scores.listRuns();
  const previous = runs.find((r) => r.status === 'complete' && r.asOf < asOf);
  const startedAt = new Date().toISOString();

  await deps.scores.putRun({ runId, asOf, status: 'running', startedAt, models, ...(params.jobId ? { jobId: params.jobId } : {}) });
  const wiped = await deps.scores.deleteRunScores(runId);
  if (wiped > 0) deps.log('replacing an earlier run of the same asOf', { runId, wiped });

  let scored = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.history.listPartners({ limit: params.pageSize ?? 200, ...(cursor ? { cursor } : {}) });
    const active = page.items.filter((p) => isActiveAt(p, asOf));
    if (active.length > 0) {
      const histories = await mapLimit(active, 8, (p) => loadHistory(deps.history, p, asOf));
      const scores = scoreHistories(champions, histories, asOf, deps.bands);
      const before = previous ? await deps.scores.getScores(scores.map((s) => s.partnerId), previous.asOf) : new Map<string, ScoreRecord>();
      const byId = new Map(active.map((p) => [p.partnerId, p]));
      const scoredAt = new Date().toISOString();
      await deps.scores.putScores(
        scores.map((s) => {
          const partner = byId.get(s.partnerId)!;
          const prior = before.get(s.partnerId);
          return {
            partnerId: s.partnerId,
            asOf,
            runId,
            name: partner.name,
            tier: partner.tier,
            region: partner.region,
            segment: partner.segment,
            churn: s.churn,
            topPerformer: s.topPerformer,
            change: prior ? Math.round((s.churn.probability - prior.churn.probability) * 1e6) / 1e6 : null,
            scoredAt,
          };
        }),
      );
      scored += scores.length;
      params.onProgress?.(`scored ${scored} partners`);
    }
    cursor = page.nextCursor;
  } while (cursor);

  await deps.scores.putRun({ runId, asOf, status: 'complete', startedAt, completedAt: new Date().toISOString(), scored, models, ...(params.jobId ? { jobId: params.jobId } : {}) });
  forgetRuns(deps.scores);
  deps.log('scoring run complete', { runId, asOf, scored });
  return { runId, asOf, scored, models };
}
