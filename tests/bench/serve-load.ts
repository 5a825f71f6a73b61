/**
 * The load generator of the serving benchmark, in a process of its own so that it does not
 * share the server's event loop: `node --import tsx tests/bench/serve-load.ts` reads one JSON
 * job on stdin ({ url, pathPrefix, pathSuffix, ids, key, connections, seconds }), runs
 * autocannon against it (each request takes the next partner id, round robin), and prints one
 * JSON line with the result.
 */
import { createRequire } from 'node:module';

export interface LoadJob {
  url: string;
  /** Each request's path is pathPrefix + id + pathSuffix. */
  pathPrefix: string;
  pathSuffix: string;
  ids: string[];
  key: string;
  connections: number;
  seconds: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Mean requests per second over the run. */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

interface Histogram {
  average: number;
  mean: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  total: number;
}

interface AutocannonResult {
  requests: Histogram;
  latency: Histogram;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
}

interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
}

type Autocannon = (opts: Record<string, unknown>, done: (error: unknown, result: AutocannonResult) => void) => unknown;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function run(job: LoadJob): Promise<LoadResult> {
  let next = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.seconds,
        headers: { authorization: `Bearer ${job.key}` },
        requests: [
          {
            method: 'GET',
            setupRequest: (req: RawRequest): RawRequest => {
              const id = job.ids[next++ % job.ids.length]!;
              return { ...req, path: `${job.pathPrefix}${encodeURIComponent(id)}${job.pathSuffix}` };
            },
          },
        ],
      },
      (error, r) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const statusCodes: Record<string, number> = {};
        for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = Number(stat.count);
        resolve({
          requests: r.requests.total,
          seconds: r.duration,
          rps: r.requests.total / r.duration,
          p50: r.latency.p50,
          p90: r.latency.p90,
          p99: r.latency.p99,
          max: r.latency.max,
          mean: r.latency.mean,
          errors: r.errors,
          timeouts: r.timeouts,
          non2xx: r.non2xx,
          statusCodes,
        });
      },
    );
  });
}

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const job = JSON.parse(input) as LoadJob;
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(job.url)) throw new Error(`refusing to load anything but 127.0.0.1: ${job.url}`);
  const result = await run(job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`load generator failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
