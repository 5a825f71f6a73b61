import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProgram } from '../../data/generator';
import type { RawRecord } from '../../data/ingest/ingest-batch';
import { ingestStream } from '../../data/ingest/ingest-stream';
import { DynamoScoreStore } from '../../data/stores/dynamo-score-store';
import type { RecordKindName } from '../../data/stores/record-store';
import type { RunRecord, ScoreStore } from '../../data/stores/score-store';
import { completedRuns, forgetRuns } from '../../models/score-queries';
import { runIdFor, runScoring, runScoringShard, startScoringRun, type ScoringDeps, type ScoringRunPlan } from '../../models/scoring-run';
import { AS_OF, startFaultStack, trainChampions, type FaultStack, type Service } from './fault-stack';
import type { ScoringChildJob } from './scoring-child';

/*
 * A scoring run whose process is killed (SIGKILL, no chance to clean up) in the middle, with
 * part of its scores written: the run stays invisible, and running it again (the whole run, or
 * only the killed shard of the same plan, as a redelivered queue message would) ends with
 * exactly the scores of a clean run. The killed process is a real one (tests/faults/scoring-child.ts)
 * on this test's embedded stores.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHARDS = 3;
const RUN_ID = runIdFor(AS_OF);
type Json = Record<string, unknown>;

async function* asRecords(values: readonly unknown[]): AsyncGenerator<RawRecord> {
  for (let index = 0; index < values.length; index++) yield { index, raw: JSON.stringify(values[index]), value: values[index] };
}

describe('a scoring process killed mid-run', () => {
  let stack: FaultStack;
  let base: Service;
  let clean: Json[];
  let cleanRun: RunRecord;

  /** Scoring deps over the base service's histories and models, writing to the scores table of `table`'s service. */
  const scoringDeps = (scores: ScoreStore): ScoringDeps => ({ history: base.deps.history, models: base.deps.models, scores, modelCache: base.deps.modelCache, bands: base.deps.bands, log: () => undefined });

  /** A scores table of its own (another service's), straight to the store. */
  const scoresTable = async (name: string): Promise<{ table: string; store: ScoreStore }> => {
    const svc = await stack.service(name);
    return { table: svc.config.tables.scores, store: new DynamoScoreStore(stack.direct.ddb, svc.config.tables.scores) };
  };

  /** Every score item of the run, without the time it was written (the only thing a clean run may do differently). */
  async function runScores(table: string): Promise<Json[]> {
    const items: Json[] = [];
    let start: Json | undefined;
    do {
      const out = await stack.direct.ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
      items.push(...((out.Items ?? []) as Json[]));
      start = out.LastEvaluatedKey as Json | undefined;
    } while (start);
    return items
      .filter((i) => i.runId === RUN_ID && i.partnerId !== '#runs')
      .map(({ scoredAt: _at, ...rest }) => rest)
      .sort((a, b) => String(a.partnerId).localeCompare(String(b.partnerId)));
  }

  const runOf = async (store: ScoreStore): Promise<RunRecord | undefined> => (await store.listRuns()).find((r) => r.asOf === AS_OF);

  /** Starts the child on `job` and kills it (SIGKILL) once it reports its first stored slice. */
  async function killAfterFirstWrite(job: Omit<ScoringChildJob, 'dynamoEndpoint' | 's3Endpoint' | 'tables' | 'bucket' | 'asOf' | 'sliceSize'>): Promise<{ signal: NodeJS.Signals | null; lines: string[] }> {
    const full: ScoringChildJob = {
      dynamoEndpoint: stack.embedded.dynamoEndpoint,
      s3Endpoint: stack.embedded.s3Endpoint,
      tables: base.config.tables,
      bucket: base.config.bucket,
      asOf: AS_OF,
      sliceSize: 4,
      ...job,
    };
    const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', 'tests/faults/scoring-child.ts', JSON.stringify(full)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const lines: string[] = [];
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (line.startsWith('wrote ')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`the scoring child ended before it wrote anything: ${lines.join(' | ')}\n${stderr}`)));
    });
    return { signal: await exited, lines };
  }

  beforeAll(async () => {
    stack = await startFaultStack();
    base = await stack.service('scoring-base');
    await trainChampions(base);
    const program = generateProgram({ partners: 90, seed: 21, end: '2025-06-30', years: 1.5, directDealsPerMonth: 0 });
    let kept = 0;
    const input: Record<RecordKindName, unknown[]> = {
      partners: program.partners,
      events: program.events.filter((e) => (e.type !== 'portal_login' && e.type !== 'content_view') || kept++ % 20 === 0),
      deals: program.deals,
    };
    for (const kind of ['partners', 'events', 'deals'] as const) {
      const summary = await ingestStream(kind, asRecords(input[kind]), base.deps, { source: 'test' });
      expect(summary.rejected).toBe(0);
    }
    const reference = await scoresTable('score-clean');
    const result = await runScoring(scoringDeps(reference.store), { asOf: AS_OF, shards: SHARDS });
    clean = await runScores(reference.table);
    cleanRun = (await runOf(reference.store))!;
    expect(result.scored).toBe(clean.length);
    expect(clean.length).toBeGreaterThan(30);
    expect(cleanRun).toMatchObject({ status: 'complete', scored: clean.length });
  }, 180_000);

  afterAll(async () => stack?.close());

  it('the whole run killed: invisible while half-written, and running the same asOf again ends exactly as a clean run', async () => {
    const { table, store } = await scoresTable('score-killed');
    const killed = await killAfterFirstWrite({ scoresTable: table, shards: SHARDS });
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.lines).not.toContain('done');

    const partial = await runScores(table);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(clean.length);
    expect((await runOf(store))?.status).toBe('running');
    forgetRuns(store);
    expect((await completedRuns(store)).map((r) => r.asOf)).not.toContain(AS_OF);

    const rerun = await runScoring(scoringDeps(store), { asOf: AS_OF, shards: SHARDS });
    expect(rerun.scored).toBe(clean.length);
    expect(await runScores(table)).toEqual(clean);
    expect(await runOf(store)).toMatchObject({ status: 'complete', scored: clean.length, models: cleanRun.models, shards: SHARDS });
  });

  it("one shard's process killed: running that shard again from the same plan completes the run exactly as a clean run", async () => {
    const { table, store } = await scoresTable('score-shard');
    const deps = scoringDeps(store);
    const plan: ScoringRunPlan = await startScoringRun(deps, { asOf: AS_OF, shards: SHARDS });
    const killed = await killAfterFirstWrite({ scoresTable: table, shards: SHARDS, plan, shard: 1 });
    expect(killed.signal).toBe('SIGKILL');
    const partial = await runScores(table);
    expect(partial.length).toBeGreaterThan(0);
    expect((await runOf(store))?.status).toBe('running');

    // The other shards, then the killed one again (a redelivered message): only the last completes the run.
    const outcomes = [await runScoringShard(deps, plan, 0), await runScoringShard(deps, plan, 2), await runScoringShard(deps, plan, 1)];
    expect(outcomes.map((o) => o.runComplete)).toEqual([false, false, true]);
    expect(outcomes.reduce((n, o) => n + o.scored, 0)).toBe(clean.length);
    // A shard delivered once more after the run completed changes nothing.
    await runScoringShard(deps, plan, 1);
    expect(await runScores(table)).toEqual(clean);
    expect(await runOf(store)).toMatchObject({ status: 'complete', scored: clean.length, models: cleanRun.models });
  });
});
