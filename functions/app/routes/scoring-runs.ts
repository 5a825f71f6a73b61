import { z } from 'zod';
import { asOfSchema } from '../../../data/schemas/as-of';
import { authErrors, problem } from '../common-schemas';
import { defineResource } from '../route-spec';
import { validJson } from '../validate';
import { queueJob } from '../../jobs/queue-job';

const body = z.strictObject({ asOf: asOfSchema.optional() });

export const scoringRunsResource = defineResource({
  basePath: '/v1/scoring',
  tag: 'Scores',
  routes: [
    {
      method: 'post',
      path: '/runs',
      summary: 'Score every active partner (asynchronous)',
      description: 'Queues a scoring run as of `asOf` (default now): every partner active then is scored with both champions, and the scores are stored with their drivers. One run per asOf: running the same asOf again replaces it.',
      roles: ['admin', 'ops'],
      body: { schema: body, contentTypes: ['application/json'] },
      responses: { 202: { description: 'Queued; follow it at /v1/jobs/{jobId}', schema: z.object({ jobId: z.string() }) }, 400: problem('Invalid body'), ...authErrors },
      handler: async (c) => {
        const input = await validJson(c, body);
        const jobId = await queueJob(c.get('deps'), { type: 'score', params: { asOf: input.asOf ?? new Date().toISOString() }, requestedBy: c.get('principal').keyId });
        return c.json({ jobId }, 202);
      },
    },
  ],
});
