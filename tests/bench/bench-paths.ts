/**
 * The three ways rows reach the store in the ingest benchmark: raw BatchWriteItem (the
 * baseline), the HTTP API (NDJSON batches), and the CLI file ingest. Each returns how many
 * rows it stored, how long it took and the CPU it used on each side.
 */
import { Agent, request } from 'node:http';
import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { StreamIngestSummary } from '../../data/ingest/ingest-stream';
import type { AwsClients } from '../../data/stores/aws-clients';
import type { StoredItem } from '../../data/stores/record-store';
import { chunk, mapLimit } from '../../data/util/async';
import { ingestFile } from '../../functions/cli/ingest-file';
import type { ServiceDeps } from '../../functions/deps';
import { procCpuSeconds, type StoreHandle } from './bench-stack';

export interface Measurement {
  rows: number;
  seconds: number;
  /** CPU seconds used by this process (client side; everything when the store is in-process). */
  cpuSeconds: number;
  /** The part of it on this process's main thread, where all JavaScript runs (the bottleneck in-process). */
  mainCpuSeconds: number;
  /** CPU seconds used by the store process, when it is a separate one. */
  storeCpuSeconds?: number;
  /** The part of it on the store's main thread (JavaScript: dynalite, s3rver, HTTP). */
  storeMainCpuSeconds?: number;
}

async function measure(store: StoreHandle, rows: number, run: () => Promise<void>): Promise<Measurement> {
  const storeCpu0 = store.cpuSeconds();
  const storeMain0 = store.mainThreadCpuSeconds();
  const cpu0 = process.cpuUsage();
  const main0 = procCpuSeconds(process.pid, true) ?? 0;
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const main1 = procCpuSeconds(process.pid, true) ?? 0;
  const storeCpu1 = store.cpuSeconds();
  const storeMain1 = store.mainThreadCpuSeconds();
  return {
    rows,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mainCpuSeconds: main1 - main0,
    ...(storeCpu0 !== undefined && storeCpu1 !== undefined ? { storeCpuSeconds: storeCpu1 - storeCpu0 } : {}),
    ...(storeMain0 !== undefined && storeMain1 !== undefined ? { storeMainCpuSeconds: storeMain1 - storeMain0 } : {}),
  };
}

export function addMeasurements(a: Measurement, b: Measurement): Measurement {
  const sum = (x?: number, y?: number): number | undefined => (x === undefined || y === undefined ? undefined : x + y);
  const storeCpu = sum(a.storeCpuSeconds, b.storeCpuSeconds);
  const storeMain = sum(a.storeMainCpuSeconds, b.storeMainCpuSeconds);
  return {
    rows: a.rows + b.rows,
    seconds: a.seconds + b.seconds,
    cpuSeconds: a.cpuSeconds + b.cpuSeconds,
    mainCpuSeconds: a.mainCpuSeconds + b.mainCpuSeconds,
    ...(storeCpu !== undefined ? { storeCpuSeconds: storeCpu } : {}),
    ...(storeMain !== undefined ? { storeMainCpuSeconds: storeMain } : {}),
  };
}

/**
 * The baseline: the same items written with BatchWriteItem, 25 a request, `concurrency`
 * requests in flight. Items come in chunks built before their clock starts (only the writes
 * are timed), so the writer holds no more than one chunk.
 */
export async function rawBatchWrite(store: StoreHandle, clients: AwsClients, table: string, chunks: Iterable<readonly StoredItem[]>, concurrency: number): Promise<Measurement> {
  let total: Measurement | undefined;
  for (const items of chunks) {
    const batches = chunk(items, 25);
    const m = await measure(store, items.length, async () => {
      await mapLimit(batches, concurrency, async (batch) => {
        let requests = batch.map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt > 10) throw new Error('raw BatchWriteItem: unprocessed items after 10 attempts');
          const out = await clients.ddb.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
          requests = (out.UnprocessedItems?.[table] as typeof requests | undefined) ?? [];
        }
      });
    });
    total = total ? addMeasurements(total, m) : m;
  }
  if (!total) throw new Error('raw BatchWriteItem: no items');
  return total;
}

interface HttpReply {
  status: number;
  body: string;
}

function post(agent: Agent, url: URL, headers: Record<string, string>, body: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs NDJSON bodies to /v1/events over real HTTP, `inflight` requests at a time; every row must be accepted. */
export function apiIngest(store: StoreHandle, baseUrl: string, apiKey: string, bodies: readonly string[], rows: number, inflight: number): Promise<Measurement> {
  const agent = new Agent({ keepAlive: true, maxSockets: inflight });
  const url = new URL('/v1/events', baseUrl);
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/x-ndjson' };
  return measure(store, rows, async () => {
    let accepted = 0;
    await mapLimit(bodies, inflight, async (body) => {
      const reply = await post(agent, url, headers, body);
      if (reply.status !== 200) throw new Error(`POST /v1/events: ${reply.status} ${reply.body.slice(0, 500)}`);
      const result = JSON.parse(reply.body) as { accepted: number; unchanged: number; rejected: unknown[] };
      if (result.rejected.length > 0) throw new Error(`POST /v1/events rejected records: ${JSON.stringify(result.rejected.slice(0, 3))}`);
      accepted += result.accepted;
    });
    agent.destroy();
    if (accepted !== rows) throw new Error(`API accepted ${accepted} of ${rows} rows`);
  });
}

/** `ingestFile` on an NDJSON file, with the options the CLI uses unless given. */
export async function cliIngest(
  store: StoreHandle,
  deps: ServiceDeps,
  file: string,
  rows: number,
  options: { batchSize?: number; lanes?: number } = {},
): Promise<Measurement & { summary: StreamIngestSummary }> {
  let summary: StreamIngestSummary | undefined;
  const m = await measure(store, rows, async () => {
    summary = await ingestFile('events', file, deps, options);
  });
  if (!summary || summary.accepted !== rows || summary.rejected > 0) throw new Error(`CLI ingest: ${JSON.stringify(summary)}`);
  return { ...m, summary };
}

/** Reads back a sample of the items: they must be stored exactly as the baseline writes them. */
export async function verifyStored(clients: AwsClients, table: string, picked: readonly StoredItem[]): Promise<void> {
  for (const group of chunk(picked, 100)) {
    const out = await clients.ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: group.map((i) => ({ eventId: i.eventId })), ConsistentRead: true } } }));
    const found = new Map((out.Responses?.[table] ?? []).map((i) => [String(i.eventId), i]));
    for (const expected of group) {
      const got = found.get(String(expected.eventId));
      if (!got) throw new Error(`${table}: ${String(expected.eventId)} was not stored`);
      for (const [k, v] of Object.entries(expected)) {
        if (k !== 'ingestedAt' && got[k] !== v) throw new Error(`${table}: ${String(expected.eventId)}.${k} is ${String(got[k])}, expected ${String(v)}`);
      }
    }
  }
}
