import { NotFoundError } from '../data/errors';
import type { ObjectStore } from '../data/stores/object-store';
import { parseArtifacts, predictBaselineProbabilities, predictProbabilities, predictRaw, type DenseModel } from './dense-forward';
import type { Encoder } from './features/encode';
// Types only: this module (the serving path) must not load TensorFlow.js.
import type { ModelArtifacts } from './train/serialize';
import type { ModelName } from './types';

/** What scoring needs beyond the network: how rows were encoded and what "peers" look like. */
export interface ServingInfo {
  model: ModelName;
  version: string;
  asOf: string;
  horizonDays?: number;
  encoder: Encoder;
  /** Median of each numeric feature among training rows, per tier and overall ('*'): the reference of score drivers. */
  peerMedians: Record<string, number[]>;
}

/** A model version as serving runs it: plain-JS forward pass (models/dense-forward.ts), no TensorFlow.js. */
export interface LoadedModel {
  dense: DenseModel;
  serving: ServingInfo;
  /** Calibrated probabilities, one per encoded row (rows in the model's featureNames order). */
  predict(x: readonly (readonly number[])[]): number[];
  /** Calibrated probabilities of the logistic-regression baseline saved with the version. */
  predictBaseline(x: readonly (readonly number[])[]): number[];
  /** Uncalibrated network outputs (for diagnostics). */
  predictRaw(x: readonly (readonly number[])[]): number[];
}

export const artifactPrefix = (model: string, version: string): string => `models/${model}/${version}/`;

/**
 * Topology, weights, training metadata and serving info, written under models/<model>/<version>/.
 * The artifacts come from the training side (`toArtifacts` of models/train/serialize.ts, which
 * needs tfjs), so that this module stays free of it.
 */
export async function saveModel(objects: ObjectStore, artifacts: ModelArtifacts, serving: ServingInfo): Promise<string> {
  const prefix = artifactPrefix(serving.model, serving.version);
  await objects.putBytes(`${prefix}weights.bin`, artifacts.weights);
  await objects.putText(`${prefix}metadata.json`, JSON.stringify(artifacts.metadata), 'application/json');
  await objects.putText(`${prefix}serving.json`, JSON.stringify(serving), 'application/json');
  // model.json last: a version's artifacts are complete once it exists.
  await objects.putText(`${prefix}model.json`, JSON.stringify(artifacts.modelJson), 'application/json');
  return prefix;
}

/** A version's files as saved (for tools and tests that rebuild the tfjs model with `fromArtifacts`). */
export async function readArtifacts(objects: ObjectStore, prefix: string): Promise<{ artifacts: ModelArtifacts; serving: ServingInfo }> {
  const [modelJson, weights, metadata, serving] = await Promise.all([
    objects.getText(`${prefix}model.json`),
    objects.getBytes(`${prefix}weights.bin`),
    objects.getText(`${prefix}metadata.json`),
    objects.getText(`${prefix}serving.json`),
  ]);
  if (!modelJson || !weights || !metadata || !serving) throw new NotFoundError(`The model artifacts under ${prefix} are incomplete.`);
  return {
    artifacts: { modelJson: JSON.parse(modelJson) as ModelArtifacts['modelJson'], weights, metadata: JSON.parse(metadata) as ModelArtifacts['metadata'] },
    serving: JSON.parse(serving) as ServingInfo,
  };
}

/** Wraps a parsed model with the predict functions scoring calls. */
export function servingModel(dense: DenseModel, serving: ServingInfo): LoadedModel {
  return {
    dense,
    serving,
    predict: (x) => predictProbabilities(dense, x),
    predictBaseline: (x) => predictBaselineProbabilities(dense, x),
    predictRaw: (x) => predictRaw(dense, x),
  };
}

export async function loadModel(objects: ObjectStore, prefix: string): Promise<LoadedModel> {
  const { artifacts, serving } = await readArtifacts(objects, prefix);
  return servingModel(parseArtifacts(artifacts), serving);
}

/** Loaded versions, kept per process: a version's artifacts never change once written. */
export class ModelCache {
  private readonly loaded = new Map<string, Promise<LoadedModel>>();

  constructor(private readonly objects: ObjectStore) {}

  get(prefix: string): Promise<LoadedModel> {
    let entry = this.loaded.get(prefix);
    if (!entry) {
      entry = loadModel(this.objects, prefix);
      entry.catch(() => this.loaded.delete(prefix));
      this.loaded.set(prefix, entry);
    }
    return entry;
  }
}
