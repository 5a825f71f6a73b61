/**
 * (c) of the serving benchmark: in-process scoring of one partner's feature vector with the
 * churn champion as the service loads it (loadModel → LoadedModel.predict: the plain-JS forward
 * pass of models/dense-forward.ts, which scoreAndExplain calls), next to an independent
 * hand-written JavaScript forward pass of the same version: z-score normalization with its clip
 * and Platt calibration read from metadata.json, dense → relu, dense → sigmoid with the weights
 * as tfjs itself loads them (model.getWeights() of fromArtifacts, not the service's parser).
 * tfjs predict on the same rows (what the service ran before) is timed as information. All three
 * must give the same probability to 1e-6.
 */
import type { ServiceDeps } from '../../functions/deps';
import { loadModel, readArtifacts, type LoadedModel } from '../../models/artifact-store';
import { scoreAndExplain } from '../../models/explain';
import { buildFeatures } from '../../models/features/build-features';
import { encodeRow } from '../../models/features/encode';
import { currentChampion } from '../../models/registry';
import type { TrainedBundle } from '../../models/train/bundle';
import { fromArtifacts, type ModelMetadata } from '../../models/train/serialize';
import type { PartnerHistory } from '../../models/types';

export interface Forward {
  (x: readonly number[]): number;
}

/** The network as plain arrays, and a forward pass over them (float32 weights, float64 arithmetic). */
export function handWritten(tfModel: TrainedBundle, metadata: ModelMetadata): Forward {
  const layers = tfModel.model.layers;
  const activations = layers.map((l) => (l.getConfig() as { activation?: string }).activation);
  if (layers.length !== 2 || activations[0] !== 'relu' || activations[1] !== 'sigmoid') {
    throw new Error(`expected dense(relu) → dense(sigmoid), got ${layers.map((l, i) => `${l.getClassName()}(${activations[i]})`).join(' → ')}`);
  }
  const [k1, b1, k2, b2] = tfModel.model.getWeights().map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
  if (!k1 || !b1 || !k2 || !b2) throw new Error('expected four weight tensors');
  const d = k1.shape[0]!;
  const h = k1.shape[1]!;
  const w1 = Float64Array.from(k1.values);
  const bias1 = Float64Array.from(b1.values);
  const w2 = Float64Array.from(k2.values);
  const bias2 = b2.values[0]!;
  const { mean, std, clip } = metadata.normalization;
  const { a, b } = metadata.calibration;
  const m = Float64Array.from(mean);
  const s = Float64Array.from(std);
  const z = new Float64Array(d);
  const hidden = new Float64Array(h);
  const EPS = 1e-7;
  return (x) => {
    if (x.length !== d) throw new Error(`expected ${d} values, got ${x.length}`);
    for (let j = 0; j < d; j++) {
      const v = (x[j]! - m[j]!) / s[j]!;
      // The service normalises into a Float32Array: the network sees float32 inputs.
      z[j] = Number.isFinite(v) ? Math.fround(v > clip ? clip : v < -clip ? -clip : v) : 0;
    }
    hidden.set(bias1);
    for (let j = 0; j < d; j++) {
      const zj = z[j]!;
      if (zj === 0) continue;
      const row = j * h;
      for (let k = 0; k < h; k++) hidden[k] = hidden[k]! + zj * w1[row + k]!;
    }
    let out = bias2;
    for (let k = 0; k < h; k++) {
      const v = hidden[k]!;
      if (v > 0) out += v * w2[k]!;
    }
    const raw = 1 / (1 + Math.exp(-out));
    const q = raw < EPS ? EPS : raw > 1 - EPS ? 1 - EPS : raw;
    const t = a * Math.log(q / (1 - q)) + b;
    return t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
  };
}

/** Calls a round of each measurement makes (best of ROUNDS rounds, after one warm-up round). */
export const FORWARD_CALLS = { predict: 50_000, hand: 50_000, tfjs: 2_000, explain: 2_000, batchPredict: 5_000, batchHand: 5_000, batchTfjs: 500 } as const;
const ROUNDS = 9;

/**
 * Microseconds per call of `fn`: the best of `rounds` rounds of `perRound` calls, after a
 * warm-up round. Each round counts this process's CPU time, not wall time: the calls are
 * synchronous, so the two agree on an idle machine, and on a shared one CPU time leaves out the
 * time other processes held the core (the minimum over rounds drops what remains).
 */
function microsPerCall(fn: () => number, perRound: number, rounds = ROUNDS): number {
  let sink = 0;
  for (let i = 0; i < perRound; i++) sink += fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = process.cpuUsage();
    for (let i = 0; i < perRound; i++) sink += fn();
    const used = process.cpuUsage(started);
    samples.push((used.user + used.system) / perRound);
  }
  if (Number.isNaN(sink)) throw new Error('a prediction was NaN');
  return Math.min(...samples);
}

export interface ForwardFigures {
  modelVersion: string;
  /** The tfjs backend of the info line (training's; serving runs no tfjs). */
  backend: string;
  inputs: number;
  hidden: number;
  /** The product's predict entry point (LoadedModel.predict) on one row. */
  predictMicros: number;
  handMicros: number;
  /** tfjs predict of the same version on one row (information: what serving ran before). */
  tfjsMicros: number;
  probability: number;
  handProbability: number;
  tfjsProbability: number;
  /** Largest |product − hand-written| and |product − tfjs| over the row and its variants. */
  maxDifference: number;
  maxTfjsDifference: number;
  /** scoreAndExplain for one partner (one batched predict of the row and its peer-median variants). */
  explainMicros: number;
  explainRows: number;
  /** The product's predict over that batch, the hand-written pass over the same rows, and tfjs predict of them. */
  batchPredictMicros: number;
  batchHandMicros: number;
  batchTfjsMicros: number;
}

/** The setup line of (c), with the call counts this module used. */
export function forwardSetup(f: ForwardFigures): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  return (
    `(c) churn champion ${f.modelVersion} loaded with loadModel (the service's plain-JS forward pass, no tfjs); one partner's buildFeatures + encodeRow vector (${f.inputs} values, ${f.hidden} hidden units). ` +
    `The hand-written pass and the tfjs info figures use the same version rebuilt with tfjs (fromArtifacts, ${f.backend} backend). ` +
    `Best of ${ROUNDS} rounds each, in CPU time of the process (${n(FORWARD_CALLS.predict)} calls a round for predict and the hand-written pass, ${n(FORWARD_CALLS.tfjs)} for tfjs).`
  );
}

export async function measureForward(deps: ServiceDeps, sample: PartnerHistory, asOf: string, backend: string): Promise<ForwardFigures> {
  const champion = await currentChampion(deps.models, 'churn');
  if (!champion) throw new Error('no churn champion');
  const loaded: LoadedModel = await loadModel(deps.objects, champion.artifactPrefix);
  const { artifacts } = await readArtifacts(deps.objects, champion.artifactPrefix);
  const tfModel = await fromArtifacts(artifacts);
  try {
    const forward = handWritten(tfModel, artifacts.metadata);
    const row = buildFeatures(sample, asOf);
    const x = encodeRow(loaded.serving.encoder, row);

    // The same probability, on this row and on variants like the peer-median ones scoreAndExplain builds.
    const variants = [x, ...row.values.map((_, i) => encodeRow(loaded.serving.encoder, { ...row, values: row.values.map((v, j) => (j === i ? v + 1 : v)) }))];
    const viaProduct = loaded.predict(variants);
    const viaHand = variants.map(forward);
    const viaTf = tfModel.predict(variants);
    const maxDifference = Math.max(...viaProduct.map((p, i) => Math.abs(p - viaHand[i]!)));
    const maxTfjsDifference = Math.max(...viaProduct.map((p, i) => Math.abs(p - viaTf[i]!)));
    if (!(maxDifference <= 1e-6)) throw new Error(`hand-written forward pass differs from predict by ${maxDifference}`);
    if (!(maxTfjsDifference <= 1e-6)) throw new Error(`tfjs predict differs from the service's predict by ${maxTfjsDifference}`);

    const explainRows = 1 + row.values.filter((v, i) => {
      const median = (loaded.serving.peerMedians[row.categories.tier] ?? loaded.serving.peerMedians['*'] ?? [])[i];
      return median !== undefined && median !== v;
    }).length;
    const batch = variants.slice(0, explainRows);
    const predictMicros = microsPerCall(() => loaded.predict([x])[0]!, FORWARD_CALLS.predict);
    const handMicros = microsPerCall(() => forward(x), FORWARD_CALLS.hand);
    const tfjsMicros = microsPerCall(() => tfModel.predict([x])[0]!, FORWARD_CALLS.tfjs);
    const explainMicros = microsPerCall(() => scoreAndExplain(loaded, [row])[0]!.probability, FORWARD_CALLS.explain);
    const batchPredictMicros = microsPerCall(() => loaded.predict(batch)[0]!, FORWARD_CALLS.batchPredict);
    const batchHandMicros = microsPerCall(() => {
      let p = 0;
      for (const v of batch) p = forward(v);
      return p;
    }, FORWARD_CALLS.batchHand);
    const batchTfjsMicros = microsPerCall(() => tfModel.predict(batch)[0]!, FORWARD_CALLS.batchTfjs);
    return {
      modelVersion: champion.version,
      backend,
      inputs: x.length,
      hidden: loaded.dense.network.layers[0]!.units,
      predictMicros,
      handMicros,
      tfjsMicros,
      probability: viaProduct[0]!,
      handProbability: viaHand[0]!,
      tfjsProbability: viaTf[0]!,
      maxDifference,
      maxTfjsDifference,
      explainMicros,
      explainRows,
      batchPredictMicros,
      batchHandMicros,
      batchTfjsMicros,
    };
  } finally {
    tfModel.dispose();
  }
}
