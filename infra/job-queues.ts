import { Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_RECEIVES, QUEUE_NAMES, queueEnvVar, type QueueName } from '../functions/lambda-functions';

export interface JobQueuesProps {
  /**
   * How long a received message stays invisible: at least its consumer's timeout, so a message is
   * never delivered twice while an invocation still runs it. A message whose invocation died
   * (timeout, out of memory) comes back after it, and its job is then marked failed.
   */
  visibilityTimeouts: Record<QueueName, Duration>;
}

/**
 * The queues jobs travel through (training jobs; scoring starts and shards), each with a
 * dead-letter queue that receives a message after MAX_RECEIVES failed deliveries. Bind helpers:
 * `bindSender` sets <QUEUE>_QUEUE_URL and grants SendMessage; `bindConsumer` sets the URL (the
 * worker makes a failed message visible again after a backoff) and attaches the queue to its
 * worker, which grants receiving, deleting and ChangeMessageVisibility.
 */
export class JobQueues extends Construct {
  readonly queues: Record<QueueName, Queue>;
  readonly deadLetters: Record<QueueName, Queue>;

  constructor(scope: Construct, id: string, props: JobQueuesProps) {
    super(scope, id);
    const queues = {} as Record<QueueName, Queue>;
    const deadLetters = {} as Record<QueueName, Queue>;
    for (const name of QUEUE_NAMES) {
      const dlq = new Queue(this, `${name}DeadLetterQueue`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      queues[name] = new Queue(this, `${name}Queue`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: props.visibilityTimeouts[name],
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: dlq, maxReceiveCount: MAX_RECEIVES },
      });
      deadLetters[name] = dlq;
    }
    this.queues = queues;
    this.deadLetters = deadLetters;
  }

  bindSender(fn: LambdaFunction, name: QueueName): void {
    fn.addEnvironment(queueEnvVar(name), this.queues[name].queueUrl);
    fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queues[name].queueArn] }));
  }

  /**
   * One message an invocation (a training job, a scoring start or shard takes minutes, so
   * batching would only delay the others); failures are reported per message; maxConcurrency
   * caps how many run at once (for scoring: the DynamoDB write rate, docs/scaling.md).
   */
  bindConsumer(fn: LambdaFunction, name: QueueName, options: { maxConcurrency: number; alsoSends: boolean }): void {
    if (!options.alsoSends) fn.addEnvironment(queueEnvVar(name), this.queues[name].queueUrl);
    fn.addEventSource(new SqsEventSource(this.queues[name], { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: options.maxConcurrency }));
  }
}
