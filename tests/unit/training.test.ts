import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ServiceError } from '../../data/errors';
import { currentBackend, initBackend } from '../../models/backend';
import { ece } from '../../models/metrics';
import {
  checkLeakage,
  applyNormalization,
  calibrate,
  createModel,
  fitNormalization,
  fitPlatt,
  fromArtifacts,
  LeakageError,
  predictMatrix,
  sigmoid,
  toArtifacts,
  train,
  trainAndEvaluate,
  TrainingDataError,
  type EpochProgress,
  type TrainedBundle,
} from '../../models/train';
import type { Dataset } from '../../models/types';
import { syntheticDatasets } from '../helpers/synthetic-dataset';

const { train: trainSet, holdout } = syntheticDatasets({ rows: 3000, features: 10, seed: 11 });
const SEED = 5;
const hasTfjsNode = ((): boolean => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

const processListeners = (): number[] => [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
const listenersBefore = processListeners();
const backendLog: string[] = [];
const runLog: string[] = [];
const progress: Array<EpochProgress & { network: string }> = [];
let backendName: string;
let bundle: TrainedBundle;

beforeAll(async () => {
  ({ name: backendName } = await initBackend(undefined, { log: (line) => backendLog.push(line) }));
  bundle = await trainAndEvaluate({ train: trainSet, holdout, seed: SEED, log: (line) => runLog.push(line), onEpoch: (p) => progress.push(p) });
});

afterAll(() => bundle?.dispose());

const mean = (values: number[]): number => values.reduce((s, v) => s + v, 0) / values.length;
const withColumn = (data: Dataset, name: string, column: (row: number) => number): Dataset => ({
  ...data,
  x: data.x.map((row, i) => [...row.slice(0, 3), column(i), ...row.slice(3)]),
  featureNames: [...data.featureNames.slice(0, 3), name, ...data.featureNames.slice(3)],
});

describe('trainAndEvaluate', () => {
  it('beats its own logistic-regression baseline on the holdout, or matches it within 0.01', () => {
    const { model, baseline } = bundle.evaluation!;
    expect(model.auc).toBeGreaterThanOrEqual(baseline.auc - 0.01);
    expect(model.auc).toBeGreaterThan(0.75); // real signal was learnt
    for (const m of [model, baseline]) {
      expect(m.rows).toBe(holdout.x.length);
      expect(m.positives).toBe(holdout.y.filter((v) => v === 1).length);
      for (const key of ['auc', 'prAuc', 'brier', 'ece'] as const) expect(Number.isFinite(m[key])).toBe(true);
    }
  });

  it('reports AUC by tier, the curves, the backend, the seed and the epochs', () => {
    const { aucByTier, curves } = bundle.evaluation!;
    expect(Object.keys(aucByTier).sort()).toEqual([...new Set(holdout.groups)].sort());
    expect(curves.reliability).toHaveLength(10);
    expect(curves.roc[0]).toMatchObject({ fpr: 0, tpr: 0 });
    expect(curves.roc.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
    expect(bundle.backend).toBe(backendName);
    expect(bundle.seed).toBe(SEED);
    expect(bundle.epochs.model).toBeGreaterThan(0);
    expect(bundle.training!.model.bestEpoch).toBeLessThanOrEqual(bundle.epochs.model);
    expect(progress.filter((p) => p.network === 'model')).toHaveLength(bundle.epochs.model);
    expect(progress.filter((p) => p.network === 'baseline')).toHaveLength(bundle.epochs.baseline);
    expect(runLog.some((line) => line.startsWith('holdout') && line.includes('baseline AUC'))).toBe(true);
  });

  it('is deterministic: the same data and seed give the same metrics and probabilities, and leak no tensor', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const again = await trainAndEvaluate({ train: trainSet, holdout, seed: SEED });
    expect(again.evaluation).toEqual(bundle.evaluation);
    expect(again.predict(holdout.x.slice(0, 50))).toEqual(bundle.predict(holdout.x.slice(0, 50)));
    const afterTraining = tf.memory().numTensors;
    again.predict(holdout.x);
    again.predictRaw(holdout.x);
    expect(tf.memory().numTensors).toBe(afterTraining); // predicting makes no tensor that outlives it
    again.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore); // training leaves nothing behind but the model
  });

  it('calibrates: the mean probability matches the positive rate, and ECE improves on the class-weighted raw output', () => {
    const p = bundle.predict(holdout.x);
    const rate = mean(holdout.y);
    expect(Math.abs(mean(p) - rate)).toBeLessThan(0.03);
    const raw = bundle.predictRaw(holdout.x);
    // Class weighting pushes raw outputs towards ½: deliberately miscalibrated.
    expect(mean(raw)).toBeGreaterThan(rate + 0.15);
    expect(bundle.evaluation!.model.ece).toBeLessThan(ece(raw, holdout.y));
    expect(bundle.evaluation!.model.ece).toBeLessThan(0.05);
  });

  it('fits normalization on training rows only, safe for a zero-variance feature', () => {
    const norm = bundle.normalization;
    const j = trainSet.featureNames.indexOf('engagement');
    expect(norm.mean[j]).toBeCloseTo(mean(trainSet.x.map((r) => r[j]!)), 9);
    expect(norm.mean[j]).not.toBeCloseTo(mean([...trainSet.x, ...holdout.x].map((r) => r[j]!)), 9);
    const c = trainSet.featureNames.indexOf('constant');
    expect(norm.std[c]).toBe(1);
    expect(applyNormalization(norm, [trainSet.x[0]!])[c]).toBe(0);
    expect(JSON.parse(JSON.stringify(norm))).toEqual(norm);
  });

  it('round-trips through artifacts: the loaded bundle gives the same probabilities', async () => {
    const artifacts = await toArtifacts(bundle);
    expect(artifacts.modelJson.weightsManifest[0]!.paths).toEqual(['weights.bin']);
    // What storage would hand back: JSON text and bytes in a Buffer that is a view into a larger pool.
    const pool = Buffer.alloc(artifacts.weights.byteLength + 16);
    pool.set(artifacts.weights, 8);
    const loaded = await fromArtifacts({
      modelJson: JSON.parse(JSON.stringify(artifacts.modelJson)),
      weights: pool.subarray(8, 8 + artifacts.weights.byteLength),
      metadata: JSON.parse(JSON.stringify(artifacts.metadata)),
    });
    try {
      const before = bundle.predict(holdout.x);
      const after = loaded.predict(holdout.x);
      expect(Math.max(...before.map((p, i) => Math.abs(p - after[i]!)))).toBeLessThan(1e-6);
      expect(loaded.predictBaseline(holdout.x)).toEqual(bundle.predictBaseline(holdout.x));
      expect(loaded.evaluation).toEqual(bundle.evaluation);
      expect(loaded.backend).toBe(bundle.backend);
      expect(artifacts.metadata).toMatchObject({ seed: SEED, featureNames: trainSet.featureNames, calibration: bundle.calibration });
    } finally {
      loaded.dispose();
    }
  });
});

describe('cancellation', () => {
  it('stops at the next batch when its signal is aborted, leaving no tensor behind', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const controller = new AbortController();
    const error = await trainAndEvaluate({
      train: trainSet,
      holdout,
      signal: controller.signal,
      onEpoch: () => controller.abort(new Error('job cancelled')),
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('job cancelled');
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});

describe('leakage guard', () => {
  it('fails the training with a 422 naming a planted leaking feature', async () => {
    const leak = (data: Dataset) => withColumn(data, 'days_until_churn', (i) => (data.y[i] === 1 ? 10 : 60) + ((i * 37) % 11));
    const error = await trainAndEvaluate({ train: leak(trainSet), holdout: leak(holdout), seed: SEED }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeakageError);
    expect(error).toBeInstanceOf(ServiceError);
    const e = error as LeakageError;
    expect(e.status).toBe(422);
    expect(e.title).toBe('Leakage detected');
    expect(e.message).toContain('"days_until_churn"');
    expect(e.features.map((f) => f.feature)).toEqual(['days_until_churn']);
    expect(e.features[0]!.auc).toBeGreaterThan(0.97);
    expect(e.errors).toEqual([{ path: 'features.days_until_churn', message: expect.stringContaining('holdout AUC') }]);
  });

  it('catches a leak in either direction and names every leaking feature', async () => {
    const leak = (data: Dataset) => withColumn(withColumn(data, 'churned_flag', (i) => data.y[i]!), 'retained_flag', (i) => 1 - data.y[i]!);
    const error = (await trainAndEvaluate({ train: leak(trainSet), holdout: leak(holdout) }).catch((e: unknown) => e)) as LeakageError;
    expect(error).toBeInstanceOf(LeakageError);
    expect(error.features.map((f) => f.feature).sort()).toEqual(['churned_flag', 'retained_flag']);
  });

  it('does not mistake a feature that separates only the holdout (a small-sample accident) for a leak', () => {
    // Perfect on the holdout, noise on the training rows: what a one-hot tier does on a dozen holdout partners.
    const accidental = (data: Dataset, perfect: boolean) => withColumn(data, 'tier=accident', (i) => (perfect ? data.y[i]! : (i * 7919) % 2));
    const train = accidental(trainSet, false);
    const hold = accidental(holdout, true);
    expect(() => checkLeakage(hold, 0.97, train)).not.toThrow();
    expect(() => checkLeakage(hold, 0.97)).toThrow(LeakageError);
  });
});

describe('unusable data', () => {
  it('refuses a holdout with a single class', async () => {
    const oneClass = { ...holdout, y: holdout.y.map(() => 0) };
    const error = await trainAndEvaluate({ train: trainSet, holdout: oneClass }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDataError);
    expect((error as TrainingDataError).status).toBe(422);
  });

  it('names the row and feature of a value that is not a finite number', async () => {
    const x = trainSet.x.map((row) => [...row]);
    x[17]![2] = Number.NaN;
    const error = await trainAndEvaluate({ train: { ...trainSet, x }, holdout }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDataError);
    expect((error as Error).message).toMatch(/Row 17 .*"interaction_a"/);
  });
});

describe('train and calibration pieces', () => {
  it('early-stops on the last rows and keeps the best epoch’s weights', async () => {
    const small = syntheticDatasets({ rows: 1200, features: 8, seed: 3 }).train;
    const norm = fitNormalization(small.x, small.featureNames);
    const model = createModel(8, { seed: 1, hidden: 16 });
    try {
      const result = await train(model, small, { seed: 1, normalization: norm, epochs: 40, batchSize: 32, learningRate: 0.03, patience: 2 });
      const losses = result.history.map((h) => h.valLoss);
      expect(result.bestEpoch).toBe(losses.indexOf(Math.min(...losses)) + 1);
      expect(result.validationStart).toBe(small.x.length - Math.round(small.x.length * 0.2));
      const valMatrix = applyNormalization(norm, small.x.slice(result.validationStart));
      expect(Array.from(predictMatrix(model, valMatrix, 8))).toEqual(result.validationPredictions);
    } finally {
      model.dispose();
    }
  });

  it('Platt scaling recovers a known miscalibration and keeps the ranking', () => {
    // Raw scores s; the truth is σ(2·logit(s) − 1): overconfident and too high.
    const raw: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      const s = 0.02 + (0.96 * ((i * 7919) % 20_000)) / 20_000;
      const truth = sigmoid(2 * Math.log(s / (1 - s)) - 1);
      raw.push(s);
      y.push(((i * 104_729) % 1000) / 1000 < truth ? 1 : 0);
    }
    const cal = fitPlatt(raw, y);
    expect(cal.a).toBeCloseTo(2, 1);
    expect(cal.b).toBeCloseTo(-1, 1);
    expect(calibrate(cal, 0.3)).toBeLessThan(calibrate(cal, 0.31));
    expect(ece(raw.map((p) => calibrate(cal, p)), y)).toBeLessThan(ece(raw, y));
  });
});

describe('backend', () => {
  it('reports the native backend where tfjs-node is installed, else a pure one, in a log line', () => {
    expect(backendName).toBe(hasTfjsNode ? 'tensorflow' : 'wasm');
    expect(backendLog).toHaveLength(1);
    expect(backendLog[0]).toContain(`tfjs backend: ${backendName}`);
  });

  it('leaves no process-wide exception handler behind (the wasm runtime installs rethrowing ones)', () => {
    expect(processListeners()).toEqual(listenersBefore);
  });

  it('is idempotent: asking again changes nothing and logs nothing', async () => {
    const lines: string[] = [];
    const info = await initBackend(undefined, { log: (l) => lines.push(l) });
    expect(info.name).toBe(backendName);
    expect(lines).toEqual([]);
  });

  it.skipIf(hasTfjsNode)('falls back when tfjs-node is preferred but absent', async () => {
    const lines: string[] = [];
    const info = await initBackend('tensorflow', { log: (l) => lines.push(l) });
    expect(info.name).toBe('wasm');
    expect(lines).toEqual([expect.stringMatching(/^tfjs backend: wasm \(tensorflow unavailable: .+\)$/)]);
  });

  it('falls back when the preferred backend fails to load, and can switch back', async () => {
    const lines: string[] = [];
    const broken = async (): Promise<void> => {
      throw new Error('simulated load failure');
    };
    // A fresh copy of the module, as in a new process (this one already runs the backend).
    vi.resetModules();
    const fresh = await import('../../models/backend');
    const info = await fresh.initBackend('wasm', { log: (l) => lines.push(l), loaders: { wasm: broken, tensorflow: broken } });
    expect(info.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(lines[0]).toContain('wasm unavailable: simulated load failure');
    // Still usable after the switch: a loaded model predicts on the new backend.
    expect(bundle.predict(holdout.x.slice(0, 3))).toHaveLength(3);
    const back = await initBackend(backendName as 'wasm' | 'tensorflow');
    expect(back.name).toBe(backendName);
    expect(currentBackend()).toBe(backendName);
  });
});
