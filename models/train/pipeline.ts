/**
 * One training run: guard, normalise, train the model and its baseline, calibrate both on the
 * held-out validation slice, evaluate both on the holdout.
 *
 * The caller splits the data: `train` rows in time order (its last rows become the validation
 * slice), `holdout` rows the models never see until evaluation.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../backend';
import type { Dataset } from '../types';
import { DEFAULT_HYPERPARAMETERS, makeBundle, type Hyperparameters, type NetworkSummary, type TrainedBundle } from './bundle';
import { fitPlatt } from './calibrate';
import { evaluate } from './evaluate';
import { TrainingDataError } from './errors';
import { checkLeakage, LEAKAGE_AUC_THRESHOLD, validateDataset } from './guards';
import { batchSizeFor, createBaseline, createModel, linearWeights, predictLinear, train, type EpochProgress, type TrainResult } from './model';
import { applyNormalization, fitNormalization } from './normalize';

export interface TrainAndEvaluateInput {
  train: Dataset;
  holdout: Dataset;
  /** Default 42. The same data, seed and backend give the same metrics. */
  seed?: number;
  log?: (line: string) => void;
  onEpoch?: (progress: EpochProgress & { network: 'model' | 'baseline' }) => void;
  /** Preferred tfjs backend (falls back as initBackend does). */
  backend?: BackendName;
  hyperparameters?: Partial<Omit<Hyperparameters, 'baseline'>> & { baseline?: Partial<Hyperparameters['baseline']> };
  leakageThreshold?: number;
  signal?: AbortSignal;
}

const summarize = (r: TrainResult): NetworkSummary => ({
  epochs: r.epochs,
  bestEpoch: r.bestEpoch,
  epochsCap: r.epochsCap,
  stoppedEarly: r.stoppedEarly,
  batchSize: r.batchSize,
  ms: r.ms,
});

const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : String(v));

export async function trainAndEvaluate(input: TrainAndEvaluateInput): Promise<TrainedBundle> {
  const started = performance.now();
  const log = input.log ?? (() => undefined);
  const seed = input.seed ?? 42;
  const hp: Hyperparameters = {
    ...DEFAULT_HYPERPARAMETERS,
    ...input.hyperparameters,
    baseline: { ...DEFAULT_HYPERPARAMETERS.baseline, ...input.hyperparameters?.baseline },
  };
  const { train: trainSet, holdout } = input;

  validateDataset(trainSet, 'training', { bothClasses: true });
  validateDataset(holdout, 'holdout', { bothClasses: true });
  if (trainSet.featureNames.join('\u0000') !== holdout.featureNames.join('\u0000')) {
    throw new TrainingDataError('The training and holdout sets have different features (names or order).');
  }
  const featureNames = [...trainSet.featureNames];
  const d = featureNames.length;

  // 1. Leakage guard, before any training time is spent.
  const threshold = input.leakageThreshold ?? LEAKAGE_AUC_THRESHOLD;
  const featureAucs = checkLeakage(holdout, threshold, trainSet);
  const strongest = featureAucs.reduce((a, b) => (b.auc > a.auc ? b : a));
  log(`leakage guard: ${d} features, strongest alone "${strongest.feature}" holdout AUC ${fmt(strongest.auc)} (limit ${threshold})`);

  // 2. The validation slice (the most recent training rows) must hold both classes: it stops
  //    training early and fits the calibration.
  const n = trainSet.x.length;
  const validationStart = n - Math.max(1, Math.round(n * hp.validationFraction));
  const fitPositives = trainSet.y.slice(0, validationStart).reduce((s, v) => s + v, 0);
  const valPositives = trainSet.y.slice(validationStart).reduce((s, v) => s + v, 0);
  const valRows = n - validationStart;
  if (validationStart < 2 || fitPositives === 0 || fitPositives === validationStart || valPositives === 0 || valPositives === valRows) {
    throw new TrainingDataError(
      `The training set needs both classes in its first ${Math.round((1 - hp.validationFraction) * 100)}% (weight fitting: ${validationStart} rows, ${fitPositives} positive) ` +
        `and in its last ${Math.round(hp.validationFraction * 100)}% (validation and calibration: ${valRows} rows, ${valPositives} positive).`,
    );
  }

  input.signal?.throwIfAborted();
  const { name: backend } = await initBackend(input.backend, { log });
  const normalization = fitNormalization(trainSet.x, featureNames);
  const common = { normalization, seed, validationFraction: hp.validationFraction, signal: input.signal };

  // 3. The model.
  const model = createModel(d, { seed, hidden: hp.hidden, l2: hp.l2 });
  let baselineNet: tf.Sequential | undefined;
  try {
    const modelRun = await train(model, trainSet, {
      ...common,
      epochs: hp.epochs,
      maxSteps: hp.maxSteps,
      batchSize: batchSizeFor(validationStart, hp.batchSize),
      learningRate: hp.learningRate,
      patience: hp.patience,
      onEpoch: (p) => input.onEpoch?.({ ...p, network: 'model' }),
    });
    const valLabels = trainSet.y.slice(validationStart);
    const calibration = fitPlatt(modelRun.validationPredictions, valLabels);
    log(
      `model: ${modelRun.epochs}/${modelRun.epochsCap} epochs of batch ${modelRun.batchSize} (kept ${modelRun.bestEpoch}) in ${(modelRun.ms / 1000).toFixed(1)} s, ` +
        `validation AUC ${fmt(modelRun.history[modelRun.bestEpoch - 1]?.valAuc ?? NaN)}, Platt a=${calibration.a.toFixed(3)} b=${calibration.b.toFixed(3)}`,
    );

    // 4. The baseline, on the same rows, normalization and slice.
    baselineNet = createBaseline(d, { seed, l2: hp.baseline.l2 });
    const baselineRun = await train(baselineNet, trainSet, {
      ...common,
      epochs: hp.baseline.epochs,
      maxSteps: hp.baseline.maxSteps,
      batchSize: batchSizeFor(validationStart, hp.baseline.batchSize),
      learningRate: hp.baseline.learningRate,
      patience: hp.baseline.patience,
      onEpoch: (p) => input.onEpoch?.({ ...p, network: 'baseline' }),
    });
    const baselineWeights = linearWeights(baselineNet);
    const valMatrix = applyNormalization(normalization, trainSet.x.slice(validationStart));
    const baselineCalibration = fitPlatt(predictLinear(baselineWeights, valMatrix), valLabels);
    log(`baseline: ${baselineRun.epochs}/${baselineRun.epochsCap} epochs of batch ${baselineRun.batchSize} (kept ${baselineRun.bestEpoch}) in ${(baselineRun.ms / 1000).toFixed(1)} s`);

    const bundle = makeBundle({
      model,
      baseline: { weights: baselineWeights, calibration: baselineCalibration },
      normalization,
      calibration,
      featureNames,
      backend,
      seed,
      hyperparameters: hp,
      training: {
        rows: n,
        positives: fitPositives + valPositives,
        validationRows: valRows,
        model: summarize(modelRun),
        baseline: summarize(baselineRun),
        featureAucs,
      },
    });

    // 5. The holdout: model and baseline side by side.
    bundle.evaluation = evaluate(bundle, holdout);
    const { model: m, baseline: b } = bundle.evaluation;
    log(
      `holdout (${m.rows} rows, ${m.positives} positive): model AUC ${fmt(m.auc)} PR-AUC ${fmt(m.prAuc)} Brier ${fmt(m.brier)} ECE ${fmt(m.ece)}; ` +
        `baseline AUC ${fmt(b.auc)} PR-AUC ${fmt(b.prAuc)} Brier ${fmt(b.brier)} ECE ${fmt(b.ece)}; ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s on ${backend}`,
    );
    return bundle;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    baselineNet?.dispose();
  }
}
