import { existsSync, readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createAwsClients, destroyAwsClients } from '../../data/stores/aws-clients';
import { ensureBucket, ensureTables } from '../../data/stores/provision';
import { tableNamesFromPrefix } from '../../data/stores/tables';
import { bandsFromEnv, benchmarkKFromEnv, type ServiceConfig } from '../config';
import { createDeps, type ServiceDeps } from '../deps';
import { createLogger, type LogLevel } from '../logger';
import { workerJobRunner } from '../jobs/worker-runner';
import { handleS3Event } from '../s3-ingest';
import { startEmbeddedStores, type EmbeddedStores } from './embedded-stores';
import { LOCAL_BUCKET, LOCAL_TABLE_PREFIX } from './local-config';

/** Written while a local stack runs, so the CLI can use its stores instead of opening the locked files. */
export interface StackFile {
  pid: number;
  dynamoEndpoint: string;
  s3Endpoint: string;
  url?: string;
}

export const stackFilePath = (dataDir: string): string => join(dataDir, 'stack.json');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running local stack's endpoints, if one is running on this data dir. */
export function runningStack(dataDir: string): StackFile | undefined {
  const path = stackFilePath(dataDir);
  if (!existsSync(path)) return undefined;
  try {
    const stack = JSON.parse(readFileSync(path, 'utf8')) as StackFile;
    return stack.pid !== process.pid && isAlive(stack.pid) ? stack : undefined;
  } catch {
    return undefined;
  }
}

export interface LocalStores {
  deps: ServiceDeps;
  /** Set when this process started the embedded stores (not when it borrowed a running stack's). */
  embedded?: EmbeddedStores;
  close(): Promise<void>;
}

export function localServiceConfig(endpoints: { dynamoEndpoint: string; s3Endpoint: string }, logLevel: LogLevel, adminApiKey?: string): ServiceConfig {
  return {
    region: 'us-east-1',
    bucket: LOCAL_BUCKET,
    tables: tableNamesFromPrefix(LOCAL_TABLE_PREFIX),
    dynamoEndpoint: endpoints.dynamoEndpoint,
    s3Endpoint: endpoints.s3Endpoint,
    logLevel,
    ...(adminApiKey ? { adminApiKey } : {}),
    benchmarkK: benchmarkKFromEnv(),
    bands: bandsFromEnv(),
  };
}

/**
 * The stores of a data dir: those of the stack already running on it, or embedded ones
 * started here (data on disk under dataDir). Tables and bucket are created if missing.
 */
export async function openLocalStores(
  dataDir: string,
  options: { logLevel: LogLevel; adminApiKey?: string; reuseRunning?: boolean; /** Run jobs in a worker thread (the server) rather than in this process. */ jobWorker?: boolean },
): Promise<LocalStores> {
  mkdirSync(dataDir, { recursive: true });
  const running = options.reuseRunning === false ? undefined : runningStack(dataDir);
  const embedded = running ? undefined : await startEmbeddedStores({ dataDir, s3Dir: join(dataDir, 's3'), bucket: LOCAL_BUCKET });
  const endpoints = running ?? (embedded as EmbeddedStores);
  const config = localServiceConfig(endpoints, options.logLevel, options.adminApiKey);
  const clients = createAwsClients({ region: config.region, dynamoEndpoint: endpoints.dynamoEndpoint, s3Endpoint: endpoints.s3Endpoint });
  await ensureTables(clients.dynamo, config.tables);
  await ensureBucket(clients.s3, config.bucket);
  const worker = options.jobWorker ? workerJobRunner(config, createLogger(options.logLevel, { component: 'job-worker' })) : undefined;
  const deps = createDeps(config, { clients, ...(worker ? { jobRunner: worker } : {}) });
  if (embedded) {
    // s3rver has no bucket notifications; its 'event' drives the same handler as the S3 trigger on AWS.
    // s3rver puts keys into its events raw; S3 URL-encodes them ('+' for a space), which is what handleS3Event decodes.
    const s3EventKey = (key: string): string => encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
    embedded.onObjectEvent((event) => {
      const encoded = { Records: event.Records.map((r) => ({ ...r, s3: { ...r.s3, object: { ...r.s3.object, key: s3EventKey(r.s3.object.key) } } })) };
      handleS3Event(deps, encoded).catch((error: unknown) => deps.logger.error('incoming file failed; put it again to retry', { error }));
    });
  }
  return {
    deps,
    ...(embedded ? { embedded } : {}),
    close: async () => {
      await worker?.close();
      destroyAwsClients(clients);
      await embedded?.close();
    },
  };
}

export function writeStackFile(dataDir: string, stack: StackFile): void {
  writeFileSync(stackFilePath(dataDir), JSON.stringify(stack, null, 2));
}

export function removeStackFile(dataDir: string): void {
  rmSync(stackFilePath(dataDir), { force: true });
}
