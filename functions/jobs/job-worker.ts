import { parentPort, workerData } from 'node:worker_threads';
import type { ServiceConfig } from '../config';
import { createDeps } from '../deps';
import { runJob } from './run-job';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { config } = workerData as { config: ServiceConfig };
const deps = createDeps(config);
let queue: Promise<void> = Promise.resolve();

// Jobs run one at a time, in the order they were queued.
parentPort?.on('message', (message: { jobId: string }) => {
  queue = queue.then(() => runJob(deps, message.jobId)).catch((error: unknown) => deps.logger.error('job crashed', { jobId: message.jobId, error }));
});
