/**
 * Holdout evaluation: the model and its logistic-regression baseline, always side by side,
 * plus AUC by tier and the curves the dashboard draws.
 */
import {
  aucByGroup,
  classificationMetrics,
  reliabilityCurve,
  rocCurve,
  type ClassificationMetrics,
  type ReliabilityBin,
  type RocPoint,
} from '../metrics';
import type { Dataset } from '../types';

export interface Evaluation {
  model: ClassificationMetrics;
  baseline: ClassificationMetrics;
  /** The model's AUC within each tier; null where a tier's holdout rows hold one class. */
  aucByTier: Record<string, number | null>;
  /** The model's curves on the holdout (ROC thinned to ≤ 101 points, 10 reliability bins). */
  curves: { roc: RocPoint[]; reliability: ReliabilityBin[] };
}

export interface Predictor {
  /** Calibrated probabilities of the model. */
  predict(x: number[][]): number[];
  /** Calibrated probabilities of the baseline. */
  predictBaseline(x: number[][]): number[];
}

export function evaluate(predictor: Predictor, holdout: Dataset): Evaluation {
  const p = predictor.predict(holdout.x);
  const q = predictor.predictBaseline(holdout.x);
  return {
    model: classificationMetrics(p, holdout.y),
    baseline: classificationMetrics(q, holdout.y),
    aucByTier: aucByGroup(p, holdout.y, holdout.groups),
    curves: { roc: rocCurve(p, holdout.y), reliability: reliabilityCurve(p, holdout.y) },
  };
}
