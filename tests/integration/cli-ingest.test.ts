import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRejectBatch, listRejectBatches, replayRejectBatch } from '../../data/ingest/rejects';
import type { ObjectStore } from '../../data/stores/object-store';
import type { RecordKindName } from '../../data/stores/record-store';
import type { TableNames } from '../../data/stores/tables';
import { ingestFile } from '../../functions/cli/ingest-file';
import { runCli } from '../../functions/cli/main';
import { openLocalStores } from '../../functions/local/local-stack';
import { startTestStack, type TestStack } from '../helpers/test-stack';

// ---------------------------------------------------------------------------------------------
// Fixtures. Row numbers in comments are data-row indexes (0-based), which is what `index` reports.

const PARTNERS_HEADER = 'partnerId,name,tier,region,segment,joinedAt,status,churnedAt,updatedAt';
const PARTNERS_CSV = [
  PARTNERS_HEADER,
  // 0: a quoted name with a comma; empty optional cells (churnedAt, updatedAt)
  'P-100,"Acme, Inc.",gold,NA,SMB,2024-01-15,active,,',
  // 1: a quoted name with doubled quotes and a comma; every optional cell set
  'P-101,"The ""Best"" Partners, LLC",silver,EMEA,ENT,2023-06-01,churned,2024-11-30,2024-12-01T00:00:00Z',
  // 2: a quoted name spanning two lines (the CSV reader must not split the record there)
  'P-102,"Two\nLines",gold,APAC,MID,2024-02-01,active,,',
  // 3: four cells where the header has nine (CSV line 6: the record above spans lines 4 and 5)
  'P-103,Short Row,gold,NA',
  // 4: fails validation: joinedAt is not a date
  'P-104,Bad Date,gold,NA,SMB,not-a-date,active,,',
  '',
].join('\n');

const DEALS_CSV = [
  'dealId,partnerId,partnerRole,amount,stage,createdAt,closedAt,updatedAt',
  // 0: numeric amount with decimals, a won deal
  'D-1,P-100,sourced,12500.50,won,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z,2025-02-01T00:00:00Z',
  // 1: a direct deal: empty partnerId and partnerRole, empty closedAt
  'D-2,,,9000,open,2025-01-05T00:00:00Z,,2025-01-05T00:00:00Z',
  // 2: the numeric column holds text
  'D-3,P-101,influenced,lots,open,2025-01-06T00:00:00Z,,2025-01-06T00:00:00Z',
  // 3: a partner deal without a role
  'D-4,P-101,,10,open,2025-01-07T00:00:00Z,,2025-01-07T00:00:00Z',
  // 4: too many cells
  'D-5,P-100,sourced,1,open,2025-01-07T00:00:00Z,,2025-01-07T00:00:00Z,extra',
  '',
].join('\n');

// Accepted lines are kept verbatim in the raw archive: keep their odd spacing and key order.
const E1 = '{"eventId":"E-1","partnerId":"P-100","type":"portal_login","occurredAt":"2025-03-01T10:00:00Z"}';
const E2 = '{ "type": "nps_response", "eventId": "E-2", "partnerId": "P-100", "occurredAt": "2025-03-02T00:00:00+02:00", "value": 9 }';
const E3 = '{"eventId":"E-3","partnerId":"P-UNKNOWN","type":"training_completed","occurredAt":"2025-03-03T00:00:00Z","quantity":2.5}';
const EVENTS_NDJSON = [
  E1, // 0
  '',
  E2, // 1
  '{"eventId":"E-BROKEN", "partnerId":', // 2: line 4, not JSON
  '   ',
  `${E3}\r`, // 3: a CRLF line ending
  '{"eventId":"E-4","partnerId":"P-100","type":"coffee_break","occurredAt":"2025-03-04T00:00:00Z"}', // 4: unknown type
  '',
  '',
].join('\n');

// ---------------------------------------------------------------------------------------------

async function getItem(ddb: DynamoDBDocumentClient, tables: TableNames, kind: RecordKindName, id: string): Promise<Record<string, unknown> | undefined> {
  const key = { partners: 'partnerId', events: 'eventId', deals: 'dealId' }[kind];
  const out = await ddb.send(new GetCommand({ TableName: tables[kind], Key: { [key]: id }, ConsistentRead: true }));
  return out.Item;
}

async function scanAll(ddb: DynamoDBDocumentClient, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

async function listKeys(objects: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await objects.list(prefix, { limit: 1000, ...(cursor ? { cursor } : {}) });
    keys.push(...page.items.map((i) => i.key));
    cursor = page.nextCursor;
  } while (cursor);
  return keys;
}

/** Every reject entry of a kind, across all batches. */
async function allRejects(objects: ObjectStore, kind: RecordKindName): Promise<{ batches: number; entries: Awaited<ReturnType<typeof getRejectBatch>>['entries'] }> {
  const { items } = await listRejectBatches(objects, { kind, limit: 1000 });
  const entries = [];
  for (const b of items) entries.push(...(await getRejectBatch(objects, b.id)).entries);
  return { batches: items.length, entries };
}

const ids = (items: Record<string, unknown>[], field: string): string[] => items.map((i) => String(i[field])).sort();

// ---------------------------------------------------------------------------------------------

describe('ingestFile against the test stack', () => {
  let stack: TestStack;
  let dir: string;
  const file = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, body);
    return path;
  };

  beforeAll(async () => {
    stack = await startTestStack();
    dir = mkdtempSync(join(tmpdir(), 'ps-cli-files-'));
  });
  afterAll(async () => {
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('partners CSV: quoted cells, an empty optional cell, a short row and an invalid row', async () => {
    const path = file('partners.csv', PARTNERS_CSV);
    const summary = await ingestFile('partners', path, stack.deps);

    expect(summary).toMatchObject({ format: 'csv', records: 5, accepted: 3, unchanged: 0, rejected: 2 });
    expect(summary.rejectedSample).toHaveLength(2);
    const [short, invalid] = summary.rejectedSample;
    expect(short?.index).toBe(3);
    expect(short?.errors).toHaveLength(1);
    expect(short?.errors[0]?.message).toMatch(/CSV line 6 has 4 cells; the header has 9/);
    expect(invalid).toMatchObject({ index: 4, id: 'P-104' });
    expect(invalid?.errors.map((e) => e.path)).toEqual(['joinedAt']);

    const { ddb } = stack.clients;
    const tables = stack.config.tables;
    expect(ids(await scanAll(ddb, tables.partners), 'partnerId')).toEqual(['P-100', 'P-101', 'P-102']);

    const acme = await getItem(ddb, tables, 'partners', 'P-100');
    expect(acme).toMatchObject({ partnerId: 'P-100', name: 'Acme, Inc.', tier: 'gold', region: 'NA', segment: 'SMB', joinedAt: '2024-01-15', status: 'active' });
    // Empty optional cells are absent, not stored as empty strings.
    expect(acme).not.toHaveProperty('churnedAt');
    expect(acme).not.toHaveProperty('updatedAt');

    const best = await getItem(ddb, tables, 'partners', 'P-101');
    expect(best).toMatchObject({ name: 'The "Best" Partners, LLC', status: 'churned', churnedAt: '2024-11-30', updatedAt: '2024-12-01T00:00:00.000Z' });
    expect((await getItem(ddb, tables, 'partners', 'P-102'))?.name).toBe('Two\nLines');

    // Both rejected rows are kept, with their reasons and where they came from.
    const rejects = await allRejects(stack.deps.objects, 'partners');
    const kept = rejects.entries.sort((a, b) => a.index - b.index);
    expect(kept.map((e) => [e.index, e.id])).toEqual([
      [3, undefined],
      [4, 'P-104'],
    ]);
    expect(kept.every((e) => e.source === 'cli:partners.csv')).toBe(true);
    expect(kept[1]?.errors[0]?.path).toBe('joinedAt');
    expect(JSON.parse(kept[1]?.record ?? '{}')).toMatchObject({ partnerId: 'P-104', joinedAt: 'not-a-date' });
    expect(kept[0]?.record).toContain('Short Row');
  });

  it('re-running the same file changes nothing: all unchanged, no new items, no new archive objects', async () => {
    const path = join(dir, 'partners.csv');
    const before = await scanAll(stack.clients.ddb, stack.config.tables.partners);
    const rawBefore = await listKeys(stack.deps.objects, 'raw/partners/');
    expect(rawBefore.length).toBeGreaterThan(0);

    const summary = await ingestFile('partners', path, stack.deps);
    expect(summary).toMatchObject({ records: 5, accepted: 0, unchanged: 3, rejected: 2 });

    const after = await scanAll(stack.clients.ddb, stack.config.tables.partners);
    // Same items, byte for byte (ingestedAt included: nothing was rewritten).
    const byId = (items: Record<string, unknown>[]) => Object.fromEntries(items.map((i) => [String(i.partnerId), i]));
    expect(byId(after)).toEqual(byId(before));
    expect(await listKeys(stack.deps.objects, 'raw/partners/')).toEqual(rawBefore);
    // The rejects of the re-run land in the same (content-addressed) batch: kept once, not twice.
    const rejects = await allRejects(stack.deps.objects, 'partners');
    expect(rejects.entries).toHaveLength(2);
  });

  it('deals CSV: a numeric column, a direct deal, and rows that fail', async () => {
    const summary = await ingestFile('deals', file('deals.csv', DEALS_CSV), stack.deps);
    expect(summary).toMatchObject({ records: 5, accepted: 2, unchanged: 0, rejected: 3 });
    const byIndex = new Map(summary.rejectedSample.map((r) => [r.index, r]));
    expect([...byIndex.keys()].sort()).toEqual([2, 3, 4]);
    expect(byIndex.get(2)).toMatchObject({ id: 'D-3', errors: [{ path: 'amount', message: 'must be a number' }] });
    expect(byIndex.get(3)).toMatchObject({ id: 'D-4' });
    expect(byIndex.get(3)?.errors.map((e) => e.path)).toEqual(['partnerRole']);
    expect(byIndex.get(4)?.errors[0]?.message).toMatch(/has 9 cells; the header has 8/);

    const { ddb } = stack.clients;
    const won = await getItem(ddb, stack.config.tables, 'deals', 'D-1');
    expect(won).toMatchObject({ dealId: 'D-1', partnerId: 'P-100', partnerRole: 'sourced', stage: 'won', closedAt: '2025-02-01T00:00:00.000Z' });
    expect(won?.amount).toBe(12500.5);
    expect(typeof won?.amount).toBe('number');

    const direct = await getItem(ddb, stack.config.tables, 'deals', 'D-2');
    expect(direct).toMatchObject({ dealId: 'D-2', amount: 9000, stage: 'open', createdAt: '2025-01-05T00:00:00.000Z' });
    // A direct deal carries no partner attributes at all (nor an empty closedAt).
    expect(direct).not.toHaveProperty('partnerId');
    expect(direct).not.toHaveProperty('partnerRole');
    expect(direct).not.toHaveProperty('closedAt');
    expect(ids(await scanAll(ddb, stack.config.tables.deals), 'dealId')).toEqual(['D-1', 'D-2']);
  });

  it('replays a rejected CSV row as the CSV reader read it: the same reasons, no new ones', async () => {
    const batches = await listRejectBatches(stack.deps.objects, { kind: 'deals' });
    let batchId: string | undefined;
    for (const b of batches.items) if ((await getRejectBatch(stack.deps.objects, b.id)).entries.some((e) => e.id === 'D-4')) batchId = b.id;
    expect(batchId).toBeDefined();
    const replay = await replayRejectBatch(stack.deps, batchId!);
    const d4 = replay.rejected.find((r) => r.id === 'D-4');
    expect(d4?.errors.map((e) => e.path)).toEqual(['partnerRole']);
    expect(replay.accepted).toBe(0);
  });

  it('events NDJSON: blank lines skipped, a malformed line and an invalid record rejected, the rest stored', async () => {
    const summary = await ingestFile('events', file('events.ndjson', EVENTS_NDJSON), stack.deps);
    expect(summary).toMatchObject({ format: 'ndjson', records: 5, accepted: 3, unchanged: 0, rejected: 2 });
    const [broken, unknownType] = summary.rejectedSample;
    expect(broken?.index).toBe(2);
    expect(broken?.errors[0]?.message).toMatch(/line 4 is not valid JSON/);
    expect(unknownType).toMatchObject({ index: 4, id: 'E-4' });
    expect(unknownType?.errors.map((e) => e.path)).toEqual(['type']);

    const { ddb } = stack.clients;
    const tables = stack.config.tables;
    expect(ids(await scanAll(ddb, tables.events), 'eventId')).toEqual(['E-1', 'E-2', 'E-3']);
    expect(await getItem(ddb, tables, 'events', 'E-1')).toMatchObject({ type: 'portal_login', quantity: 1, occurredAt: '2025-03-01T10:00:00.000Z' });
    // Stored in UTC.
    expect(await getItem(ddb, tables, 'events', 'E-2')).toMatchObject({ type: 'nps_response', value: 9, occurredAt: '2025-03-01T22:00:00.000Z' });
    expect(await getItem(ddb, tables, 'events', 'E-3')).toMatchObject({ partnerId: 'P-UNKNOWN', quantity: 2.5 });

    // Accepted lines are archived verbatim; the malformed one is kept with the rejects.
    const rawKeys = await listKeys(stack.deps.objects, 'raw/events/');
    const rawLines = (await Promise.all(rawKeys.map((k) => stack.deps.objects.getText(k)))).flatMap((t) => (t ?? '').split('\n')).filter((l) => l !== '');
    expect(rawLines.sort()).toEqual([E1, E2, E3].sort());
    const rejects = await allRejects(stack.deps.objects, 'events');
    expect(rejects.entries.map((e) => e.record).sort()).toEqual(['{"eventId":"E-BROKEN", "partnerId":', EVENTS_NDJSON.split('\n')[6]].sort());

    // Events are immutable: the same line again is unchanged, the same id with other content is refused.
    const again = await ingestFile('events', file('events-again.ndjson', `${E1}\n${E2.replace('"value": 9', '"value": 3')}\n`), stack.deps);
    expect(again).toMatchObject({ records: 2, accepted: 0, unchanged: 1, rejected: 1 });
    expect(again.rejectedSample[0]).toMatchObject({ index: 1, id: 'E-2', errors: [{ path: 'eventId' }] });
    expect((await getItem(ddb, tables, 'events', 'E-2'))?.value).toBe(9);
  });

  it('versions of one deal spread across batches and lanes end in the newest version, as a sequential ingest would', async () => {
    // 4 deals × 7 versions each, in a scrambled time order, interleaved with 20 one-off deals.
    const versionIds = ['DV-a', 'DV-b', 'DV-c', 'DV-d'];
    const order = [3, 0, 5, 1, 6, 2, 4]; // day offsets, in file order: newest (6) is neither first nor last
    const lines: string[] = [];
    let filler = 0;
    const deal = (dealId: string, day: number, amount: number): string =>
      JSON.stringify({
        dealId,
        partnerId: 'P-100',
        partnerRole: 'sourced',
        amount,
        stage: 'open',
        createdAt: '2025-04-01T00:00:00Z',
        updatedAt: `2025-04-${String(10 + day).padStart(2, '0')}T00:00:00Z`,
      });
    for (const day of order) {
      for (const id of versionIds) lines.push(deal(id, day, 1000 + day));
      lines.push(deal(`DF-${filler++}`, 0, 1), deal(`DF-${filler++}`, 0, 1), deal(`DF-${filler++}`, 0, 1));
    }
    const path = file('deal-versions.ndjson', `${lines.join('\n')}\n`);

    // What a one-by-one ingest gives: a version is stored when it is not older than the stored one.
    let newest = -1;
    let expectedAcceptedPerId = 0;
    for (const day of order) {
      if (day >= newest) {
        expectedAcceptedPerId++;
        newest = day;
      }
    }
    expect(expectedAcceptedPerId).toBe(3); // days 3, 5 and 6; days 0, 1, 2 and 4 arrive after a newer one
    const summary = await ingestFile('deals', path, stack.deps, { batchSize: 3, lanes: 4 });
    expect(summary.records).toBe(lines.length);
    expect(summary.rejected).toBe(0);
    expect(summary.accepted).toBe(versionIds.length * expectedAcceptedPerId + filler);
    expect(summary.unchanged).toBe(versionIds.length * (order.length - expectedAcceptedPerId));

    for (const id of versionIds) {
      const item = await getItem(stack.clients.ddb, stack.config.tables, 'deals', id);
      expect(item).toMatchObject({ amount: 1006, updatedAt: '2025-04-16T00:00:00.000Z' });
    }

    // An older version arriving later is ignored; the stored one stays.
    const stale = await ingestFile('deals', file('stale.ndjson', `${deal('DV-a', 1, 5)}\n`), stack.deps);
    expect(stale).toMatchObject({ accepted: 0, unchanged: 1, rejected: 0 });
    expect((await getItem(stack.clients.ddb, stack.config.tables, 'deals', 'DV-a'))?.amount).toBe(1006);
  });
});

// ---------------------------------------------------------------------------------------------

describe('runCli on a data dir (embedded stores on disk)', () => {
  let dataDir: string;
  let filesDir: string;

  async function cli(...argv: string[]): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const code = await runCli([...argv, '--data-dir', dataDir], (l) => lines.push(...l.split('\n')));
    return { code, lines };
  }

  /** Opens the data dir after the CLI has closed it: what it stored is on disk. */
  async function withStores<T>(fn: (s: Awaited<ReturnType<typeof openLocalStores>>) => Promise<T>): Promise<T> {
    const stores = await openLocalStores(dataDir, { logLevel: 'silent' });
    try {
      return await fn(stores);
    } finally {
      await stores.close();
    }
  }

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ps-cli-data-'));
    filesDir = mkdtempSync(join(tmpdir(), 'ps-cli-in-'));
    writeFileSync(join(filesDir, 'partners.csv'), PARTNERS_CSV);
    writeFileSync(join(filesDir, 'events.ndjson'), EVENTS_NDJSON);
    writeFileSync(join(filesDir, 'deals.txt'), DEALS_CSV);
  });
  afterAll(() => {
    for (const d of [dataDir, filesDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('ingests a CSV file, prints a summary and keeps the data on disk', async () => {
    const file = join(filesDir, 'partners.csv');
    const { code, lines } = await cli('ingest', 'partners', file);
    expect(code).toBe(0);
    expect(lines[0]).toMatch(new RegExp(`^partners from ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(csv\\): 5 records in \\d+\\.\\d s$`));
    expect(lines[1]).toBe('  accepted 3, unchanged 0, rejected 2');
    expect(lines[2]).toBe('  record 3: (record) CSV line 6 has 4 cells; the header has 9');
    expect(lines[3]).toMatch(/^ {2}record 4 \(P-104\): joinedAt must be an ISO 8601 date/);
    expect(lines[4]).toMatch(/all rejected records are kept/);
    expect(lines).toHaveLength(5);

    await withStores(async ({ deps }) => {
      const items = await scanAll(deps.clients.ddb, deps.config.tables.partners);
      expect(ids(items, 'partnerId')).toEqual(['P-100', 'P-101', 'P-102']);
      expect(items.find((i) => i.partnerId === 'P-101')?.name).toBe('The "Best" Partners, LLC');
    });
  });

  it('re-running the same file reports everything unchanged and adds nothing', async () => {
    const { code, lines } = await cli('ingest', 'partners', join(filesDir, 'partners.csv'));
    expect(code).toBe(0);
    expect(lines[1]).toBe('  accepted 0, unchanged 3, rejected 2');
    await withStores(async ({ deps }) => {
      expect(await scanAll(deps.clients.ddb, deps.config.tables.partners)).toHaveLength(3);
    });
  });

  it('ingests NDJSON events and, with --format csv, a CSV file of deals without a .csv name', async () => {
    const events = await cli('ingest', 'events', join(filesDir, 'events.ndjson'));
    expect(events.code).toBe(0);
    expect(events.lines[0]).toMatch(/\(ndjson\): 5 records in/);
    expect(events.lines[1]).toBe('  accepted 3, unchanged 0, rejected 2');
    expect(events.lines[2]).toMatch(/^ {2}record 2: \(record\) line 4 is not valid JSON/);
    expect(events.lines[3]).toMatch(/^ {2}record 4 \(E-4\): type must be one of/);

    const deals = await cli('ingest', 'deals', join(filesDir, 'deals.txt'), '--format', 'csv');
    expect(deals.code).toBe(0);
    expect(deals.lines[0]).toMatch(/\(csv\): 5 records in/);
    expect(deals.lines[1]).toBe('  accepted 2, unchanged 0, rejected 3');

    await withStores(async ({ deps }) => {
      expect(ids(await scanAll(deps.clients.ddb, deps.config.tables.events), 'eventId')).toEqual(['E-1', 'E-2', 'E-3']);
      const direct = await getItem(deps.clients.ddb, deps.config.tables, 'deals', 'D-2');
      expect(direct).toMatchObject({ amount: 9000 });
      expect(direct).not.toHaveProperty('partnerId');
    });
  });

  it('keeps rejects where `rejects list` and `rejects show` find them', async () => {
    const list = await cli('rejects', 'list', '--kind', 'partners');
    expect(list.code).toBe(0);
    const batchIds = list.lines.map((l) => l.split('\t')[0] ?? '');
    expect(batchIds.length).toBeGreaterThan(0);
    for (const id of batchIds) expect(id).toMatch(/^partners\.\d{4}-\d{2}-\d{2}\.[0-9a-f]{40}$/);

    const shown: string[] = [];
    for (const id of batchIds) {
      const show = await cli('rejects', 'show', id);
      expect(show.code).toBe(0);
      shown.push(...show.lines);
    }
    // Each rejected row once, though the file was ingested twice.
    expect(shown.map((l) => (JSON.parse(l) as { partnerId?: string }).partnerId).sort()).toEqual(['P-103', 'P-104']);

    // Replaying without a fix rejects them again and stores nothing.
    let rejectedAgain = 0;
    for (const id of batchIds) {
      const replay = await cli('rejects', 'replay', id);
      expect(replay.code).toBe(0);
      const m = /^replayed (\S+): accepted 0, unchanged 0, rejected (\d+)$/.exec(replay.lines[0] ?? '');
      expect(m?.[1]).toBe(id);
      rejectedAgain += Number(m?.[2]);
    }
    expect(rejectedAgain).toBe(2);
    await withStores(async ({ deps }) => {
      expect(await scanAll(deps.clients.ddb, deps.config.tables.partners)).toHaveLength(3);
    });
  });

  it('refuses an unknown kind or a missing file argument with exit code 2', async () => {
    expect((await cli('ingest', 'widgets', join(filesDir, 'partners.csv'))).code).toBe(2);
    expect((await cli('ingest', 'partners')).code).toBe(2);
  });
});
