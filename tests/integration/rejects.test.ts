import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveRejects, type RejectEntry } from '../../data/ingest/archive';
import type { RecordKindName } from '../../data/stores/record-store';
import { startTestStack, type TestStack } from '../helpers/test-stack';

type Json = Record<string, unknown>;

interface FieldError {
  path: string;
  message: string;
}
interface IngestResponse {
  accepted: number;
  unchanged: number;
  rejected: { index: number; id?: string; errors: FieldError[] }[];
}
interface BatchSummary {
  id: string;
  kind: string;
  size: number;
  storedAt: string;
}
interface BatchList {
  items: BatchSummary[];
  nextCursor?: string;
}
interface Batch {
  id: string;
  kind: string;
  entries: RejectEntry[];
}

const ID_FIELD = { partners: 'partnerId', events: 'eventId', deals: 'dealId' } as const;

const event = (eventId: string, extra: Json = {}): Json => ({
  eventId,
  partnerId: 'REJ-P-1',
  type: 'portal_login',
  occurredAt: '2025-03-01T12:00:00Z',
  ...extra,
});

const partner = (partnerId: string, extra: Json = {}): Json => ({
  partnerId,
  name: `Partner ${partnerId}`,
  tier: 'silver',
  region: 'APAC',
  segment: 'Enterprise',
  joinedAt: '2024-06-01',
  status: 'active',
  ...extra,
});

describe('rejects: list, read, replay', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => stack?.close());

  async function call<T>(method: string, path: string, body?: unknown, key = stack.adminKey): Promise<T> {
    const res = await stack.request(method, path, { key, ...(body !== undefined ? { body } : {}) });
    expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBe(200);
    return (await res.json()) as T;
  }

  async function stored(kind: RecordKindName, id: string): Promise<Json | undefined> {
    const out = await stack.clients.ddb.send(new GetCommand({ TableName: stack.config.tables[kind], Key: { [ID_FIELD[kind]]: id }, ConsistentRead: true }));
    return out.Item as Json | undefined;
  }

  async function listAll(query = ''): Promise<BatchSummary[]> {
    const items: BatchSummary[] = [];
    let cursor: string | undefined;
    do {
      const sep = query ? '&' : '';
      const page = await call<BatchList>('GET', `/v1/rejects?${query}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  /** The batch (id and contents) holding a reject entry with this record id. */
  async function batchHolding(kind: RecordKindName, id: string): Promise<Batch> {
    for (const summary of await listAll(`kind=${kind}`)) {
      const batch = await call<Batch>('GET', `/v1/rejects/${summary.id}`);
      if (batch.entries.some((e) => e.id === id)) return batch;
    }
    throw new Error(`no reject batch holds ${kind} ${id}`);
  }

  /** Writes a reject batch object as ingest would have, and returns its id. */
  async function writeBatch(kind: RecordKindName, records: string[], errors: FieldError[] = [{ path: 'x', message: 'was refused then' }]): Promise<string> {
    const at = new Date();
    const entries: RejectEntry[] = records.map((record, index) => ({ index, errors, record, source: 'test', receivedAt: at.toISOString() }));
    const key = await archiveRejects(stack.deps.objects, kind, entries, at);
    expect(key).toMatch(new RegExp(`^rejects/${kind}/\\d{4}-\\d{2}-\\d{2}/[0-9a-f]{40}\\.ndjson$`));
    return key.replace(/^rejects\//, '').replace(/\.ndjson$/, '').replaceAll('/', '.');
  }

  it('lists the batch of a rejected record, and reads it back with the record verbatim and its reasons', async () => {
    const bad = event('REJ-NPS-1', { type: 'nps_response', value: 11 });
    const good = event('REJ-GOOD-1');
    const ingest = await call<IngestResponse>('POST', '/v1/events', [good, bad]);
    expect(ingest.accepted).toBe(1);
    expect(ingest.rejected).toEqual([{ index: 1, id: 'REJ-NPS-1', errors: [{ path: 'value', message: expect.stringMatching(/0 to 10/) }] }]);

    const batches = await listAll('kind=events');
    expect(batches.length).toBeGreaterThanOrEqual(1);
    for (const b of batches) {
      expect(b.kind).toBe('events');
      expect(b.id).toMatch(/^events\.\d{4}-\d{2}-\d{2}\.[0-9a-f]{40}$/);
      expect(b.size).toBeGreaterThan(0);
      expect(Number.isNaN(Date.parse(b.storedAt))).toBe(false);
    }

    const batch = await batchHolding('events', 'REJ-NPS-1');
    expect(batch.kind).toBe('events');
    expect(batch.entries).toHaveLength(1);
    const [entry] = batch.entries;
    expect(entry).toMatchObject({ index: 1, id: 'REJ-NPS-1', errors: ingest.rejected[0]!.errors, source: expect.stringMatching(/^api:/) });
    expect(JSON.parse(entry!.record)).toEqual(bad);
    expect(Number.isNaN(Date.parse(entry!.receivedAt))).toBe(false);
    // The accepted record of the same request is not among the rejects.
    expect(batch.entries.some((e) => e.record.includes('REJ-GOOD-1'))).toBe(false);
    // The listed size is the size of what GET returns the entries from.
    const summary = batches.find((b) => b.id === batch.id);
    const text = await stack.deps.objects.getText(`rejects/${batch.id.replaceAll('.', '/').replace(/\/([0-9a-f]{40})$/, '/$1.ndjson')}`);
    expect(summary?.size).toBe(Buffer.byteLength(text ?? ''));
  });

  it('filters the list by kind', async () => {
    const ingest = await call<IngestResponse>('POST', '/v1/partners', [partner('REJ-KIND-P', { tier: '' })]);
    expect(ingest.rejected).toHaveLength(1);
    await call<IngestResponse>('POST', '/v1/events', [event('REJ-KIND-E', { type: 'unknown_type' })]);

    const partnersOnly = await listAll('kind=partners');
    const eventsOnly = await listAll('kind=events');
    const all = await listAll();
    expect(partnersOnly.length).toBeGreaterThanOrEqual(1);
    expect(partnersOnly.every((b) => b.kind === 'partners' && b.id.startsWith('partners.'))).toBe(true);
    expect(eventsOnly.every((b) => b.kind === 'events' && b.id.startsWith('events.'))).toBe(true);
    expect(eventsOnly.length).toBeGreaterThanOrEqual(2);
    expect(new Set(all.map((b) => b.id))).toEqual(new Set([...partnersOnly, ...eventsOnly].map((b) => b.id)));

    const partnerBatch = await batchHolding('partners', 'REJ-KIND-P');
    expect(partnerBatch.entries[0]).toMatchObject({ id: 'REJ-KIND-P', errors: [{ path: 'tier', message: expect.any(String) }] });
    expect(eventsOnly.some((b) => b.id === partnerBatch.id)).toBe(false);

    const bad = await stack.request('GET', '/v1/rejects?kind=scores', { key: stack.adminKey });
    expect(bad.status).toBe(400);
  });

  it('pages through the list with limit and cursor', async () => {
    await writeBatch('deals', ['{"dealId":"REJ-PAGE-1"}']);
    await writeBatch('deals', ['{"dealId":"REJ-PAGE-2"}']);
    await writeBatch('deals', ['{"dealId":"REJ-PAGE-3"}']);
    const first = await call<BatchList>('GET', '/v1/rejects?kind=deals&limit=2');
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await call<BatchList>('GET', `/v1/rejects?kind=deals&limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(second.items.length).toBeGreaterThanOrEqual(1);
    const ids = [...first.items, ...second.items].map((b) => b.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set((await listAll('kind=deals')).map((b) => b.id)));
  });

  it('replaying a batch whose records are still invalid rejects them again and stores nothing', async () => {
    await call<IngestResponse>('POST', '/v1/events', [event('REJ-STILL-1', { type: 'nps_response', value: 42 })]);
    const batch = await batchHolding('events', 'REJ-STILL-1');

    const replay = await call<IngestResponse & { kind: string }>('POST', `/v1/rejects/${batch.id}/replay`);
    expect(replay.accepted).toBe(0);
    expect(replay.unchanged).toBe(0);
    expect(replay.rejected).toEqual([{ index: 0, id: 'REJ-STILL-1', errors: [{ path: 'value', message: expect.stringMatching(/0 to 10/) }] }]);
    expect(await stored('events', 'REJ-STILL-1')).toBeUndefined();

    // The record stays findable in the rejects archive.
    const again = await batchHolding('events', 'REJ-STILL-1');
    expect(JSON.parse(again.entries.find((e) => e.id === 'REJ-STILL-1')!.record)).toEqual(event('REJ-STILL-1', { type: 'nps_response', value: 42 }));
  });

  it('replaying a batch whose records are now valid stores them, verbatim in the raw archive, and keeps the rest rejected', async () => {
    const valid1 = JSON.stringify(event('REJ-FIX-1', { type: 'nps_response', value: 6 }));
    const valid2 = JSON.stringify(event('REJ-FIX-2', { type: 'co_sell_meeting', quantity: 3 }));
    const invalid = JSON.stringify(event('REJ-FIX-3', { occurredAt: '2025-03-01T12:00:00' }));
    const malformed = '{"eventId":"REJ-FIX-4",';
    const id = await writeBatch('events', [valid1, invalid, valid2, malformed]);

    const listed = await listAll('kind=events');
    expect(listed.some((b) => b.id === id)).toBe(true);
    const batch = await call<Batch>('GET', `/v1/rejects/${id}`);
    expect(batch.entries.map((e) => e.record)).toEqual([valid1, invalid, valid2, malformed]);

    const rawBefore = (await stack.deps.objects.list('raw/events/', { limit: 1000 })).items.length;
    const replay = await call<IngestResponse & { kind: string }>('POST', `/v1/rejects/${id}/replay`);
    expect(replay.kind).toBe('events');
    expect(replay.accepted).toBe(2);
    expect(replay.unchanged).toBe(0);
    expect(replay.rejected).toEqual([
      { index: 1, id: 'REJ-FIX-3', errors: [{ path: 'occurredAt', message: expect.stringMatching(/time zone/) }] },
      { index: 3, errors: [expect.objectContaining({ path: expect.any(String), message: expect.any(String) })] },
    ]);

    expect(await stored('events', 'REJ-FIX-1')).toMatchObject({ type: 'nps_response', value: 6, occurredAt: '2025-03-01T12:00:00.000Z' });
    expect(await stored('events', 'REJ-FIX-2')).toMatchObject({ type: 'co_sell_meeting', quantity: 3 });
    expect(await stored('events', 'REJ-FIX-3')).toBeUndefined();

    const raw = await stack.deps.objects.list('raw/events/', { limit: 1000 });
    expect(raw.items.length).toBe(rawBefore + 1);
    const rawLines: string[] = [];
    for (const o of raw.items) rawLines.push(...((await stack.deps.objects.getText(o.key)) ?? '').split('\n'));
    expect(rawLines.filter((l) => l === valid1)).toHaveLength(1);
    expect(rawLines.filter((l) => l === valid2)).toHaveLength(1);
    expect(rawLines.some((l) => l.includes('REJ-FIX-3'))).toBe(false);

    // Replaying again is idempotent: the stored ones are unchanged, the invalid ones still rejected.
    const second = await call<IngestResponse>('POST', `/v1/rejects/${id}/replay`);
    expect(second.accepted).toBe(0);
    expect(second.unchanged).toBe(2);
    expect(second.rejected.map((r) => r.index)).toEqual([1, 3]);
    expect((await stack.deps.objects.list('raw/events/', { limit: 1000 })).items.length).toBe(rawBefore + 1);
  });

  it('replays partner batches into the partners table', async () => {
    const record = JSON.stringify(partner('REJ-FIX-P', { status: 'churned', churnedAt: '2025-01-31' }));
    const id = await writeBatch('partners', [record], [{ path: 'churnedAt', message: 'was once refused' }]);
    expect(id.startsWith('partners.')).toBe(true);
    const replay = await call<IngestResponse & { kind: string }>('POST', `/v1/rejects/${id}/replay`);
    expect(replay).toEqual({ kind: 'partners', accepted: 1, unchanged: 0, rejected: [] });
    expect(await stored('partners', 'REJ-FIX-P')).toMatchObject({ status: 'churned', churnedAt: '2025-01-31', tier: 'silver' });
    expect(await stored('events', 'REJ-FIX-P')).toBeUndefined();
  });

  it('answers 404 for a batch that does not exist and 400 for an id that is not a batch id', async () => {
    const missing = `events.2025-01-01.${'0'.repeat(40)}`;
    for (const path of [`/v1/rejects/${missing}`, `/v1/rejects/${missing}/replay`]) {
      const res = await stack.request(path.endsWith('replay') ? 'POST' : 'GET', path, { key: stack.adminKey });
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const bad = await stack.request('GET', '/v1/rejects/not-a-batch', { key: stack.adminKey });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors?: FieldError[] }).errors?.[0]?.path).toBe('path.id');
  });

  it('is open to admin and ops only', async () => {
    const id = await writeBatch('events', [JSON.stringify(event('REJ-ROLE-1'))]);
    const ops = await stack.keyFor('ops');
    expect((await stack.request('GET', '/v1/rejects?kind=events', { key: ops })).status).toBe(200);
    expect((await stack.request('GET', `/v1/rejects/${id}`, { key: ops })).status).toBe(200);

    for (const key of [await stack.keyFor('integration'), await stack.keyFor('partner', 'REJ-P-1')]) {
      expect((await stack.request('GET', '/v1/rejects', { key })).status).toBe(403);
      expect((await stack.request('GET', `/v1/rejects/${id}`, { key })).status).toBe(403);
      expect((await stack.request('POST', `/v1/rejects/${id}/replay`, { key })).status).toBe(403);
    }
    expect((await stack.request('GET', '/v1/rejects')).status).toBe(401);
    // None of the refused replays stored anything.
    expect(await stored('events', 'REJ-ROLE-1')).toBeUndefined();
  });
});
