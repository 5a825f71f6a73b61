import type { JobRunner, ServiceDeps } from '../deps';

/**
 * Runs each job in this process once the current request is answered. The job module (and
 * TensorFlow.js with it) is loaded on first use, so serving requests does not pay for it.
 */
export function inProcessJobRunner(getDeps: () => ServiceDeps): JobRunner {
  return {
    submit: async (jobId) => {
      setImmediate(() => {
        import('./run-job')
          .then(({ runJob }) => runJob(getDeps(), jobId))
          .catch((error: unknown) => getDeps().logger.error('job crashed', { jobId, error }));
      });
    },
  };
}
