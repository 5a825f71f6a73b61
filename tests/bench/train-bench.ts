/**
 * Training benchmark (`npm run bench:train`): a generated program of 3,000 partners over 2.5
 * years, both models trained as of its last date by the real orchestration
 * (`trainModelVersion`), each in its own child process (its wall time and peak RSS are its own),
 * then each saved version loaded as serving loads it and tested on what the generator knows
 * happens after that date. Prints the table and rewrites the `bench:train` section of
 * docs/benchmarks.md.
 *
 *   npm run bench:train [-- --partners 3000 --seed 42 --end 2026-06-30 --years 2.5
 *                            --models churn,top-performer --backend wasm --no-doc --keep]
 *
 * Targets (issue): each model's future AUC at least its baseline's; training under 60 s and
 * under 1.5 GB peak RSS per model. The doc is written only at the default size (3,000
 * partners), or with --doc.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend, type BackendName } from '../../models/backend';
import { FEATURE_NAMES } from '../../models/features/feature-defs';
import { MODEL_NAMES, type ModelName } from '../../models/types';
import type { ChildResult } from './train-child';
import { buildProgram, writeHistories } from './train-data';
import { evaluateFuture } from './train-future';
import { detailLines, markdownSection, printTable, TARGETS, verdicts, type ModelReport } from './train-report';
import { DirObjectStore } from './train-stores';
import { loadChange } from './bench-format';
import { emitBenchResult, replaceDocSection, trainBenchResult } from './bench-results';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEFAULT_PARTNERS = 3000;

const { values } = parseArgs({
  options: {
    partners: { type: 'string', default: String(DEFAULT_PARTNERS) },
    seed: { type: 'string', default: '42' },
    end: { type: 'string', default: '2026-06-30' },
    years: { type: 'string', default: '2.5' },
    models: { type: 'string', default: MODEL_NAMES.join(',') },
    backend: { type: 'string' },
    'timeout-s': { type: 'string', default: '300' },
    doc: { type: 'boolean', default: false },
    'no-doc': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const partners = Number(values.partners);
const seed = Number(values.seed);
const years = Number(values.years);
const end = values.end;
const asOf = `${end}T00:00:00.000Z`;
const models = values.models.split(',').map((m) => m.trim()) as ModelName[];
for (const m of models) if (!MODEL_NAMES.includes(m)) throw new Error(`unknown model ${m}; use ${MODEL_NAMES.join(', ')}`);
if (!Number.isInteger(partners) || partners < 50) throw new Error('--partners must be a whole number of at least 50');
const writeDoc = !values['no-doc'] && (values.doc || partners === DEFAULT_PARTNERS);

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const startedAt = new Date();
const t0 = performance.now();
const loadBefore = loadavg();

// 1. The program, as the history store would return it.
say(`generating ${partners.toLocaleString('en-US')} partners over ${years} years to ${end} (seed ${seed}) …`);
const program = buildProgram({ partners, seed, end, years });
const c = program.counts;
say(
  `generated in ${program.seconds.generate.toFixed(1)} s, normalised in ${program.seconds.normalise.toFixed(1)} s: ` +
    `${c.partners.toLocaleString('en-US')} partners, ${c.events.toLocaleString('en-US')} events, ${c.deals.toLocaleString('en-US')} deals ` +
    `(${c.dealVersions.toLocaleString('en-US')} stage versions; ${c.directDeals.toLocaleString('en-US')} direct deals not in any history)`,
);
const work = mkdtempSync(join(tmpdir(), 'train-bench-'));
const historiesFile = join(work, 'histories.ndjson');
await writeHistories(historiesFile, program.histories);
const fileMb = statSync(historiesFile).size / 1e6;
say(`histories file: ${fileMb.toFixed(0)} MB (${work})`);

// 2. Each model in its own child process, one after the other (they would share the CPUs).
function runChild(model: ModelName): Promise<ChildResult> {
  const resultFile = join(work, `${model}.json`);
  const args = ['--openssl-legacy-provider', '--import', 'tsx', 'tests/bench/train-child.ts'];
  args.push('--model', model, '--histories', historiesFile, '--as-of', asOf, '--artifacts', join(work, 'objects'), '--result', resultFile, '--seed', String(seed));
  if (values.backend) args.push('--backend', values.backend);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) say(`  [${model}] ${l}`);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timeoutMs = Number(values['timeout-s']) * 1000;
  const timer = setTimeout(() => {
    say(`  [${model}] still running after ${values['timeout-s']} s: stopping it (pid ${child.pid})`);
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (pending) say(`  [${model}] ${pending}`);
      if (code !== 0) return reject(new Error(`training child for ${model} exited with ${code ?? signal}: ${stderr.slice(-3000)}`));
      resolvePromise(JSON.parse(readFileSync(resultFile, 'utf8')) as ChildResult);
    });
  });
}

const reports: ModelReport[] = [];
const objects = new DirObjectStore(join(work, 'objects'));
try {
  for (const model of models) {
    say(`training ${model} as of ${asOf} in a child process …`);
    const child = await runChild(model);
    // 3. Score as of `end` with the saved version, on the backend it was trained on.
    await initBackend(child.backend as BackendName);
    const future = await evaluateFuture(objects, child.artifactPrefix, model, program.histories, program.truth, asOf);
    reports.push({ child, future });
  }
} finally {
  if (!values.keep) rmSync(work, { recursive: true, force: true });
}

// 4. Report.
/** The code measured: the commit, and the files of models/ that differ from it (others edit them concurrently). */
function codeState(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    const changed = git('status', '--porcelain', '--', 'models').split('\n').filter(Boolean).map((l) => l.slice(3));
    return `commit ${git('rev-parse', '--short', 'HEAD')}${changed.length > 0 ? ` with uncommitted changes to ${changed.join(', ')}` : ', models/ as committed'}`;
  } catch {
    return 'unknown (no git)';
  }
}
const backend = reports[0]?.child.backend ?? 'unknown';
const report = {
  setup: [
    `Data: \`generateProgram({partners: ${partners}, seed: ${seed}, end: '${end}', years: ${years}})\` → ${c.partners.toLocaleString('en-US')} partners, ` +
      `${c.events.toLocaleString('en-US')} events, ${c.deals.toLocaleString('en-US')} partner and direct deals (latest of ${c.dealVersions.toLocaleString('en-US')} stage versions), ` +
      `every record normalised by its zod schema as ingest stores it; histories as the history store returns them (a ${fileMb.toFixed(0)} MB NDJSON file that each child reads).`,
    `Each model: \`trainModelVersion\` as of ${asOf} (${FEATURE_NAMES.length} numeric features + one-hot tier/region/segment) in its own Node process on the ${backend} backend, ` +
      `registry in memory and artifacts in a local directory. "train s" = encoding + leakage guard + model + baseline + Platt calibration + holdout evaluation ` +
      `(the target's figure); snapshot building is timed apart. Peak RSS = the child's VmHWM (whole process: Node, tsx, tfjs, histories, snapshots, training).`,
    `Holdout = splitByTime's (churn: the latest monthly snapshot times with a purge gap; top-performer: the newest joiners). Probabilities are the calibrated ones.`,
    `Future = the saved version loaded with \`loadModel\` scores, as of ${end}, the partners it is meant for; labels are the generator's truth after ${end} ` +
      `(churn: churnedAt within 90 days; top-performer: the complete first-year revenue against \`topPerformerThreshold\` at ${end}, the threshold training used).`,
    `Code: ${codeState()}.`,
    `Targets: future AUC of the model ≥ its baseline's; train < ${TARGETS.trainSeconds} s; peak RSS < ${TARGETS.peakRssBytes / 1e9} GB (MB here = 10⁶ bytes).`,
  ],
  models: reports,
  loadBefore,
  loadAfter: loadavg(),
  totalSeconds: (performance.now() - t0) / 1000,
  notes: reports.map((r) => {
    const d = r.future.aucDifference;
    const [lo, hi] = [d.low.toFixed(3), d.high.toFixed(3)];
    return d.low <= 0 && d.high >= 0
      ? `${r.child.model}: on the future outcomes the model and its baseline are within noise of each other (AUC difference ${d.observed.toFixed(3)}, 95% paired-bootstrap interval [${lo}, ${hi}]), so the "≥ baseline" verdict can flip with the data or the training seed.`
      : `${r.child.model}: the future AUC difference ${d.observed.toFixed(3)} (95% paired-bootstrap interval [${lo}, ${hi}]) is ${d.low > 0 ? 'above' : 'below'} zero beyond resampling noise.`;
  }),
};

say();
printTable(report, say);
emitBenchResult(trainBenchResult(report));
say();
for (const line of detailLines(report)) say(line);
const missed = reports.flatMap((r) => {
  const v = verdicts(r);
  return [
    ...(v.future ? [] : [`${r.child.model}: future AUC below the baseline's`]),
    ...(v.time ? [] : [`${r.child.model}: training ${r.child.seconds.train.toFixed(1)} s`]),
    ...(v.rss ? [] : [`${r.child.model}: peak RSS ${(r.child.peakRss / 1e6).toFixed(0)} MB`]),
  ];
});
say();
for (const note of report.notes) say(note);
say(missed.length === 0 ? 'all targets met' : `targets missed: ${missed.join('; ')}`);
say(`whole run ${report.totalSeconds.toFixed(0)} s; load average ${loadChange(loadBefore, report.loadAfter)}`);
if (writeDoc) {
  const doc = join(ROOT, 'docs/benchmarks.md');
  replaceDocSection(doc, 'train', markdownSection(report, startedAt));
  say(`wrote the bench:train section of ${doc}`);
} else {
  say('docs/benchmarks.md not written (not the default size; pass --doc to write it anyway)');
}
process.exit(0);
