import type { ServiceDeps } from '../deps';

/**
 * At start: a job left `running` by a process that died can never finish, so it is marked
 * failed (its partial work is safe to redo: training writes the registry only at its end,
 * scoring runs are idempotent); jobs still `queued` are handed to the runner again.
 */
export async function recoverJobs(deps: ServiceDeps): Promise<{ failed: number; resubmitted: number }> {
  let failed = 0;
  let resubmitted = 0;
  for (const job of await deps.jobs.listUnfinished()) {
    if (job.status === 'running') {
      await deps.jobs.finish(job.jobId, { status: 'failed', error: 'interrupted: the service stopped while the job was running; start it again' }, new Date().toISOString());
      failed++;
    } else {
      await deps.jobRunner.submit(job.jobId);
      resubmitted++;
    }
  }
  return { failed, resubmitted };
}
