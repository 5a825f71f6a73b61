/**
 * The training benchmark's real test: the saved model version, loaded as serving loads it,
 * scores the partners it is meant for as of the program's last date, and is compared with what
 * the generator knows happened next (its truth runs a year past that date).
 *
 * - churn: the partners active at `end`; label 1 when truth.churnedAt is in (end, end + horizon].
 * - top-performer: the partners active at `end` and within their first 365 days; label
 *   isTopPerformer(truth.firstYearRevenue, threshold), with the threshold the training labels
 *   used: topPerformerThreshold(histories, end), i.e. of the data as known at `end`.
 */
import type { PartnerTruth } from '../../data/generator';
import type { ObjectStore } from '../../data/stores/object-store';
import { loadModel } from '../../models/artifact-store';
import { buildFeaturesAt, DAY_MS, parseAsOf, timeMs } from '../../models/features/build-features';
import { encodeRow } from '../../models/features/encode';
import {
  DEFAULT_HORIZON_DAYS,
  FIRST_YEAR_DAYS,
  firstYearRevenue,
  isActiveAt,
  isFirstYearComplete,
  isTopPerformer,
  topPerformerPopulation,
  topPerformerThreshold,
} from '../../models/labels';
import { mulberry32 } from '../../data/generator/random';
import { auc, classificationMetrics, type ClassificationMetrics } from '../../models/metrics';
import type { ModelName, PartnerHistory } from '../../models/types';

export interface FutureEvaluation {
  model: ModelName;
  population: string;
  rows: number;
  positives: number;
  /** Calibrated probabilities of the model and of the baseline, against the outcomes. */
  metrics: { model: ClassificationMetrics; baseline: ClassificationMetrics };
  /** Paired bootstrap (partners resampled, 1,000 draws) of model AUC − baseline AUC: the mean and a 95% interval. */
  aucDifference: { observed: number; low: number; high: number; draws: number };
  /** Top-performer only: the threshold used, and the AUCs on the partners aged 30–364 days (the ages training saw start at 30). */
  threshold?: number;
  trainedAges?: { rows: number; positives: number; modelAuc: number; baselineAuc: number };
  /** Generator truth against the stored data, where the data already shows the outcome (a check of the benchmark itself). */
  truthCheck: { checked: number; mismatches: number; what: string };
}

export interface Target {
  history: PartnerHistory;
  label: 0 | 1;
}

export function churnTargets(histories: readonly PartnerHistory[], truth: Map<string, PartnerTruth>, end: number, horizonDays: number): Target[] {
  const out: Target[] = [];
  for (const h of histories) {
    if (!isActiveAt(h.partner, end)) continue;
    const churnedAt = truth.get(h.partner.partnerId)?.churnedAt;
    const churn = churnedAt ? timeMs(churnedAt) : Infinity;
    out.push({ history: h, label: churn > end && churn <= end + horizonDays * DAY_MS ? 1 : 0 });
  }
  return out;
}

export function topTargets(histories: readonly PartnerHistory[], truth: Map<string, PartnerTruth>, end: number, threshold: number): Target[] {
  const out: Target[] = [];
  for (const h of histories) {
    if (!isActiveAt(h.partner, end) || isFirstYearComplete(h.partner, end)) continue;
    const revenue = truth.get(h.partner.partnerId)?.firstYearRevenue ?? 0;
    out.push({ history: h, label: isTopPerformer(revenue, threshold) ? 1 : 0 });
  }
  return out;
}

/** Paired bootstrap of AUC(p) − AUC(q) over rows, seeded (deterministic). */
export function bootstrapAucDifference(p: readonly number[], q: readonly number[], y: readonly number[], draws = 1000, seed = 7): FutureEvaluation['aucDifference'] {
  const random = mulberry32(seed);
  const n = y.length;
  const diffs: number[] = [];
  const [ps, qs, ys] = [new Array<number>(n), new Array<number>(n), new Array<number>(n)];
  for (let k = 0; k < draws; k += 1) {
    for (let i = 0; i < n; i += 1) {
      const j = Math.floor(random() * n);
      [ps[i], qs[i], ys[i]] = [p[j] as number, q[j] as number, y[j] as number];
    }
    const d = auc(ps, ys) - auc(qs, ys);
    if (Number.isFinite(d)) diffs.push(d);
  }
  diffs.sort((a, b) => a - b);
  const at = (f: number): number => diffs[Math.min(diffs.length - 1, Math.max(0, Math.floor(f * diffs.length)))] ?? NaN;
  return { observed: auc(p, y) - auc(q, y), low: at(0.025), high: at(0.975), draws: diffs.length };
}

/** Where the data already shows the outcome, it must agree with the generator's truth. */
function checkTruth(model: ModelName, histories: readonly PartnerHistory[], truth: Map<string, PartnerTruth>, end: number): FutureEvaluation['truthCheck'] {
  let [checked, mismatches] = [0, 0];
  if (model === 'churn') {
    for (const h of histories) {
      const t = truth.get(h.partner.partnerId)?.churnedAt ?? null;
      const known = t !== null && timeMs(t) <= end ? t : undefined;
      checked += 1;
      if (known !== h.partner.churnedAt) mismatches += 1;
    }
    return { checked, mismatches, what: 'partner.churnedAt = truth.churnedAt where it is at or before end' };
  }
  for (const h of topPerformerPopulation(histories, end)) {
    checked += 1;
    if (Math.abs(firstYearRevenue(h, end) - (truth.get(h.partner.partnerId)?.firstYearRevenue ?? NaN)) > 1e-6) mismatches += 1;
  }
  return { checked, mismatches, what: 'firstYearRevenue(history, end) = truth.firstYearRevenue for complete first years' };
}

export async function evaluateFuture(
  objects: ObjectStore,
  prefix: string,
  model: ModelName,
  histories: readonly PartnerHistory[],
  truth: Map<string, PartnerTruth>,
  endIso: string,
): Promise<FutureEvaluation> {
  const end = parseAsOf(endIso);
  const loaded = await loadModel(objects, prefix);
  let targets: Target[];
  let threshold: number | undefined;
  let population: string;
  if (model === 'churn') {
    const horizon = loaded.serving.horizonDays ?? DEFAULT_HORIZON_DAYS;
    targets = churnTargets(histories, truth, end, horizon);
    population = `partners active at ${endIso.slice(0, 10)}; positive = churns in the next ${horizon} days`;
  } else {
    const t = topPerformerThreshold(histories, end);
    if (t === null) throw new Error('no top-performer threshold at end');
    threshold = t;
    targets = topTargets(histories, truth, end, t);
    population = `partners active at ${endIso.slice(0, 10)} within their first ${FIRST_YEAR_DAYS} days; positive = complete first-year revenue ≥ ${Math.round(t).toLocaleString('en-US')}`;
  }
  const x = targets.map((t) => encodeRow(loaded.serving.encoder, buildFeaturesAt(t.history, end)));
  const y = targets.map((t) => t.label);
  const p = loaded.predict(x);
  const q = loaded.predictBaseline(x);
  const out: FutureEvaluation = {
    model,
    population,
    rows: y.length,
    positives: y.reduce<number>((s, v) => s + v, 0),
    metrics: { model: classificationMetrics(p, y), baseline: classificationMetrics(q, y) },
    aucDifference: bootstrapAucDifference(p, q, y),
    truthCheck: checkTruth(model, histories, truth, end),
  };
  if (threshold !== undefined) {
    out.threshold = threshold;
    const keep = targets.map((t, i) => (end - timeMs(t.history.partner.joinedAt) >= 30 * DAY_MS ? i : -1)).filter((i) => i >= 0);
    const pick = <T>(a: readonly T[]): T[] => keep.map((i) => a[i] as T);
    const [ys, ps, qs] = [pick(y), pick(p), pick(q)];
    out.trainedAges = {
      rows: ys.length,
      positives: ys.reduce<number>((s, v) => s + v, 0),
      modelAuc: classificationMetrics(ps, ys).auc,
      baselineAuc: classificationMetrics(qs, ys).auc,
    };
  }
  return out;
}
