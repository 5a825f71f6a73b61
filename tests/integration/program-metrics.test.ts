import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deal } from '../../data/schemas/deal';
import { startTestStack, type TestStack } from '../helpers/test-stack';

/*
 * GET /v1/metrics/program over the real stack: the hand-computed example of
 * tests/unit/program-metrics.test.ts, ingested over HTTP, read back through the route.
 */

type Json = Record<string, unknown>;

interface IngestResponse {
  accepted: number;
  unchanged: number;
  rejected: unknown[];
}

const partner = (partnerId: string, joinedAt: string, churnedAt?: string): Json => ({
  partnerId,
  name: `Partner ${partnerId}`,
  tier: 'gold',
  region: 'EMEA',
  segment: 'SMB',
  joinedAt,
  status: churnedAt ? 'churned' : 'active',
  ...(churnedAt ? { churnedAt } : {}),
});

const deal = (dealId: string, partnerId: string | null, role: string | null, stage: string, amount: number, createdAt: string, closedAt?: string): Json => ({
  dealId,
  partnerId,
  partnerRole: role,
  amount,
  stage,
  createdAt,
  ...(closedAt ? { closedAt } : {}),
  updatedAt: closedAt ?? createdAt,
});

const PARTNERS = [
  partner('PM-P1', '2024-01-01'),
  partner('PM-P2', '2024-06-01', '2025-03-15'),
  partner('PM-P3', '2025-02-01'),
  partner('PM-P4', '2025-03-01', '2025-05-01'),
  partner('PM-P5', '2025-04-01'),
  partner('PM-P6', '2024-01-01', '2024-12-01'),
  partner('PM-P7', '2025-08-01'),
  partner('PM-P8', '2023-05-01', '2025-01-01'),
  partner('PM-P9', '2025-06-30'),
  partner('PM-P10', '2024-03-01', '2025-07-01'),
];

const DEALS = [
  deal('PM-D1', 'PM-P1', 'sourced', 'won', 1000, '2025-01-10T00:00:00Z', '2025-02-09T00:00:00Z'),
  deal('PM-D2', 'PM-P1', 'influenced', 'won', 500, '2024-12-01T00:00:00Z', '2025-01-01T00:00:00Z'),
  deal('PM-D3', 'PM-P2', 'sourced', 'lost', 700, '2025-01-05T00:00:00Z', '2025-02-01T00:00:00Z'),
  deal('PM-D4', 'PM-P3', 'sourced', 'won', 2000, '2025-02-11T12:00:00Z', '2025-06-30T12:00:00Z'),
  deal('PM-D5', 'PM-P4', 'influenced', 'won', 300, '2025-03-21T00:00:00Z', '2025-03-31T00:00:00Z'),
  deal('PM-D6', 'PM-P1', 'sourced', 'won', 5000, '2025-05-01T00:00:00Z', '2025-07-01T00:00:00Z'),
  deal('PM-D7', 'PM-P10', 'sourced', 'won', 800, '2024-11-01T00:00:00Z', '2024-12-31T23:59:59Z'),
  deal('PM-D8', 'PM-P1', 'sourced', 'open', 900, '2025-03-01T00:00:00Z'),
  deal('PM-D9', 'PM-P5', 'sourced', 'registered', 100, '2025-07-05T00:00:00Z'),
  deal('PM-D10', 'PM-P9', 'influenced', 'lost', 400, '2025-06-29T10:00:00Z', '2025-06-30T09:00:00Z'),
  deal('PM-D11', 'PM-P1', 'influenced', 'lost', 250, '2025-02-01T00:00:00Z', '2025-05-05T00:00:00Z'),
  deal('PM-X1', null, null, 'won', 1200, '2025-01-15T00:00:00Z', '2025-03-16T00:00:00Z'),
  deal('PM-X2', null, null, 'won', 600.25, '2025-04-01T00:00:00Z', '2025-04-21T06:00:00Z'),
  deal('PM-X3', null, null, 'lost', 300, '2025-04-01T00:00:00Z', '2025-05-10T00:00:00Z'),
  deal('PM-X4', null, null, 'won', 9999, '2025-06-01T00:00:00Z', '2025-07-02T00:00:00Z'),
  deal('PM-X5', null, null, 'open', 450, '2025-06-01T00:00:00Z'),
  deal('PM-X6', null, null, 'lost', 350, '2024-11-01T00:00:00Z', '2024-12-15T00:00:00Z'),
];

/** Earlier versions that the final ones above replace (D4 and X1 were open before they were won). */
const EARLIER_VERSIONS = [
  deal('PM-D4', 'PM-P3', 'sourced', 'open', 1800, '2025-02-11T12:00:00Z'),
  deal('PM-X1', null, null, 'open', 1000, '2025-01-15T00:00:00Z'),
];

/** Engagement events: program metrics do not read them. */
const EVENTS = [
  { eventId: 'PM-E1', partnerId: 'PM-P1', type: 'portal_login', occurredAt: '2025-02-01T10:00:00Z' },
  { eventId: 'PM-E2', partnerId: 'PM-P3', type: 'training_completed', occurredAt: '2025-03-01T10:00:00Z' },
];

async function problem(res: Response, status: number): Promise<{ status: number; title: string; type: string; detail: string; errors?: { path: string; message: string }[] }> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/problem\+json\b/);
  const body = JSON.parse(text);
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  return body;
}

describe('GET /v1/metrics/program', () => {
  let stack: TestStack;
  let keys: { ops: string; integration: string; partner: string };

  const get = (query: string, key = stack.adminKey): Promise<Response> => stack.request('GET', `/v1/metrics/program${query}`, { key });

  beforeAll(async () => {
    stack = await startTestStack();
    keys = { ops: await stack.keyFor('ops'), integration: await stack.keyFor('integration'), partner: await stack.keyFor('partner', 'PM-P1') };
    const ingest = async (kind: string, body: unknown[]): Promise<IngestResponse> => {
      const res = await stack.request('POST', `/v1/${kind}`, { key: keys.integration, body });
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as IngestResponse;
    };
    expect(await ingest('deals', EARLIER_VERSIONS)).toMatchObject({ accepted: 2, rejected: [] });
    expect(await ingest('partners', PARTNERS)).toMatchObject({ accepted: PARTNERS.length, rejected: [] });
    expect(await ingest('events', EVENTS)).toMatchObject({ accepted: EVENTS.length, rejected: [] });
    expect(await ingest('deals', DEALS)).toMatchObject({ accepted: DEALS.length, rejected: [] });
    // Re-sending changes nothing and counts nothing twice.
    expect(await ingest('deals', DEALS)).toMatchObject({ accepted: 0, unchanged: DEALS.length, rejected: [] });
  }, 60_000);
  afterAll(async () => stack?.close());

  it('answers the hand-computed numbers for the first half of 2025', async () => {
    const res = await get('?from=2025-01-01&to=2025-06-30');
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const m = await res.json();
    expect(m.from).toBe('2025-01-01T00:00:00.000Z');
    expect(m.to).toBe('2025-06-30T23:59:59.999Z');

    expect(m.deals.wonDeals).toBe(6);
    expect(m.deals.wonRevenue).toBe(5600.25);
    expect(m.deals.attachRate).toBeCloseTo(4 / 6, 12);
    expect(m.deals.sourced).toEqual({ wonDeals: 2, wonRevenue: 3000 });
    expect(m.deals.influenced).toEqual({ wonDeals: 2, wonRevenue: 800 });
    expect(m.deals.withPartner).toEqual({ wonDeals: 4, lostDeals: 3, winRate: expect.closeTo(4 / 7, 12), wonRevenue: 3800, averageDealSize: 950, averageCycleDays: expect.closeTo(52.5, 9) });
    expect(m.deals.withoutPartner).toEqual({
      wonDeals: 2,
      lostDeals: 1,
      winRate: expect.closeTo(2 / 3, 12),
      wonRevenue: 1800.25,
      averageDealSize: 900.13,
      averageCycleDays: expect.closeTo(40.125, 9),
    });
    expect(m.partners).toEqual({ activeAtFrom: 3, activeAtTo: 5, joined: 4, churned: 3, retained: 2, retentionRate: expect.closeTo(2 / 3, 12) });
    expect(m.timeToFirstDeal).toEqual({ partnersJoined: 4, withDeal: 3, withoutDeal: 1, medianDays: 10 });
  });

  it('takes date-times as exact instants, and an ops key may read it', async () => {
    // One millisecond later: D2 (closed at 2025-01-01T00:00:00Z) and P8's churn fall out of the period.
    const res = await get('?from=2025-01-01T00:00:00.001Z&to=2025-06-30T23:59:59.999Z', keys.ops);
    expect(res.status, await res.clone().text()).toBe(200);
    const m = await res.json();
    expect(m.from).toBe('2025-01-01T00:00:00.001Z');
    expect(m.deals.influenced).toEqual({ wonDeals: 1, wonRevenue: 300 });
    expect(m.partners.churned).toBe(2);
  });

  it('covers a single day when from and to are the same date', async () => {
    const res = await get('?from=2025-06-30&to=2025-06-30');
    expect(res.status, await res.clone().text()).toBe(200);
    const m = await res.json();
    expect([m.from, m.to]).toEqual(['2025-06-30T00:00:00.000Z', '2025-06-30T23:59:59.999Z']);
    // D4 won and D10 lost on the 30th; P9 joined that day, its first deal the day before.
    expect(m.deals.withPartner).toMatchObject({ wonDeals: 1, lostDeals: 1, wonRevenue: 2000 });
    expect(m.deals.withoutPartner).toMatchObject({ wonDeals: 0, lostDeals: 0, winRate: null, averageDealSize: null });
    expect(m.timeToFirstDeal).toEqual({ partnersJoined: 1, withDeal: 1, withoutDeal: 0, medianDays: 0 });
  });

  it('defaults to the 365 days up to now', async () => {
    const before = Date.now();
    const res = await get('');
    expect(res.status, await res.clone().text()).toBe(200);
    const m = await res.json();
    const to = Date.parse(m.to);
    expect(to).toBeGreaterThanOrEqual(before);
    expect(to).toBeLessThanOrEqual(Date.now());
    expect(to - Date.parse(m.from)).toBe(365 * 86_400_000 - 1);
    // only `to`: the 365 days ending with it
    const onlyTo = await (await get('?to=2025-12-31')).json();
    expect([onlyTo.from, onlyTo.to]).toEqual(['2025-01-01T00:00:00.000Z', '2025-12-31T23:59:59.999Z']);
    expect(onlyTo.deals.wonDeals).toBe(8); // the six of the first half, D6 and X4
  });

  it('refuses invalid from and to with a problem naming the field', async () => {
    const cases: [string, string][] = [
      ['?from=yesterday', 'query.from'],
      ['?from=2025-02-30&to=2025-06-30', 'query.from'],
      ['?from=2025-01-01&to=2025-06-30T12:00:00', 'query.to'], // no zone
      ['?to=2025-13-01', 'query.to'],
      ['?from=2025-07-01&to=2025-06-30', 'query.from'], // from after to
      ['?from=2025-06-30T12:00:00Z&to=2025-06-30T12:00:00Z', 'query.from'], // empty period
    ];
    for (const [query, field] of cases) {
      const body = await problem(await get(query), 400);
      expect(body.errors?.map((e) => e.path), query).toContain(field);
    }
  });

  it('is for admin and ops only', async () => {
    await problem(await get('?from=2025-01-01&to=2025-06-30', keys.integration), 403);
    await problem(await get('?from=2025-01-01&to=2025-06-30', keys.partner), 403);
    await problem(await get('?from=2025-01-01&to=2025-06-30', ''), 401);
  });

  it('is in the OpenAPI document with its roles, parameters and response schema', async () => {
    const doc = await (await stack.request('GET', '/openapi.json')).json();
    const op = doc.paths['/v1/metrics/program'].get;
    expect(op['x-roles']).toEqual(['admin', 'ops']);
    expect(op.parameters.map((p: Json) => p.name)).toEqual(['from', 'to']);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
    expect(op.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/ProgramMetrics');
    const schema = doc.components.schemas.ProgramMetrics;
    expect(Object.keys(schema.properties)).toEqual(['from', 'to', 'deals', 'partners', 'timeToFirstDeal']);
    expect(schema.properties.deals.properties.attachRate.description).toMatch(/won deals with a partner/);
  });

  it('HistoryStore.listDeals pages through every deal, direct ones with partnerId null', async () => {
    const seen: Deal[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await stack.deps.history.listDeals({ limit: 4, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBeGreaterThan(4);
    expect(seen.map((d) => d.dealId).sort()).toEqual(DEALS.map((d) => d.dealId as string).sort());
    const x1 = seen.find((d) => d.dealId === 'PM-X1')!;
    expect(x1).toEqual({ dealId: 'PM-X1', partnerId: null, partnerRole: null, amount: 1200, stage: 'won', createdAt: '2025-01-15T00:00:00.000Z', closedAt: '2025-03-16T00:00:00.000Z', updatedAt: '2025-03-16T00:00:00.000Z' });
    expect(seen.find((d) => d.dealId === 'PM-D4')).toMatchObject({ partnerId: 'PM-P3', partnerRole: 'sourced', stage: 'won', amount: 2000 });
  });
});
