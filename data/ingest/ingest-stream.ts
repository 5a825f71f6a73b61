import type { Readable } from 'node:stream';
import { ValidationError } from '../errors';
import type { RecordKindName } from '../stores/record-store';
import { ingestBatch, type IngestDeps, type IngestOptions, type RawRecord, type RejectedRecord } from './ingest-batch';
import { csvStream, ndjsonStream, recordsFromJsonValue, type RecordFormat } from './parse';
import { RECORD_KIND } from './record-kinds';

export interface StreamProgress {
  records: number;
  accepted: number;
  unchanged: number;
  rejected: number;
}

export interface StreamIngestOptions extends IngestOptions {
  batchSize?: number;
  /** Parallel lanes; every record of one id always goes through the same lane, in order. */
  lanes?: number;
  onProgress?: (progress: StreamProgress) => void;
  /** How many rejected records to keep in the summary (all are kept in the rejects archive). */
  rejectSample?: number;
}

export interface StreamIngestSummary extends StreamProgress {
  rejectedSample: RejectedRecord[];
}

function laneOf(value: unknown, idField: string, lanes: number, index: number): number {
  const id = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[idField] : undefined;
  const text = typeof id === 'string' ? id : String(index);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
}

/**
 * Ingests a stream of records in batches with bounded memory: at most one batch filling and
 * one in flight per lane. Records that share an id stay in one lane, so their outcome is the
 * one a sequential ingest gives. Throws the first store failure after in-flight batches settle;
 * running the same input again completes the work (ingest is idempotent).
 */
export async function ingestStream(kindName: RecordKindName, records: AsyncIterable<RawRecord>, deps: IngestDeps, options: StreamIngestOptions): Promise<StreamIngestSummary> {
  const kind = RECORD_KIND[kindName];
  const batchSize = options.batchSize ?? 2_000;
  const laneCount = Math.max(1, options.lanes ?? 4);
  const sampleSize = options.rejectSample ?? 20;
  const summary: StreamIngestSummary = { records: 0, accepted: 0, unchanged: 0, rejected: 0, rejectedSample: [] };
  const lanes = Array.from({ length: laneCount }, () => ({ buffer: [] as RawRecord[], inflight: Promise.resolve() }));
  let failure: unknown;

  const flush = async (lane: (typeof lanes)[number]): Promise<void> => {
    await lane.inflight;
    if (failure) return;
    const batch = lane.buffer;
    lane.buffer = [];
    lane.inflight = ingestBatch(kindName, batch, deps, options).then(
      (result) => {
        summary.records += batch.length;
        summary.accepted += result.accepted;
        summary.unchanged += result.unchanged;
        summary.rejected += result.rejected.length;
        for (const r of result.rejected) if (summary.rejectedSample.length < sampleSize) summary.rejectedSample.push(r);
        options.onProgress?.(summary);
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
  };

  for await (const record of records) {
    const lane = lanes[laneOf(record.value, kind.idField, laneCount, record.index)] as (typeof lanes)[number];
    lane.buffer.push(record);
    if (lane.buffer.length >= batchSize) await flush(lane);
    if (failure) break;
  }
  for (const lane of lanes) if (lane.buffer.length > 0 && !failure) await flush(lane);
  await Promise.all(lanes.map((l) => l.inflight));
  if (failure) throw failure;
  summary.rejectedSample.sort((a, b) => a.index - b.index);
  return summary;
}

/** Records of a file or object body in the given format, streamed. */
export async function* recordsOf(stream: Readable, format: RecordFormat, kindName: RecordKindName): AsyncGenerator<RawRecord> {
  if (format === 'csv') {
    yield* csvStream(stream, RECORD_KIND[kindName]);
  } else if (format === 'ndjson') {
    yield* ndjsonStream(stream);
  } else {
    // A single JSON document cannot be streamed record by record; it is bounded by the caller.
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      throw new ValidationError(`The file is not valid JSON: ${(error as Error).message}`);
    }
    const records = recordsFromJsonValue(body);
    if (!records) throw new ValidationError('A JSON file must hold an array of records or {"items": [...]}.');
    yield* records;
  }
}
