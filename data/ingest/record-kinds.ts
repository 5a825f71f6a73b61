import type { z } from 'zod';
import { dealSchema, type Deal } from '../schemas/deal';
import { eventSchema, type PartnerEvent } from '../schemas/event';
import { partnerSchema, type Partner } from '../schemas/partner';
import type { RecordKindName, StoredItem } from '../stores/record-store';

/** Everything ingest needs to know about one kind of record. */
export interface RecordKind<T = unknown> {
  name: RecordKindName;
  schema: z.ZodType<T, unknown>;
  idField: string;
  idOf(record: T): string;
  /** Partners and deals are upserted by id, newest `updatedAt` wins; events are immutable facts. */
  versioned: boolean;
  updatedAtOf(record: T): string | undefined;
  /** The stored attributes (without bookkeeping). */
  toItem(record: T): StoredItem;
  /** Fields where null means something (a direct deal); elsewhere a null is read as "absent", as exporters often send it. */
  nullableFields: readonly string[];
  /** CSV cells are text: these columns become numbers. */
  csvNumberFields: readonly string[];
}

const partnerKind: RecordKind<Partner> = {
  name: 'partners',
  schema: partnerSchema,
  idField: 'partnerId',
  idOf: (p) => p.partnerId,
  versioned: true,
  updatedAtOf: (p) => p.updatedAt,
  // cohortKey feeds the byCohort index: tier → region → segment, the widening order of benchmarks.
  toItem: (p) => ({ ...p, cohortKey: `${p.region}#${p.segment}#${p.partnerId}` }),
  nullableFields: [],
  csvNumberFields: [],
};

const eventKind: RecordKind<PartnerEvent> = {
  name: 'events',
  schema: eventSchema,
  idField: 'eventId',
  idOf: (e) => e.eventId,
  versioned: false,
  updatedAtOf: () => undefined,
  toItem: (e) => ({ ...e }),
  nullableFields: [],
  csvNumberFields: ['quantity', 'value'],
};

const dealKind: RecordKind<Deal> = {
  name: 'deals',
  schema: dealSchema,
  idField: 'dealId',
  idOf: (d) => d.dealId,
  versioned: true,
  updatedAtOf: (d) => d.updatedAt,
  // A direct deal has no partnerId attribute at all, which keeps it out of the sparse byPartnerCreated index.
  toItem: ({ partnerId, partnerRole, ...rest }) => (partnerId === null ? { ...rest } : { ...rest, partnerId, partnerRole }),
  nullableFields: ['partnerId', 'partnerRole'],
  csvNumberFields: ['amount'],
};

export const RECORD_KIND: Record<RecordKindName, RecordKind> = {
  partners: partnerKind as RecordKind,
  events: eventKind as RecordKind,
  deals: dealKind as RecordKind,
};
