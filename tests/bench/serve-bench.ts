/**
 * `npm run bench:serve`: the serving side on 20,000 generated partners, in the single-process
 * layout of `npm start` (dynalite on disk + s3rver + the Hono app in one process).
 *
 *   (a) a full scoring run (partners/s) next to raw BatchWriteItem of as many score items into
 *       the same scores table (target: within 2× of raw);
 *   (b) GET /v1/partners/{id}/scores, 32 connections, 20 s, autocannon in its own process,
 *       next to a bare route doing one raw GetItem in the same server (target: p99 within
 *       1.5×, zero errors);
 *   (c) in-process predict() of one partner's feature vector next to a hand-written JS
 *       forward pass of the same weights (target: within 3×).
 *
 * Options: --partners 20000 --years 0.05 --train-partners 1500 --seconds 20 --connections 32
 * --warmup 3 --stores inproc|child --no-doc (do not touch docs/benchmarks.md).
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { currentBackend } from '../../models/backend';
import { openStack, loadProgram, trainChampions } from './serve-data';
import { forwardSetup, measureForward } from './serve-forward';
import { measureRoutes, startBenchServer } from './serve-http';
import { markdownSection, printTable, verdicts, type ServeReport } from './serve-report';
import { measureScoring, requestSummary } from './serve-scoring';
import { emitBenchResult, replaceDocSection, serveBenchResult } from './bench-results';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    partners: { type: 'string', default: '20000' },
    years: { type: 'string', default: '0.05' },
    'train-partners': { type: 'string', default: '1500' },
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '3' },
    stores: { type: 'string', default: 'inproc' },
    'no-doc': { type: 'boolean', default: false },
  },
});

const END = '2025-06-30';
const AS_OF = `${END}T23:59:59.000Z`;
/** The raw baseline's score items go under another asOf (a fresh run key). */
const RAW_AS_OF = `${END}T00:00:00.000Z`;
const DOC = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const secs = (s: number): string => `${s.toFixed(1)} s`;

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg();
  const partners = Number(values.partners);
  const years = Number(values.years);
  const trainPartners = Number(values['train-partners']);
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);

  if (values.stores !== 'inproc' && values.stores !== 'child') throw new Error('--stores must be inproc or child');
  const stack = await openStack(values.stores);
  const { deps } = stack;
  say(`stores on disk under ${stack.dataDir} (dynalite + s3rver in this process, as npm start runs them)`);
  try {
    say(`training both champions on a ${int.format(trainPartners)}-partner program…`);
    const trained = await trainChampions(deps, { partners: trainPartners, seed: 11, end: END });
    const backend = currentBackend() ?? 'cpu';
    for (const t of trained.results) say(`  ${t.model} ${t.version} (${t.status}): holdout AUC ${t.metrics.auc.toFixed(3)}, on ${t.backend}`);
    say(`  trained in ${secs(trained.seconds)}`);

    say(`generating ${int.format(partners)} partners (${years} years of history) and writing them into the tables…`);
    const program = await loadProgram(deps, { partners, seed: 2024, end: END, years, concurrency: 8 });
    say(`  ${int.format(program.partners)} partners (${int.format(program.activePartners)} active), ${int.format(program.events)} events, ${int.format(program.deals)} deals: generated in ${secs(program.generateSeconds)}, written in ${secs(program.writeSeconds)}`);

    say('(a) full scoring run, then raw BatchWriteItem of the same items…');
    const scoring = await measureScoring(deps, AS_OF, RAW_AS_OF);
    const { run, raw } = scoring;
    say(`  run: ${int.format(run.scored)} partners in ${secs(run.seconds)} = ${int.format(run.scored / run.seconds)} partners/s (CPU ${secs(run.cpuSeconds)})`);
    const ph = run.phases;
    say(`  run: ${ph.shards} shards; requests: ${requestSummary(ph.requests)}`);
    say(`  alone, after the run: reading every shard's histories ${secs(ph.read.seconds)} (CPU ${secs(ph.read.cpuSeconds)}), scoring them ${secs(ph.score.seconds)} (CPU ${secs(ph.score.cpuSeconds)})`);
    say(`  raw: ${int.format(raw.items)} items in ${secs(raw.seconds)} = ${int.format(raw.items / raw.seconds)} items/s (CPU ${secs(raw.cpuSeconds)}, ${int.format(raw.bytes / raw.items)} bytes an item)`);

    say(`(b) ${connections} connections, ${seconds} s a route (after ${values.warmup} s warm-up each)…`);
    const { key } = await deps.apiKeys.create({ name: 'serve-bench', role: 'ops' });
    const server = await startBenchServer(deps, RAW_AS_OF);
    let routes;
    try {
      routes = await measureRoutes(server, { key, ids: scoring.storedIds, connections, seconds, warmupSeconds: Number(values.warmup) });
    } finally {
      await server.close();
    }
    for (const [name, r] of [['product', routes.product], ['bare', routes.raw]] as const) {
      say(`  ${name}: ${int.format(r.rps)} req/s, p50 ${r.p50} ms, p90 ${r.p90} ms, p99 ${r.p99} ms, max ${r.max} ms, errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}; server CPU ${r.cpuMsPerRequest.toFixed(2)} ms a request`);
    }

    say('(c) in-process predict (plain-JS forward pass) vs hand-written forward pass, tfjs for information…');
    const forward = await measureForward(deps, program.sample, AS_OF, backend);
    say(`  predict ${forward.predictMicros.toFixed(2)} µs, hand-written ${forward.handMicros.toFixed(2)} µs, tfjs ${forward.tfjsMicros.toFixed(1)} µs; p ${forward.probability.toFixed(6)} vs ${forward.handProbability.toFixed(6)} vs ${forward.tfjsProbability.toFixed(6)}`);

    const report: ServeReport = {
      scoring,
      routes,
      forward,
      totalSeconds: (performance.now() - started) / 1000,
      loadBefore,
      loadAfter: loadavg(),
      setup: [
        `Layout: \`npm start\`'s: dynalite (LevelDB on a temp dir on disk) and s3rver in the benchmark process, which also runs the scoring run and serves the app; autocannon runs in a child process. Fresh tables for the run.`,
        `Models: both champions trained first with trainModelVersion on a ${int.format(trained.partners)}-partner generated program (2.5 years), saved to the same stores (${trained.results.map((t) => `${t.model} AUC ${t.metrics.auc.toFixed(3)}`).join(', ')}; ${secs(trained.seconds)}).`,
        `Data: generateProgram with ${int.format(program.partners)} partners and ${years} years of history (${int.format(program.events)} events, ${int.format(program.deals)} deals; about ${Math.round(program.events / program.partners)} events a partner), written as ingest stores the items (BatchWriteItem, setup: ${secs(program.writeSeconds)}). A shorter history than the demo's keeps the whole run under 10 minutes on 2 cores: dynalite stores ~2,000 items/s, so the demo's 2.5 years (~5M events at 20,000 partners) would take about 40 minutes to load. A scoring shard reads histories with Scan pages of 1,000 items (scan-merge), so longer histories cost requests in proportion to their items.`,
        `(a) runScoring as of ${AS_OF} (${run.phases.shards} shards, 2 at a time; the first run, so no previous run to diff against), timed end to end; raw: the ${int.format(raw.items)} items it stored (as putScores received them, plus scoreKey and rankKey), re-keyed to a fresh run (another scoreKey and runId, so the product never shows them), BatchWriteItem 25 a request, 4 in flight (putScores' batching). The run's requests are counted on the SDK client; after the raw writes, the same shards' histories are read and scored again (nothing written) to time reading and scoring each on its own.`,
        `(b) one ops key; both routes pass the same request middleware and the same \`authenticate\` (one GetItem of the key), so the ratio isolates the handler: the product route's zod params + Query of the partner's scores + cached run list, against one GetItem. Requests rotate over the ${int.format(routes.ids)} scored partners. Each partition then holds two items (the run's, and the raw baseline's, which the product filters out as not of a completed run); after many weekly runs the product's Query returns up to 32 items a request, which this run does not show.`,
        forwardSetup(forward),
      ],
    };
    say('');
    printTable(report, say);
    emitBenchResult(serveBenchResult(report));
    const v = verdicts(report);
    if (!values['no-doc']) {
      replaceDocSection(DOC, 'serve', markdownSection(report));
      say(`\nwritten to ${DOC}`);
    }
    say(`whole run ${secs(report.totalSeconds)}; ${[v.scoring, v.routes, v.predict].filter(Boolean).length} of 3 targets met`);
  } finally {
    await stack.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:serve failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
