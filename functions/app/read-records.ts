import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../../data/errors';
import type { RawRecord } from '../../data/ingest/ingest-batch';
import { recordsFromJsonValue, recordsFromNdjson } from '../../data/ingest/parse';
import type { AppContext } from './route-spec';

export const MAX_RECORDS_PER_REQUEST = 10_000;
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
export const INGEST_CONTENT_TYPES = ['application/json', 'application/x-ndjson'] as const;

const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines']);

/** The records of an ingest request body: a JSON array, `{"items": [...]}`, or NDJSON. */
export async function readRecords(c: AppContext): Promise<RawRecord[]> {
  const contentType = (c.req.header('content-type') ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  const isNdjson = NDJSON_TYPES.has(contentType);
  if (!isNdjson && contentType !== 'application/json' && !contentType.endsWith('+json')) {
    throw new UnsupportedMediaTypeError(`Send records as application/json (an array or {"items": [...]}) or application/x-ndjson, not ${contentType}.`);
  }
  const text = await c.req.text();
  let records: RawRecord[];
  if (isNdjson) {
    records = recordsFromNdjson(text);
  } else {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new ValidationError(`The body is not valid JSON: ${(error as Error).message}`);
    }
    const fromBody = recordsFromJsonValue(body);
    if (!fromBody) {
      throw new ValidationError('The body must be a JSON array of records or {"items": [...]}.', [{ path: 'body', message: 'must be an array or an object with an items array' }]);
    }
    records = fromBody;
  }
  if (records.length > MAX_RECORDS_PER_REQUEST) {
    throw new PayloadTooLargeError(`At most ${MAX_RECORDS_PER_REQUEST} records a request; this one has ${records.length}. Split it, or use bulk file ingest.`);
  }
  return records;
}
