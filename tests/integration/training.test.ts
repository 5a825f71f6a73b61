import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProgram, type GeneratedProgram } from '../../data/generator';
import type { RawRecord } from '../../data/ingest/ingest-batch';
import { ingestStream } from '../../data/ingest/ingest-stream';
import type { Partner } from '../../data/schemas/partner';
import { asOfInstant } from '../../data/schemas/as-of';
import type { ModelVersionRecord } from '../../data/stores/model-store';
import type { RecordKindName } from '../../data/stores/record-store';
import { loadModel, readArtifacts, type LoadedModel } from '../../models/artifact-store';
import { formatValue, peerMediansFor, scoreAndExplain } from '../../models/explain';
import { buildFeatures } from '../../models/features/build-features';
import { encodeRow } from '../../models/features/encode';
import { displayValue, FEATURE_DEFS } from '../../models/features/feature-defs';
import { churnSnapshots, splitByTime } from '../../models/labels';
import { loadAllHistories, loadHistory } from '../../models/load-histories';
import { classificationMetrics } from '../../models/metrics';
import { fromArtifacts } from '../../models/train/serialize';
import type { FeatureRow, ModelName, Snapshot } from '../../models/types';
import { startTestStack, type TestStack } from '../helpers/test-stack';
import type { Problem } from '../../functions/app/problem';

/*
 * Training end to end (contract §2 and §5): generated program → real ingest → train jobs
 * through the API → registry → artifacts in S3 → scoring and explanations from the loaded
 * artifacts. One stack and one data set for the whole file; the tests run in order and build on
 * each other (first champion, challenger, promotion, ...).
 *
 * Size: 250 partners over 2 years. Portal logins and content views are ~90% of the generated
 * events and only cost ingest time here, so 1 in 10 of them is kept (every other event, every
 * partner and every deal version is ingested as generated). Training is deterministic for the
 * same data, seed and backend: a second run gives the same holdout metrics.
 */

const END = '2025-06-30';
const END_INSTANT = '2025-06-30T23:59:59.999Z';
/** A few weeks after the recorded history starts (END − 2 years): too little to train on. */
const TOO_EARLY = '2023-08-01';
const HORIZON_DAYS = 90;

const METRIC_KEYS = ['auc', 'brier', 'ece', 'positives', 'prAuc', 'rows'];

interface Job {
  jobId: string;
  type: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  params: Record<string, unknown>;
  result?: { model: ModelName; version: string; status: string; metrics: Record<string, number>; comparedWith?: { version: string; auc: number } | null };
  error?: string;
}

interface PublicVersion {
  model: ModelName;
  version: string;
  createdAt: string;
  asOf: string;
  status: 'champion' | 'challenger' | 'retired';
  metrics: Record<string, number>;
  baselineMetrics: Record<string, number>;
  horizonDays?: number;
  promotedAt?: string;
  dataWindow: { from: string; to: string; holdoutFrom: string };
}

async function* asRecords(values: readonly unknown[]): AsyncGenerator<RawRecord> {
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    yield { index, raw: JSON.stringify(value), value };
  }
}

function expectSaneMetrics(metrics: Record<string, number> | undefined, options: { aucAbove?: number } = {}): void {
  expect(metrics).toBeDefined();
  const m = metrics!;
  expect(Object.keys(m).sort()).toEqual(METRIC_KEYS);
  for (const key of METRIC_KEYS) expect(Number.isFinite(m[key]), key).toBe(true);
  expect(m.auc).toBeGreaterThan(options.aucAbove ?? 0);
  expect(m.auc).toBeLessThanOrEqual(1);
  expect(m.prAuc).toBeGreaterThan(0);
  expect(m.prAuc).toBeLessThanOrEqual(1);
  expect(m.brier).toBeGreaterThanOrEqual(0);
  expect(m.brier).toBeLessThan(0.5);
  expect(m.ece).toBeGreaterThanOrEqual(0);
  expect(m.ece).toBeLessThan(0.5);
  expect(Number.isInteger(m.rows)).toBe(true);
  expect(Number.isInteger(m.positives)).toBe(true);
  expect(m.positives).toBeGreaterThan(0);
  expect(m.positives).toBeLessThan(m.rows!);
}

describe('training through the API, end to end', () => {
  let stack: TestStack;
  let program: GeneratedProgram;
  let opsKey: string;
  let integrationKey: string;
  let partnerKey: string;
  /** The first version of each model (champion when trained). */
  const first: Partial<Record<ModelName, PublicVersion>> = {};
  /** The second churn version (a challenger until promoted). */
  let secondChurn: PublicVersion | undefined;

  const json = async <T>(response: Response): Promise<T> => (await response.json()) as T;

  async function expectProblem(response: Response, status: number): Promise<Problem> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = await json<Problem>(response);
    expect(body.status).toBe(status);
    expect(typeof body.detail).toBe('string');
    return body;
  }

  async function listModels(key = stack.adminKey): Promise<PublicVersion[]> {
    const response = await stack.request('GET', '/v1/models', { key });
    expect(response.status).toBe(200);
    return json<PublicVersion[]>(response);
  }

  async function startTraining(model: string, body: Record<string, unknown>, key = stack.adminKey): Promise<string> {
    const response = await stack.request('POST', `/v1/models/${model}/train`, { key, body });
    expect(response.status).toBe(202);
    const { jobId } = await json<{ jobId: string }>(response);
    expect(jobId).toEqual(expect.any(String));
    return jobId;
  }

  /** Polls the job until it ends (bounded); fails the test if it does not end in time. */
  async function waitForJob(jobId: string, key = stack.adminKey, timeoutMs = 55_000): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    const seen = new Set<string>();
    for (;;) {
      const response = await stack.request('GET', `/v1/jobs/${jobId}`, { key });
      expect(response.status).toBe(200);
      const job = await json<Job>(response);
      expect(job.jobId).toBe(jobId);
      seen.add(job.status);
      if (job.status === 'succeeded' || job.status === 'failed') return job;
      expect(['queued', 'running']).toContain(job.status);
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status} after ${timeoutMs} ms (seen: ${[...seen].join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  async function championRecord(model: ModelName): Promise<ModelVersionRecord> {
    const champions = (await stack.deps.models.list(model)).filter((v) => v.status === 'champion');
    expect(champions).toHaveLength(1);
    return champions[0]!;
  }

  async function partnerById(partnerId: string): Promise<Partner> {
    const partner = (await stack.deps.history.getPartners([partnerId])).get(partnerId);
    expect(partner).toBeDefined();
    return partner!;
  }

  async function featuresOf(partnerId: string, asOf: string): Promise<FeatureRow> {
    const instant = asOfInstant(asOf)!;
    const history = await loadHistory(stack.deps.history, await partnerById(partnerId), instant);
    return buildFeatures(history, instant);
  }

  beforeAll(async () => {
    stack = await startTestStack();
    program = generateProgram({ partners: 250, seed: 7, end: END, years: 2 });
    let kept = 0;
    const events = program.events.filter((e) => (e.type !== 'portal_login' && e.type !== 'content_view') || kept++ % 10 === 0);
    const ingest = async (kind: RecordKindName, values: readonly unknown[]): Promise<void> => {
      const summary = await ingestStream(kind, asRecords(values), stack.deps, { source: 'test' });
      if (summary.rejected > 0 || summary.accepted !== values.length) {
        throw new Error(`${kind}: ${summary.accepted}/${values.length} accepted, e.g. ${JSON.stringify(summary.rejectedSample[0])}`);
      }
    };
    await ingest('partners', program.partners);
    await ingest('events', events);
    await ingest('deals', program.deals);
    [opsKey, integrationKey, partnerKey] = await Promise.all([
      stack.keyFor('ops'),
      stack.keyFor('integration'),
      stack.keyFor('partner', program.partners.find((p) => p.status === 'active')!.partnerId),
    ]);
  }, 180_000);

  afterAll(async () => stack?.close());

  describe.each([['churn'], ['top-performer']] as const)('the first %s version', (model) => {
    it('is trained by a job as of a date, and becomes the champion with holdout metrics next to a baseline', async () => {
      const before = await listModels();
      expect(before.filter((v) => v.model === model)).toEqual([]);

      const jobId = await startTraining(model, { asOf: END });
      const job = await waitForJob(jobId);
      expect(job.error).toBeUndefined();
      expect(job.status).toBe('succeeded');
      expect(job.type).toBe('train');
      // The date means the whole day (UTC).
      expect(job.params).toMatchObject({ model, asOf: END_INSTANT });
      expect(job.params.horizonDays).toBe(model === 'churn' ? HORIZON_DAYS : undefined);
      expect(job.result).toMatchObject({ model, version: expect.stringMatching(/^\d{8}-\d{6}-[0-9a-f]{4}$/), status: 'champion' });
      expectSaneMetrics(job.result?.metrics, { aucAbove: 0.5 });

      const versions = (await listModels()).filter((v) => v.model === model);
      expect(versions).toHaveLength(1);
      const version = versions[0]!;
      expect(version.version).toBe(job.result!.version);
      expect(version.status).toBe('champion');
      expect(version.asOf).toBe(END_INSTANT);
      expect(version.dataWindow.to).toBe(END_INSTANT);
      expect(version.dataWindow.from < version.dataWindow.holdoutFrom).toBe(true);
      expect(version.dataWindow.holdoutFrom <= END_INSTANT).toBe(true);
      expect(version.horizonDays).toBe(model === 'churn' ? HORIZON_DAYS : undefined);
      expect(version.metrics).toEqual(job.result!.metrics);
      expectSaneMetrics(version.metrics, { aucAbove: 0.5 });
      expectSaneMetrics(version.baselineMetrics);
      // Model and baseline are measured on the same holdout rows.
      expect(version.baselineMetrics.rows).toBe(version.metrics.rows);
      expect(version.baselineMetrics.positives).toBe(version.metrics.positives);
      first[model] = version;
    });
  });

  it('a second churn training on the same data does not beat the champion: it stays a challenger until promoted', async () => {
    const champion = first.churn;
    expect(champion).toBeDefined();

    const job = await waitForJob(await startTraining('churn', { asOf: END }));
    expect(job.status).toBe('succeeded');
    const result = job.result!;
    expect(result.version).not.toBe(champion!.version);
    expect(result.status).toBe('challenger');
    // Same data and seed: the same holdout metrics, so it does not beat the champion's AUC.
    expect(result.metrics).toEqual(champion!.metrics);
    // The champion was loaded back from its artifacts and scored on the same holdout: same AUC.
    expect(result.comparedWith?.version).toBe(champion!.version);
    expect(Math.abs(result.comparedWith!.auc - champion!.metrics.auc!)).toBeLessThan(1e-9);

    const churn = (await listModels()).filter((v) => v.model === 'churn');
    expect(churn).toHaveLength(2);
    const byVersion = new Map(churn.map((v) => [v.version, v]));
    expect(byVersion.get(champion!.version)?.status).toBe('champion');
    expect(byVersion.get(result.version)?.status).toBe('challenger');
    secondChurn = byVersion.get(result.version);

    // Promotion through the route.
    const promote = await stack.request('POST', `/v1/models/churn/versions/${result.version}/promote`, { key: stack.adminKey });
    expect(promote.status).toBe(200);
    const promoted = await json<PublicVersion>(promote);
    expect(promoted).toMatchObject({ model: 'churn', version: result.version, status: 'champion' });
    expect(promoted.promotedAt).toEqual(expect.any(String));

    const after = new Map((await listModels()).filter((v) => v.model === 'churn').map((v) => [v.version, v]));
    expect(after.size).toBe(2);
    expect(after.get(result.version)?.status).toBe('champion');
    expect(after.get(champion!.version)?.status).toBe('retired');
    // The other model is not touched.
    expect((await listModels()).filter((v) => v.model === 'top-performer').map((v) => [v.version, v.status])).toEqual([[first['top-performer']!.version, 'champion']]);

    // Idempotent: promoting the champion again changes nothing.
    const listed = await listModels();
    const again = await stack.request('POST', `/v1/models/churn/versions/${result.version}/promote`, { key: stack.adminKey });
    expect(again.status).toBe(200);
    expect(await json<PublicVersion>(again)).toEqual(promoted);
    expect(await listModels()).toEqual(listed);
  });

  it('promote answers 404 for an unknown version and 400 for an unknown model', async () => {
    const listed = await listModels();
    const missing = await expectProblem(await stack.request('POST', '/v1/models/churn/versions/20990101-000000-abcd/promote', { key: stack.adminKey }), 404);
    expect(missing.detail).toContain('20990101-000000-abcd');
    // A version of the other model is not a version of this one.
    await expectProblem(await stack.request('POST', `/v1/models/churn/versions/${first['top-performer']!.version}/promote`, { key: stack.adminKey }), 404);

    const unknownModel = await expectProblem(await stack.request('POST', `/v1/models/fraud/versions/${secondChurn!.version}/promote`, { key: stack.adminKey }), 400);
    expect(unknownModel.errors?.map((e) => e.path)).toEqual(['path.model']);
    const trainUnknown = await expectProblem(await stack.request('POST', '/v1/models/fraud/train', { key: stack.adminKey, body: {} }), 400);
    expect(trainUnknown.errors?.map((e) => e.path)).toEqual(['path.model']);
    expect(await listModels()).toEqual(listed);
  });

  it('a failed training job says why and leaves the registry (and the champion) as it was', async () => {
    const before = await listModels();
    const job = await waitForJob(await startTraining('churn', { asOf: TOO_EARLY }));
    expect(job.status).toBe('failed');
    expect(job.result).toBeUndefined();
    expect(job.error).toMatch(/not enough history/i);
    expect(job.error).toContain(asOfInstant(TOO_EARLY));
    // A reason for a person, not a stack trace or an opaque internal error.
    expect(job.error).not.toMatch(/\n\s*at |internal error|\.ts:\d+/);
    expect(await listModels()).toEqual(before);
    expect((await championRecord('churn')).version).toBe(secondChurn!.version);
  });

  it('rejects horizonDays for top-performer and an invalid asOf with 400 naming the field', async () => {
    const before = await listModels();
    const horizon = await expectProblem(await stack.request('POST', '/v1/models/top-performer/train', { key: stack.adminKey, body: { asOf: END, horizonDays: 30 } }), 400);
    expect(horizon.errors?.map((e) => e.path)).toEqual(['horizonDays']);

    const outOfRange = await expectProblem(await stack.request('POST', '/v1/models/churn/train', { key: stack.adminKey, body: { horizonDays: 3 } }), 400);
    expect(outOfRange.errors?.map((e) => e.path)).toEqual(['horizonDays']);

    for (const asOf of ['yesterday', '2025-13-01', '2025-02-30', '2025-03-01T12:00:00', 20250301, '']) {
      const bad = await expectProblem(await stack.request('POST', '/v1/models/churn/train', { key: stack.adminKey, body: { asOf } }), 400);
      expect(bad.errors?.map((e) => e.path), JSON.stringify(asOf)).toEqual(['asOf']);
    }
    expect(await listModels()).toEqual(before);
  });

  it('the champion saved to S3 loads back to the model that was evaluated: same probabilities, same holdout metrics', async () => {
    const record = await championRecord('churn');
    const histories = await loadAllHistories(stack.deps.history, END_INSTANT);
    // The run's own holdout, rebuilt as training built it.
    const snapshots = churnSnapshots(histories, END_INSTANT, { horizonDays: HORIZON_DAYS });
    const holdout = splitByTime(snapshots, { model: 'churn', horizonDays: HORIZON_DAYS }).holdout;
    expect(holdout.length).toBe(record.metrics.rows);

    // As serving loads it (plain-JS forward pass), twice; and rebuilt with tfjs, as training evaluated it.
    const a = await loadModel(stack.deps.objects, record.artifactPrefix);
    const b = await loadModel(stack.deps.objects, record.artifactPrefix);
    const evaluated = await fromArtifacts((await readArtifacts(stack.deps.objects, record.artifactPrefix)).artifacts);
    try {
      expect(a.serving).toMatchObject({ model: 'churn', version: record.version, asOf: END_INSTANT, horizonDays: HORIZON_DAYS });
      expect(b.serving).toEqual(a.serving);
      const x = holdout.map((row: Snapshot) => encodeRow(a.serving.encoder, row));
      const pa = a.predict(x);
      const pb = b.predict(x);
      const pt = evaluated.predict(x);
      expect(pa).toHaveLength(holdout.length);
      pa.forEach((p, i) => {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        expect(Math.abs(p - pb[i]!)).toBeLessThan(1e-9);
        // Served probabilities are the evaluated model's (float64 vs tfjs float32 arithmetic).
        expect(Math.abs(p - pt[i]!)).toBeLessThan(1e-6);
      });
      // Not a constant model.
      expect(Math.max(...pa) - Math.min(...pa)).toBeGreaterThan(1e-3);

      const y = holdout.map((s) => s.label);
      const measured = classificationMetrics(pt, y);
      const baseline = classificationMetrics(a.predictBaseline(x), y);
      for (const key of METRIC_KEYS) {
        expect(Math.abs((measured as unknown as Record<string, number>)[key]! - (record.metrics as unknown as Record<string, number>)[key]!), key).toBeLessThan(1e-9);
        expect(Math.abs((baseline as unknown as Record<string, number>)[key]! - (record.baselineMetrics as unknown as Record<string, number>)[key]!), `baseline ${key}`).toBeLessThan(1e-9);
      }
      expect(Math.abs(classificationMetrics(pa, y).auc - record.metrics.auc!)).toBeLessThan(1e-4);
    } finally {
      evaluated.dispose();
    }
  });

  it('explains scores of active partners: at most 5 drivers, largest effect first, worded for a person', async () => {
    const record = await championRecord('churn');
    const model: LoadedModel = await loadModel(stack.deps.objects, record.artifactPrefix);
    // Active partners of every tier.
    const active = program.partners.filter((p) => p.status === 'active');
    const picked = [...new Set(active.map((p) => p.tier))].flatMap((tier) => active.filter((p) => p.tier === tier).slice(0, 2));
    expect(picked.length).toBeGreaterThanOrEqual(6);
    const rows = await Promise.all(picked.map((p) => featuresOf(p.partnerId, END)));
    const explained = scoreAndExplain(model, rows);
    expect(explained).toHaveLength(rows.length);
    // The scores are the model's own probabilities for these rows.
    const direct = model.predict(rows.map((r) => encodeRow(model.serving.encoder, r)));

    let withDrivers = 0;
    explained.forEach(({ probability, drivers }, n) => {
      const row = rows[n]!;
      expect(Math.abs(probability - direct[n]!)).toBeLessThan(1e-6);
      expect(probability).toBeGreaterThanOrEqual(0);
      expect(probability).toBeLessThanOrEqual(1);
      expect(drivers.length).toBeLessThanOrEqual(5);
      if (drivers.length > 0) withDrivers++;
      expect(new Set(drivers.map((d) => d.feature)).size).toBe(drivers.length);
      for (let k = 1; k < drivers.length; k++) expect(Math.abs(drivers[k - 1]!.effect)).toBeGreaterThanOrEqual(Math.abs(drivers[k]!.effect));

      const medians = peerMediansFor(model, row.categories.tier);
      for (const d of drivers) {
        expect(Number.isFinite(d.effect)).toBe(true);
        expect(d.effect).not.toBe(0);
        const i = FEATURE_DEFS.findIndex((def) => def.name === d.feature);
        expect(i).toBeGreaterThanOrEqual(0);
        const def = FEATURE_DEFS[i]!;
        expect(d.value).toBe(displayValue(def.name, row.values[i]!));
        expect(d.peerMedian).toBe(displayValue(def.name, medians[i]!));
        expect(d.label).toBe(`${def.label}: ${formatValue(def.unit, d.value)} — peers' median ${formatValue(def.unit, d.peerMedian)}`);
        // The effect is the change in probability when this feature alone is set to the peers' median.
        const values = [...row.values];
        values[i] = medians[i]!;
        const [withMedian] = model.predict([encodeRow(model.serving.encoder, { ...row, values })]);
        expect(Math.abs(d.effect - (probability - withMedian!))).toBeLessThan(1e-4);
      }
    });
    expect(withDrivers).toBeGreaterThanOrEqual(rows.length - 1);
  });

  it('features as of a past date, read from the store, do not change when later events and deal updates arrive', async () => {
    const past = '2025-01-15';
    const after = '2025-01-16T00:00:00.000Z'; // 1 ms after the end of that day
    const later = '2025-07-15';
    // The latest version of each deal, as stored.
    const latest = new Map(program.deals.map((d) => [d.dealId, d]));
    const partnerIds = new Set(program.partners.filter((p) => p.status === 'active').map((p) => p.partnerId));
    // A deal of an active partner, created before the date and closed after it: open as of the date.
    const deal = [...latest.values()].find(
      (d) => d.partnerId && partnerIds.has(d.partnerId) && d.createdAt < '2025-01-01' && d.closedAt !== undefined && d.closedAt > '2025-02-01' && d.closedAt < '2025-06-01',
    );
    expect(deal).toBeDefined();
    const partnerId = deal!.partnerId!;

    const beforePast = await featuresOf(partnerId, past);
    const beforeLater = await featuresOf(partnerId, later);

    const events = [
      { eventId: 'PIT-E-1', partnerId, type: 'portal_login', occurredAt: after, quantity: 25 },
      { eventId: 'PIT-E-2', partnerId, type: 'certification_earned', occurredAt: '2025-03-01T10:00:00Z' },
      { eventId: 'PIT-E-3', partnerId, type: 'nps_response', occurredAt: '2025-07-01T10:00:00Z', value: 0 },
      { eventId: 'PIT-E-4', partnerId, type: 'support_ticket', occurredAt: '2025-07-02T10:00:00Z', quantity: 9 },
    ];
    const deals = [
      // The deal's outcome is corrected later: as of the date it was open either way, its outcome unknown.
      { ...deal!, stage: deal!.stage === 'won' ? 'lost' : 'won', closedAt: '2025-06-15T00:00:00Z', updatedAt: '2025-07-01T00:00:00Z' },
      // A deal registered after the date.
      { dealId: 'PIT-D-1', partnerId, partnerRole: 'sourced', amount: 250_000, stage: 'won', createdAt: after, closedAt: '2025-02-01T00:00:00Z', updatedAt: '2025-02-01T00:00:00Z' },
    ];
    const e = await stack.request('POST', '/v1/events', { key: stack.adminKey, body: events });
    expect(await json(e)).toEqual({ accepted: events.length, unchanged: 0, rejected: [] });
    const d = await stack.request('POST', '/v1/deals', { key: stack.adminKey, body: deals });
    expect(await json(d)).toEqual({ accepted: deals.length, unchanged: 0, rejected: [] });

    // The new records are in the store and seen from a later date...
    const full = await loadHistory(stack.deps.history, await partnerById(partnerId));
    expect(full.events.map((x) => x.eventId)).toEqual(expect.arrayContaining(events.map((x) => x.eventId)));
    expect(full.deals.find((x) => x.dealId === deal!.dealId)).toMatchObject({ stage: deals[0]!.stage, closedAt: '2025-06-15T00:00:00.000Z' });
    expect(full.deals.map((x) => x.dealId)).toContain('PIT-D-1');
    const afterLater = await featuresOf(partnerId, later);
    expect(afterLater.values).not.toEqual(beforeLater.values);

    // ...but the past looks exactly as it did.
    const afterPast = await featuresOf(partnerId, past);
    expect(afterPast).toEqual(beforePast);
    // The same through a date-time asOf at the very end of that day.
    expect(await featuresOf(partnerId, asOfInstant(past)!)).toEqual(beforePast);
  });

  describe('roles', () => {
    let opsJobId: string | undefined;

    it('ops may train, read jobs and models, and promote', async () => {
      const listed = await listModels(opsKey);
      expect(listed).toEqual(await listModels());
      opsJobId = await startTraining('churn', { asOf: TOO_EARLY }, opsKey);
      const job = await waitForJob(opsJobId, opsKey);
      expect(job.status).toBe('failed');
      const champion = await championRecord('churn');
      const promote = await stack.request('POST', `/v1/models/churn/versions/${champion.version}/promote`, { key: opsKey });
      expect(promote.status).toBe(200);
      expect(await listModels(opsKey)).toEqual(listed);
    });

    it('integration and partner keys get 403 on train, promote, models and jobs; no key gets 401', async () => {
      expect(opsJobId).toBeDefined();
      const jobId = opsJobId!;
      const version = (await championRecord('churn')).version;
      const calls: [string, string, unknown?][] = [
        ['POST', '/v1/models/churn/train', { asOf: END }],
        ['POST', '/v1/models/top-performer/train', {}],
        ['POST', `/v1/models/churn/versions/${version}/promote`],
        ['GET', '/v1/models'],
        ['GET', `/v1/jobs/${jobId}`],
      ];
      const jobCount = async (): Promise<number> => (await stack.clients.ddb.send(new ScanCommand({ TableName: stack.config.tables.jobs, Select: 'COUNT' }))).Count ?? -1;
      const [before, jobsBefore] = [await listModels(), await jobCount()];
      expect(jobsBefore).toBeGreaterThan(0);
      for (const [key, name] of [
        [integrationKey, 'integration'],
        [partnerKey, 'partner'],
        [undefined, 'no key'],
      ] as const) {
        for (const [method, path, body] of calls) {
          const response = await stack.request(method, path, { ...(key ? { key } : {}), ...(body !== undefined ? { body } : {}) });
          expect(response.status, `${name} ${method} ${path}`).toBe(key ? 403 : 401);
          expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        }
      }
      // The refused calls queued nothing and changed nothing.
      expect(await jobCount()).toBe(jobsBefore);
      expect(await listModels()).toEqual(before);
    });
  });
});
