import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordKindName } from '../../data/stores/record-store';
import { parseRejects } from '../../data/ingest/archive';
import type { ObjectStore } from '../../data/stores/object-store';
import { startTestStack, type TestStack } from '../helpers/test-stack';
import { describeValue, EXPRESSION_LIKE, freshIds, holdsDeep, hostileValueArb, jsonText, junkLineArb, mutatedArb, VALID_RECORD, type Encoding } from './arbitraries';

/*
 * Hostile input on every ingest route (contract §4, DEVELOPERS.md "bad input"): batches mixing
 * valid records (unicode, expression-looking text), records broken in one field (wrong type,
 * out of range, oversized, deeply nested, invalid Unicode, unknown or prototype-named fields)
 * and junk, sent as a JSON array, {"items": [...]} or NDJSON. Whatever the batch: never a 5xx,
 * every record is stored or rejected with a reason naming a field, a valid record is stored
 * exactly as sent (text verbatim) and nothing else is written, and rejects and raw copies are
 * kept where an operator finds them.
 */

const KINDS: readonly RecordKindName[] = ['partners', 'events', 'deals'];
const ID_FIELD = { partners: 'partnerId', events: 'eventId', deals: 'dealId' } as const;
const RUNS = Number(process.env.FC_RUNS ?? 25);

type Json = Record<string, unknown>;
interface Sent {
  type: 'valid' | 'mutated' | 'junk';
  value: unknown;
  /** The record's text as the archive keeps it; undefined when not predictable (nested too deep). */
  raw?: string;
  /** Set for an NDJSON line that is not JSON at all. */
  notJson?: true;
}
interface IngestResponse {
  accepted: number;
  unchanged: number;
  rejected: { index: number; id?: string; errors: { path: string; message: string }[] }[];
}

const iso = (value: unknown): string => new Date(Date.parse(String(value))).toISOString();

/** The item a valid record must be stored as (without contentHash and ingestedAt), written out independently of the service's code. */
function expectedItem(kind: RecordKindName, r: Json): Json {
  if (kind === 'partners') {
    return {
      partnerId: r.partnerId,
      name: r.name,
      tier: r.tier,
      region: r.region,
      segment: r.segment,
      joinedAt: r.joinedAt,
      status: r.status,
      ...(r.churnedAt !== undefined ? { churnedAt: r.churnedAt } : {}),
      ...(r.updatedAt !== undefined ? { updatedAt: iso(r.updatedAt) } : {}),
      cohortKey: `${String(r.region)}#${String(r.segment)}#${String(r.partnerId)}`,
    };
  }
  if (kind === 'events') {
    return {
      eventId: r.eventId,
      partnerId: r.partnerId,
      type: r.type,
      occurredAt: iso(r.occurredAt),
      quantity: r.quantity ?? 1,
      ...(r.value !== undefined ? { value: r.value } : {}),
    };
  }
  return {
    dealId: r.dealId,
    ...(r.partnerId !== null ? { partnerId: r.partnerId, partnerRole: r.partnerRole } : {}),
    amount: r.amount,
    stage: r.stage,
    createdAt: iso(r.createdAt),
    ...(r.closedAt !== undefined ? { closedAt: iso(r.closedAt) } : {}),
    updatedAt: iso(r.updatedAt),
  };
}

interface BatchTemplate {
  entries: Sent[];
  encoding: Encoding;
  junk: [number, string][];
  blanks: [number, string][];
  crlf: boolean;
}

function batchArb(kind: RecordKindName): fc.Arbitrary<BatchTemplate> {
  const entry = fc.oneof(
    { weight: 4, arbitrary: VALID_RECORD[kind].map((value): Sent => ({ type: 'valid', value })) },
    { weight: 4, arbitrary: mutatedArb(VALID_RECORD[kind]).map(({ record }): Sent => ({ type: 'mutated', value: record })) },
    { weight: 1, arbitrary: hostileValueArb.map((value): Sent => ({ type: 'junk', value })) },
  );
  return fc
    .record({
      entries: fc.array(entry, { minLength: 1, maxLength: 20 }),
      encoding: fc.constantFrom<Encoding>('array', 'items', 'ndjson'),
      junk: fc.array(fc.tuple(fc.nat(), junkLineArb), { maxLength: 3 }),
      blanks: fc.array(fc.tuple(fc.nat(), fc.constantFrom('', '   ', '\t', '\r')), { maxLength: 3 }),
      crlf: fc.boolean(),
    })
    .map((batch) => Object.assign(batch, { [fc.toStringMethod]: () => `${batch.encoding} batch: ${batch.entries.map((x) => `${x.type} ${describeValue(x.value)}`).join(' | ')}` }));
}

/** The request body of a batch, its ids made unique now (see freshIds), and the records in the order the service indexes them. */
function render(template: BatchTemplate): { sent: Sent[]; body: string; encoding: Encoding } {
  const { encoding, junk, blanks, crlf } = template;
  const entries = template.entries.map((e) => ({ ...e, value: freshIds(e.value) }));
  const sent: Sent[] = entries.map((e) => ({ ...e, ...(holdsDeep(e.value) ? {} : { raw: jsonText(e.value) }) }));
  if (encoding !== 'ndjson') {
    const array = `[${entries.map((e) => jsonText(e.value)).join(',')}]`;
    return { sent, encoding, body: encoding === 'array' ? array : `{"items":${array}}` };
  }
  // NDJSON: the records' lines, with junk lines (records too) and blank lines (skipped) among them.
  const lines: { text: string; sent?: Sent }[] = entries.map((e, i) => ({ text: jsonText(e.value), sent: sent[i]! }));
  for (const [at, text] of junk) {
    let value: unknown;
    let notJson = false;
    try {
      value = JSON.parse(text);
    } catch {
      notJson = true;
    }
    const s: Sent = { type: 'junk', value, raw: text, ...(notJson ? { notJson: true as const } : {}) };
    lines.splice(at % (lines.length + 1), 0, { text, sent: s });
  }
  for (const [at, text] of blanks) lines.splice(at % (lines.length + 1), 0, { text });
  return { sent: lines.flatMap((l) => (l.sent ? [l.sent] : [])), encoding, body: lines.map((l) => l.text).join(crlf ? '\r\n' : '\n') };
}

/** Passes every call to the real object store and remembers what each request wrote. */
function recordingObjects(real: ObjectStore, written: Map<string, string>): ObjectStore {
  return {
    putText: async (key, body, contentType) => {
      await real.putText(key, body, contentType);
      written.set(key, body);
    },
    getText: (key) => real.getText(key),
    putBytes: (key, body, contentType) => real.putBytes(key, body, contentType),
    getBytes: (key) => real.getBytes(key),
    getStream: (key) => real.getStream(key),
    list: (prefix, options) => real.list(prefix, options),
  };
}

describe('hostile input on every ingest route', () => {
  let stack: TestStack;
  /** Objects written (key → body) since the last request. */
  const written = new Map<string, string>();

  beforeAll(async () => {
    stack = await startTestStack((base) => ({ objects: recordingObjects(base.objects, written) }));
  });

  /** What the request archived: the raw lines and the rejects, read back from S3 (where an operator finds them). */
  async function archivedByRequest(kind: RecordKindName): Promise<{ raw: Set<string>; rejects: Set<string>; rejectErrors: Set<string> }> {
    const raw = new Set<string>();
    const rejects = new Set<string>();
    const rejectErrors = new Set<string>();
    for (const key of written.keys()) {
      const text = (await stack.deps.objects.getText(key)) ?? '';
      if (key.startsWith(`raw/${kind}/`)) for (const line of text.split('\n')) if (line !== '') raw.add(line);
      if (key.startsWith(`rejects/${kind}/`)) {
        for (const e of parseRejects(text)) {
          rejects.add(JSON.stringify([e.record, e.errors]));
          rejectErrors.add(JSON.stringify(e.errors));
        }
      }
    }
    written.clear();
    return { raw, rejects, rejectErrors };
  }
  afterAll(async () => stack?.close());

  async function stored(kind: RecordKindName, id: string): Promise<Json | undefined> {
    const out = await stack.clients.ddb.send(new GetCommand({ TableName: stack.config.tables[kind], Key: { [ID_FIELD[kind]]: id }, ConsistentRead: true }));
    return out.Item as Json | undefined;
  }

  async function count(kind: RecordKindName): Promise<number> {
    let total = 0;
    let start: Json | undefined;
    do {
      const out = await stack.clients.ddb.send(new ScanCommand({ TableName: stack.config.tables[kind], Select: 'COUNT', ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
      total += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    return total;
  }

  async function checkBatch(kind: RecordKindName, batch: { sent: Sent[]; body: string; encoding: Encoding }): Promise<void> {
    const idField = ID_FIELD[kind];
    const before = await count(kind);
    written.clear();
    const res = await stack.request('POST', `/v1/${kind}`, {
      key: stack.adminKey,
      rawBody: batch.body,
      headers: { 'content-type': batch.encoding === 'ndjson' ? 'application/x-ndjson' : 'application/json' },
    });
    const text = await res.text();
    expect(res.status, text.slice(0, 500)).toBe(200);
    const result = JSON.parse(text) as IngestResponse;
    const n = batch.sent.length;
    expect(result.accepted + result.unchanged + result.rejected.length, 'every record is counted once').toBe(n);

    const rejectedAt = new Map<number, IngestResponse['rejected'][number]>();
    for (const r of result.rejected) {
      expect(r.index).toBeGreaterThanOrEqual(0);
      expect(r.index).toBeLessThan(n);
      expect(rejectedAt.has(r.index), `index ${r.index} rejected twice`).toBe(false);
      rejectedAt.set(r.index, r);
      expect(r.errors.length, 'a rejected record says why').toBeGreaterThan(0);
      for (const e of r.errors) {
        expect(typeof e.path).toBe('string');
        expect(typeof e.message).toBe('string');
        expect(e.message.length).toBeGreaterThan(0);
      }
      const sent = batch.sent[r.index]!;
      const value = sent.value as Json | undefined;
      const id = value !== null && typeof value === 'object' && !Array.isArray(value) ? value[idField] : undefined;
      // A record too deep to read is refused before its id is looked at.
      if (typeof id === 'string' && id.length <= 128 && !holdsDeep(value)) expect(r.id).toBe(id);
      if (r.id !== undefined) expect(r.id).toBe(id);
    }

    const archive = await archivedByRequest(kind);
    let valid = 0;
    for (let i = 0; i < n; i++) {
      const s = batch.sent[i]!;
      const rejection = rejectedAt.get(i);
      if (s.type === 'valid') {
        valid++;
        expect(rejection, `a valid record was rejected: ${s.raw?.slice(0, 300)}`).toBeUndefined();
        const record = s.value as Json;
        const item = await stored(kind, String(record[idField]));
        expect(item, `a valid record is not stored: ${s.raw?.slice(0, 300)}`).toBeDefined();
        const { contentHash, ingestedAt, ...attributes } = item!;
        expect(typeof contentHash).toBe('string');
        expect(typeof ingestedAt).toBe('string');
        expect(attributes).toEqual(expectedItem(kind, record));
        expect(archive.raw.has(s.raw!), 'an accepted record is kept verbatim in the raw archive').toBe(true);
        continue;
      }
      if (rejection) {
        // Kept where an operator finds it (GET /v1/rejects), as it was received, with the same reasons.
        if (s.raw !== undefined) expect(archive.rejects.has(JSON.stringify([s.raw, rejection.errors])), `reject ${i} not kept: ${s.raw.slice(0, 200)}`).toBe(true);
        else expect(archive.rejectErrors.has(JSON.stringify(rejection.errors))).toBe(true);
        continue;
      }
      // Not rejected (a mutation that left the record valid): it is stored under its id.
      const id = (s.value as Json)[idField];
      expect(typeof id, `record ${i} was neither rejected nor has an id`).toBe('string');
      expect(await stored(kind, id as string), `record ${i} was reported stored but is not`).toBeDefined();
    }
    const added = (await count(kind)) - before;
    expect(added, 'no more items than records accepted').toBeLessThanOrEqual(result.accepted);
    expect(added, 'every valid record added an item').toBeGreaterThanOrEqual(valid);
  }

  // First, so the ids are not taken yet by a fuzzed record.
  it('stores expression-looking text verbatim and harmlessly, in ids, labels and names alike', async () => {
    const partners = EXPRESSION_LIKE.map((text, i) => ({
      partnerId: `EXPR-${i}`,
      name: text,
      tier: text.slice(0, 40),
      region: text.slice(0, 40),
      segment: 'SMB',
      joinedAt: '2024-01-01',
      status: 'active',
    }));
    const events = EXPRESSION_LIKE.map((text, i) => ({ eventId: text, partnerId: `EXPR-${i}`, type: 'portal_login', occurredAt: '2025-01-01T00:00:00Z' }));
    const deals = EXPRESSION_LIKE.map((text, i) => ({ dealId: text, partnerId: `EXPR-${i}`, partnerRole: 'sourced', amount: i, stage: 'open', createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z' }));
    for (const [kind, records] of [['partners', partners], ['events', events], ['deals', deals]] as const) {
      const before = await count(kind);
      const res = await stack.request('POST', `/v1/${kind}`, { key: stack.adminKey, body: records });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ accepted: records.length, unchanged: 0, rejected: [] });
      expect((await count(kind)) - before).toBe(records.length);
      for (const r of records as readonly Json[]) {
        const item = await stored(kind, String(r[ID_FIELD[kind]]));
        const { contentHash: _h, ingestedAt: _t, ...attributes } = item!;
        expect(attributes).toEqual(expectedItem(kind, r));
      }
      // Sent again, they are recognised as the same records: the text did not change on the way.
      const again = await stack.request('POST', `/v1/${kind}`, { key: stack.adminKey, body: records });
      expect(await again.json()).toEqual({ accepted: 0, unchanged: records.length, rejected: [] });
    }
  });

  for (const kind of KINDS) {
    it(`POST /v1/${kind}: never a 5xx; each record stored exactly or rejected with its reason; nothing else lost`, async () => {
      await fc.assert(
        fc.asyncProperty(batchArb(kind), (template) => checkBatch(kind, render(template))),
        { numRuns: RUNS },
      );
    }, 180_000);
  }

  it('refuses values DynamoDB cannot store as sent, naming the field, and stores the rest of the batch', async () => {
    const base = { partnerId: 'NUM-P', type: 'portal_login', occurredAt: '2025-01-01T00:00:00Z' };
    const events = [
      { ...base, eventId: 'NUM-ok', quantity: 2.5 },
      { ...base, eventId: 'NUM-big', quantity: 1e16 },
      { ...base, eventId: 'NUM-huge', quantity: 1e300 },
      { ...base, eventId: 'NUM-tiny', quantity: 1e-200 },
      { ...base, eventId: 'NUM-neg', value: -1e300 },
      { ...base, eventId: 'NUM-max', quantity: Number.MAX_SAFE_INTEGER },
    ];
    const res = await stack.request('POST', '/v1/events', { key: stack.adminKey, body: events });
    expect(res.status).toBe(200);
    const result = (await res.json()) as IngestResponse;
    expect(result.accepted).toBe(2);
    expect(result.rejected.map((r) => [r.index, r.errors.map((e) => e.path)])).toEqual([
      [1, ['quantity']],
      [2, ['quantity']],
      [3, ['quantity']],
      [4, ['value']],
    ]);
    expect((await stored('events', 'NUM-max'))?.quantity).toBe(Number.MAX_SAFE_INTEGER);

    const deal = { dealId: 'NUM-D', partnerId: null, partnerRole: null, stage: 'open', createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z' };
    const deals = await stack.request('POST', '/v1/deals', { key: stack.adminKey, body: [{ ...deal, amount: 1e20 }, { ...deal, dealId: 'NUM-D2', amount: 12.5 }] });
    expect(((await deals.json()) as IngestResponse).rejected).toEqual([{ index: 0, id: 'NUM-D', errors: [{ path: 'amount', message: expect.stringContaining('at most') }] }]);
  });

  it('refuses text with an unpaired surrogate escape, naming the field', async () => {
    const body = '[{"eventId":"SUR-\\ud800","partnerId":"P-1","type":"portal_login","occurredAt":"2025-01-01T00:00:00Z"},{"eventId":"SUR-ok-\\ud83d\\ude00","partnerId":"P-1","type":"portal_login","occurredAt":"2025-01-01T00:00:00Z"}]';
    const res = await stack.request('POST', '/v1/events', { key: stack.adminKey, rawBody: body, headers: { 'content-type': 'application/json' } });
    const result = (await res.json()) as IngestResponse;
    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual([{ index: 0, id: 'SUR-\ud800', errors: [{ path: 'eventId', message: expect.stringContaining('Unicode') }] }]);
    expect(await stored('events', 'SUR-ok-😀')).toBeDefined();
  });

  it('rejects a record nested far deeper than any record, alone, in every body format', async () => {
    const deep = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const good = '{"eventId":"DEEP-ok","partnerId":"P-1","type":"portal_login","occurredAt":"2025-01-01T00:00:00Z"}';
    for (const depth of [5_000, 100_000]) {
      const bad = `{"eventId":"DEEP-${depth}","partnerId":${deep(depth)}}`;
      for (const [rawBody, contentType] of [
        [`[${bad},${good}]`, 'application/json'],
        [`{"items":[${bad},${good}]}`, 'application/json'],
        [`${bad}\n${good}\n`, 'application/x-ndjson'],
      ] as const) {
        const res = await stack.request('POST', '/v1/events', { key: stack.adminKey, rawBody, headers: { 'content-type': contentType } });
        const text = await res.text();
        expect(res.status, text.slice(0, 300)).toBe(200);
        const result = JSON.parse(text) as IngestResponse;
        expect(result.accepted + result.unchanged).toBe(1);
        expect(result.rejected.map((r) => r.index)).toEqual([0]);
      }
    }
    expect(await stored('events', 'DEEP-ok')).toBeDefined();
  });

  it('answers any body with 200, 400, 413 or 415, never a 5xx', async () => {
    const bodyArb = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      fc.json({ maxDepth: 3 }).map((s) => s.slice(0, Math.max(1, Math.floor(s.length / 2)))),
      fc.array(junkLineArb, { maxLength: 5 }).map((lines) => lines.join('\n')),
      fc.constantFrom('', ' ', 'null', '{}', '{"items": 5}', '{"items": null}', '[]', '\ufeff[]', '[null]', '[[]]', '{"items": [{}], "extra": 1}'),
    );
    const typeArb = fc.constantFrom('application/json', 'application/x-ndjson', 'application/json; charset=utf-8', 'application/vnd.api+json', 'text/plain', 'text/csv', 'multipart/form-data; boundary=x', '', 'application/x-www-form-urlencoded');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KINDS), bodyArb, typeArb, async (kind, rawBody, contentType) => {
        const res = await stack.request('POST', `/v1/${kind}`, { key: stack.adminKey, rawBody, headers: contentType ? { 'content-type': contentType } : {} });
        const text = await res.text();
        expect([200, 400, 413, 415], `${res.status}: ${text.slice(0, 300)}`).toContain(res.status);
        const body = JSON.parse(text) as IngestResponse & { status?: number };
        if (res.status === 200) {
          expect(Array.isArray(body.rejected)).toBe(true);
        } else {
          expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
          expect(body.status).toBe(res.status);
        }
      }),
      { numRuns: RUNS * 3 },
    );
  }, 180_000);
});
