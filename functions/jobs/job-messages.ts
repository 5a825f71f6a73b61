import { z } from 'zod';
import { ValidationError } from '../../data/errors';
import type { ScoringRunPlan } from '../../models/scoring-run';

/** What travels through the job queues; every message is checked before anything runs. */

/** Train queue: run this queued training job. */
export const trainMessageSchema = z.strictObject({ kind: z.literal('train'), jobId: z.string().min(1).max(100) });
export type TrainMessage = z.infer<typeof trainMessageSchema>;

const planSchema = z.looseObject({
  runId: z.string().min(1),
  asOf: z.string().min(1),
  shards: z.number().int().min(1),
  models: z.looseObject({ churn: z.string(), topPerformer: z.string().optional() }),
  previousAsOf: z.string().optional(),
  jobId: z.string().optional(),
  startedAt: z.string().min(1),
});

/** Scoring queue: start this queued scoring job (plan the run, fan out its shards), or score one shard of a planned run. */
export const scoringMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('start'), jobId: z.string().min(1).max(100) }),
  z.strictObject({ kind: z.literal('shard'), plan: planSchema, shard: z.number().int().min(0) }).refine((m) => m.shard < m.plan.shards, { message: 'must be below plan.shards', path: ['shard'] }),
]);
export type ScoringMessage = { kind: 'start'; jobId: string } | { kind: 'shard'; plan: ScoringRunPlan; shard: number };

export function parseMessage<T>(schema: z.ZodType, body: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ValidationError('The message body is not JSON.');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ValidationError(`Invalid message: ${errors.map((e) => `${e.path || '(body)'} ${e.message}`).join('; ')}`, errors);
  }
  return parsed.data as T;
}
