import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { createApp } from '../../functions/app/app';
import type { AppEnv } from '../../functions/app/route-spec';
import type { ServiceConfig } from '../../functions/config';
import { createDeps, type ServiceDeps } from '../../functions/deps';
import { inProcessJobRunner } from '../../functions/jobs/in-process-runner';
import { createLogger, type Logger } from '../../functions/logger';
import { startEmbeddedStores, type EmbeddedStores } from '../../functions/local/embedded-stores';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../data/stores/aws-clients';
import { ensureBucket, ensureTables } from '../../data/stores/provision';
import { tableNamesFromPrefix } from '../../data/stores/tables';
import type { Role } from '../../data/schemas/api-key';

export interface TestStack {
  deps: ServiceDeps;
  app: Hono<AppEnv>;
  clients: AwsClients;
  embedded: EmbeddedStores;
  config: ServiceConfig;
  /** Lines the service logged (JSON), for tests that inspect logs. */
  logLines: string[];
  adminKey: string;
  keyFor(role: Role, partnerId?: string): Promise<string>;
  request(method: string, path: string, options?: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The real embedded stores (in-memory dynalite, s3rver on a temp dir), tables and bucket
 * created, and the real app over them. `overrides` swap in wrapped stores for fault tests.
 */
export async function startTestStack(overrides: (deps: ServiceDeps) => Partial<ServiceDeps> = () => ({})): Promise<TestStack> {
  const s3Dir = mkdtempSync(join(tmpdir(), 'ps-s3-'));
  const bucket = 'test-bucket';
  const embedded = await startEmbeddedStores({ s3Dir, bucket });
  const config: ServiceConfig = {
    region: 'us-east-1',
    bucket,
    tables: tableNamesFromPrefix('test'),
    dynamoEndpoint: embedded.dynamoEndpoint,
    s3Endpoint: embedded.s3Endpoint,
    logLevel: 'info',
  };
  const clients = createAwsClients({ region: config.region, dynamoEndpoint: embedded.dynamoEndpoint, s3Endpoint: embedded.s3Endpoint, maxAttempts: 2 });
  await ensureTables(clients.dynamo, config.tables);
  await ensureBucket(clients.s3, bucket);
  const logLines: string[] = [];
  const logger: Logger = createLogger('debug', {}, (line) => logLines.push(line));
  const base = createDeps(config, { clients, logger });
  const overridden = overrides(base);
  const deps: ServiceDeps = { ...base, ...overridden };
  // Jobs must run against the overridden stores too (the default runner closes over the base deps).
  if (!overridden.jobRunner) deps.jobRunner = inProcessJobRunner(() => deps);
  const app = createApp(deps);
  const admin = await deps.apiKeys.create({ name: 'test admin', role: 'admin' });

  const request: TestStack['request'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    return app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  };

  return {
    deps,
    app,
    clients,
    embedded,
    config,
    logLines,
    adminKey: admin.key,
    keyFor: async (role, partnerId) => (await deps.apiKeys.create({ name: `test ${role}`, role, ...(partnerId ? { partnerId } : {}) })).key,
    request,
    close: async () => {
      destroyAwsClients(clients);
      await embedded.close();
      rmSync(s3Dir, { recursive: true, force: true });
    },
  };
}
