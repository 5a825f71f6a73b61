import { z } from 'zod';
import { TABLE_KEYS, tableEnvVar, tableNamesFromPrefix, type TableNames } from '../data/stores/tables';
import { LOG_LEVELS, type LogLevel } from './logger';

export interface ServiceConfig {
  region: string;
  bucket: string;
  tables: TableNames;
  dynamoEndpoint?: string;
  s3Endpoint?: string;
  logLevel: LogLevel;
  adminApiKey?: string;
}

const envSchema = z.object({
  AWS_REGION: z.string().min(1).default('us-east-1'),
  BUCKET_NAME: z.string().min(3, 'BUCKET_NAME must name the S3 bucket'),
  TABLE_PREFIX: z.string().min(1).optional(),
  DYNAMODB_ENDPOINT: z.url().optional(),
  S3_ENDPOINT: z.url().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  ADMIN_API_KEY: z.string().min(1).optional(),
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
  };
}
