/**
 * Platt scaling: calibrated p = σ(a·logit(raw) + b), fitted on held-out rows.
 *
 * Why Platt and not isotonic regression: the model is trained with class weights, which
 * shifts its logits by a near-constant amount that the intercept b undoes exactly; two
 * parameters stay stable on a validation slice with few positives (top-performer has tens),
 * where isotonic steps overfit; and a monotone, strictly increasing map keeps the ranking, so
 * calibration never changes AUC or PR-AUC and adds no ties.
 *
 * Fitted by Newton's method on the log loss (exact 2×2 Hessian, backtracking line search),
 * with Platt's smoothed targets (N₊+1)/(N₊+2) and 1/(N₋+2) so that a perfectly separated
 * slice does not send the parameters to infinity (Platt 1999; Lin, Lin & Weng 2007).
 */

export interface PlattCalibration {
  method: 'platt';
  a: number;
  b: number;
}

export const IDENTITY_CALIBRATION: PlattCalibration = { method: 'platt', a: 1, b: 0 };

/** Probabilities are clipped to [EPS, 1 − EPS] before taking the logit (float32 saturates). */
const EPS = 1e-7;

export function logit(p: number): number {
  const q = p < EPS ? EPS : p > 1 - EPS ? 1 - EPS : p;
  return Math.log(q / (1 - q));
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + eᶻ) without overflow. */
function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

function loss(s: readonly number[], t: readonly number[], a: number, b: number): number {
  let sum = 0;
  for (let i = 0; i < s.length; i += 1) {
    const z = a * (s[i] as number) + b;
    sum += softplus(z) - (t[i] as number) * z;
  }
  return sum;
}

export interface FitPlattOptions {
  /** Newton iterations at most; default 200 (it converges in about ten). */
  maxIterations?: number;
  /** Holds the slope at this value and fits only the intercept. */
  fixedSlope?: number;
}

/** Fits a and b on raw (uncalibrated) probabilities `p` and their labels `y`. */
export function fitPlatt(p: readonly number[], y: readonly number[], options: FitPlattOptions = {}): PlattCalibration {
  if (p.length !== y.length) throw new RangeError('calibration needs as many labels as predictions');
  const s = p.map(logit);
  let positives = 0;
  for (const label of y) if (label === 1) positives += 1;
  const negatives = y.length - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('calibration needs both classes among the held-out rows');
  const tPos = (positives + 1) / (positives + 2);
  const tNeg = 1 / (negatives + 2);
  const t = y.map((label) => (label === 1 ? tPos : tNeg));
  const fixed = options.fixedSlope;
  let a = fixed ?? 1;
  let b = Math.log((positives + 1) / (negatives + 1));
  let f = loss(s, t, a, b);
  const ridge = 1e-9 * s.length;
  for (let iter = 0; iter < (options.maxIterations ?? 200); iter += 1) {
    let ga = 0;
    let gb = 0;
    let haa = ridge;
    let hab = 0;
    let hbb = ridge;
    for (let i = 0; i < s.length; i += 1) {
      const si = s[i] as number;
      const pi = sigmoid(a * si + b);
      const r = pi - (t[i] as number);
      const w = Math.max(pi * (1 - pi), 1e-12);
      ga += r * si;
      gb += r;
      haa += w * si * si;
      hab += w * si;
      hbb += w;
    }
    let da: number;
    let db: number;
    if (fixed !== undefined) {
      da = 0;
      db = -gb / hbb;
    } else {
      const det = haa * hbb - hab * hab;
      da = -(hbb * ga - hab * gb) / det;
      db = -(haa * gb - hab * ga) / det;
    }
    if (!Number.isFinite(da) || !Number.isFinite(db)) break;
    // Backtracking: halve the Newton step until the loss does not go up.
    let step = 1;
    let next = f;
    while (step > 1e-10) {
      next = loss(s, t, a + step * da, b + step * db);
      if (next <= f + 1e-12 * Math.abs(f)) break;
      step /= 2;
    }
    if (step <= 1e-10) break;
    a += step * da;
    b += step * db;
    const improvement = f - next;
    f = next;
    if (Math.abs(step * da) < 1e-10 && Math.abs(step * db) < 1e-10) break;
    if (improvement >= 0 && improvement < 1e-14 * Math.max(1, Math.abs(f))) break;
  }
  // A negative slope would reverse the model's ranking: keep the ranking, flatten the scale.
  if (fixed === undefined && !(a > 0)) return fitPlatt(p, y, { ...options, fixedSlope: 1e-6 });
  return { method: 'platt', a, b };
}

/** Applies the calibration to one raw probability. */
export function calibrate(cal: PlattCalibration, p: number): number {
  return sigmoid(cal.a * logit(p) + cal.b);
}

export function isPlattCalibration(value: unknown): value is PlattCalibration {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.method === 'platt' && typeof v.a === 'number' && Number.isFinite(v.a) && typeof v.b === 'number' && Number.isFinite(v.b);
}
