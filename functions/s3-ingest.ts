import { ingestStream, recordsOf, type StreamIngestSummary } from '../data/ingest/ingest-stream';
import { formatFromName } from '../data/ingest/parse';
import { isRecordKind } from '../data/ingest/rejects';
import type { ServiceDeps } from './deps';

export const INCOMING_PREFIX = 'incoming/';

export interface S3ObjectCreatedEvent {
  Records?: { eventName?: string; s3: { bucket: { name: string }; object: { key: string } } }[];
}

export interface IncomingFileReport extends StreamIngestSummary {
  key: string;
  kind: string;
  format: string;
  finishedAt: string;
}

/** S3 event keys arrive URL-encoded, with '+' for spaces (s3rver sends them raw). */
export function decodeS3Key(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

/**
 * Ingests one object put under incoming/<partners|events|deals>/, streamed, with the same
 * validation and idempotency as the API; writes a summary next to it under reports/.
 * Throws on store failure so the invocation is retried; a retry re-reads the whole file and
 * stores only what is missing.
 */
export async function ingestIncomingObject(deps: ServiceDeps, key: string): Promise<IncomingFileReport | undefined> {
  const match = /^incoming\/([^/]+)\/(.+)$/.exec(key);
  if (!match || !isRecordKind(match[1] ?? '')) {
    deps.logger.warn('ignored object outside incoming/<partners|events|deals>/', { objectKey: key });
    return undefined;
  }
  const kind = match[1] as 'partners' | 'events' | 'deals';
  const format = formatFromName(key) ?? 'ndjson';
  const stream = await deps.objects.getStream(key);
  const summary = await ingestStream(kind, recordsOf(stream, format, kind), deps, { source: `s3:${key}` });
  const report: IncomingFileReport = { key, kind, format, ...summary, finishedAt: new Date().toISOString() };
  await deps.objects.putText(`reports/${key}.summary.json`, JSON.stringify(report, null, 2), 'application/json');
  deps.logger.info('ingested incoming file', { objectKey: key, kind, records: summary.records, accepted: summary.accepted, unchanged: summary.unchanged, rejected: summary.rejected });
  return report;
}

export async function handleS3Event(deps: ServiceDeps, event: S3ObjectCreatedEvent): Promise<IncomingFileReport[]> {
  const reports: IncomingFileReport[] = [];
  for (const record of event.Records ?? []) {
    if (record.eventName && !/ObjectCreated/.test(record.eventName)) continue;
    const key = decodeS3Key(record.s3.object.key);
    if (!key.startsWith(INCOMING_PREFIX)) continue;
    const report = await ingestIncomingObject(deps, key);
    if (report) reports.push(report);
  }
  return reports;
}
