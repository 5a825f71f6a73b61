/**
 * (b) of the serving benchmark: the product app over real HTTP on 127.0.0.1, plus one bare
 * route that exists only in this benchmark server, and autocannon runs against both.
 *
 * The bench server is a Hono app that mounts the unchanged product app (createApp) and adds
 * `GET /bench/raw/:id`: the same per-request context (deps, request id, the request log
 * call), the same `authenticate` middleware (one consistent GetItem on the api-keys table),
 * then one raw GetItem of the partner's score item on the scores table. (The product's body
 * limit does not run for GET requests, so neither route pays it.) So both routes pay the same
 * HTTP, auth and middleware costs and the comparison isolates what the product handler does
 * beyond that (params validation, a Query of the partner's scores, the cached run list,
 * shaping the response).
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { NotFoundError } from '../../data/errors';
import { createApp, requestContext } from '../../functions/app/app';
import { authenticate } from '../../functions/app/auth';
import { onError } from '../../functions/app/problem';
import type { AppEnv } from '../../functions/app/route-spec';
import type { ServiceDeps } from '../../functions/deps';
import type { LoadJob, LoadResult } from './serve-load';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BenchServer {
  url: string;
  /** Resolves once no request is being handled (at most 30 s). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The product app plus `GET /bench/raw/:id` (one GetItem of the score item as of `rawAsOf`). */
export async function startBenchServer(deps: ServiceDeps, rawAsOf: string): Promise<BenchServer> {
  const bench = new Hono<AppEnv>();
  const table = deps.config.tables.scores;
  // Requests still running when a load run ends (autocannon drops its sockets, the handlers go on): close() waits for them.
  let inFlight = 0;
  bench.use('*', async (_c, next) => {
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  });
  bench.get('/bench/raw/:id', requestContext(deps), authenticate, async (c) => {
    const out = await deps.clients.ddb.send(new GetCommand({ TableName: table, Key: { partnerId: c.req.param('id'), scoreKey: rawAsOf } }));
    if (!out.Item) throw new NotFoundError(`No score item for ${c.req.param('id')}.`);
    return c.json(out.Item);
  });
  bench.route('/', createApp(deps));
  bench.onError(onError);

  let server: ReturnType<typeof serve> | undefined;
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: bench.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(info.port));
  });
  const idle = async (): Promise<void> => {
    for (let waited = 0; inFlight > 0 && waited < 30_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  return {
    url: `http://127.0.0.1:${port}`,
    idle,
    close: async () => {
      await new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server?.close(() => resolve());
      });
      await idle();
    },
  };
}

/** Runs autocannon in a child process (tests/bench/serve-load.ts) and returns its result. */
export function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', fileURLToPath(new URL('./serve-load.ts', import.meta.url))], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop();
      if (code !== 0 || !last) return reject(new Error(`load generator exited with ${code}`));
      resolve(JSON.parse(last) as LoadResult);
    });
    child.stdin.end(JSON.stringify(job));
  });
}

/** A route's load result, with the CPU this process (server + stores) used per request meanwhile. */
export type RouteResult = LoadResult & { cpuMsPerRequest: number };

export interface RouteFigures {
  product: RouteResult;
  raw: RouteResult;
  seconds: number;
  connections: number;
  ids: number;
}

/**
 * Both routes under the same load: a short warm-up of each (JIT, LevelDB block cache), then
 * `seconds` of each, product route first.
 */
export async function measureRoutes(server: BenchServer, opts: { key: string; ids: string[]; connections: number; seconds: number; warmupSeconds: number }): Promise<RouteFigures> {
  const base = { url: server.url, ids: opts.ids, key: opts.key, connections: opts.connections };
  const productPath = { pathPrefix: '/v1/partners/', pathSuffix: '/scores' };
  const rawPath = { pathPrefix: '/bench/raw/', pathSuffix: '' };
  const load = async (job: Pick<LoadJob, 'pathPrefix' | 'pathSuffix' | 'seconds'>): Promise<RouteResult> => {
    const cpu = process.cpuUsage();
    const result = await runLoad({ ...base, ...job });
    await server.idle();
    const used = process.cpuUsage(cpu);
    return { ...result, cpuMsPerRequest: (used.user + used.system) / 1000 / Math.max(1, result.requests) };
  };
  if (opts.warmupSeconds > 0) {
    await load({ ...productPath, seconds: opts.warmupSeconds });
    await load({ ...rawPath, seconds: opts.warmupSeconds });
  }
  const product = await load({ ...productPath, seconds: opts.seconds });
  const raw = await load({ ...rawPath, seconds: opts.seconds });
  return { product, raw, seconds: opts.seconds, connections: opts.connections, ids: opts.ids.length };
}
