import { ServiceError, ValidationError } from '../../data/errors';
import type { JobRecord } from '../../data/stores/job-store';
import type { ServiceDeps } from '../deps';

/**
 * What the job functions do with each message. SQS delivers a message at least once and again
 * after a failure or a crash, so every step is safe to repeat: a job starts once (conditional
 * queued → running), a restarted scoring run supersedes the shards of the earlier plan, a shard
 * is idempotent, and a job whose function died is marked failed instead of staying running.
 */

/** How SQS delivered a message: its receive count (1 on the first delivery). */
export interface Delivery {
  receiveCount: number;
}

/** Thrown to have SQS deliver a message again later, without it being an error of its own. */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';

  constructor(
    message: string,
    /** When to look again; the queue's backoff when absent. */
    readonly afterSeconds?: number,
  ) {
    super(message);
  }
}

export const now = (): string => new Date().toISOString();

/** Domain errors explain themselves; anything else is logged, and the job says where to look (as runJob does). */
export const failureReason = (error: unknown, jobId: string): string =>
  error instanceof ServiceError ? error.message : `internal error (${(error as Error)?.name ?? 'Error'}); see the service logs for job ${jobId}`;

/**
 * A job found `running` when its message comes again: if it started longer ago than its
 * function may run, that function died (timeout, out of memory) and the job can never finish by
 * itself, so it is marked failed; otherwise it may still be running, so look again later.
 */
export async function failIfInterrupted(deps: ServiceDeps, job: JobRecord, timeoutSeconds: number, reason: string): Promise<void> {
  const started = job.startedAt ? Date.parse(job.startedAt) : 0;
  // A minute's margin past the function's timeout: by then the invocation that started it has surely ended.
  const surelyOver = started + (timeoutSeconds + 60) * 1000;
  if (Date.now() < surelyOver) throw new RetryLater(`job ${job.jobId} may still be running`, Math.ceil((surelyOver - Date.now()) / 1000));
  await deps.jobs.finish(job.jobId, { status: 'failed', error: reason }, now());
  deps.logger.error('job interrupted', { jobId: job.jobId, type: job.type, startedAt: job.startedAt });
}

export async function jobOfType(deps: ServiceDeps, jobId: string, type: JobRecord['type']): Promise<JobRecord | undefined> {
  const job = await deps.jobs.get(jobId);
  if (!job) {
    deps.logger.warn('message for a job that does not exist; dropped', { jobId });
    return undefined;
  }
  if (job.type !== type) throw new ValidationError(`Job ${jobId} is a ${job.type} job, not a ${type} job.`);
  return job;
}

