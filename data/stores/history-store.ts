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
}
