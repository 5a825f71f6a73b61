import { ScanCommand, type DynamoDBDocumentClient, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Deal } from '../schemas/deal';
import type { PartnerEvent } from '../schemas/event';
import type { Partner } from '../schemas/partner';
import { mapLimit } from '../util/async';
import { dynaliteOrder, type ScanOrder } from './dynalite-order';
import { batchGetAll, readAhead, readAllPages, scanPages, type Item } from './dynamo-pages';
import type { HistoryStore, PartnerRecords, ShardReadParams, ShardReads } from './history-store';
import { mergeShard } from './shard-merge';
import { storeCall } from './store-errors';
import type { TableNames } from './tables';

export interface HistoryStoreOptions {
  /**
   * How shardHistories reads histories: 'query' (two Queries a partner: what DynamoDB is built
   * for; the default) or 'scan-merge' (one scan of the segment per table or index, merged by
   * partner: relies on dynalite's scan order, checked item by item). See docs/scoring.md.
   */
  shardReads?: ShardReads;
  /** The scan order the merge relies on and checks (default dynaliteOrder; tests pass another to play a store that scans otherwise). */
  scanOrder?: ScanOrder;
}

/** Items a page of the events and deals streams of a scan-merge (well under dynalite's 1 MB page). */
const MERGE_STREAM_PAGE = 1000;
/** Partners whose histories are queried at once (query strategy). */
const QUERY_CONCURRENCY = 8;

const BOOKKEEPING = new Set(['contentHash', 'ingestedAt', 'cohortKey']);

function clean<T>(item: Item): T {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) if (!BOOKKEEPING.has(k)) out[k] = v;
  return out as T;
}

/** A direct deal is stored without partner attributes (sparse index); the record says null. */
const toDeal = (item: Item): Deal => ({ partnerId: null, partnerRole: null, ...clean<Omit<Deal, 'partnerId' | 'partnerRole'>>(item) }) as Deal;

/** A partner's event items as partnerEvents returns them: the index sorts by occurredAt; ties keep a stable order by eventId. */
const toEvents = (items: readonly Item[]): PartnerEvent[] =>
  items.map((i) => clean<PartnerEvent>(i)).sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : a.eventId < b.eventId ? -1 : 1));

/** A partner's deal items (the table keeps the latest version of each) as partnerDeals returns them. */
const toDeals = (items: readonly Item[]): Deal[] =>
  items.map(toDeal).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.dealId < b.dealId ? -1 : 1));

const encodeCursor = (key: Item | undefined): string | undefined => (key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined);
const decodeCursor = (cursor: string | undefined): Item | undefined => (cursor ? (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Item) : undefined);

export class DynamoHistoryStore implements HistoryStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly tables: TableNames,
    private readonly options: HistoryStoreOptions = {},
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
    return toEvents(await this.queryAll({ table: this.tables.events, index: 'byPartnerTime', partnerId, sortKey: 'occurredAt', ...(until ? { until } : {}) }));
  }

  async partnerDeals(partnerId: string, until?: string): Promise<Deal[]> {
    return toDeals(await this.queryAll({ table: this.tables.deals, index: 'byPartnerCreated', partnerId, sortKey: 'createdAt', ...(until ? { until } : {}) }));
  }

  shardHistories(params: ShardReadParams): AsyncIterable<PartnerRecords[]> {
    const reads = params.reads ?? this.options.shardReads ?? 'query';
    return reads === 'scan-merge' ? this.mergedShard(params) : this.queriedShard(params);
  }

  /** The segment's partners, cleaned, a Scan page at a time. */
  private async *partnerPages(params: ShardReadParams): AsyncGenerator<Partner[]> {
    const input = { TableName: this.tables.partners, Segment: params.segment, TotalSegments: params.segments, Limit: params.pageSize ?? 200 };
    for await (const items of scanPages(this.ddb, input)) yield items.map((i) => clean<Partner>(i));
  }

  /** Per partner: two Queries (events, deals), 8 partners at a time. */
  private async *queriedShard(params: ShardReadParams): AsyncGenerator<PartnerRecords[]> {
    const { until, include } = params;
    for await (const page of this.partnerPages(params)) {
      const partners = include ? page.filter(include) : page;
      if (partners.length === 0) continue;
      yield await mapLimit(partners, QUERY_CONCURRENCY, async (partner) => {
        const [events, deals] = await Promise.all([this.partnerEvents(partner.partnerId, until), this.partnerDeals(partner.partnerId, until)]);
        return { partner, events, deals };
      });
    }
  }

  /**
   * The same segment of the partners table and of both partner indexes, merge-joined by
   * partner (shard-merge.ts): a request per 1,000 items instead of two per partner. Filters
   * on the sort key are the Queries' key conditions, applied as scan filters.
   */
  private async *mergedShard(params: ShardReadParams): AsyncGenerator<PartnerRecords[]> {
    const segment = { Segment: params.segment, TotalSegments: params.segments };
    const upTo = (attribute: string): Partial<ScanCommandInput> =>
      params.until ? { FilterExpression: '#s <= :until', ExpressionAttributeNames: { '#s': attribute }, ExpressionAttributeValues: { ':until': params.until } } : {};
    const index = (TableName: string, IndexName: string, sortKey: string): AsyncIterable<Item[]> =>
      readAhead(scanPages(this.ddb, { TableName, IndexName, ...segment, Limit: MERGE_STREAM_PAGE, ...upTo(sortKey) }));
    const merged = mergeShard(
      { partners: readAhead(this.partnerPages(params)), events: index(this.tables.events, 'byPartnerTime', 'occurredAt'), deals: index(this.tables.deals, 'byPartnerCreated', 'createdAt') },
      this.options.scanOrder ?? dynaliteOrder,
      { segment: params.segment, segments: params.segments },
      { pageSize: params.pageSize ?? 200, ...(params.include ? { include: params.include } : {}) },
    );
    for await (const page of merged) yield page.map((m) => ({ partner: m.partner, events: toEvents(m.events), deals: toDeals(m.deals) }));
  }
}
