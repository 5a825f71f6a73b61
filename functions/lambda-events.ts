import type { APIGatewayProxyEventV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Hono } from 'hono';
import { handle, type APIGatewayProxyResult, type LambdaEvent } from 'hono/aws-lambda';
import type { AppEnv } from './app/route-spec';
import type { JobQueue } from './jobs/job-queue';
import { RetryLater, type Delivery } from './jobs/job-delivery';
import type { QueueName } from './lambda-functions';
import { withLogContext, type Logger } from './logger';

/**
 * The shells around each Lambda event shape: they only set the invocation's log context (its
 * request id), hand the event to the core and shape the answer Lambda expects.
 */

const invocationFields = (context: Context | undefined): Record<string, unknown> => (context?.awsRequestId ? { awsRequestId: context.awsRequestId } : {});

/** A plain invocation (S3 notification, EventBridge schedule) with the request id on every log line. */
export function lambdaHandler<E, R>(fn: (event: E) => Promise<R>): (event: E, context?: Context) => Promise<R> {
  return (event, context) => withLogContext(invocationFields(context), () => fn(event));
}

/**
 * The Hono app behind an HTTP API (payload format 2.0). API Gateway's request id becomes the
 * app's x-request-id (unless the caller sent one), so the app's request log line, its response
 * header and the API access log carry the same id.
 */
export function apiGatewayHandler(app: Hono<AppEnv>): (event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyResult> {
  const inner = handle(app);
  return (event, context) => {
    const headers = event.headers ?? {};
    const gatewayId = event.requestContext?.requestId?.replace(/[^A-Za-z0-9._-]/g, '');
    const hasOwn = Object.keys(headers).some((h) => h.toLowerCase() === 'x-request-id');
    const withId = gatewayId && !hasOwn ? { ...event, headers: { ...headers, 'x-request-id': gatewayId } } : event;
    // Hono types the v2 body as string | null; API Gateway leaves it out when there is none, which Hono reads the same way.
    return withLogContext(invocationFields(context), () => inner(withId as unknown as LambdaEvent, context));
  };
}

/** Seconds before a failed message is delivered again: 30 s, 2 min, 8 min, … (capped at 15 min). */
export const retryDelaySeconds = (receiveCount: number): number => Math.min(900, 30 * 4 ** Math.max(0, receiveCount - 1));

export interface SqsBatchOptions {
  queueName: QueueName;
  queue: JobQueue;
  logger: Logger;
}

/**
 * An SQS batch, message by message: a message that fails is reported in batchItemFailures (the
 * others are deleted), logged, and made visible again after a backoff rather than after the
 * queue's whole visibility timeout; after MAX_RECEIVES deliveries SQS moves it to the queue's
 * dead-letter queue.
 */
export async function processSqsBatch(event: SQSEvent, options: SqsBatchOptions, fn: (body: string, delivery: Delivery) => Promise<void>): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records ?? []) {
    const delivery: Delivery = { receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1 };
    await withLogContext({ messageId: record.messageId, receiveCount: delivery.receiveCount }, async () => {
      try {
        await fn(record.body, delivery);
      } catch (error) {
        failures.push({ itemIdentifier: record.messageId });
        const later = error instanceof RetryLater;
        const delay = later && error.afterSeconds !== undefined ? error.afterSeconds : retryDelaySeconds(delivery.receiveCount);
        if (later) options.logger.info('message deferred', { queue: options.queueName, reason: error.message, retryInSeconds: delay });
        else options.logger.error('message failed; it will be delivered again', { queue: options.queueName, retryInSeconds: delay, error });
        if (record.receiptHandle) await options.queue.retryAfter(options.queueName, record.receiptHandle, delay).catch(() => undefined);
      }
    });
  }
  return { batchItemFailures: failures };
}

export function sqsHandler(options: SqsBatchOptions, fn: (body: string, delivery: Delivery) => Promise<void>): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  return (event, context) => withLogContext(invocationFields(context), () => processSqsBatch(event, options, fn));
}
