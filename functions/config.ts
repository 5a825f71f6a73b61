import { z } from 'zod';
import { TABLE_KEYS, tableEnvVar, tableNamesFromPrefix, type TableKey, type TableNames } from '../data/stores/tables';
import { DEFAULT_BANDS, parseBands, type BandThresholds } from '../models/risk-bands';
import type { Bands } from '../models/scoring';
import { QUEUE_NAMES, queueEnvVar, type QueueName } from './lambda-functions';
import { LOG_LEVELS, type LogLevel } from './logger';

export interface ServiceConfig {
  region: string;
  bucket: string;
  tables: TableNames;
  dynamoEndpoint?: string;
  s3Endpoint?: string;
  logLevel: LogLevel;
  adminApiKey?: string;
  /** Peer benchmarks: the fewest peers a cohort (and each metric) needs (BENCHMARK_K; default 5, never below 3). */
  benchmarkK?: number;
  /** Risk-band thresholds on calibrated probability (RISK_BANDS, TOP_PERFORMER_BANDS: "medium,high"). */
  bands?: Bands;
  /** On AWS: the SQS queues jobs are sent to (TRAIN_QUEUE_URL, SCORING_QUEUE_URL). */
  queues?: Partial<Record<QueueName, string>>;
  /** SQS endpoint override (tests). */
  sqsEndpoint?: string;
  /** How a scoring run on AWS is split into shards (SCORING_PARTNERS_PER_SHARD, SCORING_MAX_SHARDS, SCORING_SHARDS). */
  scoring?: ScoringShardConfig;
}

export interface ScoringShardConfig {
  /** Target partners a shard: a run gets ceil(partners / this) shards. */
  partnersPerShard: number;
  maxShards: number;
  /** A fixed shard count, overriding the sizing (tests, experiments). */
  shards?: number;
}

/** RISK_BANDS="0.1,0.25" and TOP_PERFORMER_BANDS="0.3,0.6" (the defaults); throws ConfigError when invalid. */
export function bandsFromEnv(env: NodeJS.ProcessEnv = process.env): Bands {
  const read = (name: string, fallback: BandThresholds): BandThresholds => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const bands = parseBands(text);
    if (!bands) throw new ConfigError(`Invalid configuration: ${name} must be two increasing probabilities "medium,high", e.g. 0.1,0.25`);
    return bands;
  };
  return { churn: read('RISK_BANDS', DEFAULT_BANDS.churn), topPerformer: read('TOP_PERFORMER_BANDS', DEFAULT_BANDS.topPerformer) };
}

export const BENCHMARK_K_DEFAULT = 5;
export const BENCHMARK_K_MIN = 3;
const benchmarkKSchema = z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(BENCHMARK_K_MIN).max(1000).default(BENCHMARK_K_DEFAULT));

/** BENCHMARK_K from an environment (the local stack reads it the same way); throws ConfigError when invalid. */
export function benchmarkKFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const parsed = benchmarkKSchema.safeParse(env.BENCHMARK_K);
  if (!parsed.success) throw new ConfigError(`Invalid configuration: BENCHMARK_K: must be an integer from ${BENCHMARK_K_MIN} to 1000`);
  return parsed.data;
}

const envSchema = z.object({
  AWS_REGION: z.string().min(1).default('us-east-1'),
  BUCKET_NAME: z.string().min(3, 'BUCKET_NAME must name the S3 bucket'),
  TABLE_PREFIX: z.string().min(1).optional(),
  DYNAMODB_ENDPOINT: z.url().optional(),
  S3_ENDPOINT: z.url().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  ADMIN_API_KEY: z.string().min(1).optional(),
  BENCHMARK_K: benchmarkKSchema,
  SQS_ENDPOINT: z.url().optional(),
  SCORING_PARTNERS_PER_SHARD: z.coerce.number().int().min(1).max(1_000_000).default(2_000),
  SCORING_MAX_SHARDS: z.coerce.number().int().min(1).max(10_000).default(1_000),
  SCORING_SHARDS: z.coerce.number().int().min(1).max(10_000).optional(),
  ...Object.fromEntries(QUEUE_NAMES.map((q) => [queueEnvVar(q), z.url().optional()])),
  ...Object.fromEntries(TABLE_KEYS.map((k) => [tableEnvVar(k), z.string().min(3).optional()])),
});

export class ConfigError extends Error {}

/** What one deployable needs from its environment; the Lambda functions bind exactly these (functions/lambda-functions.ts). */
export interface ConfigNeeds {
  tables: readonly TableKey[];
  bucket: boolean;
  queues: readonly QueueName[];
}

/**
 * A table this function is not bound to: its name makes any call fail with an error naming the
 * variable (IAM refuses it before DynamoDB would look it up).
 */
export const unboundTableName = (key: TableKey): string => `unbound.${tableEnvVar(key)}`;

/**
 * Reads the environment once and fails fast, naming every variable that is missing or wrong.
 * Table names come from TABLE_<NAME> variables (set by the CDK bindings) or TABLE_PREFIX.
 * Without `needs`, every table and the bucket are required (the CLI and other whole-service
 * processes); a Lambda function passes what it is bound to, and only that is required.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, needs?: ConfigNeeds): ServiceConfig {
  const schema = needs && !needs.bucket ? envSchema.extend({ BUCKET_NAME: z.string().min(3).optional() }) : envSchema;
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data as z.infer<typeof envSchema> & Record<string, string | undefined>;
  const fromPrefix = e.TABLE_PREFIX ? tableNamesFromPrefix(e.TABLE_PREFIX) : undefined;
  const required = new Set<TableKey>(needs ? needs.tables : TABLE_KEYS);
  const missing: string[] = [];
  const tables = Object.fromEntries(
    TABLE_KEYS.map((k) => {
      const name = e[tableEnvVar(k)] ?? fromPrefix?.[k];
      if (!name && required.has(k)) missing.push(tableEnvVar(k));
      return [k, name ?? unboundTableName(k)];
    }),
  ) as TableNames;
  for (const queue of needs?.queues ?? []) if (!e[queueEnvVar(queue)]) missing.push(queueEnvVar(queue));
  if (missing.length > 0) throw new ConfigError(`Invalid configuration: set ${needs ? '' : 'TABLE_PREFIX or '}${missing.join(', ')}`);
  const queues = Object.fromEntries(QUEUE_NAMES.flatMap((q) => (e[queueEnvVar(q)] ? [[q, e[queueEnvVar(q)]]] : []))) as Partial<Record<QueueName, string>>;
  return {
    region: e.AWS_REGION,
    bucket: e.BUCKET_NAME ?? 'unbound.BUCKET_NAME',
    tables,
    ...(e.DYNAMODB_ENDPOINT ? { dynamoEndpoint: e.DYNAMODB_ENDPOINT } : {}),
    ...(e.S3_ENDPOINT ? { s3Endpoint: e.S3_ENDPOINT } : {}),
    logLevel: e.LOG_LEVEL,
    ...(e.ADMIN_API_KEY ? { adminApiKey: e.ADMIN_API_KEY } : {}),
    benchmarkK: e.BENCHMARK_K,
    bands: bandsFromEnv(env),
    ...(Object.keys(queues).length > 0 ? { queues } : {}),
    ...(e.SQS_ENDPOINT ? { sqsEndpoint: e.SQS_ENDPOINT } : {}),
    scoring: { partnersPerShard: e.SCORING_PARTNERS_PER_SHARD, maxShards: e.SCORING_MAX_SHARDS, ...(e.SCORING_SHARDS ? { shards: e.SCORING_SHARDS } : {}) },
  };
}
