import type { Deal } from '../schemas/deal';
import type { PartnerEvent } from '../schemas/event';
import type { Partner } from '../schemas/partner';

/** Read access to the ingested records, shaped for features: always by partner and time range. */
export interface HistoryStore {
  /** One page of partners (a Scan page); pass nextCursor back for the next. */
  listPartners(options?: { cursor?: string; limit?: number }): Promise<{ items: Partner[]; nextCursor?: string }>;
  /**
   * One page of every deal, with a partner or without (a Scan page, latest version of each deal,
   * in no particular order); pass nextCursor back for the next. Direct deals: partnerId and
   * partnerRole null.
   */
  listDeals(options?: { cursor?: string; limit?: number }): Promise<{ items: Deal[]; nextCursor?: string }>;
  getPartners(ids: readonly string[]): Promise<Map<string, Partner>>;
  /**
   * Every partner of a cohort (any status, latest version): the tier, narrowed to a region and
   * then a segment when given (segment only with region). One `byCohort` Query, paged through.
   */
  partnersInCohort(tier: string, region?: string, segment?: string): Promise<Partner[]>;
  /** A partner's events with occurredAt <= until (all when until is absent), sorted by occurredAt. */
  partnerEvents(partnerId: string, until?: string): Promise<PartnerEvent[]>;
  /** A partner's deals created at or before until, latest version of each, sorted by createdAt. */
  partnerDeals(partnerId: string, until?: string): Promise<Deal[]>;
  /**
   * The partners of one parallel-scan segment, each with exactly what partnerEvents and
   * partnerDeals return for it, a page of partners at a time (memory: a page, never the
   * segment). Partners without events or deals are yielded too. Throws ShardOrderError when a
   * 'scan-merge' read finds the order it relies on broken.
   */
  shardHistories(params: ShardReadParams): AsyncIterable<PartnerRecords[]>;
}

/** How a shard's histories are read: per partner ('query'), or by merging three scans of one segment ('scan-merge'). */
export type ShardReads = 'query' | 'scan-merge';

/** One partner with its events and deals, as partnerEvents and partnerDeals return them. */
export interface PartnerRecords {
  partner: Partner;
  /** Sorted by occurredAt (ties by eventId). */
  events: PartnerEvent[];
  /** Latest version of each deal, sorted by createdAt (ties by dealId). */
  deals: Deal[];
}

export interface ShardReadParams {
  /** Parallel-scan segment (0-based) of `segments`: the shards of one run partition the partners exactly. */
  segment: number;
  segments: number;
  /** Events with occurredAt <= until and deals created at or before until (everything when absent). */
  until?: string;
  /** Partners a page (default 200). */
  pageSize?: number;
  /** Only these partners' histories are read and yielded (others are still scanned past). */
  include?: (partner: Partner) => boolean;
  /** Overrides the store's own strategy (the scoring run forces 'query' after a ShardOrderError). */
  reads?: ShardReads;
}

/**
 * A 'scan-merge' read found the store's scan order is not the one the merge relies on (an item
 * outside the segment's range, or a stream out of order): what it yielded so far cannot be
 * trusted. Read the same shard again with reads 'query'.
 */
export class ShardOrderError extends Error {
  constructor(
    readonly stream: string,
    detail: string,
  ) {
    super(`scan-merge order violated in the ${stream} stream: ${detail}`);
    this.name = 'ShardOrderError';
  }
}
