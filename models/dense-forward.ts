/**
 * The trained networks' forward pass in plain JavaScript, for serving.
 *
 * Why not tfjs at serving time: scoring predicts small batches (a partner's row and its
 * peer-median variants, 30–50 rows), where tfjs spends ~120 µs a call on fixed costs (tensors,
 * Sequential.predict's batching, kernel dispatch, dataSync) against a few µs of arithmetic, and
 * importing tfjs makes the API bundle large and slow to cold-start. The networks are small
 * Dense stacks, so a loop over Float64Arrays runs them exactly enough (float32 weights, float64
 * accumulation: within ~1e-7 of tfjs) and imports nothing. Training keeps tfjs.
 *
 * This module reads what models/train/serialize.ts saves: the standard tfjs `model.json`
 * (Sequential topology + weights manifest), the bytes of `weights.bin`, and metadata.json
 * (normalization, Platt calibration, the baseline's weights). It never imports tfjs, not even
 * its types: the shapes it reads are declared here.
 */
import { calibrate, isPlattCalibration, type PlattCalibration } from './train/calibrate';
import { isNormalization, type Normalization } from './train/normalize';

export type Activation = 'relu' | 'sigmoid' | 'linear' | 'tanh';
const ACTIVATIONS: readonly Activation[] = ['relu', 'sigmoid', 'linear', 'tanh'];

export interface DenseLayer {
  name: string;
  inputs: number;
  units: number;
  /** Kernel, `inputs × units`, row-major (the layout tfjs saves). */
  weights: Float64Array;
  bias: Float64Array;
  activation: Activation;
}

export interface DenseNetwork {
  inputs: number;
  /** Each layer's `inputs` is the previous layer's `units`; the last has one unit. */
  layers: DenseLayer[];
}

/** The parts of a tfjs `model.json` this module reads. */
export interface LayersModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

/** A saved network this module cannot run (a layer, activation or weight format it does not know). */
export class UnsupportedModelError extends Error {
  constructor(message: string) {
    super(`cannot serve this model: ${message}`);
    this.name = 'UnsupportedModelError';
  }
}

interface LayerJson {
  class_name?: unknown;
  config?: { name?: unknown; units?: unknown; activation?: unknown; use_bias?: unknown; batch_input_shape?: unknown };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The Sequential layers of a saved topology (tfjs writes `config.layers`; old Keras files a bare array). */
function sequentialLayers(topology: unknown): LayerJson[] {
  const top = isObject(topology) && isObject(topology.model_config) ? topology.model_config : topology;
  if (!isObject(top)) throw new UnsupportedModelError('model.json has no modelTopology');
  if (top.class_name !== 'Sequential') throw new UnsupportedModelError(`topology class '${String(top.class_name)}' (only Sequential models of Dense layers are supported)`);
  const config = top.config;
  const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers) || layers.length === 0) throw new UnsupportedModelError('the Sequential topology lists no layers');
  return layers as LayerJson[];
}

/** Float32 weights, by name, in manifest order (tfjs concatenates them in that order into weights.bin). */
function readWeights(manifest: LayersModelJson['weightsManifest'], bytes: Uint8Array): Map<string, { shape: number[]; values: Float32Array }> {
  const specs = (Array.isArray(manifest) ? manifest : []).flatMap((group) => (Array.isArray(group?.weights) ? group.weights : []));
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  let offset = 0;
  for (const spec of specs) {
    if (spec.quantization !== undefined) throw new UnsupportedModelError(`weight '${spec.name}' is quantized`);
    if (spec.dtype !== 'float32') throw new UnsupportedModelError(`weight '${spec.name}' has dtype '${spec.dtype}' (only float32 is supported)`);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const end = offset + size * 4;
    if (end > bytes.byteLength) throw new UnsupportedModelError(`weights.bin holds ${bytes.byteLength} bytes, too few for weight '${spec.name}'`);
    // Copied through a DataView: the bytes may sit at any offset of a pooled Buffer. Little-endian, as tfjs writes them.
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset, size * 4);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = view.getFloat32(i * 4, true);
    out.set(spec.name, { shape: spec.shape, values });
    offset = end;
  }
  if (offset !== bytes.byteLength) throw new UnsupportedModelError(`weights.bin holds ${bytes.byteLength} bytes, the manifest describes ${offset}`);
  return out;
}

/** Parses a saved tfjs Sequential model (`model.json` + `weights.bin`) into a DenseNetwork. */
export function parseLayersModel(modelJson: LayersModelJson, weightBytes: Uint8Array): DenseNetwork {
  const specs = sequentialLayers(modelJson.modelTopology);
  const weights = readWeights(modelJson.weightsManifest, weightBytes);
  const used = new Set<string>();
  const layers: DenseLayer[] = [];
  let width: number | undefined;
  for (const [index, layer] of specs.entries()) {
    const kind = String(layer.class_name);
    const config = layer.config ?? {};
    const name = typeof config.name === 'string' ? config.name : `layer ${index}`;
    const shape = Array.isArray(config.batch_input_shape) ? (config.batch_input_shape as unknown[]) : undefined;
    if (shape && (shape.length !== 2 || typeof shape[1] !== 'number')) throw new UnsupportedModelError(`layer '${name}' takes input of shape [${shape.join(', ')}] (only flat vectors are supported)`);
    if (kind === 'InputLayer') {
      width = shape?.[1] as number | undefined;
      continue;
    }
    if (kind !== 'Dense') throw new UnsupportedModelError(`layer '${name}' is a ${kind} (only Dense layers are supported)`);
    const activation = config.activation ?? 'linear';
    if (typeof activation !== 'string' || !ACTIVATIONS.includes(activation as Activation)) {
      throw new UnsupportedModelError(`layer '${name}' has activation '${typeof activation === 'string' ? activation : JSON.stringify(activation)}' (supported: ${ACTIVATIONS.join(', ')})`);
    }
    const kernel = weights.get(`${name}/kernel`);
    if (!kernel) throw new UnsupportedModelError(`weight '${name}/kernel' is not in the weights manifest`);
    const [inputs, units] = kernel.shape;
    if (kernel.shape.length !== 2 || inputs === undefined || units === undefined || units !== config.units) {
      throw new UnsupportedModelError(`weight '${name}/kernel' has shape [${kernel.shape.join(', ')}] for a layer of ${String(config.units)} units`);
    }
    const expected = width ?? (shape?.[1] as number | undefined) ?? inputs;
    if (inputs !== expected) throw new UnsupportedModelError(`layer '${name}' takes ${inputs} inputs after a layer of ${expected} units`);
    used.add(`${name}/kernel`);
    let bias = new Float64Array(units);
    if (config.use_bias !== false) {
      const b = weights.get(`${name}/bias`);
      if (!b || b.values.length !== units) throw new UnsupportedModelError(`weight '${name}/bias' is missing or not ${units} values`);
      bias = Float64Array.from(b.values);
      used.add(`${name}/bias`);
    }
    layers.push({ name, inputs, units, weights: Float64Array.from(kernel.values), bias, activation: activation as Activation });
    width = units;
  }
  const unused = [...weights.keys()].filter((k) => !used.has(k));
  if (unused.length > 0) throw new UnsupportedModelError(`weights not used by any Dense layer: ${unused.join(', ')}`);
  const first = layers[0];
  const last = layers.at(-1);
  if (!first || !last) throw new UnsupportedModelError('the topology has no Dense layer');
  if (last.units !== 1) throw new UnsupportedModelError(`the last layer '${last.name}' has ${last.units} units (a probability needs 1)`);
  return { inputs: first.inputs, layers };
}

/** A network of one layer, `σ(w·z + b)`: the logistic baseline saved as plain numbers in metadata.json. */
export function linearNetwork(kernel: readonly number[], bias: number): DenseNetwork {
  return { inputs: kernel.length, layers: [{ name: 'logit', inputs: kernel.length, units: 1, weights: Float64Array.from(kernel), bias: Float64Array.of(bias), activation: 'sigmoid' }] };
}

function activate(kind: Activation, v: Float64Array, n: number): void {
  switch (kind) {
    case 'relu':
      // NaN stays NaN (as in tfjs): a broken weight must not pass for a score of 0.
      for (let k = 0; k < n; k++) if (v[k]! < 0) v[k] = 0;
      return;
    case 'sigmoid':
      for (let k = 0; k < n; k++) {
        const z = v[k]!;
        // The form that never overflows exp.
        if (z >= 0) v[k] = 1 / (1 + Math.exp(-z));
        else {
          const e = Math.exp(z);
          v[k] = e / (1 + e);
        }
      }
      return;
    case 'tanh':
      for (let k = 0; k < n; k++) v[k] = Math.tanh(v[k]!);
      return;
    case 'linear':
      return;
  }
}

/**
 * Two work vectors per network, allocated once: a typed array over 64 bytes lives off the V8
 * heap and costs about a microsecond to allocate, as much as the arithmetic of a whole row.
 * (Safe to share: a forward pass is synchronous.)
 */
const scratchOf = new WeakMap<DenseNetwork, [Float64Array, Float64Array]>();

function scratch(net: DenseNetwork): [Float64Array, Float64Array] {
  let s = scratchOf.get(net);
  if (!s) {
    const widest = net.layers.reduce((w, l) => Math.max(w, l.units), net.inputs);
    s = [new Float64Array(widest), new Float64Array(widest)];
    scratchOf.set(net, s);
  }
  return s;
}

/** Runs every layer on the `net.inputs` values in `input`; returns the last layer's (single) output. */
function run(net: DenseNetwork, input: Float64Array, spare: Float64Array): number {
  let a = input;
  let b = spare;
  const layers = net.layers;
  for (let l = 0; l < layers.length; l++) {
    const { inputs, units, weights, bias, activation } = layers[l]!;
    b.set(bias);
    for (let j = 0; j < inputs; j++) {
      const x = a[j]!;
      // Inputs are mostly zeros (one-hot blocks, relu): skipping them changes no sum.
      if (x === 0) continue;
      const base = j * units;
      for (let k = 0; k < units; k++) b[k] = b[k]! + x * weights[base + k]!;
    }
    activate(activation, b, units);
    const t = a;
    a = b;
    b = t;
  }
  return a[0]!;
}

/**
 * The network's output (one value per row: after the last activation, so a probability for a
 * sigmoid output) for rows given as arrays, or as one row-major typed array `inputs` wide.
 * Float64 arithmetic throughout.
 */
export function forward(net: DenseNetwork, rows: Float64Array | Float32Array | readonly (readonly number[])[]): Float64Array {
  const d = net.inputs;
  const [a, b] = scratch(net);
  if (!Array.isArray(rows)) {
    const flat = rows as Float64Array | Float32Array;
    const n = d > 0 ? flat.length / d : 0;
    if (!Number.isInteger(n)) throw new RangeError(`a flat input of ${flat.length} values is not a whole number of ${d}-value rows`);
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < d; j++) a[j] = flat[r * d + j]!;
      out[r] = run(net, a, b);
    }
    return out;
  }
  const list = rows as readonly (readonly number[])[];
  const out = new Float64Array(list.length);
  for (let r = 0; r < list.length; r++) {
    const row = list[r]!;
    if (row.length !== d) throw new RangeError(`row ${r} has ${row.length} values, the network expects ${d}`);
    for (let j = 0; j < d; j++) a[j] = row[j]!;
    out[r] = run(net, a, b);
  }
  return out;
}

/** metadata.json's fields that serving reads. */
export interface ServingMetadata {
  formatVersion: number;
  featureNames: string[];
  normalization: Normalization;
  calibration: PlattCalibration;
  baselineWeights: { kernel: number[]; bias: number };
  baselineCalibration: PlattCalibration;
}

/** The metadata.json format this module reads (models/train/serialize.ts writes it). */
const ARTIFACT_FORMAT_VERSION = 1;

/** A saved model version ready to score: its network, encoding and calibration, and its baseline. */
export interface DenseModel {
  featureNames: string[];
  normalization: Normalization;
  network: DenseNetwork;
  calibration: PlattCalibration;
  baseline: { network: DenseNetwork; calibration: PlattCalibration };
}

function checkMetadata(m: ServingMetadata): void {
  const problems: string[] = [];
  if (m.formatVersion !== ARTIFACT_FORMAT_VERSION) problems.push(`format version ${String(m.formatVersion)} (expected ${ARTIFACT_FORMAT_VERSION})`);
  if (!Array.isArray(m.featureNames)) problems.push('featureNames');
  if (!isNormalization(m.normalization)) problems.push('normalization');
  else if (m.normalization.featureNames.join('\u0000') !== m.featureNames?.join('\u0000')) problems.push('normalization features');
  if (!isPlattCalibration(m.calibration)) problems.push('calibration');
  if (!isPlattCalibration(m.baselineCalibration)) problems.push('baselineCalibration');
  const bw = m.baselineWeights;
  if (!bw || !Array.isArray(bw.kernel) || bw.kernel.length !== m.featureNames?.length || typeof bw.bias !== 'number') problems.push('baselineWeights');
  if (problems.length > 0) throw new Error(`model artifacts are not usable: ${problems.join(', ')}`);
}

/** model.json + weights.bin + metadata.json → a DenseModel; throws naming what it cannot use. */
export function parseArtifacts(artifacts: { modelJson: LayersModelJson; weights: Uint8Array; metadata: ServingMetadata }): DenseModel {
  const { metadata } = artifacts;
  checkMetadata(metadata);
  const network = parseLayersModel(artifacts.modelJson, artifacts.weights);
  if (network.inputs !== metadata.featureNames.length) {
    throw new Error(`model artifacts are not usable: the network takes ${network.inputs} inputs for ${metadata.featureNames.length} features`);
  }
  return {
    featureNames: [...metadata.featureNames],
    normalization: metadata.normalization,
    network,
    calibration: metadata.calibration,
    baseline: { network: linearNetwork(metadata.baselineWeights.kernel, metadata.baselineWeights.bias), calibration: metadata.baselineCalibration },
  };
}

/**
 * Normalises encoded rows exactly as training did (models/train/normalize.ts applyNormalization:
 * z-score, clip, non-finite → 0, then float32, the precision the network was trained on and tfjs
 * predicts from), runs `net` on each, and maps each output with `then`.
 */
function predictRows(model: DenseModel, net: DenseNetwork, x: readonly (readonly number[])[], then: (p: number) => number): number[] {
  const { mean, std, clip } = model.normalization;
  const d = mean.length;
  if (net.inputs !== d) throw new RangeError(`the network takes ${net.inputs} inputs, the normalization has ${d}`);
  const [a, b] = scratch(net);
  const out = new Array<number>(x.length);
  for (let r = 0; r < x.length; r++) {
    const row = x[r];
    if (!row || row.length !== d) throw new RangeError(`row ${r} has ${row?.length ?? 0} values, the model expects ${d}`);
    for (let j = 0; j < d; j++) {
      const z = (row[j]! - mean[j]!) / std[j]!;
      a[j] = Number.isFinite(z) ? Math.fround(z > clip ? clip : z < -clip ? -clip : z) : 0;
    }
    out[r] = then(run(net, a, b));
  }
  return out;
}

const identity = (p: number): number => p;

/** The network's uncalibrated outputs for encoded rows (featureNames order). */
export function predictRaw(model: DenseModel, x: readonly (readonly number[])[]): number[] {
  return predictRows(model, model.network, x, identity);
}

/** Calibrated probabilities of the model, one per encoded row: what scoring serves. */
export function predictProbabilities(model: DenseModel, x: readonly (readonly number[])[]): number[] {
  const cal = model.calibration;
  return predictRows(model, model.network, x, (p) => calibrate(cal, p));
}

/** Calibrated probabilities of the logistic-regression baseline. */
export function predictBaselineProbabilities(model: DenseModel, x: readonly (readonly number[])[]): number[] {
  const cal = model.baseline.calibration;
  return predictRows(model, model.baseline.network, x, (p) => calibrate(cal, p));
}
