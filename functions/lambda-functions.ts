import type { TableKey } from '../data/stores/tables';

/**
 * The deployed Lambda functions and exactly what each one touches. Both sides read this one
 * list: the CDK binds (environment variable + IAM grant) what a function declares here and
 * nothing else, and the function's config requires exactly those variables at cold start.
 * tests/integration/lambda-handlers.test.ts records every DynamoDB, S3 and SQS call a handler
 * makes and checks it is declared here.
 */

export const DYNAMO_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DescribeTable',
] as const;
export type DynamoAction = (typeof DYNAMO_ACTIONS)[number];

/** The two SQS queues jobs travel through: training jobs, and scoring runs (their start and their shards). */
export const QUEUE_NAMES = ['train', 'scoring'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
export const queueEnvVar = (queue: QueueName): string => `${queue.toUpperCase()}_QUEUE_URL`;

export interface FunctionResources {
  /** DynamoDB actions on each table (and its indexes) the function uses. */
  tables: Partial<Record<TableKey, readonly DynamoAction[]>>;
  /**
   * The one bucket: key prefixes it reads (GetObject) and writes (PutObject), and whether it
   * lists keys (ListBucket, on the whole bucket: S3 answers a missing key with 404 only to a
   * caller allowed to list; without it, 403, and "no such reject batch" could not be told apart
   * from an outage).
   */
  objects?: { read?: readonly string[]; write?: readonly string[]; list?: boolean };
  /** Queues it sends messages to. */
  sends?: readonly QueueName[];
  /** The queue it drains (its event source). */
  consumes?: QueueName;
}

/** Upserted by id with a conditional PutItem (partners, deals), or written in batches (events: immutable). */
const INGEST_VERSIONED = ['dynamodb:BatchGetItem', 'dynamodb:PutItem'] as const;
const INGEST_EVENTS = ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'] as const;
/** A partner's events or deals: Query on the byPartner index (on AWS scoring shards read this way too; their scan-merge reads run only against dynalite, functions/deps.ts). */
const HISTORY_QUERY = ['dynamodb:Query'] as const;
const JOB_LIFECYCLE = ['dynamodb:GetItem', 'dynamodb:UpdateItem'] as const;

export const LAMBDA_FUNCTIONS = {
  /** The Hono app behind the HTTP API: every route. */
  api: {
    tables: {
      // Ingest; getPartners; cohorts (byCohort); program metrics (Scan).
      partners: [...INGEST_VERSIONED, 'dynamodb:Query', 'dynamodb:Scan'],
      // Ingest; point-in-time features of ad-hoc scores and benchmarks.
      events: [...INGEST_EVENTS, ...HISTORY_QUERY],
      deals: [...INGEST_VERSIONED, ...HISTORY_QUERY, 'dynamodb:Scan'],
      // Partner scores, runs, churn-risk pages (byRun).
      scores: ['dynamodb:Query'],
      // Queue a job (PutItem), read it, fail it when it cannot be sent.
      jobs: ['dynamodb:PutItem', ...JOB_LIFECYCLE],
      // List versions, promote one.
      models: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
      // Authenticate (GetItem), create, revoke, list.
      apiKeys: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan'],
    },
    objects: { read: ['rejects/', 'models/'], write: ['raw/', 'rejects/'], list: true },
    sends: ['train', 'scoring'],
  },
  /** The S3 trigger on incoming/: bulk files. */
  ingest: {
    tables: { partners: INGEST_VERSIONED, events: INGEST_EVENTS, deals: INGEST_VERSIONED },
    objects: { read: ['incoming/'], write: ['raw/', 'rejects/', 'reports/incoming/'] },
  },
  /** Training jobs, one SQS message each. */
  train: {
    tables: {
      partners: ['dynamodb:Scan'],
      events: HISTORY_QUERY,
      deals: HISTORY_QUERY,
      jobs: JOB_LIFECYCLE,
      // The champion to compare with (GetItem, Query), the new version (PutItem), its promotion (UpdateItem).
      models: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    },
    objects: { read: ['models/'], write: ['models/'] },
    consumes: 'train',
  },
  /** Scoring runs: the start message plans the run and fans out one message per shard; each shard scores a parallel-scan segment. */
  scoring: {
    tables: {
      // A shard is a parallel-scan segment of the partners; DescribeTable's item count sizes the shards.
      partners: ['dynamodb:Scan', 'dynamodb:DescribeTable'],
      events: HISTORY_QUERY,
      deals: HISTORY_QUERY,
      // Runs (PutItem, Query, conditional UpdateItem per shard), scores written in batches, the previous run's for `change`.
      scores: ['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      jobs: JOB_LIFECYCLE,
      models: ['dynamodb:GetItem', 'dynamodb:Query'],
    },
    objects: { read: ['models/'] },
    sends: ['scoring'],
    consumes: 'scoring',
  },
  /** The nightly schedule: queues a scoring run (reusing one of the same asOf still unfinished). */
  schedule: {
    tables: { jobs: ['dynamodb:PutItem', 'dynamodb:Scan', ...JOB_LIFECYCLE] },
    sends: ['scoring'],
  },
} as const satisfies Record<string, FunctionResources>;

export type LambdaName = keyof typeof LAMBDA_FUNCTIONS;
export const LAMBDA_NAMES = Object.keys(LAMBDA_FUNCTIONS) as LambdaName[];

/** Lambda's hard limit, the training function's timeout: a job that needs longer fails with that reason. */
export const TRAINING_TIMEOUT_SECONDS = 15 * 60;
/** A scoring message (the run's start, or one shard) must finish within this; shards are sized to take a fraction of it. */
export const SCORING_TIMEOUT_SECONDS = 10 * 60;
/** Deliveries of a message before SQS moves it to the dead-letter queue. */
export const MAX_RECEIVES = 4;
