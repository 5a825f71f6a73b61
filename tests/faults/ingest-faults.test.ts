import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../data/errors';
import { mulberry32 } from '../../data/generator/random';
import { DynamoRecordStore } from '../../data/stores/dynamo-record-store';
import { RECORD_ID_FIELD, RECORD_KINDS, type RecordKindName } from '../../data/stores/record-store';
import { ingestFile } from '../../functions/cli/ingest-file';
import { runCli } from '../../functions/cli/main';
import type { Champions } from '../../models/scoring';
import { S3_SLOW_DOWN } from './fault-proxy';
import { faultInput, startFaultStack, trainChampions, type FaultStack, type Service, type State } from './fault-stack';
import { faultyDocumentClient } from './faulty-dynamo';

/*
 * Ingest when the stores fail (DEVELOPERS.md: "faults end in a clean error and a state a retry
 * completes exactly"): DynamoDB goes away in the middle of HTTP batches and of a CLI file
 * ingest (a real child process), S3 refuses the archive writes, and a fault-injecting wrapper
 * around the real DynamoDB client leaves items unprocessed, throttles, or applies a write and
 * loses the reply. Every failed request is a clean 503 problem+json (never a 200 for records
 * not stored); retrying the same input ends in exactly the state of a clean run of it: the same
 * rows, the same raw archive and rejects, the same features and the same scores.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
type Json = Record<string, unknown>;
interface IngestResult {
  accepted: number;
  unchanged: number;
  rejected: { index: number }[];
}

const input = faultInput();

/** DynamoDB requests one batch of this kind makes at most (auth, version reads, writes): where an outage can land. */
const requestsPerBatch = (kind: RecordKindName, size: number): number => 1 + Math.ceil(size / 100) + (kind === 'events' ? Math.ceil(size / 25) : size);

describe('ingest under store faults', () => {
  let stack: FaultStack;
  let champions: Champions;
  let clean: State;
  let dir: string;
  const services: Service[] = [];

  const service = async (...args: Parameters<FaultStack['service']>): Promise<Service> => {
    const svc = await stack.service(...args);
    services.push(svc);
    return svc;
  };

  beforeAll(async () => {
    stack = await startFaultStack();
    dir = mkdtempSync(join(tmpdir(), 'ingest-faults-'));
    champions = await trainChampions(await service('models'));
    const reference = await service('clean');
    for (const batch of input) expect((await reference.post(batch.kind, batch.records)).status).toBe(200);
    clean = await stack.snapshot(reference, champions);
    // The comparison means something: records of every kind, rejects, features and scores.
    for (const kind of RECORD_KINDS) expect(clean.counts[kind]).toBeGreaterThan(20);
    expect(clean.rejects.length).toBeGreaterThanOrEqual(5);
    expect(clean.scores.length).toBeGreaterThan(10);
  }, 180_000);

  afterAll(async () => {
    // No fault may surface as anything but a clean ServiceError (an "unhandled error" is a generic 500).
    for (const svc of services) expect(svc.logLines.filter((l) => l.includes('unhandled error')), svc.name).toEqual([]);
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A failed attempt must be a clean, retryable 503 problem+json that leaks nothing of the fault. */
  /** A service whose record store talks through a seeded fault-injecting client (UnprocessedItems/Keys, throttling, lost replies). */
  async function throttledService(name: string, seed: number): Promise<{ svc: Service; plan: ReturnType<typeof faultyDocumentClient>['plan'] }> {
    let plan: ReturnType<typeof faultyDocumentClient>['plan'] | undefined;
    const svc = await service(name, {
      records: (config, clients) => {
        const faulty = faultyDocumentClient(clients.ddb, seed, 0.3);
        plan = faulty.plan;
        return new DynamoRecordStore(faulty.client, config.tables, { maxUnprocessedAttempts: 12 });
      },
    });
    if (!plan) throw new Error('the service did not build its record store');
    return { svc, plan };
  }

  async function expectClean503(res: Response): Promise<void> {
    const text = await res.text();
    expect(res.status, text).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('retry-after')).toBe('1');
    const problem = JSON.parse(text) as { type: string; title: string; status: number; detail: string };
    expect(problem).toMatchObject({ status: 503, title: 'Service unavailable', type: expect.stringContaining('service-unavailable') });
    expect(problem.detail).toMatch(/Retry the same request/);
    expect(text).not.toMatch(/ECONNRESET|socket|SlowDown|Throughput|Throttl|\bat \S+\.[jt]s:\d+/);
  }

  /** A 200 must mean every record it did not reject is stored. */
  async function expectStored(svc: Service, kind: RecordKindName, records: readonly Json[], res: Response): Promise<void> {
    const result = (await res.json()) as IngestResult;
    expect(result.accepted + result.unchanged + result.rejected.length).toBe(records.length);
    const rejected = new Set(result.rejected.map((r) => r.index));
    const ids = records.flatMap((r, i) => (rejected.has(i) ? [] : [String(r[RECORD_ID_FIELD[kind]])]));
    const stored = await svc.storedIds(kind, ids);
    for (const id of ids) expect(stored.has(id), `${kind} ${id} answered 200 but not stored`).toBe(true);
  }

  /**
   * Sends a batch with a fault armed, expects a clean 503 (or a 200 that holds, if the fault came
   * after the last store call), clears the fault and sends the same batch again until it is taken.
   */
  async function ingestThroughFault(svc: Service, kind: RecordKindName, records: readonly Json[], arm: () => void, clear: () => void): Promise<number> {
    let failures = 0;
    for (let attempt = 0; ; attempt++) {
      expect(attempt, 'a retry after the fault is cleared must succeed').toBeLessThan(6);
      if (attempt === 0) arm();
      const res = await svc.post(kind, records);
      if (res.status === 200) {
        await expectStored(svc, kind, records, res);
        clear();
        return failures;
      }
      await expectClean503(res);
      failures++;
      clear();
    }
  }

  const writeNdjson = (kind: RecordKindName): string => {
    const file = join(dir, `${kind}.ndjson`);
    writeFileSync(file, `${input.filter((b) => b.kind === kind).flatMap((b) => b.records.map((r) => JSON.stringify(r))).join('\n')}\n`);
    return file;
  };

  it('DynamoDB goes away in the middle of HTTP batches and comes back: 503s, then retries end as a clean run', async () => {
    const svc = await service('dynamo-http');
    const rng = mulberry32(101);
    let failures = 0;
    for (const { kind, records } of input) {
      const n = Math.floor(rng() * requestsPerBatch(kind, records.length));
      failures += await ingestThroughFault(
        svc,
        kind,
        records,
        () => stack.dynamo.downAfter(n),
        () => stack.dynamo.reset(),
      );
    }
    expect(failures, 'the outage must have hit most batches').toBeGreaterThan(input.length / 2);
    expect(await stack.snapshot(svc, champions)).toEqual(clean);
  });

  it('S3 refuses the archive writes (503 SlowDown) or is unreachable: nothing is stored, and retries end as a clean run', async () => {
    const svc = await service('s3-http');
    let failures = 0;
    for (const [i, { kind, records }] of input.entries()) {
      const ids = records.map((r) => String(r[RECORD_ID_FIELD[kind]]));
      const before = await svc.storedIds(kind, ids);
      failures += await ingestThroughFault(
        svc,
        kind,
        records,
        () => (i % 2 === 0 ? stack.s3.answer({ match: /^PUT /, times: 1000, ...S3_SLOW_DOWN }) : stack.s3.down()),
        () => stack.s3.reset(),
      );
      // The archive is written before the stores: the failed attempt stored nothing new.
      if (i === 0) expect(before.size).toBe(0);
    }
    expect(failures).toBe(input.length);
    expect(stack.s3.faulted).toBeGreaterThan(input.length);
    expect(await stack.snapshot(svc, champions)).toEqual(clean);
  });

  it('a failed archive write leaves no record of the batch stored', async () => {
    const svc = await service('s3-nothing');
    const { kind, records } = input.find((b) => b.kind === 'events')!;
    stack.s3.answer({ match: /^PUT /, times: 1000, ...S3_SLOW_DOWN });
    try {
      await expectClean503(await svc.post(kind, records));
    } finally {
      stack.s3.reset();
    }
    expect((await svc.storedIds(kind, records.map((r) => String(r.eventId)))).size).toBe(0);
  });

  it('UnprocessedItems, UnprocessedKeys, throttling and lost replies from a wrapped client: 503s, then retries end as a clean run', async () => {
    const { svc, plan } = await throttledService('throttle-http', 202);
    const rng = mulberry32(303);
    let failures = 0;
    for (const { kind, records } of input) {
      failures += await ingestThroughFault(
        svc,
        kind,
        records,
        () => plan.arm(Math.max(1, Math.floor(rng() * (requestsPerBatch(kind, records.length) - 1)))),
        () => undefined,
      );
    }
    expect(plan.counts.unprocessed).toBeGreaterThan(3);
    expect(plan.counts.throttled).toBeGreaterThan(0);
    expect(plan.counts.appliedThenLost).toBeGreaterThan(0);
    expect(failures).toBe(plan.counts.throttled + plan.counts.appliedThenLost);
    expect(await stack.snapshot(svc, champions)).toEqual(clean);
  });

  it('CLI: DynamoDB goes away mid-file (the process exits 1 with one clean line), then S3 refuses writes, then the same command completes as a clean run', async () => {
    const svc = await service('cli');
    const files = Object.fromEntries(RECORD_KINDS.map((kind) => [kind, writeNdjson(kind)])) as Record<RecordKindName, string>;
    const env = {
      BUCKET_NAME: svc.config.bucket,
      TABLE_PREFIX: 'f-cli',
      DYNAMODB_ENDPOINT: stack.dynamo.url,
      S3_ENDPOINT: stack.s3.url,
      AWS_REGION: 'us-east-1',
      LOG_LEVEL: 'warn',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };

    // 1. A real CLI process; DynamoDB goes away after a few dozen of its requests.
    const events = input.filter((b) => b.kind === 'events').flatMap((b) => b.records);
    stack.dynamo.downAfter(25);
    const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const proc = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', 'functions/cli/main.ts', 'ingest', 'events', files.events], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      proc.once('error', reject);
      proc.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
    stack.dynamo.reset();
    expect(child.code, child.stderr).toBe(1);
    const errorLines = child.stderr.split(/\r|\n/).filter((l) => l.startsWith('error:'));
    expect(errorLines).toEqual([expect.stringMatching(/^error: DynamoDB.* is unavailable or throttling; .*Retry the same request\.$/)]);
    expect(child.stderr).not.toMatch(/\n\s+at /);
    expect(child.stdout).not.toMatch(/accepted \d/);
    // Some of the file was stored before the outage, not all of it.
    const partial = await svc.storedIds('events', events.map((e) => String(e.eventId)));
    expect(partial.size).toBeLessThan(events.length);

    const saved = { ...process.env };
    Object.assign(process.env, env);
    const out: string[] = [];
    try {
      // 2. The same command again, in this process; now S3 refuses every archive write.
      stack.s3.answer({ match: /^PUT /, times: 1000, ...S3_SLOW_DOWN });
      const failed = await runCli(['ingest', 'events', files.events], (l) => out.push(l)).catch((e: unknown) => e);
      stack.s3.reset();
      expect(failed).toBeInstanceOf(StoreUnavailableError);
      expect((failed as Error).message).toMatch(/^S3 is unavailable or throttling/);

      // 3. Again, with the stores back: it completes; then the other kinds.
      for (const kind of ['events', 'partners', 'deals'] as const) {
        expect(await runCli(['ingest', kind, files[kind]], (l) => out.push(l))).toBe(0);
      }
    } finally {
      for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
      Object.assign(process.env, saved);
    }
    expect(out.join('\n')).toMatch(/events from .*\n\s+accepted \d+, unchanged [1-9]\d*, rejected 2\n/);
    expect(await stack.snapshot(svc, champions)).toEqual(clean);
  });

  it('CLI ingestFile with a throttling, item-dropping client: every failure is a StoreUnavailableError, and re-running the file ends as a clean run', async () => {
    const { svc, plan } = await throttledService('throttle-cli', 404);
    const rng = mulberry32(505);
    let failures = 0;
    for (const kind of ['partners', 'events', 'deals'] as const) {
      const file = writeNdjson(kind);
      for (let attempt = 0; ; attempt++) {
        expect(attempt).toBeLessThan(8);
        if (attempt < 2) plan.arm(1 + Math.floor(rng() * 40));
        try {
          const summary = await ingestFile(kind, file, svc.deps, { batchSize: 60 });
          expect(summary.accepted + summary.unchanged + summary.rejected).toBe(summary.records);
          break;
        } catch (error) {
          expect(error).toBeInstanceOf(StoreUnavailableError);
          failures++;
        }
      }
    }
    expect(failures).toBeGreaterThan(0);
    expect(plan.counts.unprocessed).toBeGreaterThan(2);
    expect(await stack.snapshot(svc, champions)).toEqual(clean);
  });
});
