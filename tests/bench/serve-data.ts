/**
 * The serving benchmark's data and stack: the embedded stores on a temp data dir on disk, in
 * this process (the single-process layout of `npm start`), fresh tables, both champions
 * trained on a modest program, and a 20,000-partner program written into the tables as ingest
 * stores it (schema-normalised, contentHash + ingestedAt, the latest version of each deal).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateProgram, type GeneratedProgram } from '../../data/generator';
import { RECORD_KIND } from '../../data/ingest/record-kinds';
import { parseWith } from '../../data/schemas/common';
import { dealSchema, type Deal } from '../../data/schemas/deal';
import { eventSchema, type PartnerEvent } from '../../data/schemas/event';
import { partnerSchema, type Partner } from '../../data/schemas/partner';
import { createAwsClients, destroyAwsClients } from '../../data/stores/aws-clients';
import { DynamoRecordStore } from '../../data/stores/dynamo-record-store';
import { ensureBucket, ensureTables } from '../../data/stores/provision';
import type { RecordKindName, StoredItem } from '../../data/stores/record-store';
import { tableNamesFromPrefix, type TableNames } from '../../data/stores/tables';
import { contentHash } from '../../data/util/hash';
import type { ServiceConfig } from '../../functions/config';
import { createDeps, type ServiceDeps } from '../../functions/deps';
import { startEmbeddedStores } from '../../functions/local/embedded-stores';
import { LOCAL_BUCKET } from '../../functions/local/local-config';
import { createLogger } from '../../functions/logger';
import { trainModelVersion, type TrainResult } from '../../models/training-run';
import { MODEL_NAMES, type PartnerHistory } from '../../models/types';

export interface ServeStack {
  deps: ServiceDeps;
  tables: TableNames;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Where the embedded stores run: 'inproc' is `npm start`'s single process; 'child' puts them in
 * a process of their own (a store is another service, and both cores work), which is how
 * the ingest benchmark runs by default.
 */
export type StoreLayout = 'inproc' | 'child';

interface RunningStores {
  dynamoEndpoint: string;
  s3Endpoint: string;
  close(): Promise<void>;
}

async function childStores(dataDir: string): Promise<RunningStores> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', fileURLToPath(new URL('./serve-stores.ts', import.meta.url)), dataDir, LOCAL_BUCKET], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`store process exited with ${code}`)));
  });
  const info = JSON.parse(first) as { dynamoEndpoint: string; s3Endpoint: string };
  return {
    ...info,
    close: async () => {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Embedded stores on disk (in this process or a child), fresh tables and the bucket, service deps over them. */
export async function openStack(layout: StoreLayout): Promise<ServeStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'serve-bench-'));
  const stores = layout === 'child' ? await childStores(dataDir) : await startEmbeddedStores({ dataDir, s3Dir: join(dataDir, 's3'), bucket: LOCAL_BUCKET });
  const clients = createAwsClients({ region: 'us-east-1', dynamoEndpoint: stores.dynamoEndpoint, s3Endpoint: stores.s3Endpoint });
  const tables = tableNamesFromPrefix('serve-bench');
  await ensureTables(clients.dynamo, tables);
  await ensureBucket(clients.s3, LOCAL_BUCKET);
  const config: ServiceConfig = { region: 'us-east-1', bucket: LOCAL_BUCKET, tables, dynamoEndpoint: stores.dynamoEndpoint, s3Endpoint: stores.s3Endpoint, logLevel: 'warn' };
  const deps = createDeps(config, { clients, logger: createLogger('warn') });
  return {
    deps,
    tables,
    dataDir,
    close: async () => {
      destroyAwsClients(clients);
      await stores.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function parsed<T>(schema: Parameters<typeof parseWith<T>>[0], input: unknown): T {
  const result = parseWith(schema, input);
  if (!result.ok) throw new Error(`generated an invalid record: ${JSON.stringify(input)}: ${JSON.stringify(result.errors)}`);
  return result.value;
}

/** The newest version of each deal (by updatedAt), as the deals table keeps it. */
function latestDeals(program: GeneratedProgram): Deal[] {
  const latest = new Map<string, Deal>();
  for (const input of program.deals) {
    const deal = parsed(dealSchema, input);
    const seen = latest.get(deal.dealId);
    if (!seen || seen.updatedAt <= deal.updatedAt) latest.set(deal.dealId, deal);
  }
  return [...latest.values()];
}

/** A program as the history store returns it: partners by id, events by time, deals by creation. */
export function toHistories(program: GeneratedProgram): PartnerHistory[] {
  const byId = new Map<string, PartnerHistory>();
  for (const p of program.partners) {
    const partner: Partner = parsed(partnerSchema, p);
    byId.set(partner.partnerId, { partner, events: [], deals: [] });
  }
  for (const e of program.events) {
    const event: PartnerEvent = parsed(eventSchema, e);
    byId.get(event.partnerId)?.events.push(event);
  }
  for (const deal of latestDeals(program)) if (deal.partnerId !== null) byId.get(deal.partnerId)?.deals.push(deal);
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const list = [...byId.values()].sort((a, b) => cmp(a.partner.partnerId, b.partner.partnerId));
  for (const h of list) {
    h.events.sort((a, b) => cmp(a.occurredAt, b.occurredAt) || cmp(a.eventId, b.eventId));
    h.deals.sort((a, b) => cmp(a.createdAt, b.createdAt) || cmp(a.dealId, b.dealId));
  }
  return list;
}

export interface TrainedChampions {
  results: TrainResult[];
  seconds: number;
  partners: number;
}

/** Trains both models on a modest generated program (histories passed in), registering them as champions. */
export async function trainChampions(deps: ServiceDeps, opts: { partners: number; seed: number; end: string }): Promise<TrainedChampions> {
  const started = performance.now();
  const histories = toHistories(generateProgram({ partners: opts.partners, seed: opts.seed, end: opts.end }));
  const results: TrainResult[] = [];
  for (const model of MODEL_NAMES) {
    results.push(
      await trainModelVersion(
        { history: deps.history, models: deps.models, objects: deps.objects, log: () => undefined },
        { model, asOf: `${opts.end}T23:59:59.000Z`, histories },
      ),
    );
  }
  return { results, seconds: (performance.now() - started) / 1000, partners: histories.length };
}

export interface LoadedProgram {
  partners: number;
  activePartners: number;
  events: number;
  deals: number;
  generateSeconds: number;
  writeSeconds: number;
  /** Ids of the partners that were active at the end (the ones a scoring run scores). */
  activeIds: string[];
  /** One partner's history as the store returns it (for the in-process scoring measurement). */
  sample: PartnerHistory;
}

/**
 * Generates the scoring program and writes it into the tables with BatchWriteItem, exactly
 * the items ingest would store (setup, not measured against any target).
 */
export async function loadProgram(deps: ServiceDeps, opts: { partners: number; seed: number; end: string; years: number; concurrency: number }): Promise<LoadedProgram> {
  const t0 = performance.now();
  const program = generateProgram({ partners: opts.partners, seed: opts.seed, end: opts.end, years: opts.years });
  const histories = toHistories(program);
  const ingestedAt = new Date().toISOString();
  const stored = (kind: RecordKindName, record: unknown): StoredItem => {
    const item = RECORD_KIND[kind].toItem(record);
    return { ...item, contentHash: contentHash(item), ingestedAt };
  };
  const partners = histories.map((h) => stored('partners', h.partner));
  const events = histories.flatMap((h) => h.events.map((e) => stored('events', e)));
  const deals = latestDeals(program).map((d) => stored('deals', d));
  const t1 = performance.now();

  const records = new DynamoRecordStore(deps.clients.ddb, deps.config.tables, { concurrency: opts.concurrency });
  await records.putAll('partners', partners);
  await records.putAll('deals', deals);
  await records.putAll('events', events);
  const t2 = performance.now();

  const active = histories.filter((h) => h.partner.status === 'active');
  const sample = active[Math.floor(active.length / 2)]!;
  return {
    partners: partners.length,
    activePartners: active.length,
    events: events.length,
    deals: deals.length,
    generateSeconds: (t1 - t0) / 1000,
    writeSeconds: (t2 - t1) / 1000,
    activeIds: active.map((h) => h.partner.partnerId),
    sample,
  };
}
