/**
 * `npm run bench`: every benchmark of the project, one after another (they share the machine,
 * so never at once), then the summary at the top of docs/benchmarks.md (its bench:summary
 * section): every target of every benchmark with its figure, the limit measured in the same
 * run, the ratio, and met or missed with the reason. Each script rewrites its own section;
 * the summary is built from the JSON results the scripts emit (tests/bench/bench-results.ts)
 * into a temporary directory, never from the markdown.
 *
 *   npm run bench [-- --only ingest,load] [--skip bundle] [--no-summary]
 *   npm run bench -- --from DIR   (no run: the summary from results already in DIR, e.g. of
 *                                  scripts run one by one with BENCH_RESULTS_DIR=DIR)
 *
 * A benchmark that fails, or emits no result, is listed as such: its section below is then
 * the one of an earlier run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadChange, machineLine, utcMinute } from './bench-format';
import { replaceDocSection, RESULTS_DIR_ENV, type BenchResult } from './bench-results';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = join(ROOT, 'docs', 'benchmarks.md');
/** In this order: the long throughput runs first, the mixed load last. */
const BENCHES = ['ingest', 'train', 'serve', 'bundle', 'load'] as const;

const { values: args } = parseArgs({ options: { only: { type: 'string' }, skip: { type: 'string' }, from: { type: 'string' }, 'no-summary': { type: 'boolean', default: false } } });
const list = (text: string | undefined): string[] => (text ? text.split(',').map((s) => s.trim()).filter(Boolean) : []);

const say = (line = ''): void => void process.stdout.write(`${line}\n`);

interface Outcome {
  bench: string;
  script: string;
  status: 'ok' | 'failed' | 'missing' | 'skipped';
  code?: number | null;
  seconds: number;
  result?: BenchResult;
}

function runScript(script: string, env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script], { cwd: ROOT, env, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function summarySection(outcomes: readonly Outcome[], started: Date, loadBefore: number[] | undefined, loadAfter: number[]): string {
  const rows: string[] = [];
  const notes: string[] = [];
  let met = 0;
  let missed = 0;
  let unmeasured = 0;
  for (const o of outcomes) {
    if (o.status === 'skipped') {
      notes.push(args.from ? `No result of \`npm run ${o.script}\` in ${args.from}.` : `\`npm run ${o.script}\` was not run this time (--only / --skip); its section below is from an earlier run.`);
      continue;
    }
    if (o.status === 'missing') {
      notes.push(`\`npm run ${o.script}\` does not exist in package.json: nothing measured.`);
      unmeasured++;
      continue;
    }
    if (!o.result) {
      const why = o.status === 'failed' ? `exited with code ${o.code} after ${o.seconds.toFixed(0)} s` : `finished (${o.seconds.toFixed(0)} s) without emitting a machine-readable result (tests/bench/bench-results.ts)`;
      rows.push(`| ${o.script} | every target of this benchmark | – | – | – | – | NOT MEASURED: ${cell(why)}; its section below is from an earlier run, or says what it measured |`);
      unmeasured++;
      continue;
    }
    for (const t of o.result.targets) {
      const verdict = t.met === true ? 'met' : t.met === false ? `MISSED: ${t.reason ?? 'see its section'}` : `NOT MEASURED: ${t.reason ?? 'see its section'}`;
      if (t.met === true) met++;
      else if (t.met === false) missed++;
      else unmeasured++;
      rows.push(`| ${o.script} | ${cell(t.name)} | ${cell(t.figure)} | ${cell(t.limit ?? '–')} | ${cell(t.ratio ?? '–')} | ${cell(t.target)} | ${cell(verdict)} |`);
    }
    if (o.status === 'failed') notes.push(`\`npm run ${o.script}\` exited with code ${o.code} after reporting; its figures above are what it measured before failing.`);
  }
  const machines = [...new Set(outcomes.flatMap((o) => (o.result ? [o.result.machine] : [])))];
  if (args.from) {
    const times = outcomes.flatMap((o) => (o.result ? [o.result.measuredAt] : [])).sort();
    notes.unshift(`Assembled from results saved one by one (\`npm run bench -- --from DIR\`), measured between ${utcMinute(times[0] ?? started)} and ${utcMinute(times.at(-1) ?? started)}; each section below gives its own time and load.`);
  }
  return [
    '<!-- bench:summary -->',
    '## Summary (npm run bench)',
    '',
    `Run ${utcMinute(started)} on ${machines.join('; ') || machineLine()}, every benchmark one after another${loadBefore ? `; load average before / after: ${loadChange(loadBefore, loadAfter)}` : ''}. ` +
      'Each figure is next to its limit measured in the same run (or a fixed bound); the sections below give the setup and the details.',
    '',
    `**${met} targets met, ${missed} missed, ${unmeasured} not measured.**`,
    '',
    '| benchmark | what | figure | limit (same run) | ratio | target | result |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...notes.map((n) => `- ${n}`),
    ...(notes.length ? [''] : []),
    '<!-- /bench:summary -->',
  ].join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = loadavg();
  const only = list(args.only);
  const skip = list(args.skip);
  for (const name of [...only, ...skip]) if (!(BENCHES as readonly string[]).includes(name)) throw new Error(`unknown benchmark ${name}: one of ${BENCHES.join(', ')}`);
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const dir = args.from ?? mkdtempSync(join(tmpdir(), 'bench-results-'));
  const outcomes: Outcome[] = [];
  try {
    for (const bench of BENCHES) {
      const script = `bench:${bench}`;
      if (args.from) {
        const file = join(dir, `${bench}.json`);
        const result = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BenchResult) : undefined;
        outcomes.push(result ? { bench, script, status: 'ok', seconds: result.seconds, result } : { bench, script, status: 'skipped', seconds: 0 });
        continue;
      }
      if ((only.length > 0 && !only.includes(bench)) || skip.includes(bench)) {
        outcomes.push({ bench, script, status: 'skipped', seconds: 0 });
        continue;
      }
      if (!scripts[script]) {
        say(`== ${script}: no such npm script, skipped`);
        outcomes.push({ bench, script, status: 'missing', seconds: 0 });
        continue;
      }
      say(`\n== npm run ${script} (${new Date().toISOString().slice(11, 19)} UTC)`);
      const t = performance.now();
      const code = await runScript(script, { ...process.env, [RESULTS_DIR_ENV]: dir });
      const seconds = (performance.now() - t) / 1000;
      const file = join(dir, `${bench}.json`);
      const result = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BenchResult) : undefined;
      outcomes.push({ bench, script, status: code === 0 ? 'ok' : 'failed', code, seconds, ...(result ? { result } : {}) });
      say(`== ${script}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${seconds.toFixed(0)} s${result ? '' : ', no machine-readable result'}`);
    }
  } finally {
    if (!args.from) rmSync(dir, { recursive: true, force: true });
  }
  const measured = outcomes.flatMap((o) => (o.result ? [o.result.measuredAt] : [])).sort();
  const section = args.from ? summarySection(outcomes, new Date(measured[0] ?? started.toISOString()), undefined, loadavg()) : summarySection(outcomes, started, loadBefore, loadavg());
  say('');
  for (const line of section.split('\n')) if (!line.startsWith('<!--')) say(line);
  if (!args['no-summary']) {
    replaceDocSection(DOC, 'summary', section, { atTop: true });
    say(`\nwrote the bench:summary section of ${DOC}`);
  }
  if (outcomes.some((o) => o.status === 'failed')) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
