import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * An SQS endpoint for tests (there is no embedded SQS): the real @aws-sdk/client-sqs talks to it
 * over HTTP (AWS JSON 1.0 protocol, as to SQS), it keeps what was sent per queue, and hands the
 * messages back as the SQS event Lambda would deliver. Speaks only what the service uses:
 * SendMessageBatch and ChangeMessageVisibility.
 */
export interface SentMessage {
  messageId: string;
  queue: string;
  body: string;
  receiptHandle: string;
}

export interface SqsEndpoint {
  endpoint: string;
  queueUrl(name: string): string;
  /** Messages sent to a queue and not yet taken; taking removes them. */
  take(queue: string): SentMessage[];
  /** ChangeMessageVisibility calls, in order. */
  visibilityChanges: { queue: string; receiptHandle: string; seconds: number }[];
  /** The next `n` entries sent are refused (partial batch failure), to test the sender's retry. */
  refuseNext(n: number): void;
  close(): Promise<void>;
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

export async function startSqsEndpoint(): Promise<SqsEndpoint> {
  const queues = new Map<string, SentMessage[]>();
  const visibilityChanges: SqsEndpoint['visibilityChanges'] = [];
  const handles = new Map<string, string>();
  let refuse = 0;
  const queueOf = (url: string): string => url.split('/').pop() ?? '';

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(body));
      };
      if (target === 'AmazonSQS.SendMessageBatch') {
        const queue = queueOf(String(input.QueueUrl));
        const list = queues.get(queue) ?? [];
        queues.set(queue, list);
        const successful: unknown[] = [];
        const failed: unknown[] = [];
        for (const entry of input.Entries as { Id: string; MessageBody: string }[]) {
          if (refuse > 0) {
            refuse--;
            failed.push({ Id: entry.Id, SenderFault: false, Code: 'InternalError', Message: 'refused by the test' });
            continue;
          }
          const message = { messageId: randomUUID(), queue, body: entry.MessageBody, receiptHandle: randomUUID() };
          list.push(message);
          handles.set(message.receiptHandle, queue);
          successful.push({ Id: entry.Id, MessageId: message.messageId, MD5OfMessageBody: md5(entry.MessageBody) });
        }
        reply(200, { Successful: successful, Failed: failed });
      } else if (target === 'AmazonSQS.ChangeMessageVisibility') {
        visibilityChanges.push({ queue: queueOf(String(input.QueueUrl)), receiptHandle: String(input.ReceiptHandle), seconds: Number(input.VisibilityTimeout) });
        reply(200, {});
      } else {
        reply(400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `the test endpoint does not implement ${target}` });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    queueUrl: (name) => `${endpoint}/000000000000/${name}`,
    take: (queue) => {
      const list = queues.get(queue) ?? [];
      queues.set(queue, []);
      return list;
    },
    visibilityChanges,
    refuseNext: (n) => {
      refuse = n;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** SQS messages as the Lambda event source delivers them (the shape of an SQS batch event). */
export function sqsEvent(messages: readonly Pick<SentMessage, 'messageId' | 'body' | 'receiptHandle' | 'queue'>[], receiveCount = 1): SQSEvent {
  const now = Date.now();
  return {
    Records: messages.map(
      (m): SQSRecord => ({
        messageId: m.messageId,
        receiptHandle: m.receiptHandle,
        body: m.body,
        attributes: {
          ApproximateReceiveCount: String(receiveCount),
          SentTimestamp: String(now - 1000),
          SenderId: 'AROAEXAMPLE:partner-scoring-api',
          ApproximateFirstReceiveTimestamp: String(now),
        },
        messageAttributes: {},
        md5OfBody: md5(m.body),
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${m.queue}`,
        awsRegion: 'us-east-1',
      }),
    ),
  };
}
