/**
 * Z-score normalization, fitted on training rows only and saved with the model.
 *
 * Zero-variance features (std 0, e.g. a count that is always 0 in training) get a scale of 1,
 * so they normalise to 0 instead of dividing by zero. Normalised values are clipped to
 * ±`clip` so that one extreme value (a huge deal amount) cannot swamp a small network. A
 * value that is not a finite number at prediction time becomes 0, the training mean.
 */

export interface Normalization {
  featureNames: string[];
  mean: number[];
  /** Population standard deviation; 1 where the feature did not vary. */
  std: number[];
  /** Normalised values are clipped to [−clip, clip]. */
  clip: number;
}

export const DEFAULT_CLIP = 10;

/** Fits mean and standard deviation per column (two passes, in float64). */
export function fitNormalization(x: readonly (readonly number[])[], featureNames: readonly string[], clip = DEFAULT_CLIP): Normalization {
  const d = featureNames.length;
  const n = x.length;
  if (n === 0) throw new RangeError('cannot fit a normalization on zero rows');
  const mean = new Array<number>(d).fill(0);
  for (const row of x) for (let j = 0; j < d; j += 1) mean[j] = (mean[j] as number) + (row[j] as number);
  for (let j = 0; j < d; j += 1) mean[j] = (mean[j] as number) / n;
  const sq = new Array<number>(d).fill(0);
  for (const row of x) {
    for (let j = 0; j < d; j += 1) {
      const dev = (row[j] as number) - (mean[j] as number);
      sq[j] = (sq[j] as number) + dev * dev;
    }
  }
  const std = sq.map((s, j) => {
    const sd = Math.sqrt(s / n);
    // Relative threshold: a float-noise spread around a large constant is still a constant.
    return sd > 1e-12 * Math.max(1, Math.abs(mean[j] as number)) ? sd : 1;
  });
  return { featureNames: [...featureNames], mean, std, clip };
}

/** Normalises rows into one row-major Float32Array (the layout tensors are built from). */
export function applyNormalization(norm: Normalization, x: readonly (readonly number[])[], rows?: readonly number[]): Float32Array {
  const d = norm.mean.length;
  const n = rows ? rows.length : x.length;
  const out = new Float32Array(n * d);
  const { mean, std, clip } = norm;
  for (let r = 0; r < n; r += 1) {
    const row = x[rows ? (rows[r] as number) : r];
    if (!row || row.length !== d) throw new RangeError(`row ${rows ? rows[r] : r} has ${row?.length ?? 0} values, the model expects ${d}`);
    const base = r * d;
    for (let j = 0; j < d; j += 1) {
      const z = ((row[j] as number) - (mean[j] as number)) / (std[j] as number);
      out[base + j] = Number.isFinite(z) ? (z > clip ? clip : z < -clip ? -clip : z) : 0;
    }
  }
  return out;
}

/** Checks that a parsed object is a Normalization (for artifacts read back from storage). */
export function isNormalization(value: unknown): value is Normalization {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const numbers = (a: unknown): a is number[] => Array.isArray(a) && a.every((n) => typeof n === 'number' && Number.isFinite(n));
  return (
    Array.isArray(v.featureNames) &&
    v.featureNames.every((s) => typeof s === 'string') &&
    numbers(v.mean) &&
    numbers(v.std) &&
    v.mean.length === v.featureNames.length &&
    v.std.length === v.featureNames.length &&
    typeof v.clip === 'number' &&
    v.clip > 0
  );
}
