/**
 * Training benchmark at the real size: ~3,000 partners × 24 monthly snapshots ≈ 100,000
 * training rows × 80 features (+ a 25,000-row holdout). Prints the time and the peak RSS of
 * one trainAndEvaluate run (model + baseline + calibration + evaluation).
 *
 *   node --import tsx tests/bench/train-bench.ts [--rows 125000] [--features 80] [--backend wasm|cpu|tensorflow]
 */
import { parseArgs } from 'node:util';
import { trainAndEvaluate } from '../../models/train';
import type { BackendName } from '../../models/backend';
import { syntheticDatasets } from '../helpers/synthetic-dataset';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '125000' },
    features: { type: 'string', default: '80' },
    backend: { type: 'string' },
    seed: { type: 'string', default: '42' },
  },
});
const rows = Number(values.rows);
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

const t0 = performance.now();
const { train, holdout } = syntheticDatasets({ rows, features: Number(values.features), trainShare: 0.8 });
const generated = performance.now();
const rssBefore = process.memoryUsage().rss;
console.log(`data: ${train.x.length} training + ${holdout.x.length} holdout rows × ${train.featureNames.length} features in ${((generated - t0) / 1000).toFixed(1)} s; RSS ${mb(rssBefore)}`);

const bundle = await trainAndEvaluate({
  train,
  holdout,
  seed: Number(values.seed),
  backend: values.backend as BackendName | undefined,
  log: (line) => console.log(line),
});
const seconds = (performance.now() - generated) / 1000;
const peak = process.resourceUsage().maxRSS * 1024;
console.log(
  `trainAndEvaluate: ${seconds.toFixed(1)} s on ${bundle.backend}; epochs model ${bundle.epochs.model}, baseline ${bundle.epochs.baseline}; ` +
    `peak RSS ${mb(peak)} (before training ${mb(rssBefore)}, of which the input number[][] is most)`,
);
const p0 = performance.now();
bundle.predict(holdout.x);
console.log(`predict ${holdout.x.length} rows: ${(performance.now() - p0).toFixed(0)} ms`);
