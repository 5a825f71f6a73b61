/**
 * `npm run bench:ingest`: ingest throughput through the HTTP API and the CLI, each next to raw
 * BatchWriteItem throughput of the same items into the same embedded store, measured in the
 * same run; then peak RSS of the CLI on a 1,000,000-row events file. Prints a table and
 * rewrites the "Ingest" section of docs/benchmarks.md.
 *
 *   --rows N            events per measurement (default 200,000)
 *   --memory            only the memory check;  --skip-memory  no memory check
 *   --memory-rows N     rows in the memory check's file (default 1,000,000)
 *   --memory-store S    own (default: the CLI opens the data dir itself, the stores run in its
 *                       process) or running (the CLI uses a running store process, as it does
 *                       next to `npm start`)
 *   --store S           inproc (default: the stores run in this process, the single-process
 *                       layout of `npm start`) or child (in a process of their own)
 *   --raw-concurrency N BatchWriteItem requests in flight for the baseline (default 16: the
 *                       most the API path has in flight, 4 requests × 4 store requests)
 *   --rounds K          interleaved rounds (default 4): in each, raw, API and CLI write the
 *                       same N/K events, in a rotating order
 *   --api-inflight N    requests in flight (default 4);  --api-batch N  rows a request (5,000)
 *   --lanes N, --batch-size N   CLI ingest options (default: the CLI's own defaults)
 *   --sweep             also time the baseline at several concurrencies
 *   --profile DIR       CPU profile of this process per measurement (and the store process)
 *   --no-docs           do not touch docs/benchmarks.md;  --keep  keep the temp data dir
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { eventLines, itemChunks, ndjsonBodies, sampleItems, writeNdjsonFile } from './bench-data';
import { addMeasurements, apiIngest, cliIngest, rawBatchWrite, verifyStored, type Measurement } from './bench-paths';
import { currentLoad, markdownSection, printTable, type BenchReport } from './bench-report';
import { benchClients, provision, ROOT, serveApp, startStore, type StoreHandle, type StoreMode } from './bench-stack';
import { runCliMemory } from './memory-run';
import { emitBenchResult, replaceDocSection, ingestBenchResult } from './bench-results';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    memory: { type: 'boolean', default: false },
    'skip-memory': { type: 'boolean', default: false },
    'memory-rows': { type: 'string', default: '1000000' },
    'memory-store': { type: 'string', default: 'own' },
    store: { type: 'string', default: 'inproc' },
    'raw-concurrency': { type: 'string', default: '16' },
    rounds: { type: 'string', default: '4' },
    'api-inflight': { type: 'string', default: '4' },
    'api-batch': { type: 'string', default: '5000' },
    lanes: { type: 'string' },
    'batch-size': { type: 'string' },
    sweep: { type: 'boolean', default: false },
    profile: { type: 'string' },
    'no-docs': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const positive = (name: string, v: string | undefined): number => {
  const n = Number(v?.replaceAll('_', '').replaceAll(',', ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not ${v}`);
  return n;
};
const ROWS = positive('rows', args.rows);
const ROUNDS = positive('rounds', args.rounds);
const MEMORY_ROWS = positive('memory-rows', args['memory-rows']);
const RAW_CONCURRENCY = positive('raw-concurrency', args['raw-concurrency']);
const API_INFLIGHT = positive('api-inflight', args['api-inflight']);
const API_BATCH = positive('api-batch', args['api-batch']);
const CLI_OPTIONS = {
  ...(args.lanes ? { lanes: positive('lanes', args.lanes) } : {}),
  ...(args['batch-size'] ? { batchSize: positive('batch-size', args['batch-size']) } : {}),
};
const STORE_MODE = args.store as StoreMode;
if (STORE_MODE !== 'child' && STORE_MODE !== 'inproc') throw new Error('--store must be child or inproc');
if (args['memory-store'] !== 'running' && args['memory-store'] !== 'own') throw new Error('--memory-store must be running or own');
const MEMORY_LIMIT_MB = 400;
const WARMUP_ROWS = 5_000;

const say = (line = ''): void => void process.stdout.write(`${line}\n`);
const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const show = (label: string, m: Measurement): void =>
  say(`  ${label.padEnd(34)} ${int.format(m.rows).padStart(9)} rows  ${m.seconds.toFixed(1).padStart(6)} s  ${int.format(m.rows / m.seconds).padStart(6)} rows/s`);

let session: Session | undefined;
async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (!args.profile) return fn();
  if (!session) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    mkdirSync(args.profile, { recursive: true });
  }
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(args.profile, `${name}.cpuprofile`), JSON.stringify(profile));
  }
}

const RAW_CHUNK = 25_000;

type PathName = 'raw' | 'api' | 'cli';

async function throughput(store: StoreHandle, work: string, report: BenchReport): Promise<void> {
  const { clients, close } = benchClients(store);
  const run = Date.now().toString(36);
  const gen = { tag: run };
  const slice = Math.ceil(ROWS / ROUNDS);
  const bounds = Array.from({ length: ROUNDS }, (_, r) => [r * slice, Math.min(ROWS, (r + 1) * slice)] as const).filter(([from, to]) => to > from);
  try {
    // Nothing big stays on this process's heap while a path runs: the CLI reads files, the API
    // client holds one round's request bodies, the baseline builds its items a chunk at a time.
    say(`generating ${int.format(ROWS)} events…`);
    const files: string[] = [];
    let fileBytes = 0;
    for (const [r, [from, to]] of bounds.entries()) {
      files.push(join(work, `events-${r}.ndjson`));
      fileBytes += await writeNdjsonFile(files[r]!, lines(gen, from, to));
    }

    // Each path writes new items into tables of its own, created before any clock starts.
    const stacks = { raw: await provision(store, clients, `raw-${run}`), api: await provision(store, clients, `api-${run}`), cli: await provision(store, clients, `cli-${run}`) };
    const apiServer = await serveApp(stacks.api.deps);
    try {
      say(`warming up (${int.format(WARMUP_ROWS)} rows through each path)…`);
      const warmGen = { tag: `${run}w`, seed: 7 };
      const warmFile = join(work, 'warm.ndjson');
      await writeNdjsonFile(warmFile, eventLines(WARMUP_ROWS, warmGen));
      const [w1, w2, w3] = [await provision(store, clients, `warm1-${run}`), await provision(store, clients, `warm2-${run}`), await provision(store, clients, `warm3-${run}`)];
      await rawBatchWrite(store, clients, w1.tables.events, itemChunks(WARMUP_ROWS, warmGen, 0, WARMUP_ROWS, RAW_CHUNK), RAW_CONCURRENCY);
      await cliIngest(store, w2.deps, warmFile, WARMUP_ROWS, CLI_OPTIONS);
      const warmServer = await serveApp(w3.deps);
      const warmKey = (await w3.deps.apiKeys.create({ name: 'bench warm-up', role: 'integration' })).key;
      await apiIngest(store, warmServer.url, warmKey, ndjsonBodies(eventLines(WARMUP_ROWS, warmGen), API_BATCH), WARMUP_ROWS, API_INFLIGHT);
      await warmServer.close();

      if (args.sweep) {
        say('baseline concurrency sweep:');
        for (const c of [2, 4, 8, 16, 32]) {
          const t = await provision(store, clients, `sweep${c}-${run}`);
          show(`raw BatchWriteItem × ${c} in flight`, await rawBatchWrite(store, clients, t.tables.events, itemChunks(ROWS, gen, 0, Math.min(ROWS, 25_000), RAW_CHUNK), c));
        }
      }

      const apiKey = (await stacks.api.deps.apiKeys.create({ name: 'bench', role: 'integration' })).key;
      const runPath = async (path: PathName, r: number, from: number, to: number): Promise<Measurement> => {
        if (path === 'raw') return rawBatchWrite(store, clients, stacks.raw.tables.events, itemChunks(ROWS, gen, from, to, RAW_CHUNK), RAW_CONCURRENCY);
        if (path === 'cli') return cliIngest(store, stacks.cli.deps, files[r]!, to - from, CLI_OPTIONS);
        const bodies = ndjsonBodies(lines(gen, from, to), API_BATCH);
        return apiIngest(store, apiServer.url, apiKey, bodies, to - from, API_INFLIGHT);
      };

      // Rounds: every path takes the same slice of the events in turn, in a rotating order, so
      // that whatever else the machine does and the growing store weigh on all three alike.
      say(`measuring, ${bounds.length} rounds of ${int.format(slice)} rows a path:`);
      const order: PathName[] = ['raw', 'api', 'cli'];
      const results: Record<PathName, Measurement[]> = { raw: [], api: [], cli: [] };
      for (const [r, [from, to]] of bounds.entries()) {
        for (let k = 0; k < order.length; k++) {
          const path = order[(r + k) % order.length]!;
          const m = await profiled(`${path}-${r + 1}`, () => runPath(path, r, from, to));
          results[path].push(m);
          show(`round ${r + 1}: ${LABEL[path]}`, m);
        }
      }

      const sample = sampleItems(ROWS, gen, 0, ROWS, 200);
      for (const path of order) await verifyStored(clients, stacks[path].tables.events, sample);

      const total = (ms: Measurement[]): Measurement => ms.reduce((a, b) => addMeasurements(a, b));
      const perRound = (path: PathName): number[] => results[path].map((m) => m.rows / m.seconds);
      const raw = total(results.raw);
      report.rawRate = raw.rows / raw.seconds;
      const lanes = CLI_OPTIONS.lanes || CLI_OPTIONS.batchSize ? `${CLI_OPTIONS.lanes ?? 'default'} lanes × ${CLI_OPTIONS.batchSize ?? 'default'} rows` : 'the CLI defaults';
      report.throughput.push(
        { path: `raw BatchWriteItem, ${RAW_CONCURRENCY} in flight`, m: raw, rounds: perRound('raw') },
        { path: `HTTP API, NDJSON × ${int.format(API_BATCH)}, ${API_INFLIGHT} in flight`, m: total(results.api), rounds: perRound('api'), target: 0.5 },
        { path: `CLI ingestFile (${lanes})`, m: total(results.cli), rounds: perRound('cli'), target: 0.7 },
      );
      report.setup.push(
        `${int.format(ROWS)} events (${int.format(Math.round(fileBytes / ROWS))} bytes a line; ids \`E-<run>-P-00042-<n>\`, 2,000 partners, the nine types in a realistic mix, ` +
          'whole-second times over two years, quantity on logins and views, nps and deal values).',
        `Stores: dynalite (LevelDB on disk) and s3rver from \`startEmbeddedStores\` on a fresh temp data dir, ${
          store.mode === 'child' ? 'in a process of their own (the app, the CLI ingest and the baseline run in the benchmark process)' : 'in the benchmark process with the app, the CLI ingest and the baseline: the single-process layout of `npm start`'
        }; each path writes into tables of its own; ${int.format(WARMUP_ROWS)} rows through every path first.`,
        `Interleaved: ${bounds.length} rounds; in each, raw, API and CLI write the same ${int.format(slice)} events in a rotating order. A rate is the path's rows over its total time (the rounds' rates are listed below the table).`,
        `Baseline: the very items ingest stores (validated, with contentHash and ingestedAt) written with BatchWriteItem, 25 a request, ${RAW_CONCURRENCY} in flight ` +
          `(as many as the API path has at most: 4 requests × 4 store requests; the CLI has 2 lanes × 4), built ${int.format(RAW_CHUNK)} at a time outside the clock. ` +
          'Timed separately at 2 to 32 in flight (`--sweep`), the baseline rate is flat from 4 up.',
        `API: \`POST /v1/events\` over HTTP (@hono/node-server), NDJSON bodies of ${int.format(API_BATCH)} rows, ${API_INFLIGHT} requests in flight. CLI: \`ingestFile\` on an NDJSON file per round, with ${lanes}.`,
      );
    } finally {
      await apiServer.close();
    }
  } finally {
    close();
  }
}

const LABEL: Record<PathName, string> = { raw: 'raw BatchWriteItem', api: 'HTTP API', cli: 'CLI ingestFile' };

function* lines(gen: { tag: string }, from: number, to: number): Generator<string> {
  let i = 0;
  for (const line of eventLines(ROWS, gen)) {
    if (i >= to) return;
    if (i++ >= from) yield line;
  }
}

async function memory(store: StoreHandle, work: string, report: BenchReport): Promise<void> {
  const file = join(work, 'memory-events.ndjson');
  say(`writing a ${int.format(MEMORY_ROWS)}-row events file…`);
  const bytes = await writeNdjsonFile(file, eventLines(MEMORY_ROWS, { tag: `m${Date.now().toString(36)}`, seed: 1234 }));
  say(`ingesting it with the CLI in a child process (${args['memory-store'] === 'own' ? 'stores in its own process' : 'using the running store process'})…`);
  const result = await runCliMemory(file, MEMORY_ROWS, bytes, join(work, 'cli-data'), args['memory-store'] === 'running' ? store : undefined);
  say(`  ${result.stdout.split('\n')[0] ?? ''}`);
  say(`  peak RSS ${int.format(result.peakRssBytes / 1024 / 1024)} MB (limit ${MEMORY_LIMIT_MB} MB)`);
  report.memory = result;
  rmSync(file, { force: true });
}

async function main(): Promise<void> {
  const started = performance.now();
  const report: BenchReport = { rows: ROWS, storeMode: STORE_MODE, setup: [], throughput: [], memoryLimitMb: MEMORY_LIMIT_MB, loadBefore: currentLoad(), loadAfter: [], totalSeconds: 0 };
  const work = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  const memoryStore = args['memory-store'] === 'running' ? 'child' : STORE_MODE;
  if (args.profile && STORE_MODE === 'child') process.env.BENCH_STORE_CPU_PROF = args.profile;
  const store = await startStore(args.memory ? memoryStore : STORE_MODE, join(work, 'store'));
  say(`data in ${work}; stores ${store.mode === 'child' ? `in process ${store.pid}` : 'in this process'}`);
  try {
    if (!args.memory) await throughput(store, work, report);
    if (args.memory || !args['skip-memory']) {
      let memStore = store;
      if (!args.memory && memoryStore !== store.mode) memStore = await startStore(memoryStore, join(work, 'store-memory'));
      try {
        await memory(memStore, work, report);
      } finally {
        if (memStore !== store) await memStore.close();
      }
    }
  } finally {
    await store.close();
    if (args.keep) say(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  report.loadAfter = currentLoad();
  report.totalSeconds = (performance.now() - started) / 1000;
  say();
  printTable(report, say);
  emitBenchResult(ingestBenchResult(report));
  say();
  say(`load average before ${report.loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${report.loadAfter.map((l) => l.toFixed(2)).join(' ')}; whole run ${report.totalSeconds.toFixed(0)} s`);
  if (!args['no-docs'] && !args.memory) {
    replaceDocSection(join(ROOT, 'docs', 'benchmarks.md'), 'ingest', markdownSection(report));
    say('updated docs/benchmarks.md');
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:ingest failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
