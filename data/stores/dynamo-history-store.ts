import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Deal } from '../schemas/deal';
import type { PartnerEvent } from '../schemas/event';
import type { Partner } from '../schemas/partner';
import { batchGetAll, readAllPages, type Item } from './dynamo-pages';
import type { HistoryStore } from './history-store';
import { storeCall } from './store-errors';
import type { TableNames } from './tables';


const BOOKKEEPING = new Set(['contentHash', 'ingestedAt', 'cohortKey']);

function clean<T>(item: Item): T {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) if (!BOOKKEEPING.has(k)) out[k] = v;
  return out as T;
}

/** A direct deal is stored without partner attributes (sparse index); the record says null. */
const toDeal = (item: Item): Deal => ({ partnerId: null, partnerRole: null, ...clean<Omit<Deal, 'partnerId' | 'partnerRole'>>(item) }) as Deal;

const encodeCursor = (key: Item | undefined): string | undefined => (key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined);
const decodeCursor = (cursor: string | undefined): Item | undefined => (cursor ? (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Item) : undefined);

export class DynamoHistoryStore implements HistoryStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  async listPartners(options: { cursor?: string; limit?: number } = {}): Promise<{ items: Partner[]; nextCursor?: string }> {
    const start = decodeCursor(options.cursor);
    const out = await storeCall('DynamoDB', () =>
      this.ddb.send(new ScanCommand({ TableName: this.tables.partners, Limit: options.limit ?? 500, ...(start ? { ExclusiveStartKey: start } : {}) })),
    );
    const nextCursor = encodeCursor(out.LastEvaluatedKey);
    return { items: (out.Items ?? []).map((i) => clean<Partner>(i)), ...(nextCursor ? { nextCursor } : {}) };
  }

  async listDeals(options: { cursor?: string; limit?: number } = {}): Promise<{ items: Deal[]; nextCursor?: string }> {
    const start = decodeCursor(options.cursor);
    const out = await storeCall('DynamoDB', () =>
      this.ddb.send(new ScanCommand({ TableName: this.tables.deals, Limit: options.limit ?? 1000, ...(start ? { ExclusiveStartKey: start } : {}) })),
    );
    const nextCursor = encodeCursor(out.LastEvaluatedKey);
    return { items: (out.Items ?? []).map(toDeal), ...(nextCursor ? { nextCursor } : {}) };
  }

  async getPartners(ids: readonly string[]): Promise<Map<string, Partner>> {
    const items = await batchGetAll(this.ddb, this.tables.partners, [...new Set(ids)].map((partnerId) => ({ partnerId })));
    return new Map(items.map((item) => [String(item.partnerId), clean<Partner>(item)]));
  }

  async partnersInCohort(tier: string, region?: string, segment?: string): Promise<Partner[]> {
    if (segment !== undefined && region === undefined) throw new Error('partnersInCohort: a segment needs its region');
    // cohortKey is region#segment#partnerId; the prefix narrows the tier's partition.
    const prefix = region === undefined ? undefined : segment === undefined ? `${region}#` : `${region}#${segment}#`;
    const items = await readAllPages(this.ddb, {
      kind: 'query',
      TableName: this.tables.partners,
      IndexName: 'byCohort',
      KeyConditionExpression: prefix === undefined ? '#t = :t' : '#t = :t AND begins_with(#c, :prefix)',
      ExpressionAttributeNames: { '#t': 'tier', ...(prefix === undefined ? {} : { '#c': 'cohortKey' }) },
      ExpressionAttributeValues: { ':t': tier, ...(prefix === undefined ? {} : { ':prefix': prefix }) },
    });
    // Labels may contain '#': region "EU" must not take in region "EU#SMB", so the prefix match is confirmed field by field.
    return items
      .map((i) => clean<Partner>(i))
      .filter((p) => (region === undefined || p.region === region) && (segment === undefined || p.segment === segment))
      .sort((a, b) => (a.partnerId < b.partnerId ? -1 : a.partnerId > b.partnerId ? 1 : 0));
  }

  private queryAll(params: { table: string; index: string; partnerId: string; sortKey: string; until?: string }): Promise<Item[]> {
    return readAllPages(this.ddb, {
      kind: 'query',
      TableName: params.table,
      IndexName: params.index,
      KeyConditionExpression: params.until ? '#p = :p AND #s <= :until' : '#p = :p',
      // DynamoDB refuses an expression attribute name that the expressions do not use.
      ExpressionAttributeNames: { '#p': 'partnerId', ...(params.until ? { '#s': params.sortKey } : {}) },
      ExpressionAttributeValues: { ':p': params.partnerId, ...(params.until ? { ':until': params.until } : {}) },
    });
  }

  async partnerEvents(partnerId: string, until?: string): Promise<PartnerEvent[]> {
    const items = await this.queryAll({ table: this.tables.events, index: 'byPartnerTime', partnerId, sortKey: 'occurredAt', ...(until ? { until } : {}) });
    // The index sorts by occurredAt; ties keep a stable order by eventId.
    return items.map((i) => clean<PartnerEvent>(i)).sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : a.eventId < b.eventId ? -1 : 1));
  }

  async partnerDeals(partnerId: string, until?: string): Promise<Deal[]> {
    const items = await this.queryAll({ table: this.tables.deals, index: 'byPartnerCreated', partnerId, sortKey: 'createdAt', ...(until ? { until } : {}) });
    return items.map(toDeal).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.dealId < b.dealId ? -1 : 1));
  }
}
