/**
 * The training core alone at the real size: ~3,000 partners × 24 monthly snapshots ≈ 100,000
 * training rows × 80 features (+ a 25,000-row holdout), synthetic (tests/helpers). Prints the
 * wall and CPU time and the peak RSS of one trainAndEvaluate run (leakage guard, model,
 * baseline, calibration, holdout evaluation). The end-to-end benchmark is train-bench.ts.
 *
 *   node --import tsx tests/bench/tfjs-core-bench.ts [--rows 125000] [--features 80] [--backend wasm|cpu|tensorflow] [--seed 42]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { BackendName } from '../../models/backend';
import { trainAndEvaluate } from '../../models/train';
import { syntheticDatasets } from '../helpers/synthetic-dataset';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '125000' },
    features: { type: 'string', default: '80' },
    backend: { type: 'string' },
    seed: { type: 'string', default: '42' },
  },
});
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

const t0 = performance.now();
const { train, holdout } = syntheticDatasets({ rows: Number(values.rows), features: Number(values.features), trainShare: 0.8 });
const generated = performance.now();
const rssBefore = process.memoryUsage().rss;
const cpuBefore = process.cpuUsage();
console.log(
  `data: ${train.x.length} training + ${holdout.x.length} holdout rows × ${train.featureNames.length} features in ` +
    `${((generated - t0) / 1000).toFixed(1)} s; RSS ${mb(rssBefore)}; load average ${loadavg()[0]!.toFixed(1)} on 2 cores`,
);

const bundle = await trainAndEvaluate({
  train,
  holdout,
  seed: Number(values.seed),
  backend: values.backend as BackendName | undefined,
  log: (line) => console.log(line),
});
const seconds = (performance.now() - generated) / 1000;
const cpu = process.cpuUsage(cpuBefore);
console.log(
  `trainAndEvaluate: ${seconds.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU on ${bundle.backend}; ` +
    `epochs model ${bundle.epochs.model}, baseline ${bundle.epochs.baseline}; peak RSS ${mb(process.resourceUsage().maxRSS * 1024)} ` +
    `(${mb(rssBefore)} before training, mostly the input rows); load average ${loadavg()[0]!.toFixed(1)}`,
);
const p0 = performance.now();
bundle.predict(holdout.x);
console.log(`predict ${holdout.x.length} rows: ${(performance.now() - p0).toFixed(0)} ms`);
bundle.dispose();
