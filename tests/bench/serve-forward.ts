/**
 * (c) of the serving benchmark: in-process scoring of one partner's feature vector with the
 * churn champion as the service loads it (loadModel → TrainedBundle.predict), next to a
 * hand-written JavaScript forward pass of the same artifacts: z-score normalization with its
 * clip (metadata.json), dense → relu, dense → sigmoid (weights from model.getWeights()), Platt
 * calibration (metadata.json). Both must give the same probability to 1e-6.
 */
import type { ServiceDeps } from '../../functions/deps';
import { loadModel, type LoadedModel } from '../../models/artifact-store';
import { scoreAndExplain } from '../../models/explain';
import { buildFeatures } from '../../models/features/build-features';
import { encodeRow } from '../../models/features/encode';
import { currentChampion } from '../../models/registry';
import type { ModelMetadata } from '../../models/train/serialize';
import type { PartnerHistory } from '../../models/types';

export interface Forward {
  (x: readonly number[]): number;
}

/** The network as plain arrays, and a forward pass over them (float32 weights, float64 arithmetic). */
export function handWritten(loaded: LoadedModel, metadata: ModelMetadata): Forward {
  const layers = loaded.bundle.model.layers;
  const activations = layers.map((l) => (l.getConfig() as { activation?: string }).activation);
  if (layers.length !== 2 || activations[0] !== 'relu' || activations[1] !== 'sigmoid') {
    throw new Error(`expected dense(relu) → dense(sigmoid), got ${layers.map((l, i) => `${l.getClassName()}(${activations[i]})`).join(' → ')}`);
  }
  const [k1, b1, k2, b2] = loaded.bundle.model.getWeights().map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
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

/**
 * Microseconds per call of `fn`: the best of `rounds` rounds of `perRound` calls, after a
 * warm-up round (the minimum is the least disturbed by whatever else the machine runs).
 */
function microsPerCall(fn: () => number, perRound: number, rounds = 9): number {
  let sink = 0;
  for (let i = 0; i < perRound; i++) sink += fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < perRound; i++) sink += fn();
    samples.push(((performance.now() - started) * 1000) / perRound);
  }
  if (Number.isNaN(sink)) throw new Error('a prediction was NaN');
  return Math.min(...samples);
}

export interface ForwardFigures {
  modelVersion: string;
  backend: string;
  inputs: number;
  hidden: number;
  predictMicros: number;
  handMicros: number;
  probability: number;
  handProbability: number;
  maxDifference: number;
  /** scoreAndExplain for one partner (one batched predict of the row and its peer-median variants). */
  explainMicros: number;
  explainRows: number;
  /** predict over that batch, and the hand-written pass over the same rows. */
  batchPredictMicros: number;
  batchHandMicros: number;
}

export async function measureForward(deps: ServiceDeps, sample: PartnerHistory, asOf: string, backend: string): Promise<ForwardFigures> {
  const champion = await currentChampion(deps.models, 'churn');
  if (!champion) throw new Error('no churn champion');
  const loaded = await loadModel(deps.objects, champion.artifactPrefix);
  try {
    const metadataText = await deps.objects.getText(`${champion.artifactPrefix}metadata.json`);
    if (!metadataText) throw new Error('no metadata.json');
    const forward = handWritten(loaded, JSON.parse(metadataText) as ModelMetadata);
    const row = buildFeatures(sample, asOf);
    const x = encodeRow(loaded.serving.encoder, row);

    // The same probability, on this row and on the peer-median variants scoreAndExplain builds.
    const variants = [x, ...row.values.map((_, i) => encodeRow(loaded.serving.encoder, { ...row, values: row.values.map((v, j) => (j === i ? v + 1 : v)) }))];
    const viaTf = loaded.bundle.predict(variants);
    const viaHand = variants.map(forward);
    const maxDifference = Math.max(...viaTf.map((p, i) => Math.abs(p - viaHand[i]!)));
    if (!(maxDifference <= 1e-6)) throw new Error(`hand-written forward pass differs from predict by ${maxDifference}`);

    const explainRows = 1 + row.values.filter((v, i) => {
      const median = (loaded.serving.peerMedians[row.categories.tier] ?? loaded.serving.peerMedians['*'] ?? [])[i];
      return median !== undefined && median !== v;
    }).length;
    const batch = variants.slice(0, explainRows);
    const predictMicros = microsPerCall(() => loaded.bundle.predict([x])[0]!, 2_000);
    const handMicros = microsPerCall(() => forward(x), 50_000);
    const explainMicros = microsPerCall(() => scoreAndExplain(loaded, [row])[0]!.probability, 500);
    const batchPredictMicros = microsPerCall(() => loaded.bundle.predict(batch)[0]!, 500);
    const batchHandMicros = microsPerCall(() => {
      let p = 0;
      for (const v of batch) p = forward(v);
      return p;
    }, 1_000);
    return {
      modelVersion: champion.version,
      backend,
      inputs: x.length,
      hidden: loaded.bundle.model.getWeights()[0]!.shape[1]!,
      predictMicros,
      handMicros,
      probability: viaTf[0]!,
      handProbability: viaHand[0]!,
      maxDifference,
      explainMicros,
      explainRows,
      batchPredictMicros,
      batchHandMicros,
    };
  } finally {
    loaded.bundle.dispose();
  }
}
