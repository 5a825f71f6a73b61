/**
 * `npm run bench:load`: the local stack (`npm start`, a child process with its demo data) under
 * a mixed load from autocannon for 60 s: partner score reads, churn-risk list pages (first
 * pages, cursor pages, filters, CSV) and ingest batches of new events, all at once.
 *
 * Targets: zero errors (no socket error, timeout or non-2xx on any route); zero lost records
 * (every event of a batch answered 200 is stored, counted afterwards in the stack's DynamoDB);
 * server memory that does not grow without bound: from the first half of the load to the second,
 * neither the peak RSS of the server process (sampled every second) nor its live heap after a
 * full GC (from its --trace-gc output) may grow by more than 10%. Throughput and
 * p50/p99 per route are printed next to the limit of the same server in the same run: GET
 * /health alone, at the same number of connections.
 *
 * Options: --seconds 60 --partners 200 (demo size) --batch 50 (events a batch)
 * --scores 8 --churn 4 --ingest 2 (connections per route) --data-dir D (reuse a stack's data;
 * default: a fresh temp dir) --no-doc (do not touch docs/benchmarks.md) --server-node-arg A
 * (repeatable: a Node.js flag for the server, e.g. --server-node-arg=--cpu-prof to profile it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createAwsClients, destroyAwsClients } from '../../data/stores/aws-clients';
import { tableNamesFromPrefix } from '../../data/stores/tables';
import { readDemoKeys } from '../../functions/local/demo';
import { LOCAL_TABLE_PREFIX } from '../../functions/local/local-config';
import { stackFilePath, type StackFile } from '../../functions/local/local-stack';
import { mainThreadGcs, startLoadServer, stopLoadServer } from './load-server';
import { statusBytes } from './proc-status';
import { loadChange, machineLine, utcMinute } from './bench-format';
import { emitBenchResult, replaceDocSection, type BenchResult, type TargetResult } from './bench-results';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    partners: { type: 'string', default: '200' },
    batch: { type: 'string', default: '50' },
    scores: { type: 'string', default: '8' },
    churn: { type: 'string', default: '4' },
    ingest: { type: 'string', default: '2' },
    'data-dir': { type: 'string' },
    'no-doc': { type: 'boolean', default: false },
    'server-node-arg': { type: 'string', multiple: true, default: [] },
  },
});

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = join(ROOT, 'docs', 'benchmarks.md');
const SECONDS = Number(args.seconds);
const BATCH = Number(args.batch);
const CONNECTIONS = { scores: Number(args.scores), churn: Number(args.churn), ingest: Number(args.ingest) };
/** Server RSS (its peak in each half) and live heap (after the last full GC of each half) may grow by at most this share from the first half of the load to the second. */
const RSS_GROWTH_LIMIT = 0.1;
const SETUP_TIMEOUT_MS = 30 * 60_000;

const say = (line = ''): void => void process.stdout.write(`${line}\n`);
const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const mb = (bytes: number): string => `${int.format(bytes / 2 ** 20)} MB`;

// ---------------------------------------------------------------------------------------------
// The load

interface RouteFigures {
  route: string;
  connections: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number; max: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: Record<string, unknown>, done: (error: unknown, result: AutocannonResult) => void) => unknown;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function load(route: string, connections: number, options: Record<string, unknown>): Promise<RouteFigures> {
  return new Promise((done, fail) => {
    autocannon({ connections, duration: SECONDS, timeout: 30, ...options }, (error, r) => {
      if (error) return fail(error instanceof Error ? error : new Error(String(error)));
      done({ route, connections, requests: r.requests.total, rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx });
    });
  });
}

interface IngestTally {
  batches: number;
  sentRecords: number;
  /** Ids of every event in a batch answered 200 (accepted or unchanged). */
  acknowledged: Set<string>;
  rejected: number;
  failedBatches: number;
}

const EVENT_TYPES = ['portal_login', 'content_view', 'training_completed', 'co_sell_meeting', 'support_ticket'] as const;

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.status}: ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as T;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const loadBefore = loadavg();
  const reuse = args['data-dir'] !== undefined;
  const dataDir = reuse ? resolve(args['data-dir']!) : mkdtempSync(join(tmpdir(), 'bench-load-'));
  const partners = Number(args.partners);
  say(`bench:load: ${SECONDS} s of mixed load on the local stack (data in ${dataDir}${reuse ? ', reused' : `, demo of ${partners} partners`})`);
  const server = await startLoadServer({ root: ROOT, dataDir, partners, nodeArgs: args['server-node-arg'], timeoutMs: SETUP_TIMEOUT_MS, say });
  say(`stack ready at ${server.url} in ${server.setupSeconds.toFixed(0)} s (pid ${server.child.pid})`);
  const tag = `load-${Date.now().toString(36)}`;
  let tally: IngestTally | undefined;
  try {
    const admin = readDemoKeys(dataDir)?.admin;
    if (!admin) throw new Error(`no demo keys in ${dataDir}: start the stack there with its demo data first`);
    const { key } = await json<{ key: string }>(await fetch(`${server.url}/v1/api-keys`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench:load', role: 'integration' }) }));
    const auth = { authorization: `Bearer ${key}` };

    // What the readers read: every scored partner, and the churn-risk pages as clients page them.
    const ids: string[] = [];
    const listUrls: string[] = [];
    const tiers = new Set<string>();
    let cursor: string | null = null;
    do {
      const path: string = `/v1/churn-risk?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      listUrls.push(path);
      const page: { items: { partnerId: string; tier: string }[]; nextCursor: string | null } = await json(await fetch(`${server.url}${path}`, { headers: auth }));
      for (const item of page.items) {
        ids.push(item.partnerId);
        tiers.add(item.tier);
      }
      cursor = page.nextCursor;
    } while (cursor);
    if (ids.length === 0) throw new Error('the stack has no scored partners: the demo must have run a scoring pass');
    for (const tier of tiers) listUrls.push(`/v1/churn-risk?limit=25&tier=${encodeURIComponent(tier)}`);
    listUrls.push('/v1/churn-risk?limit=100&minProbability=0.1', '/v1/churn-risk?limit=50&format=csv');
    say(`${int.format(ids.length)} scored partners; ${listUrls.length} churn-risk pages in rotation`);

    const rss: { at: number; bytes: number }[] = [];
    const pid = server.child.pid!;
    const rssNow = (): number => statusBytes(pid, 'VmRSS') ?? 0;
    const rssIdle = rssNow();

    // The limit: the same server answering its cheapest route, at the same number of connections.
    const total = CONNECTIONS.scores + CONNECTIONS.churn + CONNECTIONS.ingest;
    const baselineSeconds = Math.max(3, Math.round(SECONDS / 6));
    say(`limit: GET /health alone, ${total} connections, ${baselineSeconds} s…`);
    const health = await new Promise<RouteFigures>((done, fail) => {
      autocannon({ url: `${server.url}/health`, connections: total, duration: baselineSeconds }, (error, r) =>
        error ? fail(error) : done({ route: 'GET /health (limit)', connections: total, requests: r.requests.total, rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx }),
      );
    });

    say(`mixed load: ${CONNECTIONS.scores} + ${CONNECTIONS.churn} + ${CONNECTIONS.ingest} connections, ${SECONDS} s…`);
    const rssBefore = rssNow();
    const loadStart = performance.now();
    const sampler = setInterval(() => rss.push({ at: (performance.now() - loadStart) / 1000, bytes: rssNow() }), 1000);
    const counters = { score: 0, list: 0, batch: 0 };
    const ingest: IngestTally = { batches: 0, sentRecords: 0, acknowledged: new Set(), rejected: 0, failedBatches: 0 };
    tally = ingest;
    const batchIds = new Map<number, string[]>();
    let figures: RouteFigures[];
    try {
      figures = await Promise.all([
        load('GET /v1/partners/{id}/scores', CONNECTIONS.scores, {
          url: server.url,
          headers: auth,
          requests: [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: `/v1/partners/${encodeURIComponent(ids[counters.score++ % ids.length]!)}/scores` }) }],
        }),
        load('GET /v1/churn-risk (pages, filters, CSV)', CONNECTIONS.churn, {
          url: server.url,
          headers: auth,
          requests: [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: listUrls[counters.list++ % listUrls.length]! }) }],
        }),
        load(`POST /v1/events (${BATCH} new events a batch)`, CONNECTIONS.ingest, {
          url: server.url,
          headers: { ...auth, 'content-type': 'application/json' },
          requests: [
            {
              method: 'POST',
              path: '/v1/events',
              setupRequest: (req: Record<string, unknown>, context: Record<string, unknown>) => {
                const n = counters.batch++;
                const at = new Date().toISOString();
                const events = Array.from({ length: BATCH }, (_, i) => ({
                  eventId: `${tag}-${n}-${i}`,
                  partnerId: ids[(n * BATCH + i) % ids.length]!,
                  type: EVENT_TYPES[i % EVENT_TYPES.length]!,
                  occurredAt: at,
                }));
                batchIds.set(n, events.map((e) => e.eventId));
                ingest.batches++;
                ingest.sentRecords += BATCH;
                context.batch = n;
                return { ...req, body: JSON.stringify(events) };
              },
              onResponse: (status: number, body: string, context: Record<string, unknown>) => {
                const n = context.batch as number;
                if (status !== 200) {
                  ingest.failedBatches++;
                  return;
                }
                const result = JSON.parse(body) as { rejected: { index: number }[] };
                const rejected = new Set(result.rejected.map((r) => r.index));
                ingest.rejected += rejected.size;
                (batchIds.get(n) ?? []).forEach((id, i) => {
                  if (!rejected.has(i)) ingest.acknowledged.add(id);
                });
              },
            },
          ],
        }),
      ]);
    } finally {
      clearInterval(sampler);
    }
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const rssAfter = rssNow();
    // Requests autocannon abandoned at the end may still be running in the server: let them finish.
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${server.url}/health`).catch(() => undefined);
      if (res?.ok) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await new Promise((r) => setTimeout(r, 3000));
    const rssSettled = rssNow();

    // Counted afterwards, in the stack's own DynamoDB: every acknowledged event is stored.
    const stackFile = JSON.parse(readFileSync(stackFilePath(dataDir), 'utf8')) as StackFile;
    const clients = createAwsClients({ region: 'us-east-1', dynamoEndpoint: stackFile.dynamoEndpoint, s3Endpoint: stackFile.s3Endpoint });
    const stored = new Set<string>();
    try {
      let start: Record<string, unknown> | undefined;
      do {
        const out = await clients.ddb.send(
          new ScanCommand({
            TableName: tableNamesFromPrefix(LOCAL_TABLE_PREFIX).events,
            ConsistentRead: true,
            FilterExpression: 'begins_with(eventId, :p)',
            ExpressionAttributeValues: { ':p': `${tag}-` },
            ProjectionExpression: 'eventId',
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of out.Items ?? []) stored.add(String(item.eventId));
        start = out.LastEvaluatedKey;
      } while (start);
    } finally {
      destroyAwsClients(clients);
    }
    const lost = [...ingest.acknowledged].filter((id) => !stored.has(id));

    // ---- verdicts
    const errors = figures.reduce((n, f) => n + f.errors + f.timeouts + f.non2xx, 0);
    const half = rss.filter((s) => s.at >= loadSeconds / 2);
    const rssMid = half[0]?.bytes ?? rssBefore;
    const rssPeak = Math.max(rssBefore, ...rss.map((s) => s.bytes), rssAfter);
    // RSS follows the GC's sawtooth, so two single samples compare arbitrary points of it: the
    // envelope (each half's peak) is what grows when memory is not given back.
    const peakOf = (samples: { bytes: number }[]): number => Math.max(0, ...samples.map((s) => s.bytes));
    const rssPeakFirst = Math.max(rssBefore, peakOf(rss.filter((s) => s.at < loadSeconds / 2)));
    const rssPeakSecond = Math.max(rssAfter, peakOf(half));
    const growth = (rssPeakSecond - rssPeakFirst) / rssPeakFirst;
    const rssSeries = rss.filter((_, i) => i % 5 === 4).map((s) => `${s.at.toFixed(0)} s ${int.format(s.bytes / 2 ** 20)}`).join(', ');
    // The live heap after the main thread's last full GC of each half: what a leak would grow.
    const loadEnd = loadStart + loadSeconds * 1000;
    const lastGc = (from: number, to: number): number | undefined => mainThreadGcs(server.fullGcs, from, to).at(-1)?.liveBytes;
    const heapMid = lastGc(loadStart, loadStart + (loadSeconds * 1000) / 2);
    const heapEnd = lastGc(loadStart + (loadSeconds * 1000) / 2, loadEnd);
    const fullGcCount = mainThreadGcs(server.fullGcs, loadStart, loadEnd).length;
    const heapGrowth = heapMid !== undefined && heapEnd !== undefined ? (heapEnd - heapMid) / heapMid : undefined;
    const targets: TargetResult[] = [
      {
        name: 'mixed load: errors on any route',
        figure: `${errors} (socket errors, timeouts, non-2xx)`,
        limit: `${int.format(figures.reduce((n, f) => n + f.requests, 0))} requests`,
        target: '0 errors',
        met: errors === 0,
        ...(errors === 0 ? {} : { reason: figures.filter((f) => f.errors + f.timeouts + f.non2xx > 0).map((f) => `${f.route}: ${f.errors} errors, ${f.timeouts} timeouts, ${f.non2xx} non-2xx`).join('; ') }),
      },
      {
        name: 'mixed load: ingested events lost',
        figure: `${lost.length} of ${int.format(ingest.acknowledged.size)} acknowledged (${int.format(stored.size)} stored)`,
        limit: `${int.format(ingest.sentRecords)} events sent in ${int.format(ingest.batches)} batches`,
        target: '0 lost',
        met: lost.length === 0 && ingest.acknowledged.size > 0,
        ...(lost.length === 0 ? (ingest.acknowledged.size > 0 ? {} : { reason: 'no batch was acknowledged' }) : { reason: `${lost.length} acknowledged events are not stored, e.g. ${lost[0]}` }),
      },
      {
        name: 'mixed load: server RSS',
        figure: `peak ${mb(rssPeakSecond)} in the second half (samples: ${mb(rssBefore)} before, ${mb(rssMid)} at half-time, ${mb(rssAfter)} at the end)`,
        limit: `peak ${mb(rssPeakFirst)} in the first half`,
        ratio: (rssPeakSecond / rssPeakFirst).toFixed(2),
        target: `second half's peak ≤ first half's + ${RSS_GROWTH_LIMIT * 100}%`,
        met: growth <= RSS_GROWTH_LIMIT,
        ...(growth <= RSS_GROWTH_LIMIT ? {} : { reason: `the second half's RSS peak is ${(growth * 100).toFixed(0)}% above the first half's` }),
      },
      {
        name: 'mixed load: live heap after full GC',
        figure: heapMid !== undefined && heapEnd !== undefined ? `${mb(heapMid)} after the last full GC of the first half, ${mb(heapEnd)} after the last of the second (${fullGcCount} full GCs under load)` : `${fullGcCount} full GCs under load`,
        limit: heapMid !== undefined ? `${mb(heapMid)} at half-time` : '–',
        ...(heapMid !== undefined && heapEnd !== undefined ? { ratio: (heapEnd / heapMid).toFixed(2) } : {}),
        target: `second half grows ≤ ${RSS_GROWTH_LIMIT * 100}%`,
        met: heapGrowth !== undefined && heapGrowth <= RSS_GROWTH_LIMIT,
        ...(heapGrowth === undefined ? { reason: 'no full GC in one half of the load: run longer' } : heapGrowth <= RSS_GROWTH_LIMIT ? {} : { reason: `the live heap grew ${(heapGrowth * 100).toFixed(0)}% over the second half of the load` }),
      },
    ];

    // ---- output
    const head = ['route', 'connections', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'timeouts', 'non-2xx'];
    const row = (f: RouteFigures): string[] => [f.route, String(f.connections), int.format(f.requests), int.format(f.rps), String(f.p50), String(f.p99), String(f.max), String(f.errors), String(f.timeouts), String(f.non2xx)];
    const totalRps = figures.reduce((n, f) => n + f.rps, 0);
    const rows = [...figures.map(row), ['all routes together', String(total), int.format(figures.reduce((n, f) => n + f.requests, 0)), int.format(totalRps), '', '', '', '', '', ''], row(health)];
    say();
    const widths = head.map((_, c) => Math.max(...[head, ...rows].map((r) => (r[c] ?? '').length)));
    for (const r of [head, ...rows]) say(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
    say();
    say(`throughput of the mix ${int.format(totalRps)} req/s = ${((totalRps / health.rps) * 100).toFixed(0)}% of the server's GET /health rate (${int.format(health.rps)} req/s); ingest ${int.format((ingest.acknowledged.size / loadSeconds) || 0)} events/s`);
    say(`server RSS: idle ${mb(rssIdle)}, before the mix ${mb(rssBefore)}, half-time ${mb(rssMid)}, end ${mb(rssAfter)}, 3 s later ${mb(rssSettled)}, peak ${mb(rssPeak)}`);
    say(`server RSS every 5 s under load (MB): ${rssSeries}`);
    say(`live heap after each full GC under load: ${mainThreadGcs(server.fullGcs, loadStart, loadEnd).map((gc) => `${((gc.at - loadStart) / 1000).toFixed(0)} s ${mb(gc.liveBytes)}`).join(', ') || 'none'}`);
    for (const t of targets) say(`${t.met ? 'PASS' : 'MISS'}  ${t.name}: ${t.figure}; target ${t.target}${t.reason ? ` (${t.reason})` : ''}`);

    const result: BenchResult = {
      bench: 'load',
      command: `npm run bench:load${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      measuredAt: new Date().toISOString(),
      machine: machineLine(),
      seconds: (performance.now() - t0) / 1000,
      targets,
    };
    emitBenchResult(result);
    if (!args['no-doc']) {
      const section = [
        '<!-- bench:load -->',
        '## Mixed load (npm run bench:load)',
        '',
        `Measured ${utcMinute(result.measuredAt)} on ${result.machine}, with \`${result.command}\`. Load average before / after: ${loadChange(loadBefore, loadavg())}. Whole run: ${result.seconds.toFixed(0)} s.`,
        '',
        `- Layout: \`npm start\` in a child process (dynalite on disk, s3rver and the job worker in it), ${reuse ? 'on a reused data dir' : `with its demo data (${partners} partners; setup ${server.setupSeconds.toFixed(0)} s)`}; autocannon in the benchmark process, one instance per route, all at once for ${SECONDS} s, with an integration key.`,
        `- Reads rotate over the ${int.format(ids.length)} scored partners and ${listUrls.length} churn-risk URLs (every page of the latest run by cursor, a page per tier, a probability floor, CSV). Ingest sends batches of ${BATCH} new events (unique ids) for those partners; afterwards every event of a batch answered 200 is looked up in the stack's DynamoDB.`,
        `- Limit: GET /health alone on the same server, ${total} connections, ${baselineSeconds} s, just before the mix. Server RSS (VmRSS of the \`npm start\` process) sampled every second; the server runs with \`--trace-gc\`, and the live heap is what its main thread kept after a full (mark-compact) GC, the figure a leak grows (RSS also follows V8 sizing its heap towards a steady state).`,
        '',
        `| ${head.join(' | ')} |`,
        `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
        ...rows.map((r) => `| ${r.join(' | ')} |`),
        '',
        `Mix: ${int.format(totalRps)} req/s in all, ${((totalRps / health.rps) * 100).toFixed(0)}% of the /health rate; ${int.format(ingest.acknowledged.size)} events acknowledged and stored (${int.format(ingest.acknowledged.size / loadSeconds)} events/s). Server RSS: idle ${mb(rssIdle)}, before the mix ${mb(rssBefore)}, half-time ${mb(rssMid)}, end ${mb(rssAfter)}, 3 s later ${mb(rssSettled)}, peak ${mb(rssPeak)}; every 5 s under load (MB): ${rssSeries}. Live heap after each full GC under load: ${mainThreadGcs(server.fullGcs, loadStart, loadEnd).map((gc) => `${((gc.at - loadStart) / 1000).toFixed(0)} s: ${mb(gc.liveBytes)}`).join(', ') || 'none'}.`,
        '',
        '| target | figure | limit | target | result |',
        '| --- | --- | --- | --- | --- |',
        ...targets.map((t) => `| ${t.name} | ${t.figure} | ${t.limit ?? '–'} | ${t.target} | ${t.met ? 'PASS' : `MISS: ${t.reason}`} |`),
        '',
        '<!-- /bench:load -->',
      ].join('\n');
      replaceDocSection(DOC, 'load', section);
      say(`wrote the bench:load section of ${DOC}`);
    }
    say(`whole run ${result.seconds.toFixed(0)} s; ${targets.filter((t) => t.met).length} of ${targets.length} targets met`);
  } finally {
    await stopLoadServer(server);
    if (!reuse) rmSync(dataDir, { recursive: true, force: true });
    if (!tally) say(server.output().slice(-2000));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:load failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
