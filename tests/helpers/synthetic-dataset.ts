/**
 * A deterministic synthetic data set for the training tests and the training benchmark: real
 * but noisy signal, about 10% positives, a non-linear interaction a linear model cannot see,
 * skewed count-like features, pure-noise features and one constant feature.
 */
import { Rng } from '../../data/generator/random';
import type { Dataset } from '../../models/types';

export interface SyntheticOptions {
  rows: number;
  /** Total features (at least 8); default 12. */
  features?: number;
  seed?: number;
  /** Rows are split in time order: the first `trainShare` train, the rest holdout; default 0.8. */
  trainShare?: number;
}

const TIERS = ['platinum', 'gold', 'silver', 'registered'];

export function syntheticDatasets({ rows, features = 12, seed = 7, trainShare = 0.8 }: SyntheticOptions): { train: Dataset; holdout: Dataset } {
  if (features < 8) throw new RangeError('at least 8 features');
  const rng = new Rng(seed);
  const featureNames = Array.from({ length: features }, (_, j) => `f${String(j).padStart(2, '0')}`);
  featureNames[0] = 'engagement';
  featureNames[1] = 'tenure_days';
  featureNames[2] = 'interaction_a';
  featureNames[3] = 'interaction_b';
  featureNames[4] = 'deals_90d';
  featureNames[5] = 'nps';
  featureNames[6] = 'constant';
  const x: number[][] = [];
  const y: number[] = [];
  const groups: string[] = [];
  for (let i = 0; i < rows; i += 1) {
    const tierIndex = rng.pickWeighted([0, 1, 2, 3], [0.1, 0.2, 0.3, 0.4]);
    const engagement = rng.normal(0, 1) - 0.2 * tierIndex;
    const tenure = rng.uniform(0, 2000);
    const a = rng.normal(0, 1);
    const b = rng.normal(0, 1);
    const deals = rng.poisson(Math.exp(0.8 + 0.4 * engagement));
    const nps = Math.round(Math.min(10, Math.max(0, rng.normal(7, 2))));
    const row = [engagement, tenure, a, b, deals, nps, 3];
    for (let j = 7; j < features; j += 1) row.push(j % 2 === 0 ? rng.normal(0, 1) : rng.lognormal(0, 1));
    // Latent risk: linear parts, an interaction (a·b), a threshold on nps, and noise.
    const z = -3.2 - 0.7 * engagement - 0.0004 * tenure + 1.3 * a * b + (nps <= 4 ? 1.0 : 0) - 0.15 * deals + 0.3 * tierIndex;
    y.push(rng.chance(1 / (1 + Math.exp(-z))) ? 1 : 0);
    x.push(row);
    groups.push(TIERS[tierIndex] as string);
  }
  const cut = Math.round(rows * trainShare);
  const slice = (from: number, to: number): Dataset => ({
    x: x.slice(from, to),
    y: y.slice(from, to),
    groups: groups.slice(from, to),
    featureNames: [...featureNames],
  });
  return { train: slice(0, cut), holdout: slice(cut, rows) };
}
