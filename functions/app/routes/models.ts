import { z } from 'zod';
import { ValidationError } from '../../../data/errors';
import { asOfSchema } from '../../../data/schemas/as-of';
import { MODEL_NAMES } from '../../../models/types';
import { promoteVersion } from '../../../models/registry';
import { queueJob } from '../../jobs/queue-job';
import { authErrors, problem } from '../common-schemas';
import { defineResource } from '../route-spec';
import { validJson, validParams } from '../validate';

const metricsSchema = z.object({ auc: z.number(), prAuc: z.number(), brier: z.number(), ece: z.number(), rows: z.number(), positives: z.number() }).meta({ id: 'HoldoutMetrics' });

export const modelVersionSchema = z
  .object({
    model: z.enum(MODEL_NAMES),
    version: z.string(),
    createdAt: z.string(),
    asOf: z.string(),
    status: z.enum(['champion', 'challenger', 'retired']),
    metrics: metricsSchema,
    baselineMetrics: metricsSchema.meta({ description: 'A logistic-regression baseline trained in the same run, on the same holdout' }),
    aucByTier: z.record(z.string(), z.number().nullable()),
    backend: z.string(),
    dataWindow: z.object({ from: z.string(), to: z.string(), holdoutFrom: z.string() }),
    promotedAt: z.string().optional(),
  })
  .meta({ id: 'ModelVersion' });

const modelParams = z.object({ model: z.enum(MODEL_NAMES) });
const versionParams = z.object({ model: z.enum(MODEL_NAMES), version: z.string().min(1).max(64) });
const trainBody = z.strictObject({
  asOf: asOfSchema.optional(),
  horizonDays: z.number().int().min(7).max(365).optional().meta({ description: 'churn only; default 90' }),
});

const publicView = (v: z.input<typeof modelVersionSchema> & Record<string, unknown>) => ({
  model: v.model,
  version: v.version,
  createdAt: v.createdAt,
  asOf: v.asOf,
  status: v.status,
  metrics: v.metrics,
  baselineMetrics: v.baselineMetrics,
  aucByTier: v.aucByTier,
  backend: v.backend,
  dataWindow: v.dataWindow,
  ...(v.horizonDays ? { horizonDays: v.horizonDays } : {}),
  ...(v.promotedAt ? { promotedAt: v.promotedAt } : {}),
});

export const modelsResource = defineResource({
  basePath: '/v1/models',
  tag: 'Models',
  routes: [
    {
      method: 'get',
      path: '/',
      summary: 'Model versions with their holdout metrics',
      description: 'Every version of both models, with metrics measured on a time-based holdout the model did not train on, next to a logistic-regression baseline.',
      roles: ['admin', 'ops'],
      responses: { 200: { description: 'The versions', schema: z.array(modelVersionSchema) }, ...authErrors },
      handler: async (c) => c.json((await c.get('deps').models.list()).map((v) => publicView(v as never))),
    },
    {
      method: 'post',
      path: '/{model}/train',
      summary: 'Train a new version (asynchronous)',
      description: 'Queues a training job on point-in-time snapshots as of `asOf` (default now). The new version becomes champion by itself only when there is none or it beats the champion on the same holdout.',
      roles: ['admin', 'ops'],
      params: modelParams,
      body: { schema: trainBody, contentTypes: ['application/json'] },
      responses: { 202: { description: 'Queued', schema: z.object({ jobId: z.string() }) }, 400: problem('Invalid body'), ...authErrors },
      handler: async (c) => {
        const { model } = validParams(c, modelParams);
        const body = await validJson(c, trainBody);
        if (model !== 'churn' && body.horizonDays !== undefined) {
          throw new ValidationError('horizonDays applies to the churn model only.', [{ path: 'horizonDays', message: 'applies to the churn model only' }]);
        }
        const asOf = body.asOf ?? new Date().toISOString();
        const jobId = await queueJob(c.get('deps'), {
          type: 'train',
          params: { model, asOf, ...(model === 'churn' ? { horizonDays: body.horizonDays ?? 90 } : {}) },
          requestedBy: c.get('principal').keyId,
        });
        return c.json({ jobId }, 202);
      },
    },
    {
      method: 'post',
      path: '/{model}/versions/{version}/promote',
      summary: 'Make a version the champion',
      roles: ['admin', 'ops'],
      params: versionParams,
      responses: { 200: { description: 'The promoted version', schema: modelVersionSchema }, ...authErrors, 404: problem('No such version') },
      handler: async (c) => {
        const { model, version } = validParams(c, versionParams);
        const deps = c.get('deps');
        const promoted = await promoteVersion(deps.models, model, version, new Date().toISOString());
        deps.logger.info('model promoted', { requestId: c.get('requestId'), model, version, by: c.get('principal').keyId });
        return c.json(publicView(promoted as never));
      },
    },
  ],
});
