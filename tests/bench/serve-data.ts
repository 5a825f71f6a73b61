/**
 * The serving benchmark's data and stack: the embedded stores on a temp data dir on disk (in
 * this process by default, the single-process layout of `npm start`), fresh tables, both champions
 * trained on a modest program, and a 20,000-partner program written into the tables as ingest
 * stores it (schema-normalised, contentHash + ingestedAt, the latest version of each deal).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateProgram, type GeneratedProgram } from '../../data/generator';
import { RECORD_KIND } from '../../data/ingest/record-kinds';
import { parseWith } from '../../data/schemas/common';
import { dealSchema, type Deal } from '../../data/schemas/deal';
import { eventSchema, type PartnerEvent } from '../../data/schemas/event';
import { partnerSchema, type Partner } from '../../data/schemas/partner';
import { DynamoRecordStore } from '../../data/stores/dynamo-record-store';
import type { RecordKindName, StoredItem } from '../../data/stores/record-store';
import type { TableNames } from '../../data/stores/tables';
import { contentHash } from '../../data/util/hash';
import type { ServiceDeps } from '../../functions/deps';
import { trainModelVersion, type TrainResult } from '../../models/training-run';
import { MODEL_NAMES, type PartnerHistory } from '../../models/types';
import { benchClients, provision, startStore, type StoreMode } from './bench-stack';

export interface ServeStack {
  deps: ServiceDeps;
  tables: TableNames;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Embedded stores on disk ('inproc': `npm start`'s single process; 'child': a process of their
 * own, as the ingest benchmark runs them), fresh tables and the bucket, service deps over them.
 */
export async function openStack(layout: StoreMode): Promise<ServeStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'serve-bench-'));
  const store = await startStore(layout, dataDir);
  const clients = benchClients(store);
  const { deps, tables } = await provision(store, clients.clients, 'serve-bench');
  return {
    deps,
    tables,
    dataDir,
    close: async () => {
      clients.close();
      await store.close();
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
