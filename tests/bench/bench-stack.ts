/**
 * The stack the ingest benchmark runs against: the embedded stores on a temp data dir on disk
 * (dynalite on LevelDB + s3rver, as `npm start` uses them), either in a process of their own
 * (default: a store is a separate service, and this keeps both cores busy) or in this process
 * (exactly the single-process layout of `npm start`). Every measurement gets fresh tables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { createApp } from '../../functions/app/app';
import type { ServiceConfig } from '../../functions/config';
import { createDeps, type ServiceDeps } from '../../functions/deps';
import { createLogger } from '../../functions/logger';
import { startEmbeddedStores, type EmbeddedStores } from '../../functions/local/embedded-stores';
import { LOCAL_BUCKET } from '../../functions/local/local-config';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../data/stores/aws-clients';
import { ensureBucket, ensureTables } from '../../data/stores/provision';
import { tableNamesFromPrefix, type TableNames } from '../../data/stores/tables';

export type StoreMode = 'child' | 'inproc';

/** The repository root: children run from it so that `--import tsx` resolves. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface StoreHandle {
  mode: StoreMode;
  dynamoEndpoint: string;
  s3Endpoint: string;
  /** The process that runs the stores (this one when in-process). */
  pid: number;
  /** CPU seconds (user + system) the store process has used so far, when it is another process. */
  cpuSeconds(): number | undefined;
  /** The same for its main thread alone (JavaScript; not LevelDB's threads). */
  mainThreadCpuSeconds(): number | undefined;
  close(): Promise<void>;
}

const CLK_TCK = 100;

/** CPU seconds of a process, or of its main thread only (where JavaScript runs) with `mainThread`. */
export function procCpuSeconds(pid: number, mainThread = false): number | undefined {
  try {
    const fields = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Starts the embedded stores with their data under `dataDir` (on disk). */
export async function startStore(mode: StoreMode, dataDir: string, bucket = LOCAL_BUCKET): Promise<StoreHandle> {
  if (mode === 'inproc') {
    const stores: EmbeddedStores = await startEmbeddedStores({ dataDir, s3Dir: join(dataDir, 's3'), bucket });
    return { mode, dynamoEndpoint: stores.dynamoEndpoint, s3Endpoint: stores.s3Endpoint, pid: process.pid, cpuSeconds: () => undefined, mainThreadCpuSeconds: () => undefined, close: () => stores.close() };
  }
  const prof = process.env.BENCH_STORE_CPU_PROF;
  const flags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...flags, '--openssl-legacy-provider', '--import', 'tsx', fileURLToPath(new URL('./store-server.ts', import.meta.url)), dataDir, bucket], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`store server exited with ${code}`)));
  });
  const info = JSON.parse(first) as { pid: number; dynamoEndpoint: string; s3Endpoint: string };
  return {
    mode,
    dynamoEndpoint: info.dynamoEndpoint,
    s3Endpoint: info.s3Endpoint,
    pid: info.pid,
    cpuSeconds: () => procCpuSeconds(info.pid),
    mainThreadCpuSeconds: () => procCpuSeconds(info.pid, true),
    close: async () => {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface BenchClients {
  clients: AwsClients;
  close(): void;
}

export function benchClients(store: StoreHandle): BenchClients {
  const clients = createAwsClients({ region: 'us-east-1', dynamoEndpoint: store.dynamoEndpoint, s3Endpoint: store.s3Endpoint });
  return { clients, close: () => destroyAwsClients(clients) };
}

/** Fresh tables under `prefix` (and the bucket), and service deps over them. */
export async function provision(store: StoreHandle, clients: AwsClients, prefix: string, bucket = LOCAL_BUCKET): Promise<{ deps: ServiceDeps; tables: TableNames }> {
  const tables = tableNamesFromPrefix(prefix);
  await ensureTables(clients.dynamo, tables);
  await ensureBucket(clients.s3, bucket);
  const config: ServiceConfig = { region: 'us-east-1', bucket, tables, dynamoEndpoint: store.dynamoEndpoint, s3Endpoint: store.s3Endpoint, logLevel: 'warn' };
  const deps = createDeps(config, { clients, logger: createLogger('warn') });
  return { deps, tables };
}

export interface AppServer {
  url: string;
  close(): Promise<void>;
}

/** The real Hono app over real HTTP on a loopback port. */
export async function serveApp(deps: ServiceDeps): Promise<AppServer> {
  const app = createApp(deps);
  let server: ReturnType<typeof serve> | undefined;
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(info.port));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server?.close(() => resolve());
      }),
  };
}
