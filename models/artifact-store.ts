import { NotFoundError } from '../data/errors';
import type { ObjectStore } from '../data/stores/object-store';
import type { Encoder } from './features/encode';
import { fromArtifacts, toArtifacts, type ModelArtifacts } from './train/serialize';
import type { TrainedBundle } from './train/bundle';
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

export interface LoadedModel {
  bundle: TrainedBundle;
  serving: ServingInfo;
}

export const artifactPrefix = (model: string, version: string): string => `models/${model}/${version}/`;

/** Topology, weights, training metadata and serving info, written under models/<model>/<version>/. */
export async function saveModel(objects: ObjectStore, bundle: TrainedBundle, serving: ServingInfo): Promise<string> {
  const prefix = artifactPrefix(serving.model, serving.version);
  const artifacts = await toArtifacts(bundle);
  await objects.putBytes(`${prefix}weights.bin`, artifacts.weights);
  await objects.putText(`${prefix}metadata.json`, JSON.stringify(artifacts.metadata), 'application/json');
  await objects.putText(`${prefix}serving.json`, JSON.stringify(serving), 'application/json');
  // model.json last: a version's artifacts are complete once it exists.
  await objects.putText(`${prefix}model.json`, JSON.stringify(artifacts.modelJson), 'application/json');
  return prefix;
}

export async function loadModel(objects: ObjectStore, prefix: string): Promise<LoadedModel> {
  const [modelJson, weights, metadata, serving] = await Promise.all([
    objects.getText(`${prefix}model.json`),
    objects.getBytes(`${prefix}weights.bin`),
    objects.getText(`${prefix}metadata.json`),
    objects.getText(`${prefix}serving.json`),
  ]);
  if (!modelJson || !weights || !metadata || !serving) throw new NotFoundError(`The model artifacts under ${prefix} are incomplete.`);
  const artifacts: ModelArtifacts = { modelJson: JSON.parse(modelJson) as ModelArtifacts['modelJson'], weights, metadata: JSON.parse(metadata) as ModelArtifacts['metadata'] };
  return { bundle: await fromArtifacts(artifacts), serving: JSON.parse(serving) as ServingInfo };
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
