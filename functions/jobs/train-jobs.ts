import type { ServiceDeps } from '../deps';
import { TRAINING_TIMEOUT_SECONDS } from '../lambda-functions';
import { failIfInterrupted, jobOfType } from './job-delivery';
import type { TrainMessage } from './job-messages';
import { runJob } from './run-job';

/** Train queue: runs the training job (on this function, up to Lambda's 15-minute limit). */
export async function runTrainMessage(deps: ServiceDeps, message: TrainMessage): Promise<void> {
  const job = await jobOfType(deps, message.jobId, 'train');
  if (!job) return;
  if (job.status === 'running') {
    const minutes = TRAINING_TIMEOUT_SECONDS / 60;
    await failIfInterrupted(
      deps,
      job,
      TRAINING_TIMEOUT_SECONDS,
      `interrupted: the training function stopped before the job finished (its ${minutes}-minute limit, or out of memory); see the service logs for job ${job.jobId}, then train on a later asOf or a smaller data set`,
    );
    return;
  }
  await runJob(deps, message.jobId);
}

