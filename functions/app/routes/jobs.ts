import { z } from 'zod';
import { NotFoundError } from '../../../data/errors';
import { authErrors, problem } from '../common-schemas';
import { defineResource } from '../route-spec';
import { validParams } from '../validate';

const jobParams = z.object({ jobId: z.string().min(1).max(100) });

const jobSchema = z
  .object({
    jobId: z.string(),
    type: z.enum(['train', 'score']),
    status: z.enum(['queued', 'running', 'succeeded', 'failed']),
    params: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    progress: z.string().optional(),
    result: z.unknown().optional(),
    error: z.string().optional(),
  })
  .meta({ id: 'Job' });

export const jobsResource = defineResource({
  basePath: '/v1/jobs',
  tag: 'Jobs',
  routes: [
    {
      method: 'get',
      path: '/{jobId}',
      summary: 'A training or scoring job',
      description: 'A succeeded train job’s result holds {model, version, metrics}.',
      roles: ['admin', 'ops'],
      params: jobParams,
      responses: { 200: { description: 'The job', schema: jobSchema }, ...authErrors, 404: problem('No such job') },
      handler: async (c) => {
        const { jobId } = validParams(c, jobParams);
        const job = await c.get('deps').jobs.get(jobId);
        if (!job) throw new NotFoundError(`No job ${jobId}.`);
        const { requestedBy: _by, ...view } = job;
        return c.json(view);
      },
    },
  ],
});
