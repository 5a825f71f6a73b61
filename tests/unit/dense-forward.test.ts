import * as tf from '@tensorflow/tfjs';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProgram } from '../../data/generator';
import { Rng } from '../../data/generator/random';
import { dealSchema, type Deal, type DealInput } from '../../data/schemas/deal';
import { eventSchema } from '../../data/schemas/event';
import { partnerSchema } from '../../data/schemas/partner';
import { servingModel, type LoadedModel, type ServingInfo } from '../../models/artifact-store';
import { forward, parseArtifacts, parseLayersModel, predictProbabilities, predictRaw, UnsupportedModelError, type LayersModelJson } from '../../models/dense-forward';
import { computePeerMedians, scoreAndExplain } from '../../models/explain';
import { buildFeatures } from '../../models/features/build-features';
import { encodeRow, fitEncoder, toDataset } from '../../models/features/encode';
import { churnSnapshots, isActiveAt, splitByTime } from '../../models/labels';
import { applyNormalization, predictMatrix, toArtifacts, trainAndEvaluate, type ModelArtifacts, type TrainedBundle } from '../../models/train';
import type { FeatureRow, PartnerHistory, Snapshot } from '../../models/types';

const END = '2025-06-30T23:59:59.999Z';
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Histories of a generated program, as the history store returns them. */
function histories(partners: number, seed: number): PartnerHistory[] {
  const program = generateProgram({ seed, partners, years: 2, end: END.slice(0, 10) });
  const byId = new Map<string, PartnerHistory>();
  for (const p of program.partners) byId.set(p.partnerId, { partner: partnerSchema.parse(p), events: [], deals: [] });
  for (const e of program.events) {
    const ev = eventSchema.parse(e);
    byId.get(ev.partnerId)?.events.push(ev);
  }
  const latest = new Map<string, Deal>();
  for (const d of program.deals as DealInput[]) {
    const v = dealSchema.parse(d);
    const prev = latest.get(v.dealId);
    if (!prev || prev.updatedAt <= v.updatedAt) latest.set(v.dealId, v);
  }
  for (const d of latest.values()) if (d.partnerId !== null) byId.get(d.partnerId)?.deals.push(d);
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  for (const h of byId.values()) {
    h.events.sort((a, b) => cmp(a.occurredAt, b.occurredAt));
    h.deals.sort((a, b) => cmp(a.createdAt, b.createdAt));
  }
  return [...byId.values()];
}

/** What storage hands back: JSON text parsed again, weight bytes as a view into a larger pooled Buffer. */
function asStored(artifacts: ModelArtifacts): ModelArtifacts {
  const pool = Buffer.alloc(artifacts.weights.byteLength + 24);
  pool.set(artifacts.weights, 12);
  return {
    modelJson: JSON.parse(JSON.stringify(artifacts.modelJson)) as ModelArtifacts['modelJson'],
    weights: pool.subarray(12, 12 + artifacts.weights.byteLength),
    metadata: JSON.parse(JSON.stringify(artifacts.metadata)) as ModelArtifacts['metadata'],
  };
}

/** A tfjs model's model.json and weights.bin, as toArtifacts saves them. */
async function saved(model: tf.LayersModel): Promise<{ modelJson: LayersModelJson; weights: Uint8Array }> {
  let out: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((out = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(out!.weightData!).slice(0));
  return { modelJson: JSON.parse(JSON.stringify({ modelTopology: out!.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: out!.weightSpecs }] })), weights };
}

let bundle: TrainedBundle;
let artifacts: ModelArtifacts;
let train: Snapshot[];
let scored: FeatureRow[];
let serving: ServingInfo;

beforeAll(async () => {
  // The churn model on a small generated program: real features, encoder and peer medians, as training-run builds them.
  const all = histories(300, 5);
  const split = splitByTime(churnSnapshots(all, END, { horizonDays: 90 }), { model: 'churn', horizonDays: 90 });
  train = [...split.train].sort((a, b) => (a.asOf < b.asOf ? -1 : a.asOf > b.asOf ? 1 : 0));
  const encoder = fitEncoder(train);
  bundle = await trainAndEvaluate({ train: toDataset(encoder, train), holdout: toDataset(encoder, split.holdout), seed: 3, hyperparameters: { epochs: 4 } });
  artifacts = asStored(await toArtifacts(bundle));
  serving = { model: 'churn', version: 'test', asOf: END, horizonDays: 90, encoder, peerMedians: computePeerMedians(train) };
  scored = all.filter((h) => isActiveAt(h.partner, END)).slice(0, 40).map((h) => buildFeatures(h, END));
});

afterAll(() => bundle?.dispose());

describe('the plain-JS forward pass of a trained model', () => {
  it('reads the saved artifacts: Dense relu → Dense sigmoid, float32 weights as tfjs holds them', () => {
    const dense = parseArtifacts(artifacts);
    const layers = dense.network.layers;
    expect(layers.map((l) => [l.name, l.inputs, l.units, l.activation])).toEqual([
      ['hidden', bundle.featureNames.length, bundle.hyperparameters.hidden, 'relu'],
      ['output', bundle.hyperparameters.hidden, 1, 'sigmoid'],
    ]);
    const tfWeights = bundle.model.getWeights().map((t) => Array.from(t.dataSync()));
    expect([Array.from(layers[0]!.weights), Array.from(layers[0]!.bias), Array.from(layers[1]!.weights), Array.from(layers[1]!.bias)]).toEqual(tfWeights);
    expect(dense.calibration).toEqual(bundle.calibration);
    expect(dense.normalization).toEqual(bundle.normalization);
  });

  it('equals tfjs predict to 1e-6 on many random rows: raw output and calibrated probability', () => {
    const dense = parseArtifacts(artifacts);
    const rng = new Rng(17);
    const { mean, std } = bundle.normalization;
    const d = mean.length;
    // Rows spread as the training rows are (further out, see the next test), some with values
    // that are not numbers (→ 0) or far outside the training range (clipped), and zero rows.
    const rows = Array.from({ length: 3000 }, (_, r) =>
      Array.from({ length: d }, (_, j) => {
        if (r % 10 === 9 && j % 5 === 0) return [Number.NaN, Number.POSITIVE_INFINITY, -1e12, 1e12][j % 4]!;
        if (r % 7 === 3) return 0;
        return mean[j]! + std[j]! * rng.normal(0, 1);
      }),
    );
    const rawTf = bundle.predictRaw(rows);
    const rawJs = predictRaw(dense, rows);
    expect(maxAbs(rawJs, rawTf)).toBeLessThanOrEqual(1e-6);
    const pTf = bundle.predict(rows);
    const pJs = predictProbabilities(dense, rows);
    expect(maxAbs(pJs, pTf)).toBeLessThanOrEqual(1e-6);
    // Not a trivial agreement: the probabilities spread.
    expect(Math.max(...pJs) - Math.min(...pJs)).toBeGreaterThan(0.05);
    // forward() on the normalised matrix is the network alone, as tfjs runs it.
    const matrix = applyNormalization(dense.normalization, rows);
    expect(maxAbs(forward(dense.network, matrix), predictMatrix(bundle.model, matrix, d))).toBeLessThanOrEqual(1e-6);
  });

  it('far outside the training rows, differs from tfjs only as float32 arithmetic allows', () => {
    // Rows 6 standard deviations out: large inputs make tfjs's float32 sums lose ~1e-6 of the
    // raw output, and push it towards 1, where float32 steps by 6e-8 and calibration reads 1 − p
    // through a logit, so the calibrated probability moves by up to ~1e-4 there. The float64 pass
    // is the exact one; the check is that every calibrated difference is explained by the raw one.
    const dense = parseArtifacts(artifacts);
    const rng = new Rng(23);
    const { mean, std } = bundle.normalization;
    const rows = Array.from({ length: 1000 }, () => mean.map((m, j) => m + std[j]! * rng.normal(0, 6)));
    const rawTf = bundle.predictRaw(rows);
    const rawJs = predictRaw(dense, rows);
    expect(maxAbs(rawJs, rawTf)).toBeLessThanOrEqual(1e-5);
    const pTf = bundle.predict(rows);
    const pJs = predictProbabilities(dense, rows);
    const { a } = dense.calibration;
    let saturated = 0;
    rows.forEach((_, i) => {
      const raw = rawJs[i]!;
      const q = Math.min(raw, 1 - raw);
      if (q < 1e-3) saturated++;
      // ∂calibrated/∂raw (clipped as calibrate clips), times the raw difference plus two float32 steps of tfjs's output.
      const step = raw > 0.5 ? 2 ** -24 : raw * 2 ** -23;
      const slope = (a * pJs[i]! * (1 - pJs[i]!)) / Math.max(q * (1 - q), 1e-7 * (1 - 1e-7));
      expect(Math.abs(pJs[i]! - pTf[i]!)).toBeLessThanOrEqual(1e-6 + 2 * slope * (Math.abs(raw - rawTf[i]!) + 2 * step));
    });
    expect(saturated).toBeGreaterThan(10);
  });

  it('gives the baseline exactly as training computed it', () => {
    const model = servingModel(parseArtifacts(artifacts), serving);
    const x = train.slice(0, 500).map((r) => encodeRow(serving.encoder, r));
    expect(model.predictBaseline(x)).toEqual(bundle.predictBaseline(x));
    expect(model.predict([])).toEqual([]);
    expect(() => model.predict([x[0]!.slice(1)])).toThrow(/row 0 has \d+ values, the model expects \d+/);
  });

  it('scores a partner with the same probability and drivers as tfjs did, within 1e-6', () => {
    const viaJs: LoadedModel = servingModel(parseArtifacts(artifacts), serving);
    // The serving path before: the same artifacts, predicted by tfjs.
    const viaTf: LoadedModel = { ...viaJs, predict: (x) => bundle.predict(x.map((r) => [...r])) };
    const js = scoreAndExplain(viaJs, scored);
    const tfjs = scoreAndExplain(viaTf, scored);
    expect(scored.length).toBeGreaterThanOrEqual(20);
    let drivers = 0;
    js.forEach((a, n) => {
      const b = tfjs[n]!;
      expect(Math.abs(a.probability - b.probability)).toBeLessThanOrEqual(1e-6);
      // Effects are rounded to 1e-4 and cut below 5e-4: a 1e-7 difference flips neither unless it sits on a boundary.
      expect(a.drivers.map((d) => d.feature)).toEqual(b.drivers.map((d) => d.feature));
      a.drivers.forEach((d, k) => {
        expect(Math.abs(d.effect - b.drivers[k]!.effect)).toBeLessThanOrEqual(1e-6);
        expect({ ...d, effect: 0 }).toEqual({ ...b.drivers[k]!, effect: 0 });
      });
      drivers += a.drivers.length;
    });
    expect(drivers).toBeGreaterThan(scored.length);
  });
});

describe('other Dense topologies', () => {
  it('runs tanh, linear, relu and sigmoid layers, with and without bias, as tfjs does', async () => {
    const model = tf.sequential({ name: 'deep' });
    model.add(tf.layers.dense({ name: 'a', inputShape: [6], units: 5, activation: 'tanh', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }), biasInitializer: tf.initializers.randomNormal({ seed: 2 }) }));
    model.add(tf.layers.dense({ name: 'b', units: 4, useBias: false, kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }));
    model.add(tf.layers.dense({ name: 'c', units: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }), biasInitializer: tf.initializers.randomNormal({ seed: 5 }) }));
    model.add(tf.layers.dense({ name: 'd', units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotNormal({ seed: 6 }) }));
    try {
      const { modelJson, weights } = await saved(model);
      const net = parseLayersModel(modelJson, weights);
      expect(net.layers.map((l) => l.activation)).toEqual(['tanh', 'linear', 'relu', 'sigmoid']);
      const rng = new Rng(9);
      const flat = Float32Array.from({ length: 6 * 2000 }, () => rng.normal(0, 2));
      const expected = tf.tidy(() => (model.predict(tf.tensor2d(flat, [2000, 6])) as tf.Tensor).dataSync());
      expect(maxAbs(forward(net, flat), expected)).toBeLessThanOrEqual(1e-6);
      const rows = Array.from({ length: 2000 }, (_, r) => Array.from(flat.subarray(r * 6, r * 6 + 6)));
      expect(Array.from(forward(net, rows))).toEqual(Array.from(forward(net, flat)));
    } finally {
      model.dispose();
    }
  });
});

describe('models it cannot run', () => {
  const edited = (edit: (topology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } & Record<string, unknown>) => void): LayersModelJson => {
    const json = JSON.parse(JSON.stringify(artifacts.modelJson)) as LayersModelJson & { modelTopology: Parameters<typeof edit>[0] };
    edit(json.modelTopology);
    return json;
  };

  it('names an unknown activation', () => {
    const json = edited((t) => void (t.config.layers[0]!.config.activation = 'elu'));
    expect(() => parseLayersModel(json, artifacts.weights)).toThrow(UnsupportedModelError);
    expect(() => parseLayersModel(json, artifacts.weights)).toThrow("cannot serve this model: layer 'hidden' has activation 'elu' (supported: relu, sigmoid, linear, tanh)");
    expect(() => parseArtifacts({ ...artifacts, modelJson: json as ModelArtifacts['modelJson'] })).toThrow(/activation 'elu'/);
  });

  it('names an unknown layer, a non-Sequential topology, and weights it cannot read', () => {
    expect(() => parseLayersModel(edited((t) => void (t.config.layers[1]!.class_name = 'BatchNormalization')), artifacts.weights)).toThrow(
      "cannot serve this model: layer 'output' is a BatchNormalization (only Dense layers are supported)",
    );
    expect(() => parseLayersModel(edited((t) => void (t.class_name = 'Model')), artifacts.weights)).toThrow(/topology class 'Model'/);
    expect(() => parseLayersModel(artifacts.modelJson, artifacts.weights.subarray(0, artifacts.weights.byteLength - 4))).toThrow(/too few for weight 'output\/bias'/);
    const f16 = JSON.parse(JSON.stringify(artifacts.modelJson)) as LayersModelJson;
    f16.weightsManifest[0]!.weights[0]!.dtype = 'float16';
    expect(() => parseLayersModel(f16, artifacts.weights)).toThrow(/weight 'hidden\/kernel' has dtype 'float16'/);
    expect(() => parseArtifacts({ ...artifacts, metadata: { ...artifacts.metadata, featureNames: artifacts.metadata.featureNames.slice(1) } })).toThrow(/not usable/);
  });
});

describe('the serving module graph', () => {
  /** Modules each entry loads when it is imported (static imports only; dynamic import() edges are listed apart). */
  async function staticGraphs(entries: string[]): Promise<Map<string, { loaded: string[]; lazy: string[] }>> {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const result = await build({ entryPoints: entries, absWorkingDir: root, bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent', outdir: 'out' });
    const inputs = result.metafile.inputs;
    const graphs = new Map<string, { loaded: string[]; lazy: string[] }>();
    for (const entry of entries) {
      const loaded = new Set([entry]);
      const lazy = new Set<string>();
      const stack = [entry];
      while (stack.length > 0) {
        for (const edge of inputs[stack.pop()!]?.imports ?? []) {
          if (edge.kind === 'dynamic-import') lazy.add(edge.path);
          else if (!loaded.has(edge.path) && inputs[edge.path]) {
            loaded.add(edge.path);
            stack.push(edge.path);
          }
        }
      }
      graphs.set(entry, { loaded: [...loaded], lazy: [...lazy] });
    }
    return graphs;
  }

  it('the API handler and the job runner load no @tensorflow module; training loads it lazily', async () => {
    const graphs = await staticGraphs(['functions/api-handler.ts', 'functions/jobs/run-job.ts']);
    const api = graphs.get('functions/api-handler.ts')!;
    expect(api.loaded).toContain('models/dense-forward.ts');
    expect(api.loaded).toContain('models/artifact-store.ts');
    expect(api.loaded.filter((m) => m.includes('@tensorflow'))).toEqual([]);
    const jobs = graphs.get('functions/jobs/run-job.ts')!;
    expect(jobs.loaded).toContain('models/scoring-run.ts');
    expect(jobs.loaded.filter((m) => m.includes('@tensorflow') || m.startsWith('models/train/pipeline'))).toEqual([]);
    expect(jobs.lazy).toContain('models/training-run.ts');
  });
});
