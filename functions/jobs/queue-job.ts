import { randomUUID } from 'node:crypto';
import type { JobRecord } from '../../data/stores/job-store';
import type { ServiceDeps } from '../deps';

/**
 * Records a job as queued and hands it to the runner. If the runner refuses it, the job is
 * marked failed before the error goes up, so no job waits forever for a runner that never came.
 */
export async function queueJob(deps: ServiceDeps, job: { type: JobRecord['type']; params: Record<string, unknown>; requestedBy: string }): Promise<string> {
  const jobId = `job_${randomUUID()}`;
  await deps.jobs.create({ jobId, ...job, status: 'queued', createdAt: new Date().toISOString() });
  try {
    await deps.jobRunner.submit(jobId);
  } catch (error) {
    await deps.jobs.finish(jobId, { status: 'failed', error: 'the job could not be started' }, new Date().toISOString());
    throw error;
  }
  return jobId;
}
