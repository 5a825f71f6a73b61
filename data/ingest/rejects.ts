import { NotFoundError, StoreUnavailableError, ValidationError } from '../errors';
import type { ObjectStore } from '../stores/object-store';
import { RECORD_KINDS, type RecordKindName } from '../stores/record-store';
import { parseRejects, type RejectEntry } from './archive';
import { csvRowToRecord } from './parse';
import { RECORD_KIND } from './record-kinds';
import { ingestBatch, type IngestDeps, type IngestResult, type RawRecord } from './ingest-batch';

/** A batch of rejected records, as one object in the rejects archive. */
export interface RejectBatch {
  id: string;
  kind: RecordKindName;
  size: number;
  storedAt: string;
}

const ID_RE = /^(partners|events|deals)\.(\d{4}-\d{2}-\d{2})\.([0-9a-f]{40})$/;

/** `rejects/events/2025-03-01/<hash>.ndjson` ↔ `events.2025-03-01.<hash>`: an id without slashes, usable in a URL path. */
export const rejectBatchId = (key: string): string => key.replace(/^rejects\//, '').replace(/\.ndjson$/, '').replaceAll('/', '.');

function keyOf(id: string): { key: string; kind: RecordKindName } {
  const m = ID_RE.exec(id);
  if (!m) throw new ValidationError(`${id} is not a reject batch id (kind.date.hash).`, [{ path: 'path.id', message: 'must look like events.2025-03-01.<40 hex>' }]);
  return { key: `rejects/${m[1]}/${m[2]}/${m[3]}.ndjson`, kind: m[1] as RecordKindName };
}

export async function listRejectBatches(objects: ObjectStore, options: { kind?: RecordKindName; limit?: number; cursor?: string }): Promise<{ items: RejectBatch[]; nextCursor?: string }> {
  const prefix = options.kind ? `rejects/${options.kind}/` : 'rejects/';
  const page = await objects.list(prefix, { limit: options.limit ?? 100, ...(options.cursor ? { cursor: options.cursor } : {}) }).catch(async (error: unknown) => {
    if (!options.cursor || !(error instanceof StoreUnavailableError)) throw error;
    // S3 refuses a continuation token it did not issue (400; s3rver answers some with a 500). If the
    // same listing without the token works, the cursor was at fault, not S3: a 400, not "retry".
    await objects.list(prefix, { limit: 1 });
    throw new ValidationError('cursor is not one this API returned.', [{ path: 'query.cursor', message: 'is not a cursor from a previous page' }]);
  });
  const items = page.items.map((o) => {
    const id = rejectBatchId(o.key);
    return { id, kind: (id.split('.')[0] ?? 'events') as RecordKindName, size: o.size, storedAt: o.lastModified };
  });
  return page.nextCursor ? { items, nextCursor: page.nextCursor } : { items };
}

export async function getRejectBatch(objects: ObjectStore, id: string): Promise<{ id: string; kind: RecordKindName; entries: RejectEntry[] }> {
  const { key, kind } = keyOf(id);
  const text = await objects.getText(key);
  if (text === undefined) throw new NotFoundError(`No reject batch ${id}.`);
  return { id, kind, entries: parseRejects(text) };
}

/**
 * Sends a batch's records through ingest again, as they were received: useful once the
 * cause is fixed upstream or the rules changed. Records that still fail are rejected again.
 */
export async function replayRejectBatch(deps: IngestDeps, id: string): Promise<IngestResult & { kind: RecordKindName }> {
  const batch = await getRejectBatch(deps.objects, id);
  const records: RawRecord[] = batch.entries.map((entry, index) => {
    try {
      const value = JSON.parse(entry.record) as unknown;
      if (entry.csvRow) return { index, raw: entry.record, value: csvRowToRecord(value as Record<string, string>, RECORD_KIND[batch.kind]), csvRow: true as const };
      return { index, raw: entry.record, value };
    } catch {
      return { index, raw: entry.record, parseError: entry.errors[0] ?? { path: '', message: 'is not valid JSON' } };
    }
  });
  return { kind: batch.kind, ...(await ingestBatch(batch.kind, records, deps, { source: `replay:${id}` })) };
}

export const isRecordKind = (value: string): value is RecordKindName => (RECORD_KINDS as readonly string[]).includes(value);
