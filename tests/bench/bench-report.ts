/** The ingest benchmark's result table, on the terminal and in docs/benchmarks.md. */
import { loadavg } from 'node:os';
import { loadChange, machineLine, utcMinute } from './bench-format';
import type { Measurement } from './bench-paths';
import type { MemoryResult } from './memory-run';

export interface ThroughputRow {
  path: string;
  m: Measurement;
  /** Rows per second in each interleaved round. */
  rounds?: number[];
  /** Minimum ratio to raw; undefined for the baseline rows. */
  target?: number;
}

export interface BenchReport {
  rows: number;
  storeMode: string;
  setup: string[];
  throughput: ThroughputRow[];
  rawRate?: number;
  memory?: MemoryResult;
  memoryLimitMb: number;
  loadBefore: number[];
  loadAfter: number[];
  totalSeconds: number;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const rate = (m: Measurement): number => m.rows / m.seconds;
const mb = (bytes: number): string => `${int.format(bytes / 1024 / 1024)} MB`;
const usPerRow = (seconds: number | undefined, rows: number): string => (seconds === undefined ? '–' : `${int.format((seconds * 1e6) / rows)}`);

export function verdict(row: ThroughputRow, rawRate: number | undefined): { ratio?: number; pass?: boolean } {
  if (row.target === undefined || !rawRate) return {};
  const ratio = rate(row.m) / rawRate;
  return { ratio, pass: ratio >= row.target };
}

function tableRows(report: BenchReport): string[][] {
  const out: string[][] = [];
  const baseline = report.throughput.filter((r) => r.target === undefined);
  const paths = report.throughput.filter((r) => r.target !== undefined);
  for (const row of [...baseline, ...paths]) {
    const v = verdict(row, report.rawRate);
    out.push([
      row.path,
      int.format(row.m.rows),
      row.m.seconds.toFixed(1),
      int.format(rate(row.m)),
      v.ratio !== undefined ? `${(v.ratio * 100).toFixed(0)}%` : row.target === undefined && report.rawRate ? '100%' : '–',
      row.target !== undefined ? `≥ ${(row.target * 100).toFixed(0)}%` : '–',
      v.pass === undefined ? '' : v.pass ? 'PASS' : 'MISS',
      usPerRow(row.m.cpuSeconds, row.m.rows),
      usPerRow(row.m.mainCpuSeconds, row.m.rows),
      usPerRow(row.m.storeCpuSeconds, row.m.rows),
    ]);
  }
  const mem = report.memory;
  if (mem) {
    const limit = report.memoryLimitMb * 1024 * 1024;
    out.push([
      `CLI child, ${int.format(mem.rows)}-row file (${mb(mem.fileBytes)}), peak RSS ${mb(mem.peakRssBytes)}`,
      int.format(mem.rows),
      mem.seconds.toFixed(1),
      int.format(mem.rows / mem.seconds),
      '–',
      `RSS < ${report.memoryLimitMb} MB`,
      mem.peakRssBytes < limit ? 'PASS' : 'MISS',
      '',
      '',
      '',
    ]);
  }
  return out;
}

const HEAD = ['path', 'rows', 'seconds', 'rows/s', 'ratio to raw', 'target', 'result', 'CPU µs/row', 'main thread µs/row', 'store process µs/row'];

export function printTable(report: BenchReport, write: (line: string) => void): void {
  const rows = [HEAD, ...tableRows(report)];
  const widths = HEAD.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
  write(line(rows[0]!));
  write(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) write(line(r));
  for (const l of roundLines(report)) write(l);
}

/** Each path's rate in every round, so a disturbed round shows. */
function roundLines(report: BenchReport): string[] {
  return report.throughput
    .filter((r) => r.rounds && r.rounds.length > 1)
    .map((r) => `rows/s by round, ${r.path}: ${r.rounds!.map((x) => int.format(x)).join(' · ')}`);
}

const START = '<!-- bench:ingest -->';
const END = '<!-- /bench:ingest -->';

export function markdownSection(report: BenchReport, date = new Date()): string {
  const lines = [
    START,
    '## Ingest (npm run bench:ingest)',
    '',
    `Measured ${utcMinute(date)} on ${machineLine()}. ` +
      `Load average before / after the run: ${loadChange(report.loadBefore, report.loadAfter)}. Whole run: ${report.totalSeconds.toFixed(0)} s.`,
    '',
    ...report.setup.map((s) => `- ${s}`),
    '',
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...tableRows(report).map((r) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`),
    '',
    ...roundLines(report).map((l) => `- ${l}`),
    '',
  ];
  if (report.memory) {
    const mem = report.memory;
    lines.push(
      `Memory: \`node --openssl-legacy-provider --import tsx functions/cli/main.ts ingest events FILE --data-dir D\` on a ${int.format(mem.rows)}-row events file ` +
        `(${mb(mem.fileBytes)}): peak RSS ${mb(mem.peakRssBytes)} (VmHWM, polled every 100 ms), limit ${report.memoryLimitMb} MB, ` +
        (mem.storeMode === 'running'
          ? `with the stores in the running store process (as next to \`npm start\`; that process peaked at ${mb(mem.storePeakRssBytes ?? 0)}).`
          : 'with the embedded stores inside the CLI process (no stack running), so the figure includes dynalite and s3rver.'),
      '',
    );
  }
  lines.push(END);
  return lines.join('\n');
}


export const currentLoad = (): number[] => loadavg();
