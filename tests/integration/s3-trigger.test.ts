import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRejectBatch, listRejectBatches } from '../../data/ingest/rejects';
import { openLocalStores, type LocalStores } from '../../functions/local/local-stack';
import { handleS3Event, type IncomingFileReport } from '../../functions/s3-ingest';
import { s3Record } from '../helpers/aws-events';
import { startTestStack, type TestStack } from '../helpers/test-stack';

async function putObject(s3: S3Client, bucket: string, key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function getObjectText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body?.transformToString('utf8');
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

async function getItem(ddb: DynamoDBDocumentClient, table: string, key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
  return (await ddb.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}

async function scanIds(ddb: DynamoDBDocumentClient, table: string, idField: string): Promise<string[]> {
  const out = await ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return (out.Items ?? []).map((i) => String(i[idField])).sort();
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The report once it is completely written: s3rver writes an object's file in place, so a read
 * racing the write can see it empty or cut short (real S3 PUTs are atomic).
 */
async function completeJson(s3: Parameters<typeof getObjectText>[0], bucket: string, key: string): Promise<unknown> {
  const text = await getObjectText(s3, bucket, key);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const EVENTS_NDJSON = [
  '{"eventId":"S3-E-1","partnerId":"S3-P-1","type":"portal_login","occurredAt":"2025-05-01T08:00:00Z"}',
  '',
  '{"eventId":"S3-E-2","partnerId":"S3-P-1","type":"qbr_attended","occurredAt":"2025-05-02T08:00:00Z","quantity":3}',
  'this is not json',
  '{"eventId":"S3-E-3","partnerId":"S3-P-2","type":"nps_response","occurredAt":"2025-05-03T08:00:00Z","value":11}',
  '',
].join('\n');

const PARTNERS_CSV = [
  'partnerId,name,tier,region,segment,joinedAt,status,churnedAt',
  'S3-P-1,"Northwind, ""Traders""",gold,NA,SMB,2024-03-01,active,',
  'S3-P-2,Contoso,silver,EMEA,ENT,2023-01-01,churned,2025-01-31',
  'S3-P-3,Fabrikam,silver,EMEA,ENT,2023-01-01,churned,',
  '',
].join('\n');

// Keys with a space, a '+' and a non-ASCII letter: they arrive encoded in the event.
const EVENTS_KEY = 'incoming/events/2025-05/drop 1+2 é.ndjson';
const PARTNERS_KEY = 'incoming/partners/partners may.csv';

describe('handleS3Event against the test stack', () => {
  let stack: TestStack;
  let reports: IncomingFileReport[];

  beforeAll(async () => {
    stack = await startTestStack();
    const { s3 } = stack.clients;
    const bucket = stack.config.bucket;
    await putObject(s3, bucket, EVENTS_KEY, EVENTS_NDJSON);
    await putObject(s3, bucket, PARTNERS_KEY, PARTNERS_CSV);
    // Valid records, but not under incoming/<kind>/: none of them may be ingested.
    const stray = '{"eventId":"S3-STRAY-1","partnerId":"S3-P-1","type":"portal_login","occurredAt":"2025-05-01T08:00:00Z"}\n';
    await putObject(s3, bucket, 'outgoing/events/stray.ndjson', stray);
    await putObject(s3, bucket, 'incoming/widgets/stray.ndjson', stray);
    await putObject(s3, bucket, 'incoming-events/stray.ndjson', stray);

    const event: S3Event = {
      Records: [
        s3Record(bucket, EVENTS_KEY),
        s3Record(bucket, 'outgoing/events/stray.ndjson'),
        s3Record(bucket, PARTNERS_KEY, 'ObjectCreated:CompleteMultipartUpload'),
        s3Record(bucket, 'incoming/widgets/stray.ndjson'),
        s3Record(bucket, 'incoming-events/stray.ndjson'),
        // A delete under incoming/ is not a file to ingest (the object is gone).
        s3Record(bucket, 'incoming/events/deleted.ndjson', 'ObjectRemoved:Delete'),
      ],
    };
    reports = await handleS3Event(stack.deps, event);
  });
  afterAll(async () => stack?.close());

  it('ingests each incoming object once, decoding the event key', () => {
    expect(reports.map((r) => r.key)).toEqual([EVENTS_KEY, PARTNERS_KEY]);
    expect(reports[0]).toMatchObject({ kind: 'events', format: 'ndjson', records: 4, accepted: 2, unchanged: 0, rejected: 2 });
    expect(reports[1]).toMatchObject({ kind: 'partners', format: 'csv', records: 3, accepted: 2, unchanged: 0, rejected: 1 });
  });

  it('stores the records with the same validation as the API', async () => {
    const { ddb } = stack.clients;
    const { tables } = stack.config;
    expect(await scanIds(ddb, tables.events, 'eventId')).toEqual(['S3-E-1', 'S3-E-2']);
    expect(await getItem(ddb, tables.events, { eventId: 'S3-E-2' })).toMatchObject({ partnerId: 'S3-P-1', type: 'qbr_attended', quantity: 3, occurredAt: '2025-05-02T08:00:00.000Z' });
    expect(await scanIds(ddb, tables.partners, 'partnerId')).toEqual(['S3-P-1', 'S3-P-2']);
    expect(await getItem(ddb, tables.partners, { partnerId: 'S3-P-1' })).toMatchObject({ name: 'Northwind, "Traders"', tier: 'gold', status: 'active' });
    expect(await getItem(ddb, tables.partners, { partnerId: 'S3-P-2' })).toMatchObject({ status: 'churned', churnedAt: '2025-01-31' });

    const events = reports[0]?.rejectedSample ?? [];
    expect(events.map((r) => r.index)).toEqual([2, 3]);
    expect(events[0]?.errors[0]?.message).toMatch(/line 4 is not valid JSON/);
    expect(events[1]).toMatchObject({ id: 'S3-E-3', errors: [{ path: 'value' }] });
    expect(reports[1]?.rejectedSample).toMatchObject([{ index: 2, id: 'S3-P-3', errors: [{ path: 'churnedAt' }] }]);

    // The rejects are kept, tagged with the object they came from.
    const batches = await listRejectBatches(stack.deps.objects, { kind: 'events' });
    expect(batches.items.length).toBeGreaterThan(0);
    const kept = (await Promise.all(batches.items.map(async (b) => (await getRejectBatch(stack.deps.objects, b.id)).entries))).flat();
    expect(kept.map((e) => [e.source, e.record]).sort()).toEqual([
      [`s3:${EVENTS_KEY}`, 'this is not json'],
      [`s3:${EVENTS_KEY}`, EVENTS_NDJSON.split('\n')[4]],
    ].sort());
  });

  it('writes a summary report next to each ingested object', async () => {
    const { s3 } = stack.clients;
    const bucket = stack.config.bucket;
    expect(await listKeys(s3, bucket, 'reports/')).toEqual([`reports/${EVENTS_KEY}.summary.json`, `reports/${PARTNERS_KEY}.summary.json`].sort());
    const report = JSON.parse((await getObjectText(s3, bucket, `reports/${EVENTS_KEY}.summary.json`)) ?? 'null') as IncomingFileReport;
    expect(report).toMatchObject({ key: EVENTS_KEY, kind: 'events', format: 'ndjson', records: 4, accepted: 2, unchanged: 0, rejected: 2 });
    expect(report.rejectedSample).toHaveLength(2);
    expect(Number.isNaN(Date.parse(report.finishedAt))).toBe(false);
  });

  it('ignores objects outside incoming/<partners|events|deals>/', async () => {
    const { ddb } = stack.clients;
    expect(await getItem(ddb, stack.config.tables.events, { eventId: 'S3-STRAY-1' })).toBeUndefined();
    const reportKeys = await listKeys(stack.clients.s3, stack.config.bucket, 'reports/');
    expect(reportKeys.some((k) => /stray|deleted/.test(k))).toBe(false);
    // Not even a delivery of only such records produces anything.
    const none = await handleS3Event(stack.deps, { Records: [s3Record(stack.config.bucket, 'outgoing/events/stray.ndjson'), s3Record(stack.config.bucket, 'reports/x.summary.json')] });
    expect(none).toEqual([]);
  });

  it('a redelivered event (S3 delivers at least once) stores nothing twice', async () => {
    const before = await getItem(stack.clients.ddb, stack.config.tables.events, { eventId: 'S3-E-1' });
    const again = await handleS3Event(stack.deps, { Records: [s3Record(stack.config.bucket, EVENTS_KEY)] });
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ records: 4, accepted: 0, unchanged: 2, rejected: 2 });
    expect(await getItem(stack.clients.ddb, stack.config.tables.events, { eventId: 'S3-E-1' })).toEqual(before);
    expect(await scanIds(stack.clients.ddb, stack.config.tables.events, 'eventId')).toEqual(['S3-E-1', 'S3-E-2']);
    const report = JSON.parse((await getObjectText(stack.clients.s3, stack.config.bucket, `reports/${EVENTS_KEY}.summary.json`)) ?? 'null') as IncomingFileReport;
    expect(report).toMatchObject({ accepted: 0, unchanged: 2 });
  });
});

describe('local stack: an object put into the bucket drives the same handler', () => {
  let dataDir: string;
  let stores: LocalStores;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ps-s3-local-'));
    stores = await openLocalStores(dataDir, { logLevel: 'silent' });
  });
  afterAll(async () => {
    await stores?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('ingests NDJSON and CSV objects put under incoming/ and writes their reports', async () => {
    const { deps } = stores;
    const bucket = deps.config.bucket;
    const s3 = deps.clients.s3;
    const { ddb } = deps.clients;
    await putObject(s3, bucket, 'incoming/partners/local partners.csv', PARTNERS_CSV);
    await putObject(s3, bucket, 'incoming/events/local+drop 50%.ndjson', EVENTS_NDJSON);
    await putObject(s3, bucket, 'outgoing/events/local.ndjson', '{"eventId":"S3-LOCAL-STRAY","partnerId":"S3-P-1","type":"portal_login","occurredAt":"2025-05-01T08:00:00Z"}\n');

    const partnersReport = await waitFor('the partners report', () => completeJson(s3, bucket, 'reports/incoming/partners/local partners.csv.summary.json'));
    expect(partnersReport).toMatchObject({ kind: 'partners', format: 'csv', records: 3, accepted: 2, rejected: 1 });
    expect(await getItem(ddb, deps.config.tables.partners, { partnerId: 'S3-P-1' })).toMatchObject({ name: 'Northwind, "Traders"' });

    const eventsReport = await waitFor('the events report', () => completeJson(s3, bucket, 'reports/incoming/events/local+drop 50%.ndjson.summary.json'));
    expect(eventsReport).toMatchObject({ kind: 'events', format: 'ndjson', records: 4, accepted: 2, rejected: 2 });
    expect(await scanIds(ddb, deps.config.tables.events, 'eventId')).toEqual(['S3-E-1', 'S3-E-2']);

    // The stray object put before the reports were written has been seen and ignored by now.
    expect(await getItem(ddb, deps.config.tables.events, { eventId: 'S3-LOCAL-STRAY' })).toBeUndefined();
    expect((await listKeys(s3, bucket, 'reports/')).sort()).toEqual(
      ['reports/incoming/events/local+drop 50%.ndjson.summary.json', 'reports/incoming/partners/local partners.csv.summary.json'].sort(),
    );
  });
});
