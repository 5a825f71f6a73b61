import { parseMessage, scoringMessageSchema, type ScoringMessage } from './jobs/job-messages';
import { runScoringMessage } from './jobs/scoring-jobs';
import { lambdaRuntime } from './lambda-deps';
import { sqsHandler } from './lambda-events';

const { deps, queue } = lambdaRuntime('scoring');

/** Scoring queue: a run's start message (plan it, send its shards) or one shard to score. */
export const handler = sqsHandler({ queueName: 'scoring', queue, logger: deps.logger }, (body, delivery) =>
  runScoringMessage(deps, queue, parseMessage<ScoringMessage>(scoringMessageSchema, body), delivery),
);
