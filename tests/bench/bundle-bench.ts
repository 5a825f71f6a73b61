/**
 * npm run bench:bundle — the Lambda bundles as a deploy builds them (one synth of the CDK app
 * with the local esbuild), then:
 *   - the API bundle's zip size, limit 5 MB (the other functions' sizes for reference);
 *   - the API's cold import: a fresh Node process loads the bundle and builds the app (its
 *     module: config, SDK clients, stores, the Hono app), timed around `require`, limit 400 ms;
 *     ROUNDS processes, the median is the figure, every round printed;
 *   - for reference, the first request (GET /health) after the cold import.
 * Prints each figure next to its limit and rewrites the bench:bundle section of docs/benchmarks.md.
 *
 *   npm run bench:bundle [-- --rounds N] [--no-doc]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { LAMBDA_NAMES } from '../../functions/lambda-functions';
import { httpApiEvent } from '../helpers/aws-events';
import { bundleEnvironment, synthWithBundling, zippedSize } from '../infra/bundle-assets';
import { loadChange, machineLine, utcMinute } from './bench-format';
import { emitBenchResult, replaceDocSection } from './bench-results';

const run = promisify(execFile);
const ZIP_LIMIT_BYTES = 5 * 1024 * 1024;
const COLD_IMPORT_LIMIT_MS = 400;
const START = '<!-- bench:bundle -->';
const END = '<!-- /bench:bundle -->';
const COMMAND = 'npm run bench:bundle';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, 'no-doc': { type: 'boolean', default: false } } });
const rounds = Math.max(1, Number(values.rounds));

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface ColdStart {
  /** Wall time of require(index.js). */
  importMs: number;
  /** CPU time (user + system) of this process during the require: the work itself, which other load on the machine moves least. */
  importCpuMs: number;
  firstRequestMs: number;
}

/** One cold start, in its own process: require (load + build the app), then one request. */
async function coldStart(bundle: string): Promise<ColdStart> {
  const event = httpApiEvent('GET', '/health');
  const script = `
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const { handler } = require(${JSON.stringify(bundle)});
    const t1 = performance.now();
    const used = process.cpuUsage(cpu);
    handler(${JSON.stringify(event)}, { awsRequestId: 'bench' }).then((r) => {
      if (r.statusCode !== 200) throw new Error('GET /health answered ' + r.statusCode);
      console.log(JSON.stringify({ importMs: t1 - t0, importCpuMs: (used.user + used.system) / 1000, firstRequestMs: performance.now() - t1 }));
    });`;
  const { stdout } = await run(process.execPath, ['-e', script], { env: bundleEnvironment({ LOG_LEVEL: 'warn' }), timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as ColdStart;
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = loadavg();
  const outdir = mkdtempSync(join(tmpdir(), 'ps-bench-bundle-'));
  try {
    process.stdout.write('synthesizing with bundling (local esbuild)…\n');
    const synthStart = Date.now();
    const bundled = synthWithBundling(outdir);
    const synthSeconds = (Date.now() - synthStart) / 1000;
    const sizes = Object.fromEntries(LAMBDA_NAMES.map((name) => [name, zippedSize(bundled.assets[name])]));
    const bundle = join(bundled.assets.api, 'index.js');

    const results: ColdStart[] = [];
    for (let i = 0; i < rounds; i++) results.push(await coldStart(bundle));
    const imports = results.map((r) => r.importMs);
    const importMedian = median(imports);
    const cpuMedian = median(results.map((r) => r.importCpuMs));
    const loadAfter = loadavg();

    const api = sizes.api!;
    const rows = [
      ['API bundle, zipped', mb(api.bytes), '5 MB', api.bytes < ZIP_LIMIT_BYTES ? 'PASS' : 'MISS'],
      [`API cold import (load the bundle + build the app), wall time, median of ${rounds}`, `${importMedian.toFixed(0)} ms`, `${COLD_IMPORT_LIMIT_MS} ms`, importMedian < COLD_IMPORT_LIMIT_MS ? 'PASS' : 'MISS'],
      [`(the same, CPU time of the process during the import, median)`, `${cpuMedian.toFixed(0)} ms`, `${COLD_IMPORT_LIMIT_MS} ms`, cpuMedian < COLD_IMPORT_LIMIT_MS ? '(pass)' : '(miss)'],
    ];
    const lines = [
      START,
      '## Lambda bundles (npm run bench:bundle)',
      '',
      `Measured ${utcMinute(new Date())} on ${machineLine()}. Load average before / after: ${loadChange(loadBefore, loadAfter)}. Whole run: ${((Date.now() - started) / 1000).toFixed(0)} s (synth with bundling ${synthSeconds.toFixed(0)} s).`,
      '',
      '- Bundles: one synth of the CDK app (`infra/`) with the local esbuild, exactly what `npm run synth` and `npx cdk deploy` upload: CommonJS for Node.js 22, minified, names kept, AWS SDK bundled, packages’ ES module builds preferred (`mainFields: module, main`).',
      '- Zip size: each file of the function’s asset directory deflated at level 9 (the CDK asset zip’s level) plus the zip headers.',
      `- Cold import: ${rounds} fresh \`node\` processes (this machine, Node ${process.version}; Lambda runs Node.js 22 on ARM64), each timing \`require(index.js)\`: parsing and running the bundle, which reads the config, creates the SDK clients and stores and builds the Hono app (functions/api-handler.ts). Node’s own start-up is not counted; nothing is sent over the network.`,
      '',
      '| figure | measured | limit | result |',
      '| --- | ---: | ---: | --- |',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      `- Cold import by round, wall (CPU): ${results.map((r) => `${r.importMs.toFixed(0)} (${r.importCpuMs.toFixed(0)}) ms`).join(' · ')}; max wall ${Math.max(...imports).toFixed(0)} ms.`,
      '- The wall time is the figure the limit applies to. The import is single-threaded work (parse, compile, run module code), so its CPU time is what the wall time comes down to on an otherwise idle machine; when other processes share the cores, the wall time grows with the load average while the CPU time hardly moves. Read the verdict with the load average above.',
      `- First request after the cold import (GET /health through the handler), median: ${median(results.map((r) => r.firstRequestMs)).toFixed(1)} ms.`,
      `- Zipped (unzipped) size of every function: ${LAMBDA_NAMES.map((n) => `${n} ${mb(sizes[n]!.bytes)} (${mb(sizes[n]!.unzippedBytes)}${sizes[n]!.files > 1 ? `, ${sizes[n]!.files} files` : ''})`).join('; ')}. Only \`train\` ships TensorFlow.js (with the wasm backend’s two .wasm files).`,
      '',
      END,
    ];
    const section = lines.join('\n');
    process.stdout.write(`\n${section}\n`);
    if (!values['no-doc']) {
      const path = resolve(import.meta.dirname, '../../docs/benchmarks.md');
      replaceDocSection(path, 'bundle', section);
      process.stdout.write(`\nwrote the bench:bundle section of ${path}\n`);
    }
    emitBenchResult({
      bench: 'bundle',
      command: COMMAND,
      measuredAt: new Date().toISOString(),
      machine: machineLine(),
      seconds: (Date.now() - started) / 1000,
      targets: [
        {
          name: 'API bundle size, zipped',
          figure: mb(api.bytes),
          limit: '5 MB',
          target: '< 5 MB',
          met: api.bytes < ZIP_LIMIT_BYTES,
          ...(api.bytes < ZIP_LIMIT_BYTES ? {} : { reason: 'the API bundle grew past 5 MB zipped' }),
        },
        {
          name: 'API cold import (load the bundle + build the app)',
          figure: `${importMedian.toFixed(0)} ms (median of ${rounds}; CPU ${cpuMedian.toFixed(0)} ms)`,
          limit: `${COLD_IMPORT_LIMIT_MS} ms`,
          target: `< ${COLD_IMPORT_LIMIT_MS} ms`,
          met: importMedian < COLD_IMPORT_LIMIT_MS,
          ...(importMedian < COLD_IMPORT_LIMIT_MS
            ? {}
            : { reason: `wall ${importMedian.toFixed(0)} ms at load average ${loadAfter[0]!.toFixed(1)}; CPU time ${cpuMedian.toFixed(0)} ms ${cpuMedian < COLD_IMPORT_LIMIT_MS ? 'is under the limit: the machine was busy' : 'is over the limit too'}` }),
        },
      ],
      notes: [`zipped sizes: ${LAMBDA_NAMES.map((n) => `${n} ${mb(sizes[n]!.bytes)}`).join(', ')}`],
    });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
