/**
 * One pair of embedded stores for a whole fault-test file, with fault proxies in front of both.
 * Each scenario gets a service of its own (its own tables and bucket in the same stores, its
 * SDK clients through the proxies), so scenarios never see each other's records, and a
 * fault-free "clean" service ingests the same input for comparison: after a fault and a retry,
 * a scenario's state must be the clean run's, row for row, feature for feature, score for score.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Hono } from 'hono';
import { generateProgram } from '../../data/generator';
import { parseRejects } from '../../data/ingest/archive';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../data/stores/aws-clients';
import { DynamoHistoryStore } from '../../data/stores/dynamo-history-store';
import { ensureBucket, ensureTables } from '../../data/stores/provision';
import { RECORD_ID_FIELD, RECORD_KINDS, type RecordKindName, type RecordStore } from '../../data/stores/record-store';
import { S3ObjectStore } from '../../data/stores/s3-object-store';
import { tableNamesFromPrefix } from '../../data/stores/tables';
import { createApp } from '../../functions/app/app';
import type { AppEnv } from '../../functions/app/route-spec';
import type { ServiceConfig } from '../../functions/config';
import { createDeps, type ServiceDeps } from '../../functions/deps';
import { startEmbeddedStores, type EmbeddedStores } from '../../functions/local/embedded-stores';
import { createLogger } from '../../functions/logger';
import { buildFeatureRows } from '../../models/features/build-features';
import { loadAllHistories } from '../../models/load-histories';
import { loadChampions, scoreHistories, type Champions } from '../../models/scoring';
import { trainModelVersion } from '../../models/training-run';
import { toHistories } from '../bench/serve-data';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

export const AS_OF = '2025-06-30T23:59:59.999Z';
type Json = Record<string, unknown>;

export interface Service {
  name: string;
  config: ServiceConfig;
  deps: ServiceDeps;
  app: Hono<AppEnv>;
  adminKey: string;
  /** The service's log lines (JSON). */
  logLines: string[];
  post(kind: RecordKindName, records: readonly unknown[]): Promise<Response>;
  /** Ids of these records that are stored (read straight from the store, not through the proxy). */
  storedIds(kind: RecordKindName, ids: readonly string[]): Promise<Set<string>>;
}

/** Everything a run leaves behind that a retry must reproduce. */
export interface State {
  counts: Record<RecordKindName, number>;
  /** Every stored item without its ingestedAt (the only field that records when, not what). */
  items: Record<RecordKindName, Json[]>;
  /** Distinct lines of the raw archive. */
  rawLines: string[];
  /** Distinct kept rejects: [record as received, errors]. */
  rejects: string[];
  features: unknown[];
  scores: unknown[];
}

export interface FaultStack {
  embedded: EmbeddedStores;
  dynamo: FaultProxy;
  s3: FaultProxy;
  /** Straight to the stores, for checks that must not be faulted. */
  direct: AwsClients;
  service(name: string, options?: { records?: (config: ServiceConfig, clients: AwsClients) => RecordStore; maxAttempts?: number }): Promise<Service>;
  snapshot(service: Service, champions: Champions): Promise<State>;
  close(): Promise<void>;
}

export async function startFaultStack(): Promise<FaultStack> {
  const s3Dir = mkdtempSync(join(tmpdir(), 'ps-faults-'));
  const embedded = await startEmbeddedStores({ s3Dir, bucket: 'fault-root' });
  const [dynamo, s3] = await Promise.all([startFaultProxy(embedded.dynamoEndpoint), startFaultProxy(embedded.s3Endpoint)]);
  const direct = createAwsClients({ region: 'us-east-1', dynamoEndpoint: embedded.dynamoEndpoint, s3Endpoint: embedded.s3Endpoint });
  const opened: AwsClients[] = [];

  const service: FaultStack['service'] = async (name, options = {}) => {
    const config: ServiceConfig = {
      region: 'us-east-1',
      bucket: `fault-${name}`,
      tables: tableNamesFromPrefix(`f-${name}`),
      dynamoEndpoint: dynamo.url,
      s3Endpoint: s3.url,
      logLevel: 'info',
    };
    await ensureTables(direct.dynamo, config.tables);
    await ensureBucket(direct.s3, config.bucket);
    const clients = createAwsClients({ region: config.region, dynamoEndpoint: dynamo.url, s3Endpoint: s3.url, maxAttempts: options.maxAttempts ?? 2 });
    opened.push(clients);
    const logLines: string[] = [];
    const deps = createDeps(config, {
      clients,
      logger: createLogger('info', {}, (line) => logLines.push(line)),
      ...(options.records ? { records: options.records(config, clients) } : {}),
    });
    const app = createApp(deps);
    const { key: adminKey } = await deps.apiKeys.create({ name: `${name} admin`, role: 'admin' });
    return {
      name,
      config,
      deps,
      app,
      adminKey,
      logLines,
      post: async (kind, records) =>
        app.request(`/v1/${kind}`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(records) }),
      storedIds: async (kind, ids) => {
        const found = new Set<string>();
        const wanted = new Set(ids);
        for (const item of await scanAll(direct, config.tables[kind])) {
          const id = String(item[RECORD_ID_FIELD[kind]]);
          if (wanted.has(id)) found.add(id);
        }
        return found;
      },
    };
  };

  const snapshot: FaultStack['snapshot'] = async (svc, champions) => {
    const counts = {} as State['counts'];
    const items = {} as State['items'];
    for (const kind of RECORD_KINDS) {
      const all = await scanAll(direct, svc.config.tables[kind]);
      counts[kind] = all.length;
      items[kind] = all
        .map(({ ingestedAt: _at, ...rest }) => rest)
        .sort((a, b) => String(a[RECORD_ID_FIELD[kind]]).localeCompare(String(b[RECORD_ID_FIELD[kind]])));
    }
    const objects = new S3ObjectStore(direct.s3, svc.config.bucket);
    const rawLines = new Set<string>();
    const rejects = new Set<string>();
    for (const prefix of ['raw/', 'rejects/']) {
      let cursor: string | undefined;
      do {
        const page = await objects.list(prefix, { limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const o of page.items) {
          const text = (await objects.getText(o.key)) ?? '';
          if (prefix === 'raw/') for (const line of text.split('\n')) if (line !== '') rawLines.add(line);
          if (prefix === 'rejects/') for (const e of parseRejects(text)) rejects.add(JSON.stringify([e.record, e.errors]));
        }
        cursor = page.nextCursor;
      } while (cursor);
    }
    const histories = await loadAllHistories(new DynamoHistoryStore(direct.ddb, svc.config.tables), AS_OF);
    return {
      counts,
      items,
      rawLines: [...rawLines].sort(),
      rejects: [...rejects].sort(),
      features: buildFeatureRows(histories, AS_OF),
      scores: scoreHistories(champions, histories, AS_OF, svc.deps.bands),
    };
  };

  return {
    embedded,
    dynamo,
    s3,
    direct,
    service,
    snapshot,
    close: async () => {
      for (const c of opened) destroyAwsClients(c);
      destroyAwsClients(direct);
      await Promise.all([dynamo.close(), s3.close()]);
      await embedded.close();
      rmSync(s3Dir, { recursive: true, force: true });
    },
  };
}

async function scanAll(clients: AwsClients, table: string): Promise<Json[]> {
  const items: Json[] = [];
  let start: Json | undefined;
  do {
    const out = await clients.ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...((out.Items ?? []) as Json[]));
    start = out.LastEvaluatedKey as Json | undefined;
  } while (start);
  return items;
}

/** Both models trained once, on a generated program held in memory, into this service's registry. */
export async function trainChampions(svc: Service): Promise<Champions> {
  const histories = toHistories(generateProgram({ partners: 120, seed: 5, end: '2025-06-30', years: 2 }));
  const deps = { history: svc.deps.history, models: svc.deps.models, objects: svc.deps.objects, log: () => undefined };
  for (const model of ['churn', 'top-performer'] as const) await trainModelVersion(deps, { model, asOf: AS_OF, seed: 3, histories });
  return loadChampions(svc.deps.models, svc.deps.modelCache);
}

/**
 * The input every scenario ingests: a small generated program (every version of every deal,
 * one login or content view in fifteen), plus records that fail validation, so rejects are kept
 * too. Split into batches of `batchSize` per kind, in the generator's order.
 */
export function faultInput(batchSize = 300): { kind: RecordKindName; records: Json[] }[] {
  const program = generateProgram({ partners: 30, seed: 9, end: '2025-06-30', years: 1.5 });
  let kept = 0;
  const events = program.events.filter((e) => (e.type !== 'portal_login' && e.type !== 'content_view') || kept++ % 15 === 0) as unknown as Json[];
  const broken: Record<RecordKindName, Json[]> = {
    partners: [{ partnerId: 'BAD PARTNER', name: '' }, { partnerId: 'P-NODATE', name: 'x', tier: 'gold', region: 'NA', segment: 'SMB', joinedAt: 'yesterday', status: 'active' }],
    events: [{ eventId: 'E-BAD', partnerId: 'P-1', type: 'coffee', occurredAt: '2025-01-01T00:00:00Z' }, { eventId: 'E-NPS', partnerId: 'P-1', type: 'nps_response', occurredAt: '2025-01-01T00:00:00Z', value: 11 }],
    deals: [{ dealId: 'D-BAD', partnerId: 'P-1', partnerRole: null, amount: -5, stage: 'won', createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z' }],
  };
  const all: Record<RecordKindName, Json[]> = {
    partners: [...(program.partners as unknown as Json[]), ...broken.partners],
    events: [...events.slice(0, 40), ...broken.events, ...events.slice(40)],
    deals: [...(program.deals as unknown as Json[]), ...broken.deals],
  };
  const batches: { kind: RecordKindName; records: Json[] }[] = [];
  for (const kind of RECORD_KINDS) for (let at = 0; at < all[kind].length; at += batchSize) batches.push({ kind, records: all[kind].slice(at, at + batchSize) });
  return batches;
}
