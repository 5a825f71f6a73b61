import type { SQSClient } from '@aws-sdk/client-sqs';
import type { QueueName } from '../lambda-functions';

/** Where the Lambda deployment sends jobs: SQS queues, each drained by its worker function. */
export interface JobQueue {
  /** Sends every body (JSON), in batches; resolves once all are accepted, throws if any could not be. */
  send(queue: QueueName, bodies: readonly unknown[]): Promise<void>;
  /** Makes a received message visible again after `seconds` (a retry sooner than the queue's visibility timeout). */
  retryAfter(queue: QueueName, receiptHandle: string, seconds: number): Promise<void>;
}

/** SendMessageBatch takes at most 10 entries. */
const BATCH = 10;
const SEND_ATTEMPTS = 4;

type SqsModule = typeof import('@aws-sdk/client-sqs');
let sqsModule: Promise<SqsModule> | undefined;
/** Loaded on first use: the API function sends a message only when a job is queued, so its cold start does not load the SQS client. */
const loadSqs = (): Promise<SqsModule> => (sqsModule ??= import('@aws-sdk/client-sqs'));

/** One SQS client per process, created on first use and then shared. */
export interface LazySqsClient {
  get(): Promise<SQSClient>;
}

export function createSqsClient(options: { region: string; endpoint?: string }): LazySqsClient {
  let client: Promise<SQSClient> | undefined;
  return {
    get: () =>
      (client ??= loadSqs().then(
        ({ SQSClient }) =>
          new SQSClient({
            region: options.region,
            maxAttempts: 4,
            requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
            ...(options.endpoint ? { endpoint: options.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
          }),
      )),
  };
}

export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly sqs: LazySqsClient,
    private readonly urls: Partial<Record<QueueName, string>>,
  ) {}

  private url(queue: QueueName): string {
    const url = this.urls[queue];
    if (!url) throw new Error(`no URL for the ${queue} queue: this function is not bound to it`);
    return url;
  }

  async send(queue: QueueName, bodies: readonly unknown[]): Promise<void> {
    const url = this.url(queue);
    const [sqs, { SendMessageBatchCommand }] = await Promise.all([this.sqs.get(), loadSqs()]);
    for (let start = 0; start < bodies.length; start += BATCH) {
      let entries = bodies.slice(start, start + BATCH).map((body, i) => ({ Id: String(start + i), MessageBody: JSON.stringify(body) }));
      // A batch can succeed in part: only the failed entries are sent again.
      for (let attempt = 1; entries.length > 0; attempt++) {
        const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        if (failed.size === 0) break;
        if (attempt >= SEND_ATTEMPTS) {
          const reasons = (out.Failed ?? []).map((f) => `${f.Code ?? 'error'}: ${f.Message ?? ''}`).join('; ');
          throw new Error(`SQS refused ${failed.size} of the messages to the ${queue} queue: ${reasons}`);
        }
        entries = entries.filter((e) => failed.has(e.Id));
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  async retryAfter(queue: QueueName, receiptHandle: string, seconds: number): Promise<void> {
    const url = this.url(queue);
    const [sqs, { ChangeMessageVisibilityCommand }] = await Promise.all([this.sqs.get(), loadSqs()]);
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: receiptHandle, VisibilityTimeout: Math.max(0, Math.round(seconds)) }));
  }
}
