import { parseWith, type FieldError } from '../schemas/common';
import type { ObjectStore } from '../stores/object-store';
import type { RecordKindName, RecordStore, StoredItem, StoredVersion } from '../stores/record-store';
import { mapLimit } from '../util/async';
import { contentHash } from '../util/hash';
import { archiveRaw, archiveRejects, type RejectEntry } from './archive';
import { RECORD_KIND } from './record-kinds';

/** One record as it arrived: its position, its verbatim text, and its parsed value (or why it would not parse). */
export interface RawRecord {
  index: number;
  raw: string;
  value?: unknown;
  parseError?: FieldError;
  /** `raw` is a CSV row as header → cell text (so a replay converts it as the CSV reader did). */
  csvRow?: true;
}

export interface RejectedRecord {
  index: number;
  id?: string;
  errors: FieldError[];
}

export interface IngestResult {
  accepted: number;
  unchanged: number;
  rejected: RejectedRecord[];
}

export interface IngestDeps {
  records: RecordStore;
  objects: ObjectStore;
  now?: () => Date;
  /** Conditional writes (partners, deals) in flight at once. */
  writeConcurrency?: number;
}

export interface IngestOptions {
  /** Where the records came from, kept with rejects: "api", "cli:<file>", "s3:<key>", "replay:<key>". */
  source: string;
}

interface Candidate {
  input: RawRecord;
  id: string;
  hash: string;
  updatedAt?: string;
  item: StoredItem;
}

function idOfUnparsed(value: unknown, idField: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const id = (value as Record<string, unknown>)[idField];
  return typeof id === 'string' && id.length <= 128 ? id : undefined;
}

function withoutMeaninglessNulls(value: unknown, nullable: readonly string[]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.some(([k, v]) => v === null && !nullable.includes(k))) return value;
  return Object.fromEntries(entries.filter(([k, v]) => v !== null || nullable.includes(k)));
}

/**
 * Ingests one batch: validates every record, stores the valid ones once, archives them
 * verbatim and keeps the rejected ones with their reasons. The outcome is the one a
 * one-by-one ingest in input order would give: a record identical to what is stored (or to
 * an earlier one in the batch) is `unchanged`, as is a partner or deal older than the stored
 * version. Resolves only after every accepted record is durably stored; any store failure
 * rejects with StoreUnavailableError, and the same batch sent again completes the work.
 */
export async function ingestBatch(kindName: RecordKindName, input: readonly RawRecord[], deps: IngestDeps, options: IngestOptions): Promise<IngestResult> {
  const kind = RECORD_KIND[kindName];
  const receivedAt = (deps.now ?? (() => new Date()))();
  const rejected: RejectedRecord[] = [];
  const valid: Candidate[] = [];

  for (const record of input) {
    if (record.parseError) {
      rejected.push({ index: record.index, errors: [record.parseError] });
      continue;
    }
    const parsed = parseWith(kind.schema, withoutMeaninglessNulls(record.value, kind.nullableFields));
    if (!parsed.ok) {
      const id = idOfUnparsed(record.value, kind.idField);
      rejected.push({ index: record.index, ...(id !== undefined ? { id } : {}), errors: parsed.errors });
      continue;
    }
    const item = kind.toItem(parsed.value);
    const updatedAt = kind.updatedAtOf(parsed.value);
    valid.push({ input: record, id: kind.idOf(parsed.value), hash: contentHash(item), item, ...(updatedAt ? { updatedAt } : {}) });
  }

  const stored = valid.length > 0 ? await deps.records.getVersions(kindName, valid.map((c) => c.id)) : new Map<string, StoredVersion>();

  // Walk each id's records in input order against what is stored, as sequential requests would.
  const current = new Map<string, StoredVersion | undefined>();
  const winners = new Map<string, Candidate>();
  const acceptedPerId = new Map<string, number>();
  const acceptedRaw: string[] = [];
  let unchanged = 0;
  for (const candidate of valid) {
    const now = current.has(candidate.id) ? current.get(candidate.id) : stored.get(candidate.id);
    if (now && now.contentHash === candidate.hash) {
      unchanged++;
      continue;
    }
    if (now && !kind.versioned) {
      rejected.push({
        index: candidate.input.index,
        id: candidate.id,
        errors: [{ path: kind.idField, message: 'is already stored with different content; events are immutable, send a new eventId' }],
      });
      continue;
    }
    if (now?.updatedAt && candidate.updatedAt && candidate.updatedAt < now.updatedAt) {
      unchanged++;
      continue;
    }
    current.set(candidate.id, { contentHash: candidate.hash, ...(candidate.updatedAt ? { updatedAt: candidate.updatedAt } : {}) });
    winners.set(candidate.id, candidate);
    acceptedPerId.set(candidate.id, (acceptedPerId.get(candidate.id) ?? 0) + 1);
    acceptedRaw.push(candidate.input.raw);
  }
  rejected.sort((a, b) => a.index - b.index);

  // Rejects and raw copies go first: if they cannot be kept, nothing is reported stored.
  if (rejected.length > 0) {
    const byIndex = new Map(input.map((r) => [r.index, r]));
    const entries: RejectEntry[] = rejected.map((r) => ({
      ...r,
      record: byIndex.get(r.index)?.raw ?? '',
      ...(byIndex.get(r.index)?.csvRow ? { csvRow: true as const } : {}),
      source: options.source,
      receivedAt: receivedAt.toISOString(),
    }));
    await archiveRejects(deps.objects, kindName, entries, receivedAt);
  }
  if (acceptedRaw.length > 0) await archiveRaw(deps.objects, kindName, acceptedRaw, receivedAt);

  const toWrite: StoredItem[] = [...winners.values()].map((c) => ({ ...c.item, contentHash: c.hash, ingestedAt: receivedAt.toISOString() }));
  let accepted = acceptedRaw.length;
  if (!kind.versioned) {
    await deps.records.putAll(kindName, toWrite);
  } else {
    const written = await mapLimit(toWrite, deps.writeConcurrency ?? 16, (item) => deps.records.putUnlessNewerStored(kindName, item));
    written.forEach((ok, i) => {
      if (ok) return;
      // A newer version landed concurrently: this request's versions of that record were stale.
      const lost = acceptedPerId.get(String(toWrite[i]?.[kind.idField])) ?? 0;
      accepted -= lost;
      unchanged += lost;
    });
  }
  return { accepted, unchanged, rejected };
}
