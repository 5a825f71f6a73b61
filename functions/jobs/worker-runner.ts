import { Worker } from 'node:worker_threads';
import type { ServiceConfig } from '../config';
import type { JobRunner } from '../deps';
import type { Logger } from '../logger';

/**
 * The local stack's job runner: one worker thread with its own store clients runs the jobs
 * one after another, so training never blocks the event loop that answers requests.
 */
export function workerJobRunner(config: ServiceConfig, logger: Logger): JobRunner & { close(): Promise<void> } {
  let worker: Worker | undefined;
  const ensure = (): Worker => {
    if (worker) return worker;
    const w = new Worker(new URL('./job-worker-entry.mjs', import.meta.url), { workerData: { config } });
    w.on('error', (error) => {
      logger.error('job worker crashed; queued jobs stay queued until the next start', { error });
      worker = undefined;
    });
    w.on('exit', () => {
      if (worker === w) worker = undefined;
    });
    w.unref();
    worker = w;
    return w;
  };
  return {
    submit: async (jobId) => {
      ensure().postMessage({ jobId });
    },
    close: async () => {
      await worker?.terminate();
      worker = undefined;
    },
  };
}
