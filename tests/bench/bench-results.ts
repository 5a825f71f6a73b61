/**
 * Machine-readable results of the benchmark scripts, for `npm run bench` (tests/bench/run-all.ts)
 * to gather into the summary at the top of docs/benchmarks.md without reading any markdown.
 *
 * A script calls emitBenchResult once at its end. When BENCH_RESULTS_DIR is set (run-all sets
 * it), the result is written to <dir>/<bench>.json; otherwise nothing is written. The
 * converters below turn each existing script's report into targets, using that script's own
 * verdicts, so a verdict is decided in one place.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { machineLine } from './bench-format';
import { verdict as ingestVerdict, type BenchReport as IngestReport } from './bench-report';
import { TARGETS as SERVE_TARGETS, verdicts as serveVerdicts, type ServeReport } from './serve-report';
import { TARGETS as TRAIN_TARGETS, verdicts as trainVerdicts, type TrainBenchReport } from './train-report';

export interface TargetResult {
  /** What is measured. */
  name: string;
  /** The figure measured. */
  figure: string;
  /** The limit it is compared with, measured in the same run (or a fixed bound). */
  limit?: string;
  ratio?: string;
  /** The target, in words: "≥ 0.50 × raw", "0 errors". */
  target: string;
  /** null: the figure was not measured in this run. */
  met: boolean | null;
  /** For a missed or unmeasured target: why, in one line. */
  reason?: string;
}

export interface BenchResult {
  /** "ingest", "train", "serve", "bundle", "load". */
  bench: string;
  command: string;
  measuredAt: string;
  machine: string;
  seconds: number;
  targets: TargetResult[];
  notes?: string[];
}

export const RESULTS_DIR_ENV = 'BENCH_RESULTS_DIR';

/** Writes the result where run-all reads it (only when it asked for results). */
export function emitBenchResult(result: BenchResult): void {
  const dir = process.env[RESULTS_DIR_ENV];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${result.bench}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

/**
 * Replaces the `<!-- bench:NAME -->` … `<!-- /bench:NAME -->` section of the benchmarks doc
 * (`section` includes both markers), keeping every other section. A missing section is added
 * at the end, or at the top (after the title and its paragraph) with `atTop`.
 */
export function replaceDocSection(path: string, name: string, section: string, options: { atTop?: boolean } = {}): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\nFigures from the benchmark scripts; each section is rewritten by its own script.\n';
  const from = existing.indexOf(start);
  const to = existing.indexOf(end);
  let next: string;
  if (from !== -1 && to > from) {
    next = `${existing.slice(0, from)}${section}${existing.slice(to + end.length)}`;
  } else if (options.atTop) {
    const firstSection = existing.indexOf('<!-- bench:');
    next = firstSection === -1 ? `${existing.replace(/\s*$/, '')}\n\n${section}\n` : `${existing.slice(0, firstSection)}${section}\n\n${existing.slice(firstSection)}`;
  } else {
    next = `${existing.replace(/\s*$/, '')}\n\n${section}\n`;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, next);
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const x2 = (v: number): string => `${v.toFixed(2)}×`;

export function ingestBenchResult(report: IngestReport, command = 'npm run bench:ingest'): BenchResult {
  const targets: TargetResult[] = [];
  const raw = report.rawRate;
  const rawRow = report.throughput.find((r) => r.target === undefined);
  const mainUsPerRow = (m: { rows: number; mainCpuSeconds: number }): number => (m.mainCpuSeconds / m.rows) * 1e6;
  /** Why a path is slower than raw when the stores share this process: where its main-thread CPU goes. */
  const why = (m: { rows: number; mainCpuSeconds: number }): string =>
    rawRow && report.storeMode === 'inproc'
      ? `: the stores run on this process's main thread, which spends ${int.format(mainUsPerRow(m))} µs a row on this path against ${int.format(mainUsPerRow(rawRow.m))} µs for raw writes (ingest also reads every id before writing it, to report accepted / unchanged exactly, and validates, hashes and archives each record)`
      : '';
  for (const row of report.throughput.filter((r) => r.target !== undefined)) {
    const v = ingestVerdict(row, raw);
    const rate = row.m.rows / row.m.seconds;
    targets.push({
      name: `ingest throughput, ${row.path}`,
      figure: `${int.format(rate)} rows/s`,
      ...(raw ? { limit: `raw BatchWriteItem ${int.format(raw)} rows/s` } : {}),
      ...(v.ratio !== undefined ? { ratio: v.ratio.toFixed(2) } : {}),
      target: `≥ ${row.target!.toFixed(2)} × raw`,
      met: v.pass ?? null,
      ...(v.pass === false ? { reason: `${(v.ratio! * 100).toFixed(0)}% of raw, under the ${(row.target! * 100).toFixed(0)}% target${why(row.m)}` } : {}),
      ...(v.pass === undefined ? { reason: 'the raw baseline was not measured in this run' } : {}),
    });
  }
  const mem = report.memory;
  const limitMb = report.memoryLimitMb;
  targets.push(
    mem
      ? {
          name: `CLI ingest of a ${int.format(mem.rows)}-row file, peak RSS`,
          figure: `${int.format(mem.peakRssBytes / 2 ** 20)} MB`,
          limit: `${limitMb} MB`,
          ratio: (mem.peakRssBytes / 2 ** 20 / limitMb).toFixed(2),
          target: `< ${limitMb} MB`,
          met: mem.peakRssBytes < limitMb * 2 ** 20,
          ...(mem.peakRssBytes < limitMb * 2 ** 20 ? {} : { reason: `peak RSS ${int.format(mem.peakRssBytes / 2 ** 20)} MB over the ${limitMb} MB limit` }),
        }
      : { name: 'CLI ingest of a 1,000,000-row file, peak RSS', figure: '–', target: `< ${limitMb} MB`, met: null, reason: 'not measured in this run (--skip-memory)' },
  );
  return { bench: 'ingest', command, measuredAt: new Date().toISOString(), machine: machineLine(), seconds: report.totalSeconds, targets };
}

export function trainBenchResult(report: TrainBenchReport, command = 'npm run bench:train'): BenchResult {
  const targets = report.models.flatMap((m): TargetResult[] => {
    const v = trainVerdicts(m);
    const model = m.child.model;
    const { model: fm, baseline } = m.future.metrics;
    return [
      {
        name: `${model}: AUC on future outcomes`,
        figure: fm.auc.toFixed(3),
        limit: `baseline (logistic regression, same run) ${baseline.auc.toFixed(3)}`,
        ratio: (fm.auc / baseline.auc).toFixed(3),
        target: '≥ baseline',
        met: v.future,
        ...(v.future ? {} : { reason: `future AUC ${fm.auc.toFixed(3)} below the baseline's ${baseline.auc.toFixed(3)}` }),
      },
      {
        name: `${model}: training time`,
        figure: `${m.child.seconds.train.toFixed(1)} s`,
        limit: `${TRAIN_TARGETS.trainSeconds} s`,
        ratio: (m.child.seconds.train / TRAIN_TARGETS.trainSeconds).toFixed(2),
        target: `< ${TRAIN_TARGETS.trainSeconds} s`,
        met: v.time,
        ...(v.time ? {} : { reason: `training took ${m.child.seconds.train.toFixed(1)} s` }),
      },
      {
        name: `${model}: training peak RSS`,
        figure: `${(m.child.peakRss / 1e6).toFixed(0)} MB`,
        limit: `${TRAIN_TARGETS.peakRssBytes / 1e6} MB`,
        ratio: (m.child.peakRss / TRAIN_TARGETS.peakRssBytes).toFixed(2),
        target: `< ${TRAIN_TARGETS.peakRssBytes / 1e9} GB`,
        met: v.rss,
        ...(v.rss ? {} : { reason: `peak RSS ${(m.child.peakRss / 1e6).toFixed(0)} MB` }),
      },
    ];
  });
  return { bench: 'train', command, measuredAt: new Date().toISOString(), machine: machineLine(), seconds: report.totalSeconds, targets, notes: report.notes };
}

export function serveBenchResult(report: ServeReport, command = 'npm run bench:serve'): BenchResult {
  const v = serveVerdicts(report);
  const { run, raw } = report.scoring;
  const p = report.routes.product;
  const b = report.routes.raw;
  const errors = (r: typeof p): number => r.errors + r.timeouts + r.non2xx;
  const targets: TargetResult[] = [
    {
      name: `full scoring run, ${int.format(run.scored)} partners`,
      figure: `${int.format(run.scored / run.seconds)} partners/s`,
      limit: `raw BatchWriteItem of the same score items ${int.format(raw.items / raw.seconds)} items/s`,
      ratio: `${x2(v.scoringRatio)} slower`,
      target: `≤ ${SERVE_TARGETS.scoringVsRaw}× slower than raw`,
      met: v.scoring,
      ...(v.scoring ? {} : { reason: `${x2(v.scoringRatio)} slower than raw writes` }),
    },
    {
      name: 'GET /v1/partners/{id}/scores under load',
      figure: `p99 ${p.p99} ms, ${int.format(p.rps)} req/s, ${errors(p)} errors`,
      limit: `bare GetItem route p99 ${b.p99} ms`,
      ratio: x2(v.p99Ratio),
      target: `p99 ≤ ${SERVE_TARGETS.p99VsRaw}× bare, 0 errors`,
      met: v.routes,
      ...(v.routes ? {} : { reason: errors(p) + errors(b) > 0 ? `${errors(p) + errors(b)} errors/non-2xx` : `p99 ${x2(v.p99Ratio)} the bare route's` }),
    },
    {
      name: 'predict() of one feature vector',
      figure: `${report.forward.predictMicros.toFixed(1)} µs`,
      limit: `hand-written forward pass ${report.forward.handMicros.toFixed(2)} µs`,
      ratio: x2(v.predictRatio),
      target: `≤ ${SERVE_TARGETS.predictVsHand}×`,
      met: v.predict,
      ...(v.predict ? {} : { reason: `${x2(v.predictRatio)} the hand-written pass` }),
    },
  ];
  return { bench: 'serve', command, measuredAt: new Date().toISOString(), machine: machineLine(), seconds: report.totalSeconds, targets };
}
