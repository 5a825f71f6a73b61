/** A trained model with everything needed to score: normalization, calibration, baseline. */
import type * as tf from '@tensorflow/tfjs';
import { calibrate, type PlattCalibration } from './calibrate';
import type { Evaluation } from './evaluate';
import { predictLinear, predictMatrix, type LinearWeights } from './model';
import { applyNormalization, type Normalization } from './normalize';

export interface Hyperparameters {
  hidden: number;
  l2: number;
  epochs: number;
  /** Optimizer steps cap: on large sets it lowers the epoch cap (bounded, repeatable time). */
  maxSteps: number;
  /** The largest batch; small sets use smaller ones (batchSizeFor), for enough steps an epoch. */
  batchSize: number;
  learningRate: number;
  patience: number;
  validationFraction: number;
  baseline: { l2: number; epochs: number; maxSteps: number; batchSize: number; learningRate: number; patience: number };
}

// Small and well regularised: the signal is close to linear in these features, and a wider,
// looser network overfits after two epochs (measured in bench:train).
export const DEFAULT_HYPERPARAMETERS: Hyperparameters = {
  hidden: 8,
  l2: 1e-2,
  epochs: 30,
  maxSteps: 3000,
  batchSize: 512,
  learningRate: 0.003,
  patience: 4,
  validationFraction: 0.2,
  baseline: { l2: 1e-4, epochs: 30, maxSteps: 1500, batchSize: 1024, learningRate: 0.01, patience: 3 },
};

export interface NetworkSummary {
  epochs: number;
  bestEpoch: number;
  epochsCap: number;
  stoppedEarly: boolean;
  batchSize: number;
  ms: number;
}

/** What training learnt about the data it saw (for metadata and logs). */
export interface TrainingSummary {
  rows: number;
  positives: number;
  validationRows: number;
  /** Epochs run, the epoch whose weights were kept, the cap, the batch size used. */
  model: NetworkSummary;
  baseline: NetworkSummary;
  /** Each feature's holdout AUC alone, as max(AUC, 1 − AUC) (the leakage guard's numbers). */
  featureAucs: { feature: string; auc: number }[];
}

export interface BundleParts {
  model: tf.LayersModel;
  baseline: { weights: LinearWeights; calibration: PlattCalibration };
  normalization: Normalization;
  calibration: PlattCalibration;
  featureNames: string[];
  /** The tfjs backend it was trained on. */
  backend: string;
  seed: number;
  hyperparameters: Hyperparameters;
  training?: TrainingSummary;
  evaluation?: Evaluation;
}

export interface TrainedBundle extends BundleParts {
  /** Epochs run, of the model and of the baseline. */
  epochs: { model: number; baseline: number };
  /** Calibrated probabilities, one per row (rows in featureNames order). Batched; disposes its tensors. */
  predict(x: number[][]): number[];
  /** Calibrated probabilities of the logistic-regression baseline (plain arithmetic, no tensors). */
  predictBaseline(x: number[][]): number[];
  /** Uncalibrated model outputs (for diagnostics). */
  predictRaw(x: number[][]): number[];
  /** Frees the model's weights. The bundle cannot predict afterwards. */
  dispose(): void;
}

export function makeBundle(parts: BundleParts): TrainedBundle {
  const d = parts.featureNames.length;
  const predictRaw = (x: number[][]): number[] =>
    x.length === 0 ? [] : Array.from(predictMatrix(parts.model, applyNormalization(parts.normalization, x), d));
  return {
    ...parts,
    epochs: { model: parts.training?.model.epochs ?? 0, baseline: parts.training?.baseline.epochs ?? 0 },
    predictRaw,
    predict: (x) => predictRaw(x).map((p) => calibrate(parts.calibration, p)),
    predictBaseline: (x) =>
      x.length === 0
        ? []
        : predictLinear(parts.baseline.weights, applyNormalization(parts.normalization, x)).map((p) => calibrate(parts.baseline.calibration, p)),
    dispose: () => parts.model.dispose(),
  };
}
