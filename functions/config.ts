import { z } from 'zod';
import { TABLE_KEYS, tableEnvVar, tableNamesFromPrefix, type TableNames } from '../data/stores/tables';
import { DEFAULT_BANDS, parseBands, type BandThresholds } from '../models/risk-bands';
import type { Bands } from '../models/scoring';
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
  ...Object.fromEntries(TABLE_KEYS.map((k) => [tableEnvVar(k), z.string().min(3).optional()])),
});

export class ConfigError extends Error {}

/**
 * Reads the environment once and fails fast, naming every variable that is missing or wrong.
 * Table names come from TABLE_<NAME> variables (set by the CDK bindings) or TABLE_PREFIX.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data as z.infer<typeof envSchema> & Record<string, string | undefined>;
  const fromPrefix = e.TABLE_PREFIX ? tableNamesFromPrefix(e.TABLE_PREFIX) : undefined;
  const missing: string[] = [];
  const tables = Object.fromEntries(
    TABLE_KEYS.map((k) => {
      const name = e[tableEnvVar(k)] ?? fromPrefix?.[k];
      if (!name) missing.push(tableEnvVar(k));
      return [k, name ?? ''];
    }),
  ) as TableNames;
  if (missing.length > 0) throw new ConfigError(`Invalid configuration: set TABLE_PREFIX or ${missing.join(', ')}`);
  return {
    region: e.AWS_REGION,
    bucket: e.BUCKET_NAME,
    tables,
    ...(e.DYNAMODB_ENDPOINT ? { dynamoEndpoint: e.DYNAMODB_ENDPOINT } : {}),
    ...(e.S3_ENDPOINT ? { s3Endpoint: e.S3_ENDPOINT } : {}),
    logLevel: e.LOG_LEVEL,
    ...(e.ADMIN_API_KEY ? { adminApiKey: e.ADMIN_API_KEY } : {}),
    benchmarkK: e.BENCHMARK_K,
    bands: bandsFromEnv(env),
  };
}
