import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { ingestStream, recordsOf, type StreamIngestSummary } from '../../data/ingest/ingest-stream';
import type { IngestDeps } from '../../data/ingest/ingest-batch';
import { formatFromName, type RecordFormat } from '../../data/ingest/parse';
import type { RecordKindName } from '../../data/stores/record-store';

export interface FileIngestOptions {
  format?: RecordFormat;
  batchSize?: number;
  lanes?: number;
  onProgress?: (bytesRead: number, totalBytes: number, summary: Omit<StreamIngestSummary, 'rejectedSample'>) => void;
}

/** Streams a CSV / NDJSON file into the stores with bounded memory. */
export async function ingestFile(kind: RecordKindName, file: string, deps: IngestDeps, options: FileIngestOptions = {}): Promise<StreamIngestSummary & { file: string; format: RecordFormat }> {
  const format = options.format ?? formatFromName(file) ?? 'ndjson';
  const totalBytes = statSync(file).size;
  let bytesRead = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytesRead += chunk.length;
      done(null, chunk);
    },
  });
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(counter);
  const summary = await ingestStream(kind, recordsOf(stream, format, kind), deps, {
    source: `cli:${basename(file)}`,
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    ...(options.lanes ? { lanes: options.lanes } : {}),
    onProgress: (p) => options.onProgress?.(bytesRead, totalBytes, p),
  });
  return { ...summary, file, format };
}
