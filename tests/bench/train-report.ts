/** The training benchmark's result table, on the terminal and in docs/benchmarks.md (its own section). */
import { loadChange, machineLine, utcMinute } from './bench-format';
import type { ChildResult } from './train-child';
import type { FutureEvaluation } from './train-future';

export const TARGETS = { trainSeconds: 60, peakRssBytes: 1.5e9 } as const;

export interface ModelReport {
  child: ChildResult;
  future: FutureEvaluation;
}

export interface TrainBenchReport {
  setup: string[];
  models: ModelReport[];
  loadBefore: number[];
  loadAfter: number[];
  totalSeconds: number;
  notes: string[];
}

const f3 = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3));
const pair = (a: number | null | undefined, b: number | null | undefined): string => `${f3(a)} \\| ${f3(b)}`;
const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);
const int = (n: number): string => n.toLocaleString('en-US');

export function verdicts(m: ModelReport): { future: boolean; time: boolean; rss: boolean } {
  const { model, baseline } = m.future.metrics;
  return {
    future: model.auc >= baseline.auc,
    time: m.child.seconds.train < TARGETS.trainSeconds,
    rss: m.child.peakRss < TARGETS.peakRssBytes,
  };
}

const HEAD = [
  'model',
  'rows train / holdout',
  'snapshots s',
  'train s',
  'peak RSS MB',
  'holdout AUC (model | baseline)',
  'holdout PR-AUC',
  'holdout ECE',
  'future rows (pos.)',
  'future AUC (model | baseline)',
  'future PR-AUC',
  'future AUC ≥ baseline',
  `train < ${TARGETS.trainSeconds} s`,
  `RSS < ${TARGETS.peakRssBytes / 1e9} GB`,
];

function tableRows(report: TrainBenchReport): string[][] {
  return report.models.map((m) => {
    const { metrics, baselineMetrics } = m.child.result;
    const fut = m.future.metrics;
    const v = verdicts(m);
    const ok = (b: boolean): string => (b ? 'PASS' : 'MISS');
    return [
      m.child.model,
      `${int(m.child.snapshots.train)} / ${int(m.child.snapshots.holdout)}`,
      m.child.seconds.snapshots.toFixed(1),
      m.child.seconds.train.toFixed(1),
      mb(m.child.peakRss),
      pair(metrics.auc, baselineMetrics.auc),
      pair(metrics.prAuc, baselineMetrics.prAuc),
      pair(metrics.ece, baselineMetrics.ece),
      `${int(m.future.rows)} (${int(m.future.positives)})`,
      pair(fut.model.auc, fut.baseline.auc),
      pair(fut.model.prAuc, fut.baseline.prAuc),
      ok(v.future),
      ok(v.time),
      ok(v.rss),
    ];
  });
}

export function printTable(report: TrainBenchReport, write: (line: string) => void): void {
  const rows = [HEAD, ...tableRows(report)].map((r) => r.map((c) => c.replaceAll('\\|', '|')));
  const widths = HEAD.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
  write(line(rows[0]!));
  write(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) write(line(r));
}

/** Per-model lines under the table: phase times, training log, future populations, checks. */
export function detailLines(report: TrainBenchReport): string[] {
  const out: string[] = [];
  for (const m of report.models) {
    const c = m.child;
    const s = c.seconds;
    const fut = m.future;
    out.push(
      `${c.model}: ${int(c.snapshots.total)} snapshots (holdout from ${c.snapshots.holdoutFrom.slice(0, 10)}); ` +
        `child process: read histories ${s.load.toFixed(1)} s (RSS then ${mb(c.rssAfterLoad)} MB), snapshots ${s.snapshots.toFixed(1)} s, ` +
        `train ${s.train.toFixed(1)} s (of which encoding + guard + model ${f1(s.model)} s, baseline ${f1(s.baseline)} s, the rest calibration + holdout evaluation), ` +
        `save ${s.save.toFixed(1)} s; trainModelVersion ${s.total.toFixed(1)} s in all on ${c.backend}; peak RSS ${mb(c.peakRss)} MB.`,
    );
    for (const line of c.trainingLog) out.push(`  ${c.model} training: ${line}`);
    const fm = fut.metrics;
    out.push(
      `  ${c.model} future: ${fut.population}: ${int(fut.rows)} partners, ${int(fut.positives)} positive; ` +
        `AUC ${f3(fm.model.auc)} vs baseline ${f3(fm.baseline.auc)}, PR-AUC ${f3(fm.model.prAuc)} vs ${f3(fm.baseline.prAuc)}, ` +
        `ECE ${f3(fm.model.ece)} vs ${f3(fm.baseline.ece)}, Brier ${f3(fm.model.brier)} vs ${f3(fm.baseline.brier)}; ` +
        `AUC difference ${signed(fut.aucDifference.observed)}, 95% paired-bootstrap interval [${signed(fut.aucDifference.low)}, ${signed(fut.aucDifference.high)}].`,
    );
    if (fut.trainedAges) {
      const a = fut.trainedAges;
      out.push(`  ${c.model} future, partners aged 30–364 days only (the ages training saw): ${int(a.rows)} partners, ${int(a.positives)} positive; AUC ${f3(a.modelAuc)} vs baseline ${f3(a.baselineAuc)}.`);
    }
    const tc = fut.truthCheck;
    out.push(`  ${c.model} truth check: ${tc.what}: ${int(tc.checked - tc.mismatches)} of ${int(tc.checked)} agree.`);
  }
  return out;
}

const signed = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}` : '–');
const f1 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(1));

const START = '<!-- bench:train -->';
const END = '<!-- /bench:train -->';

export function markdownSection(report: TrainBenchReport, date = new Date()): string {
  return [
    START,
    '## Training (npm run bench:train)',
    '',
    `Measured ${utcMinute(date)} on ${machineLine()}. ` +
      `Load average before / after the run: ${loadChange(report.loadBefore, report.loadAfter)}. Whole run: ${report.totalSeconds.toFixed(0)} s.`,
    '',
    ...report.setup.map((s) => `- ${s}`),
    '',
    `| ${HEAD.map((h) => h.replaceAll('|', '\\|')).join(' | ')} |`,
    `| ${HEAD.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...tableRows(report).map((r) => `| ${r.join(' | ')} |`),
    '',
    ...detailLines(report).map((l) => (l.startsWith('  ') ? `  - ${l.trim()}` : `- ${l}`)),
    '',
    ...report.notes.map((n) => `${n}`),
    '',
    END,
  ].join('\n');
}
