/**
 * One training run of the training benchmark, in its own process so that its peak RSS is its
 * own: reads the histories file, runs the real orchestration (`trainModelVersion`: snapshots →
 * time split → encoder → model + baseline + calibration → holdout evaluation → artifacts →
 * registry) with the registry in memory and the artifacts in a directory, and writes a JSON
 * result with the phase times (from the orchestration's own progress and log lines) and the
 * peak RSS (VmHWM, the kernel's high-water mark of this process).
 *
 *   node --import tsx tests/bench/train-child.ts --model churn --histories F --as-of ISO --artifacts DIR --result F.json
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { HistoryStore } from '../../data/stores/history-store';
import { artifactPrefix } from '../../models/artifact-store';
import { initBackend, type BackendName } from '../../models/backend';
import { trainModelVersion, type TrainResult } from '../../models/training-run';
import type { ModelName } from '../../models/types';
import { readHistories } from './train-data';
import { statusBytes } from './proc-status';
import { DirObjectStore, MemoryModelStore } from './train-stores';

export interface ChildResult {
  model: ModelName;
  pid: number;
  backend: string;
  histories: number;
  /** Seconds: reading the histories file; snapshots + split; encoding + training + evaluation (+ champion check); saving artifacts + registry; all of trainModelVersion. */
  seconds: { load: number; snapshots: number; train: number; save: number; total: number; model?: number; baseline?: number };
  /** Bytes: RSS once the histories were read, and the process's peak (VmHWM). */
  rssAfterLoad: number;
  peakRss: number;
  snapshots: { total: number; train: number; holdout: number; holdoutFrom: string };
  /** The lines trainAndEvaluate logged (leakage guard, epochs, holdout). */
  trainingLog: string[];
  result: TrainResult;
  artifactPrefix: string;
}

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    histories: { type: 'string' },
    'as-of': { type: 'string' },
    artifacts: { type: 'string' },
    result: { type: 'string' },
    seed: { type: 'string', default: '42' },
    backend: { type: 'string' },
  },
});
const model = values.model as ModelName;
if (model !== 'churn' && model !== 'top-performer') throw new Error('--model churn|top-performer');
if (!values.histories || !values['as-of'] || !values.artifacts || !values.result) throw new Error('--histories, --as-of, --artifacts and --result are required');
const asOf = values['as-of'];

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const t0 = performance.now();
const histories = await readHistories(values.histories);
const loaded = performance.now();
const rssAfterLoad = statusBytes('self', 'VmRSS') ?? process.memoryUsage().rss;
say(`${histories.length} histories read in ${((loaded - t0) / 1000).toFixed(1)} s; RSS ${(rssAfterLoad / 2 ** 20).toFixed(0)} MB`);
if (values.backend) await initBackend(values.backend as BackendName, { log: say });

// Phase marks, from what trainModelVersion reports as it goes.
const marks: Record<string, number> = {};
const mark = (name: string): void => {
  marks[name] ??= performance.now();
};
let snapshots: ChildResult['snapshots'] | undefined;
const trainingLog: string[] = [];
const unusedHistory = new Proxy({} as HistoryStore, {
  get: () => {
    throw new Error('the history store is not used when histories are given');
  },
});
const started = performance.now();
const result = await trainModelVersion(
  {
    history: unusedHistory,
    models: new MemoryModelStore(),
    objects: new DirObjectStore(values.artifacts),
    log: (message, fields) => {
      if (message === 'training set') {
        mark('split');
        const f = fields as { snapshots: number; train: number; holdout: number; holdoutFrom: string };
        snapshots = { total: f.snapshots, train: f.train, holdout: f.holdout, holdoutFrom: f.holdoutFrom };
        say(`snapshots: ${f.snapshots} (${f.train} train, ${f.holdout} holdout from ${f.holdoutFrom}) in ${((marks.split! - (marks.snapshots ?? started)) / 1000).toFixed(1)} s`);
        return;
      }
      if (message.startsWith('model: ')) mark('modelDone');
      if (message.startsWith('baseline: ')) mark('baselineDone');
      if (message === 'model version registered') return;
      trainingLog.push(message);
      say(message);
    },
  },
  {
    model,
    asOf,
    histories,
    seed: Number(values.seed),
    onProgress: (line) => {
      if (line === 'building snapshots') mark('snapshots');
      if (line === 'saving artifacts') mark('save');
    },
  },
);
const done = performance.now();
const peakRss = Math.max(statusBytes('self', 'VmHWM') ?? 0, process.resourceUsage().maxRSS * 1024);

const s = (a: number | undefined, b: number | undefined): number => (a === undefined || b === undefined ? NaN : (b - a) / 1000);
const out: ChildResult = {
  model,
  pid: process.pid,
  backend: result.backend,
  histories: histories.length,
  seconds: {
    load: (loaded - t0) / 1000,
    snapshots: s(marks.snapshots, marks.split),
    train: s(marks.split, marks.save),
    save: s(marks.save, done),
    total: (done - started) / 1000,
    // Encoding + leakage guard + model training + its calibration; then the baseline's training.
    model: s(marks.split, marks.modelDone),
    baseline: s(marks.modelDone, marks.baselineDone),
  },
  rssAfterLoad,
  peakRss,
  snapshots: snapshots ?? { total: NaN, train: NaN, holdout: NaN, holdoutFrom: '' },
  trainingLog,
  result,
  artifactPrefix: artifactPrefix(model, result.version),
};
writeFileSync(values.result, JSON.stringify(out, null, 2));
say(`done in ${out.seconds.total.toFixed(1)} s; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB`);
// tfjs (wasm) can keep handles open; the result is written.
process.exit(0);
