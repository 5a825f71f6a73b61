import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { asOfSchema } from '../../../data/schemas/as-of';
import { authErrors, problem } from '../common-schemas';
import { defineResource } from '../route-spec';
import { validJson } from '../validate';

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
        const deps = c.get('deps');
        const jobId = `job_${randomUUID()}`;
        await deps.jobs.create({
          jobId,
          type: 'score',
          params: { asOf: input.asOf ?? new Date().toISOString() },
          status: 'queued',
          createdAt: new Date().toISOString(),
          requestedBy: c.get('principal').keyId,
        });
        try {
          await deps.jobRunner.submit(jobId);
        } catch (error) {
          await deps.jobs.finish(jobId, { status: 'failed', error: 'the job could not be started' }, new Date().toISOString());
          throw error;
        }
        return c.json({ jobId }, 202);
      },
    },
  ],
});
