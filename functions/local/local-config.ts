import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LOG_LEVELS, type LogLevel } from '../logger';

export interface LocalConfig {
  port: number;
  dataDir: string;
  demo: boolean;
  adminApiKey?: string;
  logLevel: LogLevel;
  demoPartners: number;
}

export const LOCAL_BUCKET = 'partner-scoring-local';
export const LOCAL_TABLE_PREFIX = 'partner-scoring';

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  DATA_DIR: z.string().min(1).optional(),
  ADMIN_API_KEY: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  DEMO_PARTNERS: z.coerce.number().int().min(20).max(100_000).default(600),
});

/** `npm start -- --port P --data-dir D --no-demo`, plus the environment, read once and validated. */
export function loadLocalConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, 'no-demo': { type: 'boolean', default: false } },
    strict: true,
  });
  const e = envSchema.parse(env);
  const port = values.port !== undefined ? Number(values.port) : (e.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not ${values.port}`);
  return {
    port,
    dataDir: resolve(values['data-dir'] ?? e.DATA_DIR ?? '.data'),
    demo: !values['no-demo'],
    ...(e.ADMIN_API_KEY ? { adminApiKey: e.ADMIN_API_KEY } : {}),
    logLevel: e.LOG_LEVEL,
    demoPartners: e.DEMO_PARTNERS,
  };
}
