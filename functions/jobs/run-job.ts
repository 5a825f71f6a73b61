import { ServiceError } from '../../data/errors';
import { runScoring } from '../../models/scoring-run';
import type { ModelName } from '../../models/types';
import type { ServiceDeps } from '../deps';

/**
 * Runs one queued job to its end. Only one runner gets to start a job (conditional
 * queued → running); whatever happens, the job ends succeeded or failed with a reason, and a
 * failed training leaves the registry (and its champion) as it was.
 */
export async function runJob(deps: ServiceDeps, jobId: string): Promise<void> {
  const job = await deps.jobs.get(jobId);
  if (!job || !(await deps.jobs.start(jobId, new Date().toISOString()))) return;
  deps.logger.info('job started', { jobId, type: job.type, params: job.params });
  try {
    let result: unknown;
    if (job.type === 'train') {
      const params = job.params as { model: ModelName; asOf: string; horizonDays?: number };
      // Loaded here, on the first training job: training needs TensorFlow.js, serving and scoring jobs do not.
      const { trainModelVersion } = await import('../../models/training-run');
      result = await trainModelVersion(
        { history: deps.history, models: deps.models, objects: deps.objects, log: (message, fields) => deps.logger.info(message, { jobId, ...fields }) },
        { ...params, jobId, onProgress: (progress) => void deps.jobs.progress(jobId, progress).catch(() => undefined) },
      );
    } else if (job.type === 'score') {
      const params = job.params as { asOf: string };
      result = await runScoring(
        {
          history: deps.history,
          models: deps.models,
          scores: deps.scores,
          modelCache: deps.modelCache,
          bands: deps.bands,
          log: (message, fields) => deps.logger.info(message, { jobId, ...fields }),
          warn: (message, fields) => deps.logger.warn(message, { jobId, ...fields }),
        },
        { asOf: params.asOf, jobId, onProgress: (progress) => void deps.jobs.progress(jobId, progress).catch(() => undefined) },
      );
    } else {
      throw new ServiceError(400, 'Unsupported job', `Job type ${job.type} is not supported by this version.`);
    }
    await deps.jobs.finish(jobId, { status: 'succeeded', result }, new Date().toISOString());
    deps.logger.info('job succeeded', { jobId });
  } catch (error) {
    deps.logger.error('job failed', { jobId, error });
    // Domain errors explain themselves; anything else is logged, and the job says where to look.
    const reason = error instanceof ServiceError ? error.message : `internal error (${(error as Error)?.name ?? 'Error'}); see the service logs for job ${jobId}`;
    await deps.jobs.finish(jobId, { status: 'failed', error: reason }, new Date().toISOString());
  }
}
