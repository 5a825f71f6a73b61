import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../data/errors';
import { parseRejects, type RejectEntry } from '../../data/ingest/archive';
import type { RecordKindName, RecordStore } from '../../data/stores/record-store';
import { startTestStack, type TestStack } from '../helpers/test-stack';

type Json = Record<string, unknown>;

interface IngestResponse {
  accepted: number;
  unchanged: number;
  rejected: { index: number; id?: string; errors: { path: string; message: string }[] }[];
}

const ID_FIELD = { partners: 'partnerId', events: 'eventId', deals: 'dealId' } as const;

const partner = (partnerId: string, extra: Json = {}): Json => ({
  partnerId,
  name: `Partner ${partnerId}`,
  tier: 'gold',
  region: 'EMEA',
  segment: 'SMB',
  joinedAt: '2024-01-15',
  status: 'active',
  ...extra,
});

const event = (eventId: string, extra: Json = {}): Json => ({
  eventId,
  partnerId: 'ING-P-1',
  type: 'portal_login',
  occurredAt: '2025-03-01T12:00:00Z',
  ...extra,
});

const deal = (dealId: string, extra: Json = {}): Json => ({
  dealId,
  partnerId: 'ING-P-1',
  partnerRole: 'sourced',
  amount: 1000,
  stage: 'open',
  createdAt: '2025-01-10T09:00:00Z',
  updatedAt: '2025-01-10T09:00:00Z',
  ...extra,
});

describe('ingest over HTTP', () => {
  let stack: TestStack;
  /** When set, the next RecordStore write fails as an unavailable DynamoDB would (after archiving has happened). */
  let failNextWrite = false;

  beforeAll(async () => {
    stack = await startTestStack((base) => {
      const records: RecordStore = {
        getVersions: (kind, ids) => base.records.getVersions(kind, ids),
        hasAny: (kind) => base.records.hasAny(kind),
        putAll: async (kind, items) => {
          if (failNextWrite) {
            failNextWrite = false;
            throw new StoreUnavailableError('DynamoDB (injected)');
          }
          return base.records.putAll(kind, items);
        },
        putUnlessNewerStored: async (kind, item) => {
          if (failNextWrite) {
            failNextWrite = false;
            throw new StoreUnavailableError('DynamoDB (injected)');
          }
          return base.records.putUnlessNewerStored(kind, item);
        },
      };
      return { records };
    });
  });
  afterAll(async () => stack?.close());

  async function post(kind: RecordKindName, body: unknown): Promise<IngestResponse> {
    const res = await stack.request('POST', `/v1/${kind}`, { key: stack.adminKey, body });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as IngestResponse;
  }

  async function postRaw(kind: RecordKindName, rawBody: string, contentType: string, headers: Record<string, string> = {}): Promise<Response> {
    return stack.request('POST', `/v1/${kind}`, { key: stack.adminKey, rawBody, headers: { 'content-type': contentType, ...headers } });
  }

  async function stored(kind: RecordKindName, id: string): Promise<Json | undefined> {
    const out = await stack.clients.ddb.send(new GetCommand({ TableName: stack.config.tables[kind], Key: { [ID_FIELD[kind]]: id }, ConsistentRead: true }));
    return out.Item as Json | undefined;
  }

  async function count(kind: RecordKindName): Promise<number> {
    let total = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await stack.clients.ddb.send(new ScanCommand({ TableName: stack.config.tables[kind], Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey: start }));
      total += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    return total;
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await stack.deps.objects.list(prefix, { limit: 1000, ...(cursor ? { cursor } : {}) });
      keys.push(...page.items.map((i) => i.key));
      cursor = page.nextCursor;
    } while (cursor);
    return keys;
  }

  /** Every line of every object under a prefix, with the object it is in. */
  async function linesUnder(prefix: string): Promise<{ key: string; line: string }[]> {
    const out: { key: string; line: string }[] = [];
    for (const key of await keysUnder(prefix)) {
      const text = (await stack.deps.objects.getText(key)) ?? '';
      for (const line of text.split('\n')) if (line !== '') out.push({ key, line });
    }
    return out;
  }

  async function rejectEntries(kind: RecordKindName): Promise<RejectEntry[]> {
    const out: RejectEntry[] = [];
    for (const key of await keysUnder(`rejects/${kind}/`)) out.push(...parseRejects((await stack.deps.objects.getText(key)) ?? ''));
    return out;
  }

  it('stores the good records of a mixed request and reports the bad ones by index, id and field', async () => {
    const good1 = partner('ING-MIX-1');
    const bad2 = partner('ING-MIX-2', { tier: 't'.repeat(41) });
    const good3 = partner('ING-MIX-3', { status: 'churned', churnedAt: '2025-01-01' });
    const bad4 = partner('ING-MIX-4', { status: 'churned' });
    const bad5 = { ...partner('ING-MIX-5'), joinedAt: '2025-02-30', shoeSize: 42 };

    const result = await post('partners', [good1, bad2, good3, bad4, bad5]);

    expect(result.accepted).toBe(2);
    expect(result.unchanged).toBe(0);
    expect(result.rejected).toEqual([
      { index: 1, id: 'ING-MIX-2', errors: [{ path: 'tier', message: expect.stringMatching(/40/) }] },
      { index: 3, id: 'ING-MIX-4', errors: [{ path: 'churnedAt', message: expect.stringMatching(/required/) }] },
      {
        index: 4,
        id: 'ING-MIX-5',
        errors: expect.arrayContaining([
          { path: 'joinedAt', message: expect.stringMatching(/date/) },
          { path: 'shoeSize', message: expect.stringMatching(/not a known field/) },
        ]),
      },
    ]);
    expect(result.rejected[2]?.errors).toHaveLength(2);

    expect(await stored('partners', 'ING-MIX-1')).toMatchObject(good1);
    expect(await stored('partners', 'ING-MIX-3')).toMatchObject({ ...good3, churnedAt: '2025-01-01' });
    expect(await stored('partners', 'ING-MIX-2')).toBeUndefined();
    expect(await stored('partners', 'ING-MIX-4')).toBeUndefined();
    expect(await stored('partners', 'ING-MIX-5')).toBeUndefined();

    // Rejected records are kept, verbatim, with their reasons, where an operator can find them.
    const kept = (await rejectEntries('partners')).filter((e) => e.id?.startsWith('ING-MIX-'));
    expect(kept.map((e) => [e.index, e.id])).toEqual([
      [1, 'ING-MIX-2'],
      [3, 'ING-MIX-4'],
      [4, 'ING-MIX-5'],
    ]);
    expect(JSON.parse(kept[0]!.record)).toEqual(bad2);
    expect(JSON.parse(kept[1]!.record)).toEqual(bad4);
    expect(JSON.parse(kept[2]!.record)).toEqual(bad5);
    expect(kept[0]!.errors).toEqual(result.rejected[0]!.errors);
    expect(kept[2]!.errors).toEqual(result.rejected[2]!.errors);
    expect(kept[0]!.source).toMatch(/^api:/);
    expect(Number.isNaN(Date.parse(kept[0]!.receivedAt))).toBe(false);
  });

  it('stores records normalized: dates as YYYY-MM-DD, date-times in UTC with Z, event quantity defaulted', async () => {
    await post('partners', [partner('ING-NORM-P', { joinedAt: '2024-01-15T23:30:00-02:00', updatedAt: '2025-03-01T12:00:00+02:00' })]);
    await post('events', [event('ING-NORM-E', { occurredAt: '2025-03-01T01:30:00+05:30' })]);
    await post('deals', [deal('ING-NORM-D', { partnerId: null, partnerRole: null, updatedAt: '2025-01-10T10:00:00+01:00' })]);

    expect(await stored('partners', 'ING-NORM-P')).toMatchObject({ joinedAt: '2024-01-16', updatedAt: '2025-03-01T10:00:00.000Z' });
    expect(await stored('events', 'ING-NORM-E')).toMatchObject({ occurredAt: '2025-02-28T20:00:00.000Z', quantity: 1 });
    const direct = await stored('deals', 'ING-NORM-D');
    expect(direct).toMatchObject({ createdAt: '2025-01-10T09:00:00.000Z', updatedAt: '2025-01-10T09:00:00.000Z', amount: 1000 });
    // A direct deal has no partner attributes at all.
    expect(direct).not.toHaveProperty('partnerId');
    expect(direct).not.toHaveProperty('partnerRole');
  });

  it('accepts a JSON array, {"items": [...]} and NDJSON bodies alike', async () => {
    const asArray = await post('events', [event('ING-FMT-A1'), event('ING-FMT-A2')]);
    const asItems = await post('events', { items: [event('ING-FMT-I1'), event('ING-FMT-I2'), event('ING-FMT-I3')] });
    const ndjson = `${JSON.stringify(event('ING-FMT-N1'))}\n\n${JSON.stringify(event('ING-FMT-N2'))}\r\n`;
    const res = await postRaw('events', ndjson, 'application/x-ndjson');
    expect(res.status).toBe(200);
    const asNdjson = (await res.json()) as IngestResponse;

    expect(asArray).toEqual({ accepted: 2, unchanged: 0, rejected: [] });
    expect(asItems).toEqual({ accepted: 3, unchanged: 0, rejected: [] });
    expect(asNdjson).toEqual({ accepted: 2, unchanged: 0, rejected: [] });
    for (const id of ['ING-FMT-A1', 'ING-FMT-A2', 'ING-FMT-I1', 'ING-FMT-I2', 'ING-FMT-I3', 'ING-FMT-N1', 'ING-FMT-N2']) {
      expect(await stored('events', id), id).toMatchObject({ eventId: id, type: 'portal_login', partnerId: 'ING-P-1' });
    }
  });

  it('rejects a malformed NDJSON line alone and stores the rest', async () => {
    const broken = '{"eventId": "ING-ND-2", "partnerId": ';
    const body = [JSON.stringify(event('ING-ND-1')), broken, JSON.stringify(event('ING-ND-3'))].join('\n');
    const res = await postRaw('events', body, 'application/x-ndjson; charset=utf-8');
    expect(res.status).toBe(200);
    const result = (await res.json()) as IngestResponse;

    expect(result.accepted).toBe(2);
    expect(result.rejected).toEqual([{ index: 1, errors: [{ path: '', message: expect.stringMatching(/line 2 is not valid JSON/) }] }]);
    expect(await stored('events', 'ING-ND-1')).toBeDefined();
    expect(await stored('events', 'ING-ND-3')).toBeDefined();
    expect(await stored('events', 'ING-ND-2')).toBeUndefined();
    const kept = (await rejectEntries('events')).filter((e) => e.record === broken);
    expect(kept).toHaveLength(1);
    expect(kept[0]!.errors[0]?.message).toMatch(/not valid JSON/);
  });

  it('is idempotent: the same request twice stores once and reports the second as unchanged', async () => {
    const body = [partner('ING-IDEM-P1'), partner('ING-IDEM-P2', { updatedAt: '2025-01-01T00:00:00Z' })];
    const events = [event('ING-IDEM-E1'), event('ING-IDEM-E2', { type: 'nps_response', value: 9 })];
    const deals = [deal('ING-IDEM-D1'), deal('ING-IDEM-D2', { stage: 'won', closedAt: '2025-02-01T00:00:00Z' })];

    expect(await post('partners', body)).toEqual({ accepted: 2, unchanged: 0, rejected: [] });
    expect(await post('events', events)).toEqual({ accepted: 2, unchanged: 0, rejected: [] });
    expect(await post('deals', deals)).toEqual({ accepted: 2, unchanged: 0, rejected: [] });
    const counts = { partners: await count('partners'), events: await count('events'), deals: await count('deals') };
    const firstIngest = (await stored('events', 'ING-IDEM-E1'))?.ingestedAt;
    const firstDeal = (await stored('deals', 'ING-IDEM-D2'))?.ingestedAt;
    expect(firstIngest).toEqual(expect.any(String));

    expect(await post('partners', body)).toEqual({ accepted: 0, unchanged: 2, rejected: [] });
    expect(await post('events', { items: events })).toEqual({ accepted: 0, unchanged: 2, rejected: [] });
    expect(await post('deals', deals)).toEqual({ accepted: 0, unchanged: 2, rejected: [] });

    expect({ partners: await count('partners'), events: await count('events'), deals: await count('deals') }).toEqual(counts);
    // Nothing was rewritten.
    expect((await stored('events', 'ING-IDEM-E1'))?.ingestedAt).toBe(firstIngest);
    expect((await stored('deals', 'ING-IDEM-D2'))?.ingestedAt).toBe(firstDeal);
  });

  it('treats the same record written differently (key order, offsets, defaults) as unchanged', async () => {
    expect(await post('events', [event('ING-SAME-1', { occurredAt: '2025-03-01T12:00:00Z' })])).toMatchObject({ accepted: 1 });
    const rewritten = { occurredAt: '2025-03-01T14:00:00+02:00', quantity: 1, type: 'portal_login', partnerId: 'ING-P-1', eventId: 'ING-SAME-1' };
    expect(await post('events', [rewritten])).toEqual({ accepted: 0, unchanged: 1, rejected: [] });
  });

  it('counts a record repeated within one request once', async () => {
    const before = await count('events');
    const e = event('ING-DUP-1');
    expect(await post('events', [e, e, { ...e }])).toEqual({ accepted: 1, unchanged: 2, rejected: [] });
    expect(await count('events')).toBe(before + 1);
  });

  it('rejects an event whose eventId is stored with different content, and leaves the stored one untouched', async () => {
    const original = event('ING-IMM-1', { type: 'training_completed', quantity: 2 });
    expect(await post('events', [original])).toMatchObject({ accepted: 1 });
    const before = await stored('events', 'ING-IMM-1');

    const changed = { ...original, quantity: 5 };
    const result = await post('events', [event('ING-IMM-2'), changed]);
    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual([{ index: 1, id: 'ING-IMM-1', errors: [{ path: 'eventId', message: expect.stringMatching(/already stored/) }] }]);
    expect(await stored('events', 'ING-IMM-1')).toEqual(before);
    expect(before).toMatchObject({ quantity: 2, type: 'training_completed' });

    const kept = (await rejectEntries('events')).filter((e) => e.id === 'ING-IMM-1');
    expect(kept).toHaveLength(1);
    expect(JSON.parse(kept[0]!.record)).toEqual(changed);
  });

  it('rejects the second of two different events with one eventId in the same request', async () => {
    const result = await post('events', [event('ING-IMM-3', { quantity: 1 }), event('ING-IMM-3', { quantity: 3 })]);
    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual([{ index: 1, id: 'ING-IMM-3', errors: [{ path: 'eventId', message: expect.any(String) }] }]);
    expect(await stored('events', 'ING-IMM-3')).toMatchObject({ quantity: 1 });
  });

  it('ignores a deal update older than the stored one (counted unchanged) and applies a newer one', async () => {
    const v2 = deal('ING-STALE-D', { amount: 200, stage: 'open', updatedAt: '2025-02-02T00:00:00Z' });
    expect(await post('deals', [v2])).toEqual({ accepted: 1, unchanged: 0, rejected: [] });

    const v1 = deal('ING-STALE-D', { amount: 100, stage: 'registered', updatedAt: '2025-02-01T00:00:00Z' });
    expect(await post('deals', [v1])).toEqual({ accepted: 0, unchanged: 1, rejected: [] });
    expect(await stored('deals', 'ING-STALE-D')).toMatchObject({ amount: 200, stage: 'open', updatedAt: '2025-02-02T00:00:00.000Z' });

    // Older by the clock even though its local time reads later.
    const v1b = deal('ING-STALE-D', { amount: 150, updatedAt: '2025-02-02T01:00:00+02:00' });
    expect(await post('deals', [v1b])).toEqual({ accepted: 0, unchanged: 1, rejected: [] });
    expect(await stored('deals', 'ING-STALE-D')).toMatchObject({ amount: 200 });

    const v3 = deal('ING-STALE-D', { amount: 300, stage: 'won', closedAt: '2025-02-03T00:00:00Z', updatedAt: '2025-02-03T00:00:00Z' });
    expect(await post('deals', [v3])).toEqual({ accepted: 1, unchanged: 0, rejected: [] });
    expect(await stored('deals', 'ING-STALE-D')).toMatchObject({ amount: 300, stage: 'won', closedAt: '2025-02-03T00:00:00.000Z', updatedAt: '2025-02-03T00:00:00.000Z' });
  });

  it('several versions of one deal in one request: the newest wins, whatever the order', async () => {
    const at = (day: number): string => `2025-03-0${day}T00:00:00Z`;
    const versions = [
      deal('ING-MULTI-D', { amount: 3, updatedAt: at(3) }),
      deal('ING-MULTI-D', { amount: 5, updatedAt: at(5) }),
      deal('ING-MULTI-D', { amount: 1, updatedAt: at(1) }),
      deal('ING-MULTI-D', { amount: 4, updatedAt: at(4) }),
    ];
    const before = await count('deals');
    expect(await post('deals', versions)).toEqual({ accepted: 2, unchanged: 2, rejected: [] });
    expect(await stored('deals', 'ING-MULTI-D')).toMatchObject({ amount: 5, updatedAt: '2025-03-05T00:00:00.000Z' });
    expect(await count('deals')).toBe(before + 1);

    // Newest first, in a second deal: only the first is applied.
    const reversed = [...versions].sort((a, b) => String(b.updatedAt).localeCompare(String(a.updatedAt))).map((d) => ({ ...d, dealId: 'ING-MULTI-D2' }));
    expect(await post('deals', reversed)).toEqual({ accepted: 1, unchanged: 3, rejected: [] });
    expect(await stored('deals', 'ING-MULTI-D2')).toMatchObject({ amount: 5 });
  });

  it('ignores a partner update older than the stored one and applies a newer one', async () => {
    const v2 = partner('ING-STALE-P', { tier: 'gold', updatedAt: '2025-02-02T00:00:00Z' });
    expect(await post('partners', [v2])).toMatchObject({ accepted: 1 });

    const v1 = partner('ING-STALE-P', { tier: 'silver', updatedAt: '2025-02-01T00:00:00Z' });
    expect(await post('partners', [v1])).toEqual({ accepted: 0, unchanged: 1, rejected: [] });
    expect(await stored('partners', 'ING-STALE-P')).toMatchObject({ tier: 'gold', updatedAt: '2025-02-02T00:00:00.000Z' });

    const v3 = partner('ING-STALE-P', { tier: 'platinum', status: 'churned', churnedAt: '2025-02-03', updatedAt: '2025-02-03T00:00:00Z' });
    expect(await post('partners', [v3])).toEqual({ accepted: 1, unchanged: 0, rejected: [] });
    expect(await stored('partners', 'ING-STALE-P')).toMatchObject({ tier: 'platinum', status: 'churned', churnedAt: '2025-02-03' });

    // Several versions in one request: the newest wins.
    const many = [
      partner('ING-STALE-P2', { name: 'third', updatedAt: '2025-03-03T00:00:00Z' }),
      partner('ING-STALE-P2', { name: 'first', updatedAt: '2025-03-01T00:00:00Z' }),
      partner('ING-STALE-P2', { name: 'second', updatedAt: '2025-03-02T00:00:00Z' }),
    ];
    expect(await post('partners', many)).toEqual({ accepted: 1, unchanged: 2, rejected: [] });
    expect(await stored('partners', 'ING-STALE-P2')).toMatchObject({ name: 'third' });
  });

  it('stores events for a partner that does not exist yet', async () => {
    expect(await stored('partners', 'ING-FUTURE-P')).toBeUndefined();
    const result = await post('events', [event('ING-FUTURE-E1', { partnerId: 'ING-FUTURE-P' }), event('ING-FUTURE-E2', { partnerId: 'ING-FUTURE-P', type: 'nps_response', value: 8 })]);
    expect(result).toEqual({ accepted: 2, unchanged: 0, rejected: [] });
    expect(await stored('events', 'ING-FUTURE-E1')).toMatchObject({ partnerId: 'ING-FUTURE-P' });
    expect(await stored('events', 'ING-FUTURE-E2')).toMatchObject({ partnerId: 'ING-FUTURE-P', value: 8 });
  });

  it('reads null in an optional field as absent, but keeps null where it means a direct deal', async () => {
    const result = await post('partners', [partner('ING-NULL-P', { churnedAt: null, updatedAt: null })]);
    expect(result).toEqual({ accepted: 1, unchanged: 0, rejected: [] });
    expect(await stored('partners', 'ING-NULL-P')).not.toHaveProperty('churnedAt');
    expect(await post('events', [event('ING-NULL-E', { value: null })])).toEqual({ accepted: 1, unchanged: 0, rejected: [] });
    const direct = await post('deals', [deal('ING-NULL-D', { partnerId: null, partnerRole: null, closedAt: null })]);
    expect(direct).toEqual({ accepted: 1, unchanged: 0, rejected: [] });
    expect(await stored('deals', 'ING-NULL-D')).not.toHaveProperty('partnerId');
    const missingRole = await post('deals', [deal('ING-NULL-D2', { partnerRole: null })]);
    expect(missingRole.rejected[0]?.errors).toEqual([{ path: 'partnerRole', message: 'must be sourced or influenced when partnerId is set' }]);
  });

  it('answers malformed JSON with 400 problem+json and stores nothing', async () => {
    const before = await count('partners');
    const res = await postRaw('partners', `[${JSON.stringify(partner('ING-BADJSON-1'))},`, 'application/json');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await res.json()) as Json;
    expect(problem).toMatchObject({ status: 400, title: expect.any(String), type: expect.any(String), detail: expect.stringMatching(/JSON/) });
    expect(await stored('partners', 'ING-BADJSON-1')).toBeUndefined();
    expect(await count('partners')).toBe(before);
  });

  it('answers a JSON body that is not a list of records with 400', async () => {
    const res = await postRaw('partners', JSON.stringify(partner('ING-NOTLIST-1')), 'application/json');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { errors?: unknown[] }).errors).toEqual([{ path: 'body', message: expect.any(String) }]);
    expect(await stored('partners', 'ING-NOTLIST-1')).toBeUndefined();
  });

  it('answers 10,001 records with 413 and stores none of them', async () => {
    const before = await count('events');
    const rawBefore = await keysUnder('raw/events/');
    const records = Array.from({ length: 10_001 }, (_, i) => event(`ING-MANY-${i}`));
    const res = await stack.request('POST', '/v1/events', { key: stack.adminKey, body: records });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as Json).status).toBe(413);
    expect(await count('events')).toBe(before);
    expect(await stored('events', 'ING-MANY-0')).toBeUndefined();
    expect(await keysUnder('raw/events/')).toEqual(rawBefore);
  });

  it('answers a body over 10 MB with 413 and stores nothing, with or without a content-length', async () => {
    const record = JSON.stringify(partner('ING-HUGE-1'));
    const body = `[${record}${' '.repeat(10 * 1024 * 1024)}]`;
    const before = await count('partners');

    const streamed = await postRaw('partners', body, 'application/json');
    expect(streamed.status).toBe(413);
    expect(streamed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await streamed.json()) as Json).status).toBe(413);

    const declared = await postRaw('partners', body, 'application/json', { 'content-length': String(Buffer.byteLength(body)) });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as Json).status).toBe(413);

    expect(await stored('partners', 'ING-HUGE-1')).toBeUndefined();
    expect(await count('partners')).toBe(before);
  });

  it('answers an unsupported content type with 415 and stores nothing', async () => {
    const body = JSON.stringify([partner('ING-CT-1')]);
    for (const type of ['text/csv', 'text/plain', 'application/x-www-form-urlencoded']) {
      const res = await postRaw('partners', body, type);
      expect(res.status, type).toBe(415);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await res.json()) as Json).status).toBe(415);
    }
    expect(await stored('partners', 'ING-CT-1')).toBeUndefined();
  });

  it('keeps every accepted record verbatim in the raw archive, under raw/<kind>/<date>/', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const p = partner('ING-RAW-P');
    const d = deal('ING-RAW-D', { amount: 12.5 });
    const badEvent = event('ING-RAW-E2', { type: 'nps_response', value: 11 });
    await post('partners', [p]);
    await post('deals', { items: [d] });
    // NDJSON keeps the line exactly as sent: spacing and key order included.
    const line1 = ' { "type" : "content_view", "eventId":"ING-RAW-E1", "partnerId":"ING-P-1","occurredAt":"2025-03-01T12:00:00+01:00" }';
    const res = await postRaw('events', [line1, JSON.stringify(badEvent)].join('\n'), 'application/x-ndjson');
    expect(((await res.json()) as IngestResponse).accepted).toBe(1);

    const partnerLines = await linesUnder('raw/partners/');
    const pLine = partnerLines.filter((l) => l.line.includes('"ING-RAW-P"'));
    expect(pLine).toHaveLength(1);
    expect(JSON.parse(pLine[0]!.line)).toEqual(p);
    expect(pLine[0]!.key).toMatch(new RegExp(`^raw/partners/${today}/[0-9a-f]+\\.ndjson$`));

    const dLine = (await linesUnder('raw/deals/')).filter((l) => l.line.includes('"ING-RAW-D"'));
    expect(dLine).toHaveLength(1);
    expect(JSON.parse(dLine[0]!.line)).toEqual(d);
    expect(dLine[0]!.key).toMatch(new RegExp(`^raw/deals/${today}/`));

    const eventLines = await linesUnder('raw/events/');
    expect(eventLines.filter((l) => l.line === line1)).toHaveLength(1);
    // A rejected record is not in the raw archive (it is in the rejects archive).
    expect(eventLines.filter((l) => l.line.includes('ING-RAW-E2'))).toHaveLength(0);
    // Raw objects are only under raw/<kind>/ of their own kind.
    expect((await linesUnder('raw/partners/')).some((l) => l.line.includes('ING-RAW-E1'))).toBe(false);
  });

  it('does not add a raw object when an identical request is sent again', async () => {
    const body = [event('ING-RETRY-1'), event('ING-RETRY-2')];
    await post('events', body);
    const keys = await keysUnder('raw/events/');
    expect(await post('events', body)).toEqual({ accepted: 0, unchanged: 2, rejected: [] });
    expect(await keysUnder('raw/events/')).toEqual(keys);
  });

  it('a request retried after a store failure completes the work with a single raw object', async () => {
    const body = [event('ING-FAIL-1'), event('ING-FAIL-2', { type: 'qbr_attended' })];
    const keysBefore = await keysUnder('raw/events/');

    failNextWrite = true;
    const failed = await stack.request('POST', '/v1/events', { key: stack.adminKey, body });
    expect(failed.status).toBe(503);
    expect(failed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await stored('events', 'ING-FAIL-1')).toBeUndefined();
    const afterFailure = await keysUnder('raw/events/');

    expect(await post('events', body)).toEqual({ accepted: 2, unchanged: 0, rejected: [] });
    expect(await stored('events', 'ING-FAIL-1')).toBeDefined();
    expect(await stored('events', 'ING-FAIL-2')).toMatchObject({ type: 'qbr_attended' });
    const afterRetry = await keysUnder('raw/events/');
    expect(afterRetry).toEqual(afterFailure);
    const added = afterRetry.filter((k) => !keysBefore.includes(k));
    expect(added).toHaveLength(1);
    const lines = (await linesUnder(added[0]!)).map((l) => JSON.parse(l.line) as Json);
    expect(lines).toEqual(body);
  });

  it('retries a failed deal write without losing or duplicating it', async () => {
    const body = [deal('ING-FAILD-1', { amount: 42 })];
    failNextWrite = true;
    expect((await stack.request('POST', '/v1/deals', { key: stack.adminKey, body })).status).toBe(503);
    expect(await stored('deals', 'ING-FAILD-1')).toBeUndefined();
    expect(await post('deals', body)).toEqual({ accepted: 1, unchanged: 0, rejected: [] });
    expect(await stored('deals', 'ING-FAILD-1')).toMatchObject({ amount: 42 });
  });

  it('requires an ingest role: a partner key is refused and nothing is stored', async () => {
    const key = await stack.keyFor('partner', 'ING-P-1');
    const res = await stack.request('POST', '/v1/events', { key, body: [event('ING-ROLE-1')] });
    expect(res.status).toBe(403);
    expect(await stored('events', 'ING-ROLE-1')).toBeUndefined();

    const integration = await stack.keyFor('integration');
    const ok = await stack.request('POST', '/v1/events', { key: integration, body: [event('ING-ROLE-2')] });
    expect(ok.status).toBe(200);
    expect(await stored('events', 'ING-ROLE-2')).toBeDefined();

    const anonymous = await stack.request('POST', '/v1/events', { body: [event('ING-ROLE-3')] });
    expect(anonymous.status).toBe(401);
    expect(await stored('events', 'ING-ROLE-3')).toBeUndefined();
  });
});
