import { randomBytes } from 'node:crypto';
import type { HistoryStore } from '../data/stores/history-store';
import type { ModelStore, ModelVersionRecord } from '../data/stores/model-store';
import type { ObjectStore } from '../data/stores/object-store';
import { readArtifacts, saveModel, type ServingInfo } from './artifact-store';
import { computePeerMedians } from './explain';
import { encodeRow, fitEncoder, toDataset } from './features/encode';
import { churnSnapshots, DEFAULT_HORIZON_DAYS, splitByTime, topPerformerSnapshots } from './labels';
import { loadAllHistories } from './load-histories';
import { auc } from './metrics';
import { currentChampion, newVersionId, promoteVersion } from './registry';
import { trainAndEvaluate } from './train/pipeline';
import { fromArtifacts, toArtifacts } from './train/serialize';
import { TrainingDataError } from './train/errors';
import type { ModelName, PartnerHistory, Snapshot } from './types';

export interface TrainingDeps {
  history: HistoryStore;
  models: ModelStore;
  objects: ObjectStore;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

export interface TrainParams {
  model: ModelName;
  /** ISO instant the training looks from: only what was known then is used. */
  asOf: string;
  horizonDays?: number;
  seed?: number;
  jobId?: string;
  onProgress?: (progress: string) => void;
  /** Histories already in memory (benchmarks); otherwise they are read from the history store. */
  histories?: PartnerHistory[];
}

export interface TrainResult {
  model: ModelName;
  version: string;
  status: ModelVersionRecord['status'];
  metrics: ModelVersionRecord['metrics'];
  baselineMetrics: ModelVersionRecord['baselineMetrics'];
  aucByTier: ModelVersionRecord['aucByTier'];
  comparedWith: ModelVersionRecord['comparedWith'];
  backend: string;
}

const byTime = (a: Snapshot, b: Snapshot): number => (a.asOf < b.asOf ? -1 : a.asOf > b.asOf ? 1 : 0);

/**
 * Training rows in the order the validation slice (the last rows) should be cut from: churn by
 * snapshot time; top-performer by each partner's first snapshot, so the slice holds whole
 * partners (the latest cohorts) rather than the late-age snapshots of partners it trains on.
 */
function trainingOrder(model: ModelName, rows: readonly Snapshot[]): Snapshot[] {
  if (model === 'churn') return [...rows].sort(byTime);
  const first = new Map<string, string>();
  for (const r of rows) if (!first.has(r.partnerId) || r.asOf < first.get(r.partnerId)!) first.set(r.partnerId, r.asOf);
  const key = (r: Snapshot): string => `${first.get(r.partnerId)}|${r.partnerId}|${r.asOf}`;
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The champion's AUC on this run's holdout rows, or undefined if it cannot read them (its features differ). */
async function championAucOnHoldout(deps: TrainingDeps, champion: ModelVersionRecord, holdout: Snapshot[]): Promise<number | undefined> {
  try {
    // Rebuilt with tfjs, as the new version was evaluated (not with serving's plain-JS pass, which
    // differs in the 7th decimal): the same model on the same holdout must compare equal.
    const { artifacts, serving } = await readArtifacts(deps.objects, champion.artifactPrefix);
    const bundle = await fromArtifacts(artifacts);
    try {
      const p = bundle.predict(holdout.map((row) => encodeRow(serving.encoder, row)));
      return auc(p, holdout.map((s) => s.label));
    } finally {
      bundle.dispose();
    }
  } catch (error) {
    deps.log('the champion cannot be evaluated on this holdout; comparing is skipped', { champion: champion.version, error: (error as Error).message });
    return undefined;
  }
}

/**
 * Trains one version of a model as of a date: snapshots → time split → encoder → TF.js model
 * and baseline → artifacts → registry. The version becomes champion by itself only when there
 * is none or it beats the champion's AUC on the same holdout. Any failure (leakage, too little
 * data) throws before the registry is touched, so the champion stays as it was.
 */
export async function trainModelVersion(deps: TrainingDeps, params: TrainParams): Promise<TrainResult> {
  const { model, asOf } = params;
  const horizonDays = model === 'churn' ? (params.horizonDays ?? DEFAULT_HORIZON_DAYS) : undefined;
  const seed = params.seed ?? 42;
  const progress = params.onProgress ?? (() => undefined);

  progress('loading histories');
  const histories = params.histories ?? (await loadAllHistories(deps.history, asOf, { onProgress: (n) => progress(`loaded ${n} partner histories`) }));
  progress('building snapshots');
  const snapshots = model === 'churn' ? churnSnapshots(histories, asOf, { horizonDays: horizonDays ?? DEFAULT_HORIZON_DAYS }) : topPerformerSnapshots(histories, asOf);
  const split = splitByTime(snapshots, { model, ...(horizonDays ? { horizonDays } : {}) });
  if (split.train.length === 0 || split.holdout.length === 0 || !split.holdoutStart) {
    throw new TrainingDataError(`Not enough history before ${asOf} to train ${model}: ${snapshots.length} snapshots (${split.train.length} to train on, ${split.holdout.length} to hold out).`);
  }
  const train = trainingOrder(model, split.train);
  const holdout = [...split.holdout].sort(byTime);
  deps.log('training set', { model, asOf, snapshots: snapshots.length, train: train.length, holdout: holdout.length, holdoutFrom: split.holdoutStart });

  const encoder = fitEncoder(train);
  const bundle = await trainAndEvaluate({
    train: toDataset(encoder, train),
    holdout: toDataset(encoder, holdout),
    seed,
    log: (line) => deps.log(line, { model }),
    onEpoch: (e) => progress(`${e.network} epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, validation AUC ${e.valAuc.toFixed(3)}`),
  });
  try {
    const evaluation = bundle.evaluation;
    if (!evaluation) throw new TrainingDataError('Training produced no holdout evaluation.');
    const createdAt = new Date();
    const version = newVersionId(createdAt, randomBytes(2).toString('hex'));
    const serving: ServingInfo = { model, version, asOf, ...(horizonDays ? { horizonDays } : {}), encoder, peerMedians: computePeerMedians(train) };

    const champion = await currentChampion(deps.models, model);
    const championAuc = champion ? await championAucOnHoldout(deps, champion, holdout) : undefined;
    const beatsChampion = !champion || championAuc === undefined || evaluation.model.auc > championAuc;

    progress('saving artifacts');
    const prefix = await saveModel(deps.objects, await toArtifacts(bundle), serving);
    const record: ModelVersionRecord = {
      model,
      version,
      createdAt: createdAt.toISOString(),
      asOf,
      status: 'challenger',
      metrics: evaluation.model,
      baselineMetrics: evaluation.baseline,
      aucByTier: evaluation.aucByTier,
      artifactPrefix: prefix,
      backend: bundle.backend,
      seed,
      ...(horizonDays ? { horizonDays } : {}),
      dataWindow: { from: train[0]!.asOf, to: asOf, holdoutFrom: split.holdoutStart },
      featureNames: bundle.featureNames,
      comparedWith: champion && championAuc !== undefined ? { version: champion.version, auc: championAuc } : null,
      ...(params.jobId ? { jobId: params.jobId } : {}),
    };
    await deps.models.put(record);
    const final = beatsChampion ? await promoteVersion(deps.models, model, version, new Date().toISOString()) : record;
    deps.log('model version registered', { model, version, status: final.status, auc: evaluation.model.auc, baselineAuc: evaluation.baseline.auc, championAuc });
    return {
      model,
      version,
      status: final.status,
      metrics: evaluation.model,
      baselineMetrics: evaluation.baseline,
      aucByTier: evaluation.aucByTier,
      comparedWith: record.comparedWith,
      backend: bundle.backend,
    };
  } finally {
    bundle.dispose();
  }
}
