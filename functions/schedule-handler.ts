import type { ScheduledEvent } from 'aws-lambda';
import { queueScheduledScoring } from './jobs/scoring-jobs';
import { lambdaDeps } from './lambda-deps';
import { lambdaHandler } from './lambda-events';

const deps = lambdaDeps('schedule');

/** The nightly EventBridge schedule: queues a scoring run as of the event's time. */
export const handler = lambdaHandler((event: Pick<ScheduledEvent, 'time'>) => queueScheduledScoring(deps, event));
