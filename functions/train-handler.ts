import { initBackend } from '../models/backend';
import { parseMessage, trainMessageSchema, type TrainMessage } from './jobs/job-messages';
import { runTrainMessage } from './jobs/train-jobs';
import { lambdaRuntime } from './lambda-deps';
import { sqsHandler } from './lambda-events';

const { deps, queue } = lambdaRuntime('train');

// TensorFlow.js starts during the cold start, and logs the backend it runs on (wasm, from the .wasm files shipped next to the bundle).
const backend = initBackend(undefined, { log: (line) => deps.logger.info(line) });
backend.catch(() => undefined);

/** Train queue (batch size 1): each message runs one training job. */
export const handler = sqsHandler({ queueName: 'train', queue, logger: deps.logger }, async (body) => {
  await backend;
  await runTrainMessage(deps, parseMessage<TrainMessage>(trainMessageSchema, body));
});
