import type { JobRunner, ServiceDeps } from '../deps';
import type { JobQueue } from './job-queue';
import type { ScoringMessage, TrainMessage } from './job-messages';

/**
 * The Lambda deployment's job runner: a queued job becomes a message for the function that
 * runs its type (training: the training function; scoring: the scoring worker, which plans the
 * run and fans out its shards). The job's type is read from its record, so jobs resubmitted by
 * id are dispatched the same way.
 */
export function queueJobRunner(getDeps: () => ServiceDeps, queue: JobQueue): JobRunner {
  return {
    submit: async (jobId) => {
      const job = await getDeps().jobs.get(jobId);
      if (!job) throw new Error(`no job ${jobId} to submit`);
      if (job.type === 'train') {
        const message: TrainMessage = { kind: 'train', jobId };
        await queue.send('train', [message]);
      } else if (job.type === 'score') {
        const message: ScoringMessage = { kind: 'start', jobId };
        await queue.send('scoring', [message]);
      } else {
        throw new Error(`job ${jobId} has a type no function runs: ${String(job.type)}`);
      }
    },
  };
}
