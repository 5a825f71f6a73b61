/**
 * The DynamoDB tables, described once: the local stack creates them from this list and the
 * CDK stack declares them from it, so both always agree. docs/data-model.md explains why
 * each key looks the way it does.
 */
export type KeyType = 'S' | 'N';

export interface KeyAttr {
  name: string;
  type: KeyType;
}

export interface IndexDef {
  name: string;
  partitionKey: KeyAttr;
  sortKey?: KeyAttr;
}

export interface TableDef {
  partitionKey: KeyAttr;
  sortKey?: KeyAttr;
  indexes: IndexDef[];
}

const s = (name: string): KeyAttr => ({ name, type: 'S' });

export const TABLES = {
  partners: { partitionKey: s('partnerId'), indexes: [{ name: 'byCohort', partitionKey: s('tier'), sortKey: s('cohortKey') }] },
  events: { partitionKey: s('eventId'), indexes: [{ name: 'byPartnerTime', partitionKey: s('partnerId'), sortKey: s('occurredAt') }] },
  deals: { partitionKey: s('dealId'), indexes: [{ name: 'byPartnerCreated', partitionKey: s('partnerId'), sortKey: s('createdAt') }] },
  // byRun is write-sharded: `runPart` is `<runId>#<p>`, p one of RUN_PARTS (dynamo-score-store.ts), so a run's
  // index writes spread over 16 partition keys instead of one (docs/scaling.md).
  scores: { partitionKey: s('partnerId'), sortKey: s('scoreKey'), indexes: [{ name: 'byRun', partitionKey: s('runPart'), sortKey: s('rankKey') }] },
  jobs: { partitionKey: s('jobId'), indexes: [] },
  models: { partitionKey: s('model'), sortKey: s('version'), indexes: [] },
  apiKeys: { partitionKey: s('keyId'), indexes: [] },
} as const satisfies Record<string, TableDef>;

export type TableKey = keyof typeof TABLES;
export type TableNames = Record<TableKey, string>;

export const TABLE_KEYS = Object.keys(TABLES) as TableKey[];

/** Environment variable that carries each table's name into a function. */
export const tableEnvVar = (key: TableKey): string => `TABLE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

export function tableNamesFromPrefix(prefix: string): TableNames {
  return Object.fromEntries(TABLE_KEYS.map((k) => [k, `${prefix}-${k}`])) as TableNames;
}
