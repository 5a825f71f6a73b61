import { z } from 'zod';
import { getRejectBatch, listRejectBatches, replayRejectBatch } from '../../../data/ingest/rejects';
import { fieldErrorSchema, authErrors, ingestResultSchema, problem } from '../common-schemas';
import { defineResource } from '../route-spec';
import { validParams, validQuery } from '../validate';

const listQuery = z.object({
  kind: z.enum(['partners', 'events', 'deals']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).max(2048).optional(),
});
const idParams = z.object({ id: z.string().min(1).max(200) });

const rejectBatchSchema = z.object({ id: z.string(), kind: z.string(), size: z.number(), storedAt: z.string() }).meta({ id: 'RejectBatch' });
const rejectEntrySchema = z
  .object({ index: z.number(), id: z.string().optional(), errors: z.array(fieldErrorSchema), record: z.string(), source: z.string(), receivedAt: z.string() })
  .meta({ id: 'RejectEntry' });

export const rejectsResource = defineResource({
  basePath: '/v1/rejects',
  tag: 'Rejects',
  routes: [
    {
      method: 'get',
      path: '/',
      summary: 'List batches of rejected records',
      roles: ['admin', 'ops'],
      query: listQuery,
      responses: { 200: { description: 'Reject batches, oldest first', schema: z.object({ items: z.array(rejectBatchSchema), nextCursor: z.string().optional() }) }, 400: problem('Invalid query'), ...authErrors },
      handler: async (c) => {
        const q = validQuery(c, listQuery);
        return c.json(await listRejectBatches(c.get('deps').objects, q));
      },
    },
    {
      method: 'get',
      path: '/{id}',
      summary: 'The rejected records of one batch, verbatim, with their reasons',
      roles: ['admin', 'ops'],
      params: idParams,
      responses: { 200: { description: 'The batch', schema: z.object({ id: z.string(), kind: z.string(), entries: z.array(rejectEntrySchema) }) }, ...authErrors, 404: problem('No such batch') },
      handler: async (c) => c.json(await getRejectBatch(c.get('deps').objects, validParams(c, idParams).id)),
    },
    {
      method: 'post',
      path: '/{id}/replay',
      summary: 'Ingest a batch of rejected records again',
      roles: ['admin', 'ops'],
      params: idParams,
      responses: { 200: { description: 'Outcome of the replay', schema: ingestResultSchema }, ...authErrors, 404: problem('No such batch') },
      handler: async (c) => c.json(await replayRejectBatch(c.get('deps'), validParams(c, idParams).id)),
    },
  ],
});
