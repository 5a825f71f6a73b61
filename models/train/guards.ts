/** Checks run before any training: a usable data set, and no feature that leaks the label. */
import { auc } from '../metrics';
import type { Dataset } from '../types';
import { LeakageError, TrainingDataError, type LeakingFeature } from './errors';

/** A single feature above this holdout AUC (either direction) fails the training. */
export const LEAKAGE_AUC_THRESHOLD = 0.97;

/** Throws TrainingDataError naming the first problem: shapes, labels, non-finite values. */
export function validateDataset(data: Dataset, name: string, options: { bothClasses?: boolean } = {}): void {
  const { x, y, groups, featureNames } = data;
  const d = featureNames.length;
  if (d === 0) throw new TrainingDataError(`The ${name} set has no features.`);
  if (x.length === 0) throw new TrainingDataError(`The ${name} set has no rows.`);
  if (y.length !== x.length || groups.length !== x.length) {
    throw new TrainingDataError(`The ${name} set has ${x.length} rows but ${y.length} labels and ${groups.length} groups.`);
  }
  let positives = 0;
  for (let i = 0; i < x.length; i += 1) {
    const row = x[i] as number[];
    if (row.length !== d) throw new TrainingDataError(`Row ${i} of the ${name} set has ${row.length} values for ${d} features.`);
    for (let j = 0; j < d; j += 1) {
      if (!Number.isFinite(row[j])) {
        throw new TrainingDataError(`Row ${i} of the ${name} set has ${String(row[j])} for feature "${featureNames[j]}"; every value must be a finite number.`);
      }
    }
    const label = y[i];
    if (label !== 0 && label !== 1) throw new TrainingDataError(`Row ${i} of the ${name} set has label ${String(label)}; labels are 0 or 1.`);
    positives += label;
  }
  if (options.bothClasses && (positives === 0 || positives === x.length)) {
    throw new TrainingDataError(
      `The ${name} set has ${positives === 0 ? 'no positive' : 'no negative'} rows (${x.length} rows): a model cannot be ${name === 'holdout' ? 'evaluated' : 'trained'} on one class.`,
    );
  }
}

/** max(AUC, 1 − AUC) of every feature alone against the labels, in feature order. */
export function singleFeatureAucs(data: Dataset): LeakingFeature[] {
  return data.featureNames.map((feature, j) => {
    const value = auc(
      data.x.map((row) => row[j] as number),
      data.y,
    );
    return { feature, auc: Number.isNaN(value) ? 0.5 : Math.max(value, 1 - value) };
  });
}

/**
 * A feature that separates the training rows this well too is not a small-holdout accident:
 * a leak (future information) is strong everywhere, while a one-hot tier can separate a
 * holdout of a dozen partners by chance.
 */
export const LEAKAGE_TRAINING_AUC_FLOOR = 0.9;

/**
 * Throws LeakageError naming every feature whose holdout AUC alone is above the threshold,
 * when (given the training set) it is also strong on the training rows.
 */
export function checkLeakage(holdout: Dataset, threshold = LEAKAGE_AUC_THRESHOLD, training?: Dataset): LeakingFeature[] {
  const aucs = singleFeatureAucs(holdout);
  const trainingAucs = training ? singleFeatureAucs(training) : undefined;
  const leaking = aucs
    .filter((f, j) => f.auc > threshold && (trainingAucs === undefined || (trainingAucs[j]?.auc ?? 0) > LEAKAGE_TRAINING_AUC_FLOOR))
    .sort((a, b) => b.auc - a.auc);
  if (leaking.length > 0) throw new LeakageError(leaking, threshold);
  return aucs;
}
