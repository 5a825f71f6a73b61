import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { asOfInstant } from '../../data/schemas/as-of';
import { MAX_SHARDS, runScoringShard, startScoringRun, type ScoringDeps, type ScoringRunPlan } from '../../models/scoring-run';
import type { ServiceDeps } from '../deps';
import { MAX_RECEIVES } from '../lambda-functions';
import { failureReason, jobOfType, now, type Delivery } from './job-delivery';
import type { JobQueue } from './job-queue';
import type { ScoringMessage } from './job-messages';
import { queueJob } from './queue-job';

/**
 * Scoring runs on AWS (docs/scaling.md): a start message plans the run and fans out one message
 * per shard; each shard message is one worker invocation; the shard that completes the run
 * finishes its job. Locally the same core runs every shard in process (models/scoring-run.ts).
 */

export function scoringDepsOf(deps: ServiceDeps, jobId?: string): ScoringDeps {
  return {
    history: deps.history,
    models: deps.models,
    scores: deps.scores,
    modelCache: deps.modelCache,
    bands: deps.bands,
    log: (message, fields) => deps.logger.info(message, { ...(jobId ? { jobId } : {}), ...fields }),
    warn: (message, fields) => deps.logger.warn(message, { ...(jobId ? { jobId } : {}), ...fields }),
  };
}

/**
 * Shards for a run: ceil(partners / partnersPerShard), at most maxShards. The partner count is
 * DescribeTable's ItemCount (refreshed by DynamoDB about every six hours): close enough to size
 * shards, and one cheap call instead of a scan.
 */
export async function shardCount(deps: ServiceDeps): Promise<number> {
  const sizing = deps.config.scoring ?? { partnersPerShard: 2_000, maxShards: MAX_SHARDS };
  if (sizing.shards) return Math.min(sizing.shards, MAX_SHARDS);
  const out = await deps.clients.dynamo.send(new DescribeTableCommand({ TableName: deps.config.tables.partners }));
  const partners = out.Table?.ItemCount ?? 0;
  return Math.min(sizing.maxShards, MAX_SHARDS, Math.max(1, Math.ceil(partners / sizing.partnersPerShard)));
}

/**
 * Scoring queue, start message: plans the run and sends one message per shard. A start message
 * seen again while its job runs means the first attempt may have died before every shard was
 * sent: the run is planned again, which supersedes the earlier plan's shards (they record
 * nothing), and all shards are sent again.
 */
export async function startScoringJob(deps: ServiceDeps, queue: JobQueue, jobId: string): Promise<ScoringRunPlan | undefined> {
  const job = await jobOfType(deps, jobId, 'score');
  if (!job || job.status === 'succeeded' || job.status === 'failed') return undefined;
  if (job.status === 'queued' && !(await deps.jobs.start(jobId, now()))) return undefined;
  try {
    const { asOf } = job.params as { asOf: string };
    const plan = await startScoringRun(scoringDepsOf(deps, jobId), { asOf, jobId, shards: await shardCount(deps) });
    const messages: ScoringMessage[] = Array.from({ length: plan.shards }, (_, shard) => ({ kind: 'shard', plan, shard }));
    await queue.send('scoring', messages);
    await deps.jobs.progress(jobId, `${plan.shards} shards sent to the scoring workers`).catch(() => undefined);
    deps.logger.info('scoring run planned', { jobId, runId: plan.runId, asOf: plan.asOf, shards: plan.shards });
    return plan;
  } catch (error) {
    deps.logger.error('scoring run could not start', { jobId, error });
    await deps.jobs.finish(jobId, { status: 'failed', error: failureReason(error, jobId) }, now());
    return undefined;
  }
}

async function finishRun(deps: ServiceDeps, plan: ScoringRunPlan): Promise<boolean> {
  if (!plan.jobId) return false;
  const run = (await deps.scores.listRuns()).find((r) => r.runId === plan.runId && r.startedAt === plan.startedAt && r.status === 'complete');
  if (!run) return false;
  const result = { runId: run.runId, asOf: run.asOf, scored: run.scored ?? 0, models: run.models, shards: plan.shards };
  await deps.jobs.finish(plan.jobId, { status: 'succeeded', result }, now());
  deps.logger.info('job succeeded', { jobId: plan.jobId, runId: run.runId, scored: result.scored });
  return true;
}

/**
 * Scoring queue, shard message: scores one shard; the call that completes the run finishes
 * its job. A redelivered shard of a run that is already complete finishes the job too (the
 * first delivery may have died between the two). On the last delivery SQS will make, the job is
 * marked failed, naming the dead-letter queue: redriving the message finishes the run.
 */
export async function runShardMessage(deps: ServiceDeps, message: Extract<ScoringMessage, { kind: 'shard' }>, delivery: Delivery): Promise<void> {
  const { plan, shard } = message;
  try {
    const { scored, runComplete } = await runScoringShard(scoringDepsOf(deps, plan.jobId), plan, shard);
    deps.logger.info('shard scored', { jobId: plan.jobId, runId: plan.runId, shard, shards: plan.shards, scored });
    if (runComplete || delivery.receiveCount > 1) {
      const job = plan.jobId ? await deps.jobs.get(plan.jobId) : undefined;
      if (job && job.status !== 'succeeded' && (await finishRun(deps, plan)) === false && runComplete) {
        throw new Error(`run ${plan.runId} reported complete but its record is not`);
      }
    }
  } catch (error) {
    if (delivery.receiveCount >= MAX_RECEIVES && plan.jobId) {
      const reason = `shard ${shard} of ${plan.shards} failed ${delivery.receiveCount} times (${failureReason(error, plan.jobId)}); its message is in the scoring dead-letter queue: redrive it to finish the run`;
      await deps.jobs.finish(plan.jobId, { status: 'failed', error: reason }, now()).catch(() => undefined);
    }
    throw error;
  }
}

export async function runScoringMessage(deps: ServiceDeps, queue: JobQueue, message: ScoringMessage, delivery: Delivery): Promise<void> {
  if (message.kind === 'start') await startScoringJob(deps, queue, message.jobId);
  else await runShardMessage(deps, message, delivery);
}

/**
 * The nightly schedule: queues a scoring run as of the event's time. EventBridge may deliver an
 * event twice; a scoring job of that asOf still queued or running is reused.
 */
export async function queueScheduledScoring(deps: ServiceDeps, event: { time?: string }): Promise<{ jobId: string; asOf: string; reused: boolean }> {
  const asOf = asOfInstant(event.time ?? now()) ?? now();
  const existing = (await deps.jobs.listUnfinished()).find((j) => j.type === 'score' && (j.params as { asOf?: string }).asOf === asOf);
  if (existing) return { jobId: existing.jobId, asOf, reused: true };
  const jobId = await queueJob(deps, { type: 'score', params: { asOf }, requestedBy: 'schedule' });
  deps.logger.info('scheduled scoring run queued', { jobId, asOf });
  return { jobId, asOf, reused: false };
}
