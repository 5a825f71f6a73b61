import { z } from 'zod';
import { ingestBatch } from '../../../data/ingest/ingest-batch';
import { RECORD_KIND } from '../../../data/ingest/record-kinds';
import type { RecordKindName } from '../../../data/stores/record-store';
import { authErrors, ingestResultSchema, problem } from '../common-schemas';
import { INGEST_CONTENT_TYPES, MAX_RECORDS_PER_REQUEST, readRecords } from '../read-records';
import { defineResource, type RouteSpec } from '../route-spec';

const INGEST_ROLES = ['admin', 'ops', 'integration'] as const;

export function ingestRoute(kindName: RecordKindName): RouteSpec {
  const kind = RECORD_KIND[kindName];
  return {
    method: 'post',
    path: '/',
    summary: `Ingest ${kindName}`,
    description:
      `A JSON array of ${kindName}, {"items": [...]}, or NDJSON (application/x-ndjson); at most ${MAX_RECORDS_PER_REQUEST} records and 10 MB. ` +
      'Each record is validated on its own: valid ones are stored (idempotently) and archived verbatim, invalid ones are reported and kept for replay.',
    roles: INGEST_ROLES,
    body: {
      schema: z.union([z.array(kind.schema), z.object({ items: z.array(kind.schema) })]),
      contentTypes: INGEST_CONTENT_TYPES,
    },
    responses: {
      200: { description: 'Per-record outcome', schema: ingestResultSchema },
      400: problem('Malformed JSON or a body that is not a list of records'),
      ...authErrors,
      413: problem('More than 10,000 records or 10 MB'),
      415: problem('Unsupported content type'),
      503: problem('A store is unavailable; nothing unreported was lost, retry the same request'),
    },
    handler: async (c) => {
      const records = await readRecords(c);
      const deps = c.get('deps');
      const result = await ingestBatch(kindName, records, deps, { source: `api:${c.get('principal').keyId}` });
      deps.logger.info('ingested', { requestId: c.get('requestId'), kind: kindName, records: records.length, accepted: result.accepted, unchanged: result.unchanged, rejected: result.rejected.length });
      return c.json(result);
    },
  };
}

export const eventsResource = defineResource({ basePath: '/v1/events', tag: 'Ingest', routes: [ingestRoute('events')] });
export const dealsResource = defineResource({ basePath: '/v1/deals', tag: 'Ingest', routes: [ingestRoute('deals')] });
