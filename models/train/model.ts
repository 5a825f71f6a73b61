/**
 * The networks and their training loop, in the shape of the tfjs-examples: `createModel`,
 * `createBaseline`, `train` (and `evaluate` in evaluate.ts).
 *
 * No unseeded randomness: initializers are seeded, rows are shuffled by a seeded generator,
 * there is no dropout. The same data, seed and backend give the same weights.
 *
 * `train` runs its own mini-batch loop (optimizer.minimize on batches built from a
 * Float32Array) rather than `model.fit`: measured on the wasm backend, fit's gather-based
 * batching made an epoch about 2.7× slower, and the loop also gives a fresh seeded shuffle per
 * epoch, early stopping that restores the best weights (tfjs has no restoreBestWeights), class
 * weights, cancellation, and pauses that let the event loop breathe.
 */
import * as tf from '@tensorflow/tfjs';
import { hashSeed, mulberry32 } from '../../data/generator/random';
import { auc } from '../metrics';
import type { Dataset } from '../types';
import { applyNormalization, type Normalization } from './normalize';

export interface ModelOptions {
  seed: number;
  /** Units of the hidden layer; default 16. */
  hidden?: number;
  /** L2 penalty on the hidden kernel; default 1e-4. */
  l2?: number;
}

/** A small MLP: dense(hidden, relu, L2) → dense(1, sigmoid), seeded initializers. */
export function createModel(inputSize: number, { seed, hidden = 16, l2 = 1e-4 }: ModelOptions): tf.Sequential {
  const model = tf.sequential({ name: 'mlp' });
  model.add(
    tf.layers.dense({
      name: 'hidden',
      inputShape: [inputSize],
      units: hidden,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: hashSeed(seed, 'hidden') }),
      kernelRegularizer: l2 > 0 ? tf.regularizers.l2({ l2 }) : undefined,
    }),
  );
  model.add(
    tf.layers.dense({
      name: 'output',
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: hashSeed(seed, 'output') }),
    }),
  );
  return model;
}

/** Logistic regression: one dense sigmoid unit (the baseline every model is reported next to). */
export function createBaseline(inputSize: number, { seed, l2 = 1e-4 }: Omit<ModelOptions, 'hidden'>): tf.Sequential {
  const model = tf.sequential({ name: 'logistic' });
  model.add(
    tf.layers.dense({
      name: 'logit',
      inputShape: [inputSize],
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: hashSeed(seed, 'baseline') }),
      kernelRegularizer: l2 > 0 ? tf.regularizers.l2({ l2 }) : undefined,
    }),
  );
  return model;
}

export interface EpochProgress {
  /** 1-based. */
  epoch: number;
  /** Mean class-weighted training loss over the epoch's batches (without the L2 term). */
  loss: number;
  /** Class-weighted log loss on the validation slice. */
  valLoss: number;
  valAuc: number;
  /** Milliseconds since training started. */
  elapsedMs: number;
}

export interface TrainOptions {
  seed: number;
  /** Applied to the rows before training; without it the rows are used as they are. */
  normalization?: Normalization;
  /** Epoch cap; default 30. */
  epochs?: number;
  /**
   * Optimizer steps cap (default: none): lowers the epoch cap on large sets so that training
   * time stays bounded, deterministically (a wall-clock limit would make runs unrepeatable).
   */
  maxSteps?: number;
  /** Default 512. */
  batchSize?: number;
  /** Adam's learning rate; default 0.003. */
  learningRate?: number;
  /** Epochs without a validation improvement before stopping; default 4. */
  patience?: number;
  /** The LAST share of the rows (in the given, time order) held out for early stopping; default 0.2. */
  validationFraction?: number;
  /** 'balanced' (default): each class weighs half of the total; 'none': every row weighs 1. */
  classWeight?: 'balanced' | 'none';
  onEpoch?: (progress: EpochProgress) => void;
  signal?: AbortSignal;
}

export interface TrainResult {
  /** Epochs run (including the ones after the best, before stopping). */
  epochs: number;
  /** The epoch whose weights were kept. */
  bestEpoch: number;
  /** The epoch cap that applied (the smaller of `epochs` and what `maxSteps` allows). */
  epochsCap: number;
  /** True when validation stopped improving before the cap. */
  stoppedEarly: boolean;
  batchSize: number;
  history: EpochProgress[];
  classWeight: { negative: number; positive: number };
  /** Rows [validationStart, n) of the training set were the validation slice. */
  validationStart: number;
  /** Raw (uncalibrated) probabilities of the kept weights on the validation slice. */
  validationPredictions: number[];
  ms: number;
}

/**
 * A batch size that gives at least ~50 optimizer steps an epoch on small sets (a power of
 * two, at least 32) and `max` on large ones.
 */
export function batchSizeFor(fitRows: number, max: number): number {
  const target = 2 ** Math.round(Math.log2(Math.max(1, fitRows / 50)));
  return Math.max(Math.min(32, max), Math.min(max, target));
}

/** Raw sigmoid outputs for `rows` normalised rows (row-major, `inputSize` wide), batched. */
export function predictMatrix(model: tf.LayersModel, matrix: Float32Array, inputSize: number, batchSize = 1024): Float32Array {
  const rows = inputSize > 0 ? matrix.length / inputSize : 0;
  const out = new Float32Array(rows);
  for (let start = 0; start < rows; start += batchSize) {
    const size = Math.min(batchSize, rows - start);
    const values = tf.tidy(() => {
      const xb = tf.tensor2d(matrix.subarray(start * inputSize, (start + size) * inputSize), [size, inputSize]);
      return (model.predict(xb) as tf.Tensor).dataSync();
    });
    out.set(values, start);
  }
  return out;
}

function weightedLogLoss(p: ArrayLike<number>, y: ArrayLike<number>, w0: number, w1: number): number {
  let sum = 0;
  let weight = 0;
  for (let i = 0; i < p.length; i += 1) {
    const q = Math.min(1 - 1e-7, Math.max(1e-7, p[i] as number));
    const w = y[i] === 1 ? w1 : w0;
    sum -= w * (y[i] === 1 ? Math.log(q) : Math.log(1 - q));
    weight += w;
  }
  return sum / weight;
}

const pause = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Trains `model` on the first rows of `data` and early-stops on the last `validationFraction`
 * of them (rows arrive in time order, so validation is the most recent slice). Keeps the
 * weights of the epoch with the lowest validation loss.
 */
export async function train(model: tf.LayersModel, data: Dataset, opts: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const n = data.x.length;
  const d = model.inputs[0]?.shape[1] ?? data.featureNames.length;
  const batchSize = opts.batchSize ?? 512;
  const patience = opts.patience ?? 4;
  const validationRows = Math.max(1, Math.round(n * (opts.validationFraction ?? 0.2)));
  const validationStart = n - validationRows;
  if (validationStart < 1) throw new RangeError('too few rows to hold out a validation slice');
  const stepsPerEpoch = Math.ceil(validationStart / batchSize);
  const epochsCap = Math.min(opts.epochs ?? 30, Math.max(1, Math.floor((opts.maxSteps ?? Infinity) / stepsPerEpoch)));

  const matrix = opts.normalization ? applyNormalization(opts.normalization, data.x) : Float32Array.from(data.x.flat());
  const labels = Float32Array.from(data.y, (v) => (v === 1 ? 1 : 0));
  let positives = 0;
  for (let i = 0; i < validationStart; i += 1) positives += labels[i] as number;
  const negatives = validationStart - positives;
  const balanced = (opts.classWeight ?? 'balanced') === 'balanced' && positives > 0 && negatives > 0;
  const w1 = balanced ? validationStart / (2 * positives) : 1;
  const w0 = balanced ? validationStart / (2 * negatives) : 1;

  const valMatrix = matrix.subarray(validationStart * d);
  const valLabels = labels.subarray(validationStart);
  const order = Array.from({ length: validationStart }, (_, i) => i);
  const random = mulberry32(hashSeed(opts.seed, 'shuffle'));
  const optimizer = tf.train.adam(opts.learningRate ?? 0.003);
  const xb = new Float32Array(batchSize * d);
  const yb = new Float32Array(batchSize);
  const wb = new Float32Array(batchSize);

  const history: EpochProgress[] = [];
  let best: { epoch: number; valLoss: number; weights: tf.Tensor[]; predictions: Float32Array } | undefined;
  let lastPause = performance.now();
  try {
    for (let epoch = 1; epoch <= epochsCap; epoch += 1) {
      for (let i = order.length - 1; i > 0; i -= 1) {
        const j = Math.floor(random() * (i + 1));
        const tmp = order[i] as number;
        order[i] = order[j] as number;
        order[j] = tmp;
      }
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < order.length; start += batchSize) {
        const size = Math.min(batchSize, order.length - start);
        for (let k = 0; k < size; k += 1) {
          const row = order[start + k] as number;
          xb.set(matrix.subarray(row * d, (row + 1) * d), k * d);
          const label = labels[row] as number;
          yb[k] = label;
          wb[k] = label === 1 ? w1 : w0;
        }
        const cost = tf.tidy(() => {
          const xt = tf.tensor2d(xb.subarray(0, size * d), [size, d]);
          const yt = tf.tensor2d(yb.subarray(0, size), [size, 1]);
          const wt = tf.tensor2d(wb.subarray(0, size), [size, 1]);
          let dataLoss: tf.Scalar | undefined;
          optimizer.minimize(() => {
            const p = model.apply(xt, { training: true }) as tf.Tensor;
            // Kept out of minimize's own scope, so that it can be read after the step.
            dataLoss = tf.keep(tf.losses.logLoss(yt, p, wt, 1e-7, tf.Reduction.SUM_BY_NONZERO_WEIGHTS) as tf.Scalar);
            const penalties = (model as tf.Sequential).calculateLosses();
            return penalties.length > 0 ? (tf.addN([dataLoss, ...penalties]) as tf.Scalar) : dataLoss;
          });
          return dataLoss as tf.Scalar;
        });
        lossSum += cost.dataSync()[0] as number;
        cost.dispose();
        batches += 1;
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('training aborted');
        if (performance.now() - lastPause > 50) {
          await pause();
          lastPause = performance.now();
        }
      }
      const valPredictions = predictMatrix(model, valMatrix, d);
      const valLoss = weightedLogLoss(valPredictions, valLabels, w0, w1);
      const progress: EpochProgress = {
        epoch,
        loss: lossSum / Math.max(1, batches),
        valLoss,
        valAuc: auc(valPredictions, valLabels),
        elapsedMs: Math.round(performance.now() - started),
      };
      history.push(progress);
      opts.onEpoch?.(progress);
      if (!best || (Number.isFinite(valLoss) && (!Number.isFinite(best.valLoss) || valLoss < best.valLoss - 1e-5))) {
        if (best) tf.dispose(best.weights);
        best = { epoch, valLoss, weights: model.getWeights().map((w) => w.clone()), predictions: valPredictions };
      } else if (epoch - best.epoch >= patience) {
        break;
      }
      if (!Number.isFinite(progress.loss)) break;
    }
    if (!best) throw new Error('training ran no epoch');
    model.setWeights(best.weights);
    return {
      epochs: history.length,
      bestEpoch: best.epoch,
      epochsCap,
      stoppedEarly: history.length < epochsCap,
      batchSize,
      history,
      classWeight: { negative: w0, positive: w1 },
      validationStart,
      validationPredictions: Array.from(best.predictions),
      ms: Math.round(performance.now() - started),
    };
  } finally {
    if (best) tf.dispose(best.weights);
    optimizer.dispose();
  }
}

/** The weights of a one-unit logistic model, as plain numbers (kernel per feature, bias). */
export interface LinearWeights {
  kernel: number[];
  bias: number;
}

export function linearWeights(model: tf.LayersModel): LinearWeights {
  const [kernel, bias] = model.getWeights();
  if (!kernel || !bias || kernel.shape[1] !== 1) throw new Error('not a one-unit linear model');
  return { kernel: Array.from(kernel.dataSync()), bias: bias.dataSync()[0] as number };
}

/** σ(w·z + b) for each normalised row, in float64. */
export function predictLinear(weights: LinearWeights, matrix: Float32Array): number[] {
  const d = weights.kernel.length;
  const rows = d > 0 ? matrix.length / d : 0;
  const out = new Array<number>(rows);
  for (let r = 0; r < rows; r += 1) {
    let z = weights.bias;
    for (let j = 0; j < d; j += 1) z += (weights.kernel[j] as number) * (matrix[r * d + j] as number);
    out[r] = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
  }
  return out;
}
