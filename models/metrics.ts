/**
 * Binary-classification metrics for model evaluation, in plain TypeScript (no tensors), so
 * that the numbers are exact, deterministic and cheap to test by hand.
 *
 * Conventions: `p` are predicted probabilities (or any scores, for the rank metrics), `y` are
 * labels 0/1 (anything other than 1 counts as 0). The rank metrics (AUC, PR-AUC) return NaN
 * when the labels hold a single class: they are undefined there, and NaN is never mistaken
 * for a real value (JSON turns it into null).
 */

export interface ClassificationMetrics {
  /** Area under the ROC curve (rank-based, ties averaged). */
  auc: number;
  /** Average precision: the area under the precision-recall curve as a step function. */
  prAuc: number;
  /** Mean squared error of the probabilities. */
  brier: number;
  /** Expected calibration error over 10 equal-width bins. */
  ece: number;
  rows: number;
  positives: number;
}

export interface RocPoint {
  /** The score at and above which a row is called positive; null for (0, 0), where none is. */
  threshold: number | null;
  fpr: number;
  tpr: number;
}

export interface ReliabilityBin {
  /** [lower, upper) of the predicted probability; the last bin includes 1. */
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability of the rows in the bin (null when empty). */
  meanPredicted: number | null;
  /** Share of positives among the rows in the bin (null when empty). */
  observedRate: number | null;
}

function checkLengths(p: ArrayLike<number>, y: ArrayLike<number>): void {
  if (p.length !== y.length) throw new RangeError(`predictions (${p.length}) and labels (${y.length}) differ in length`);
}

const isPositive = (label: number | undefined): boolean => label === 1;

/** Row indices sorted by score, highest first; ties keep their input order (a stable sort). */
function orderByScoreDesc(p: ArrayLike<number>): number[] {
  const order = Array.from({ length: p.length }, (_, i) => i);
  order.sort((a, b) => (p[b] as number) - (p[a] as number) || a - b);
  return order;
}

/**
 * AUC as the Mann–Whitney statistic: the probability that a random positive scores above a
 * random negative, a tie counting one half (tied scores get their average rank).
 */
export function auc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  checkLengths(p, y);
  const n = p.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (p[a] as number) - (p[b] as number));
  let positives = 0;
  let rankSumPositives = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && p[order[j + 1] as number] === p[order[i] as number]) j += 1;
    const averageRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let k = i; k <= j; k += 1) {
      if (isPositive(y[order[k] as number])) {
        positives += 1;
        rankSumPositives += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Average precision: Σ (Rₖ − Rₖ₋₁)·Pₖ over the distinct score thresholds, highest first
 * (rows with tied scores enter together, as scikit-learn's average_precision_score does).
 */
export function prAuc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  checkLengths(p, y);
  const order = orderByScoreDesc(p);
  let totalPositives = 0;
  for (let i = 0; i < y.length; i += 1) if (isPositive(y[i])) totalPositives += 1;
  if (totalPositives === 0 || totalPositives === y.length) return NaN;
  let tp = 0;
  let seen = 0;
  let previousRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < order.length) {
    const score = p[order[i] as number];
    while (i < order.length && p[order[i] as number] === score) {
      if (isPositive(y[order[i] as number])) tp += 1;
      seen += 1;
      i += 1;
    }
    const recall = tp / totalPositives;
    ap += (recall - previousRecall) * (tp / seen);
    previousRecall = recall;
  }
  return ap;
}

/** Mean squared difference between probability and outcome. */
export function brier(p: ArrayLike<number>, y: ArrayLike<number>): number {
  checkLengths(p, y);
  if (p.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < p.length; i += 1) {
    const d = (p[i] as number) - (isPositive(y[i]) ? 1 : 0);
    sum += d * d;
  }
  return sum / p.length;
}

/**
 * Reliability diagram over `bins` equal-width bins of the predicted probability: bin k holds
 * p in [k/bins, (k+1)/bins), the last one also p = 1 (values outside [0, 1] are clamped).
 */
export function reliabilityCurve(p: ArrayLike<number>, y: ArrayLike<number>, bins = 10): ReliabilityBin[] {
  checkLengths(p, y);
  const count = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  for (let i = 0; i < p.length; i += 1) {
    const prob = p[i] as number;
    const k = Math.min(bins - 1, Math.max(0, Math.floor(prob * bins)));
    count[k] = (count[k] as number) + 1;
    sumP[k] = (sumP[k] as number) + prob;
    sumY[k] = (sumY[k] as number) + (isPositive(y[i]) ? 1 : 0);
  }
  return count.map((c, k) => ({
    lower: k / bins,
    upper: (k + 1) / bins,
    count: c,
    meanPredicted: c > 0 ? (sumP[k] as number) / c : null,
    observedRate: c > 0 ? (sumY[k] as number) / c : null,
  }));
}

/** Expected calibration error: Σ over bins of (rows in bin / rows) · |mean predicted − observed rate|. */
export function ece(p: ArrayLike<number>, y: ArrayLike<number>, bins = 10): number {
  if (p.length === 0) return NaN;
  let sum = 0;
  for (const bin of reliabilityCurve(p, y, bins)) {
    if (bin.count > 0) sum += bin.count * Math.abs((bin.meanPredicted as number) - (bin.observedRate as number));
  }
  return sum / p.length;
}

/**
 * ROC curve points from (0, 0) to (1, 1), one per distinct score (highest first), thinned to
 * at most `maxPoints` for display (evenly along the curve); the first and last points are
 * always kept.
 */
export function rocCurve(p: ArrayLike<number>, y: ArrayLike<number>, maxPoints = 101): RocPoint[] {
  checkLengths(p, y);
  const order = orderByScoreDesc(p);
  let positives = 0;
  for (let i = 0; i < y.length; i += 1) if (isPositive(y[i])) positives += 1;
  const negatives = y.length - positives;
  if (positives === 0 || negatives === 0) return [];
  const all: RocPoint[] = [{ threshold: null, fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < order.length) {
    const score = p[order[i] as number] as number;
    while (i < order.length && p[order[i] as number] === score) {
      if (isPositive(y[order[i] as number])) tp += 1;
      else fp += 1;
      i += 1;
    }
    all.push({ threshold: score, fpr: fp / negatives, tpr: tp / positives });
  }
  if (all.length <= maxPoints) return all;
  // The path from (0, 0) to (1, 1) has length 2 in |ΔFPR| + |ΔTPR|; keeping a point only
  // after 2/(maxPoints − 2) of it leaves at most maxPoints − 2 points between the ends.
  const step = 2 / Math.max(1, maxPoints - 2);
  const kept: RocPoint[] = [all[0] as RocPoint];
  for (let k = 1; k < all.length - 1; k += 1) {
    const point = all[k] as RocPoint;
    const last = kept[kept.length - 1] as RocPoint;
    if (point.fpr - last.fpr + (point.tpr - last.tpr) >= step && kept.length < maxPoints - 1) kept.push(point);
  }
  kept.push(all[all.length - 1] as RocPoint);
  return kept;
}

/** The holdout metrics reported for every model and its baseline. */
export function classificationMetrics(p: ArrayLike<number>, y: ArrayLike<number>): ClassificationMetrics {
  checkLengths(p, y);
  let positives = 0;
  for (let i = 0; i < y.length; i += 1) if (isPositive(y[i])) positives += 1;
  return { auc: auc(p, y), prAuc: prAuc(p, y), brier: brier(p, y), ece: ece(p, y), rows: p.length, positives };
}

/** AUC within each group (e.g. tier); a group whose rows hold a single class gets null. */
export function aucByGroup(p: ArrayLike<number>, y: ArrayLike<number>, groups: ArrayLike<string>): Record<string, number | null> {
  checkLengths(p, y);
  if (groups.length !== p.length) throw new RangeError(`groups (${groups.length}) and predictions (${p.length}) differ in length`);
  const rowsByGroup = new Map<string, number[]>();
  for (let i = 0; i < groups.length; i += 1) {
    const g = groups[i] as string;
    const rows = rowsByGroup.get(g);
    if (rows) rows.push(i);
    else rowsByGroup.set(g, [i]);
  }
  const out: Record<string, number | null> = {};
  for (const g of [...rowsByGroup.keys()].sort()) {
    const rows = rowsByGroup.get(g) as number[];
    const value = auc(
      rows.map((i) => p[i] as number),
      rows.map((i) => y[i] as number),
    );
    out[g] = Number.isNaN(value) ? null : value;
  }
  return out;
}
