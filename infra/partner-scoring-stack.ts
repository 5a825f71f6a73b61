import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { EventType } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { LAMBDA_FUNCTIONS, LAMBDA_NAMES, SCORING_TIMEOUT_SECONDS, TRAINING_TIMEOUT_SECONDS, type LambdaName } from '../functions/lambda-functions';
import { ServiceApi } from './http-api';
import { JobQueues } from './job-queues';
import { Monitoring } from './monitoring';
import { acknowledgeFunctionFindings, acknowledgeCdkInternals } from './nag-acknowledgements';
import { ServiceFunction, type ServiceFunctionProps } from './service-function';
import { Storage } from './storage';

export interface PartnerScoringStackProps extends StackProps {
  /** Deletion protection on the tables; tables and buckets retained when the stack is deleted. */
  deletionProtection: boolean;
  /** Tables are `<tablePrefix>-<table>`; default: the stack name. */
  tablePrefix?: string;
  /** Stage-wide API throttling. */
  apiThrottle?: { rateLimit: number; burstLimit: number };
  /**
   * Scoring shards processed at once (the SQS event source's maximum concurrency). Default 30: a
   * run's index writes are spread over 16 keys (16,000 WRU/s), so the lowest ceiling is the events
   * table's 40,000 RRU/s read quota, ~6,150 partners/s at 200 partners/s a worker (docs/scaling.md).
   */
  scoringConcurrency?: number;
  /** Target partners a scoring shard. */
  partnersPerShard?: number;
  /** When the nightly scoring run starts: an EventBridge cron expression, UTC. */
  nightlyScoring?: string;
  /** An address subscribed to the alarm topic. */
  alarmEmail?: string;
}

/** Default scoring shards at once: 30 workers × 200 partners/s = 6,000 partners/s, under the events table's read quota (docs/scaling.md). */
export const SCORING_CONCURRENCY = 30;

/** Memory, timeout and bundle of each function; what each may touch is functions/lambda-functions.ts. */
const FUNCTION_SETTINGS: Record<LambdaName, Omit<ServiceFunctionProps, 'name'>> = {
  api: { entry: 'functions/api-handler.ts', description: 'HTTP API: the Hono app', memorySize: 1024, timeout: Duration.seconds(29) },
  ingest: { entry: 'functions/s3-ingest-handler.ts', description: 'Bulk files put under incoming/', memorySize: 1024, timeout: Duration.minutes(15) },
  // TensorFlow.js (wasm backend, one thread): 3 GB leaves room for ~6× the benchmark's training set (483 MB peak for 3,000 partners).
  train: { entry: 'functions/train-handler.ts', description: 'Training jobs (TensorFlow.js)', memorySize: 3008, timeout: Duration.seconds(TRAINING_TIMEOUT_SECONDS), tensorflow: true },
  // 1,769 MB is one full vCPU: scoring a shard is single-threaded JavaScript.
  scoring: { entry: 'functions/scoring-handler.ts', description: 'Scoring runs: plan and fan out, then one shard a message', memorySize: 1769, timeout: Duration.seconds(SCORING_TIMEOUT_SECONDS) },
  schedule: { entry: 'functions/schedule-handler.ts', description: 'Nightly scoring run', memorySize: 256, timeout: Duration.seconds(30) },
};

function failureQueue(scope: Construct, id: string): Queue {
  return new Queue(scope, id, { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
}

/**
 * The whole service: storage, the five functions each bound to exactly what it uses, the HTTP
 * API, the job queues with their dead-letter queues, the S3 trigger, the nightly schedule and
 * the alarms.
 */
export class PartnerScoringStack extends Stack {
  readonly storage: Storage;
  readonly queues: JobQueues;
  readonly functions: Record<LambdaName, ServiceFunction>;
  readonly api: ServiceApi;
  readonly monitoring: Monitoring;
  readonly nightly: Rule;
  readonly ingestFailures: Queue;
  readonly scheduleFailures: Queue;

  constructor(scope: Construct, id: string, props: PartnerScoringStackProps) {
    super(scope, id, props);
    // S3 server access logs are delivered by bucket policy, not the legacy LogDeliveryWrite ACL (ACLs stay disabled).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const tablePrefix = props.tablePrefix ?? this.stackName;
    this.storage = new Storage(this, 'Storage', { tablePrefix, deletionProtection: props.deletionProtection });
    this.queues = new JobQueues(this, 'JobQueues', {
      visibilityTimeouts: {
        // Twice the training timeout: a training that died is marked failed within half an hour, not after AWS's usual 6×.
        train: Duration.seconds(TRAINING_TIMEOUT_SECONDS * 2),
        // Six times the worker's timeout (AWS's advice for Lambda consumers): a message is not received again while the event source retries a throttled invocation.
        scoring: Duration.seconds(SCORING_TIMEOUT_SECONDS * 6),
      },
    });
    this.monitoring = new Monitoring(this, 'Monitoring', { ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}) });

    const scoringEnv = { SCORING_PARTNERS_PER_SHARD: String(props.partnersPerShard ?? 2_000) };
    this.functions = Object.fromEntries(
      LAMBDA_NAMES.map((name) => {
        const spec = LAMBDA_FUNCTIONS[name];
        const fn = new ServiceFunction(this, `${name}Function`, { name, ...FUNCTION_SETTINGS[name], ...(name === 'scoring' ? { environment: scoringEnv } : {}) });
        this.storage.bind(fn.fn, spec);
        const sends: readonly string[] = 'sends' in spec ? spec.sends : [];
        for (const queue of 'sends' in spec ? spec.sends : []) this.queues.bindSender(fn.fn, queue);
        if ('consumes' in spec) {
          const maxConcurrency = spec.consumes === 'scoring' ? (props.scoringConcurrency ?? SCORING_CONCURRENCY) : 2;
          this.queues.bindConsumer(fn.fn, spec.consumes, { maxConcurrency, alsoSends: sends.includes(spec.consumes) });
        }
        this.monitoring.watchFunction(name, fn.fn);
        return [name, fn];
      }),
    ) as Record<LambdaName, ServiceFunction>;

    // Bulk files: ObjectCreated under incoming/ invokes the ingest function (asynchronously: two retries, then the failure queue).
    this.ingestFailures = failureQueue(this, 'IngestFailures');
    this.functions.ingest.fn.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.ingestFailures) });
    this.storage.bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(this.functions.ingest.fn), { prefix: 'incoming/' });

    // The nightly scoring run.
    this.scheduleFailures = failureQueue(this, 'ScheduleFailures');
    this.functions.schedule.fn.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.scheduleFailures) });
    this.nightly = new Rule(this, 'NightlyScoring', {
      description: 'Starts the nightly scoring run',
      schedule: Schedule.expression(props.nightlyScoring ?? 'cron(0 2 * * ? *)'),
      targets: [new LambdaTarget(this.functions.schedule.fn, { retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: this.scheduleFailures })],
    });

    this.api = new ServiceApi(this, 'Api', { handler: this.functions.api.fn, throttle: props.apiThrottle ?? { rateLimit: 50, burstLimit: 100 } });
    this.monitoring.watchApi(this.api.api);
    this.monitoring.watchDeadLetters('train', this.queues.deadLetters.train, 'A training job message that failed 4 times');
    this.monitoring.watchDeadLetters('scoring', this.queues.deadLetters.scoring, 'A scoring shard (or run start) that failed 4 times');
    this.monitoring.watchDeadLetters('ingest', this.ingestFailures, 'An incoming file whose ingest failed 3 times');
    this.monitoring.watchDeadLetters('schedule', this.scheduleFailures, 'A nightly scoring trigger that failed 3 times');

    acknowledgeFunctionFindings(this, this.storage, this.functions);
    acknowledgeCdkInternals(this, [this.ingestFailures, this.scheduleFailures]);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'BucketName', { value: this.storage.bucket.bucketName, description: 'BUCKET_NAME: raw archive, rejects, incoming/ files, model artifacts' });
    new CfnOutput(this, 'AccessLogsBucketName', { value: this.storage.accessLogs.bucketName, description: 'Server access logs of the data bucket' });
    new CfnOutput(this, 'TablePrefix', { value: tablePrefix, description: 'TABLE_PREFIX: the tables are <prefix>-<table>' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'Subscribe to get the alarms' });
    new CfnOutput(this, 'ScoringDeadLetterQueueUrl', { value: this.queues.deadLetters.scoring.queueUrl });
  }
}
