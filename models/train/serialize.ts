/**
 * A trained bundle to bytes and back, through tfjs's own in-memory handlers (no file or
 * network I/O here: whoever stores the artifacts writes `modelJson`, `weights` and `metadata`).
 *
 * `modelJson` is the standard tfjs `model.json` (topology + weightsManifest pointing at
 * `weights.bin`), so the same files also load with `tf.loadLayersModel` anywhere.
 */
import * as tf from '@tensorflow/tfjs';
import { makeBundle, type Hyperparameters, type TrainedBundle, type TrainingSummary } from './bundle';
import { isPlattCalibration, type PlattCalibration } from './calibrate';
import type { Evaluation } from './evaluate';
import type { LinearWeights } from './model';
import { isNormalization, type Normalization } from './normalize';

export const ARTIFACT_FORMAT_VERSION = 1;
export const WEIGHTS_FILE = 'weights.bin';

export interface ModelMetadata {
  formatVersion: number;
  featureNames: string[];
  normalization: Normalization;
  calibration: PlattCalibration;
  baselineWeights: LinearWeights;
  baselineCalibration: PlattCalibration;
  backend: string;
  seed: number;
  hyperparameters: Hyperparameters;
  tfjsVersion: string;
  training?: TrainingSummary;
  evaluation?: Evaluation;
}

export interface ModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export interface ModelArtifacts {
  modelJson: ModelJson;
  weights: Uint8Array;
  /** Plain JSON (JSON.stringify → JSON.parse gives it back unchanged). */
  metadata: ModelMetadata;
}

export async function toArtifacts(bundle: TrainedBundle): Promise<ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await bundle.model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved?.modelTopology || !saved.weightSpecs || saved.weightData === undefined) throw new Error('tfjs saved no topology or weights');
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(saved.weightData).slice(0));
  const metadata: ModelMetadata = {
    formatVersion: ARTIFACT_FORMAT_VERSION,
    featureNames: [...bundle.featureNames],
    normalization: bundle.normalization,
    calibration: bundle.calibration,
    baselineWeights: bundle.baseline.weights,
    baselineCalibration: bundle.baseline.calibration,
    backend: bundle.backend,
    seed: bundle.seed,
    hyperparameters: bundle.hyperparameters,
    tfjsVersion: tf.version.tfjs,
    ...(bundle.training ? { training: bundle.training } : {}),
    ...(bundle.evaluation ? { evaluation: bundle.evaluation } : {}),
  };
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null,
      modelTopology: saved.modelTopology as object,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: saved.weightSpecs }],
    },
    weights,
    // A deep copy, so that the artifacts share nothing with the live bundle.
    metadata: JSON.parse(JSON.stringify(metadata)) as ModelMetadata,
  };
}

function checkMetadata(m: ModelMetadata): void {
  const problems: string[] = [];
  if (m.formatVersion !== ARTIFACT_FORMAT_VERSION) problems.push(`format version ${String(m.formatVersion)} (expected ${ARTIFACT_FORMAT_VERSION})`);
  if (!Array.isArray(m.featureNames)) problems.push('featureNames');
  if (!isNormalization(m.normalization)) problems.push('normalization');
  else if (m.normalization.featureNames.join('\u0000') !== m.featureNames.join('\u0000')) problems.push('normalization features');
  if (!isPlattCalibration(m.calibration)) problems.push('calibration');
  if (!isPlattCalibration(m.baselineCalibration)) problems.push('baselineCalibration');
  const bw = m.baselineWeights;
  if (!bw || !Array.isArray(bw.kernel) || bw.kernel.length !== m.featureNames?.length || typeof bw.bias !== 'number') problems.push('baselineWeights');
  if (problems.length > 0) throw new Error(`model artifacts are not usable: ${problems.join(', ')}`);
}

/** Rebuilds a bundle that predicts exactly as the saved one did (on the same backend). */
export async function fromArtifacts(artifacts: ModelArtifacts): Promise<TrainedBundle> {
  const { modelJson, weights, metadata } = artifacts;
  checkMetadata(metadata);
  const specs = modelJson.weightsManifest.flatMap((group) => group.weights);
  // A fresh, exactly-sized ArrayBuffer: a Buffer from storage may be a view into a larger pool.
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData }));
  const inputSize = model.inputs[0]?.shape[1];
  if (inputSize !== metadata.featureNames.length) {
    model.dispose();
    throw new Error(`model artifacts are not usable: the network takes ${String(inputSize)} inputs for ${metadata.featureNames.length} features`);
  }
  return makeBundle({
    model,
    baseline: { weights: metadata.baselineWeights, calibration: metadata.baselineCalibration },
    normalization: metadata.normalization,
    calibration: metadata.calibration,
    featureNames: [...metadata.featureNames],
    backend: metadata.backend,
    seed: metadata.seed,
    hyperparameters: metadata.hyperparameters,
    ...(metadata.training ? { training: metadata.training } : {}),
    ...(metadata.evaluation ? { evaluation: metadata.evaluation } : {}),
  });
}
