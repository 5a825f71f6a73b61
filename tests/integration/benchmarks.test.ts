import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricBenchmark } from '../../models/benchmarks/peer-benchmark';
import { startTestStack, type TestStack } from '../helpers/test-stack';

/*
 * GET /v1/partners/{id}/benchmarks against the real stack (contract §7), and each claim of
 * docs/privacy.md. Hand-built partners, events and deals go in through the ingest routes.
 */

type Json = Record<string, unknown>;

type Metric = MetricBenchmark;
interface Benchmark {
  partnerId: string;
  asOf: string;
  cohort: { tier: string; region?: string; segment?: string; size: string } | null;
  metrics: Metric[];
  withheld: string[];
  reason?: string;
}

const ALL_METRICS = ['deals_registered', 'win_rate', 'sourced_revenue', 'average_deal_size', 'deal_cycle_days', 'time_to_first_deal', 'certifications', 'trainings', 'portal_logins', 'nps'];
const AS_OF = '2025-06-30';

const partner = (partnerId: string, tier: string, region: string, segment: string, extra: Json = {}): Json => ({
  partnerId,
  name: `Company ${partnerId.replace(/-/g, ' ')} Ltd`,
  tier,
  region,
  segment,
  joinedAt: '2024-01-01',
  status: 'active',
  ...extra,
});
let seq = 0;
const event = (partnerId: string, type: string, occurredAt: string, quantity = 1, value?: number): Json => {
  seq += 1;
  return { eventId: `BM-E-${seq}`, partnerId, type, occurredAt, quantity, ...(value === undefined ? {} : { value }) };
};
const wonDeal = (dealId: string, partnerId: string, amount: number, updatedAt = '2025-06-01T00:00:00Z'): Json => ({
  dealId,
  partnerId,
  partnerRole: 'sourced',
  amount,
  stage: 'won',
  createdAt: '2025-05-01T00:00:00Z',
  closedAt: '2025-06-01T00:00:00Z',
  updatedAt,
});

/** Gold, EMEA/SMB: the asking partner and five peers with distinctive numbers; decoys around them. */
const GOLD_PEERS = [
  { id: 'BM-G1', revenue: 10_111.11, logins: 3, nps: 6 },
  { id: 'BM-G2', revenue: 45_678.91, logins: 7, nps: 7 },
  { id: 'BM-G3', revenue: 123_456.78, logins: 12, nps: 9 },
  { id: 'BM-G4', revenue: 234_567.89, logins: 20, nps: 10 },
  { id: 'BM-G5', revenue: 987_654.32, logins: 41, nps: undefined, joinedAt: '2025-04-10' },
];
const PARTNERS: Json[] = [
  partner('BM-G-ME', 'gold', 'EMEA', 'SMB'),
  ...GOLD_PEERS.map((p) => partner(p.id, 'gold', 'EMEA', 'SMB', p.joinedAt ? { joinedAt: p.joinedAt } : {})),
  partner('BM-G6', 'gold', 'EMEA', 'SMB', { status: 'churned', churnedAt: '2025-04-01' }), // left before AS_OF
  partner('BM-G7', 'gold', 'EMEA', 'SMB', { joinedAt: '2025-07-15' }), // joins after AS_OF
  ...['BM-R1', 'BM-R2', 'BM-R3'].map((id) => partner(id, 'gold', 'EMEA', 'ENT')),
  // Silver: 2 peers in APAC/ENT, 3 more in APAC/MID, 4 in EMEA → a region cohort of 5.
  partner('BM-S-ME', 'silver', 'APAC', 'ENT'),
  ...['BM-S1', 'BM-S2'].map((id) => partner(id, 'silver', 'APAC', 'ENT')),
  ...['BM-S3', 'BM-S4', 'BM-S5'].map((id) => partner(id, 'silver', 'APAC', 'MID')),
  ...['BM-S6', 'BM-S7', 'BM-S8', 'BM-S9'].map((id) => partner(id, 'silver', 'EMEA', 'ENT')),
  // Bronze: 1 peer in NA, 10 in LATAM → the whole tier, 11 peers.
  partner('BM-B-ME', 'bronze', 'NA', 'SMB'),
  partner('BM-B1', 'bronze', 'NA', 'ENT'),
  ...Array.from({ length: 10 }, (_, i) => partner(`BM-B${i + 2}`, 'bronze', 'LATAM', 'SMB')),
  // Tiny: the asking partner and 3 others → withheld with k = 5.
  ...['BM-T-ME', 'BM-T1', 'BM-T2', 'BM-T3'].map((id) => partner(id, 'tiny', 'EMEA', 'SMB')),
];
const EVENTS: Json[] = [
  event('BM-G-ME', 'portal_login', '2025-06-15T10:00:00Z', 15),
  event('BM-G-ME', 'nps_response', '2025-06-15T10:00:00Z', 1, 8),
  ...GOLD_PEERS.flatMap((p) => [
    event(p.id, 'portal_login', '2025-06-15T10:00:00Z', p.logins),
    ...(p.nps === undefined ? [] : [event(p.id, 'nps_response', '2025-06-15T10:00:00Z', 1, p.nps)]),
  ]),
  ...['BM-T1', 'BM-T2', 'BM-T3', 'BM-T-ME'].map((id, i) => event(id, 'portal_login', '2025-06-15T10:00:00Z', 10 + i)),
];
const DEALS: Json[] = [wonDeal('BM-D-ME', 'BM-G-ME', 5_000), ...GOLD_PEERS.map((p) => wonDeal(`BM-D-${p.id}`, p.id, p.revenue))];
/** What a benchmark of `asked` must never contain: every other partner's id and name, and the other gold peers' exact revenue. */
const othersOf = (asked: string) => ({
  ids: PARTNERS.map((p) => p.partnerId as string).filter((id) => id !== asked),
  names: PARTNERS.filter((p) => p.partnerId !== asked).map((p) => p.name as string),
  values: [...GOLD_PEERS.filter((p) => p.id !== asked).map((p) => p.revenue), ...(asked === 'BM-G3' ? [] : [118_000.01])],
});

async function ingest(stack: TestStack, kind: 'partners' | 'events' | 'deals', items: Json[]): Promise<void> {
  const res = await stack.request('POST', `/v1/${kind}`, { key: stack.adminKey, body: items });
  const body = (await res.json()) as { accepted: number; rejected: unknown[] };
  expect(res.status).toBe(200);
  expect(body.rejected).toEqual([]);
}

const numbersIn = (v: unknown): number[] =>
  typeof v === 'number' ? [v] : Array.isArray(v) ? v.flatMap(numbersIn) : v && typeof v === 'object' ? Object.values(v).flatMap(numbersIn) : [];

describe('peer benchmarks over HTTP', () => {
  let stack: TestStack;
  let keys: { meGold: string; ops: string; integration: string };
  /** Every benchmark body this file received, checked for peer identities and values at the end. */
  const seen: { asked: string; text: string }[] = [];

  async function get(id: string, key: string, query = ''): Promise<{ status: number; text: string; body: Benchmark }> {
    const res = await stack.request('GET', `/v1/partners/${encodeURIComponent(id)}/benchmarks${query}`, { key });
    const text = await res.text();
    if (res.status === 200) seen.push({ asked: id, text });
    return { status: res.status, text, body: JSON.parse(text) as Benchmark };
  }
  const bench = async (id: string, query = `?asOf=${AS_OF}`, key = keys.ops): Promise<Benchmark> => {
    const r = await get(id, key, query);
    expect(r.status, r.text).toBe(200);
    return r.body;
  };
  const metric = (b: Benchmark, name: string): Metric => {
    const m = b.metrics.find((x) => x.metric === name);
    if (!m) throw new Error(`no ${name} in ${JSON.stringify(b)}`);
    return m;
  };

  beforeAll(async () => {
    stack = await startTestStack();
    await ingest(stack, 'partners', PARTNERS);
    await ingest(stack, 'events', EVENTS);
    await ingest(stack, 'deals', DEALS);
    keys = { meGold: await stack.keyFor('partner', 'BM-G-ME'), ops: await stack.keyFor('ops'), integration: await stack.keyFor('integration') };
  });
  afterAll(async () => stack?.close());

  describe('access', () => {
    it('lets a partner key read its own benchmarks', async () => {
      const r = await get('BM-G-ME', keys.meGold, `?asOf=${AS_OF}`);
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['asOf', 'cohort', 'metrics', 'partnerId', 'withheld']);
      expect(r.body.partnerId).toBe('BM-G-ME');
    });

    it('refuses a partner key for any other partner with the same 403, whether that partner exists or not', async () => {
      const existing = await get('BM-G1', keys.meGold, `?asOf=${AS_OF}`);
      const missing = await get('BM-NOBODY', keys.meGold, `?asOf=${AS_OF}`);
      expect(existing.status).toBe(403);
      expect(missing.status).toBe(403);
      const strip = (b: unknown) => ({ ...(b as Json), instance: undefined });
      expect(strip(existing.body)).toEqual(strip(missing.body));
    });

    it('lets ops and admin read any partner, and refuses integration keys', async () => {
      expect((await get('BM-G1', keys.ops, `?asOf=${AS_OF}`)).status).toBe(200);
      expect((await get('BM-S-ME', stack.adminKey, `?asOf=${AS_OF}`)).status).toBe(200);
      expect((await get('BM-G1', keys.integration, `?asOf=${AS_OF}`)).status).toBe(403);
    });

    it('answers 404 for an unknown partner and 400 for a malformed asOf', async () => {
      expect((await get('BM-NOBODY', keys.ops)).status).toBe(404);
      const bad = await get('BM-G-ME', keys.ops, '?asOf=yesterday');
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.text).errors).toEqual([expect.objectContaining({ path: 'query.asOf' })]);
    });
  });

  describe('cohorts', () => {
    it('uses the segment when it holds k peers: description, size range, coarsened quartiles, withheld metric', async () => {
      const b = await bench('BM-G-ME');
      expect(b.asOf).toBe(AS_OF);
      expect(b.cohort).toEqual({ tier: 'gold', region: 'EMEA', segment: 'SMB', size: '5-9' });
      expect(b.withheld).toEqual(['nps']); // four peers answered NPS in the window: fewer than k
      expect(b.metrics.map((m) => m.metric)).toEqual(ALL_METRICS.filter((m) => m !== 'nps'));
      expect(metric(b, 'sourced_revenue')).toEqual({
        metric: 'sourced_revenue',
        label: 'Sourced won revenue, last 90 days',
        unit: 'currency',
        value: 5000,
        percentile: 12, // below p25: "bottom quarter", never "below the lowest peer"
        p25: 46_000,
        p50: 120_000, // the plain median would be one peer's exact 123,456.78
        p75: 230_000,
      });
      expect(metric(b, 'portal_logins')).toMatchObject({ value: 15, p25: 7, p50: 12, p75: 20, percentile: 59 });
      expect(metric(b, 'win_rate')).toMatchObject({ value: 1, p25: 1, p50: 1, p75: 1, percentile: 50 });
    });

    it('drops the segment when it is short: tier and region', async () => {
      const b = await bench('BM-S-ME');
      expect(b.cohort).toEqual({ tier: 'silver', region: 'APAC', size: '5-9' });
    });

    it('drops the region too when needed: the whole tier', async () => {
      const b = await bench('BM-B-ME');
      expect(b.cohort).toEqual({ tier: 'bronze', size: '10-24' });
    });

    it('withholds the benchmark when even the tier is too small: 200, cohort null, no metrics, every metric withheld', async () => {
      const b = await bench('BM-T-ME');
      expect(b).toEqual({ partnerId: 'BM-T-ME', asOf: AS_OF, cohort: null, metrics: [], withheld: ALL_METRICS, reason: 'cohort_too_small' });
    });
  });

  describe('asOf', () => {
    it('counts only partners active at asOf: widens while the segment is one short, narrows again when a peer joins', async () => {
      // 2025-03-31: G1–G4 and G6 (churns 04-01) → 5; 2025-04-05: G1–G4 → 4 → region; 2025-08-01: G1–G5 and G7 → 6.
      expect((await bench('BM-G-ME', '?asOf=2025-03-31')).cohort).toEqual({ tier: 'gold', region: 'EMEA', segment: 'SMB', size: '5-9' });
      expect((await bench('BM-G-ME', '?asOf=2025-04-05')).cohort).toEqual({ tier: 'gold', region: 'EMEA', size: '5-9' });
      expect((await bench('BM-G-ME', '?asOf=2025-08-01')).cohort).toEqual({ tier: 'gold', region: 'EMEA', segment: 'SMB', size: '5-9' });
    });

    it('uses only what was true at asOf', async () => {
      // 2025-05-31: the won deals close on 06-01, the logins happen on 06-15: open deals, no logins yet.
      const b = await bench('BM-G-ME', '?asOf=2025-05-31');
      expect(metric(b, 'sourced_revenue')).toMatchObject({ value: 0, p25: 0, p50: 0, p75: 0 });
      expect(metric(b, 'deals_registered')).toMatchObject({ value: 1, p50: 1 });
      expect(metric(b, 'portal_logins')).toMatchObject({ value: 0, p50: 0 });
      expect(b.withheld).toEqual(expect.arrayContaining(['win_rate', 'average_deal_size', 'deal_cycle_days', 'nps']));
    });

    it('gives a partner no benchmark at a time it was not in the program', async () => {
      const b = await bench('BM-G-ME', '?asOf=2023-12-31');
      expect(b).toEqual({ partnerId: 'BM-G-ME', asOf: '2023-12-31', cohort: null, metrics: [], withheld: ALL_METRICS, reason: 'partner_not_active' });
    });

    it('defaults to the last complete UTC day', async () => {
      const yesterday = (): string => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const before = yesterday();
      const b = await bench('BM-G-ME', '');
      expect([before, yesterday()]).toContain(b.asOf);
    });
  });

  describe('privacy claims (docs/privacy.md)', () => {
    it('claim 1: the cohort is the server’s choice; no query parameter changes it', async () => {
      const plain = await get('BM-G-ME', keys.meGold, `?asOf=${AS_OF}`);
      for (const q of ['&tier=tiny', '&region=APAC', '&segment=ENT', '&k=1', '&cohort=tier', '&partnerId=BM-G1']) {
        const other = await get('BM-G-ME', keys.meGold, `?asOf=${AS_OF}${q}`);
        expect(other.status).toBe(200);
        expect(other.text).toBe(plain.text);
      }
    });

    it('claim 2: repeated queries give identical answers (nothing random to average away)', async () => {
      const texts = await Promise.all(Array.from({ length: 6 }, async () => (await get('BM-G-ME', keys.meGold, `?asOf=${AS_OF}`)).text));
      expect(new Set(texts).size).toBe(1);
    });

    it('claim 3: asOf has a resolution of one day, so stepping it within a day cannot time a peer’s event', async () => {
      await ingest(stack, 'events', [event('BM-G1', 'portal_login', '2025-07-10T12:00:00Z', 1000)]);
      const dayBefore = (await get('BM-G-ME', keys.meGold, '?asOf=2025-07-09')).text;
      for (const t of ['2025-07-10T00:00:00Z', '2025-07-10T11:59:59Z', '2025-07-10T12:00:00Z', '2025-07-10T23:59:58Z']) {
        const r = await get('BM-G-ME', keys.meGold, `?asOf=${encodeURIComponent(t)}`);
        expect(r.body.asOf).toBe('2025-07-09');
        expect(r.text).toBe(dayBefore);
      }
      // The whole day (a date) does see it: the test is not vacuous.
      const day = await bench('BM-G-ME', '?asOf=2025-07-10', keys.meGold);
      expect(day.asOf).toBe('2025-07-10');
      expect(metric(day, 'portal_logins').p50).toBe(20);
      expect(metric(JSON.parse(dayBefore) as Benchmark, 'portal_logins').p50).toBe(12);
    });

    it('claim 4: a peer’s change within its rounding bucket is invisible, however the responses are differenced', async () => {
      const before = (await get('BM-G-ME', keys.meGold, `?asOf=${AS_OF}`)).text;
      await ingest(stack, 'deals', [wonDeal('BM-D-BM-G3', 'BM-G3', 118_000.01, '2025-06-02T00:00:00Z')]);
      expect((await get('BM-G-ME', keys.meGold, `?asOf=${AS_OF}`)).text).toBe(before);
      // Out of the bucket, the median moves: the test is not vacuous.
      await ingest(stack, 'deals', [wonDeal('BM-D-BM-G3', 'BM-G3', 150_000, '2025-06-03T00:00:00Z')]);
      const after = await bench('BM-G-ME', `?asOf=${AS_OF}`, keys.meGold);
      expect(metric(after, 'sourced_revenue').p50).toBe(150_000);
    });

    it('claim 5: no response carries a peer’s identity or exact value; quartiles are rounded values', () => {
      expect(seen.length).toBeGreaterThan(20);
      for (const { asked, text } of seen) {
        const others = othersOf(asked);
        for (const id of others.ids) expect(text).not.toMatch(new RegExp(`"${id}"|${id}[^0-9]`));
        for (const name of others.names) expect(text).not.toContain(name);
        const numbers = numbersIn(JSON.parse(text));
        for (const v of others.values) expect(numbers).not.toContain(v);
        const body = JSON.parse(text) as Benchmark;
        for (const m of body.metrics) {
          expect(Object.keys(m).sort()).toEqual(['label', 'metric', 'p25', 'p50', 'p75', 'percentile', 'unit', 'value']);
          for (const q of [m.p25, m.p50, m.p75]) expect(Number(q.toPrecision(2))).toBe(q);
        }
      }
    });
  });
});

describe('peer benchmarks with BENCHMARK_K = 3', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack((base) => ({ config: { ...base.config, benchmarkK: 3 } }));
    await ingest(stack, 'partners', PARTNERS.filter((p) => p.tier === 'tiny'));
    await ingest(stack, 'events', EVENTS.filter((e) => (e.partnerId as string).startsWith('BM-T')));
  });
  afterAll(async () => stack?.close());

  it('benchmarks a cohort of 3 peers, its size given as the range 3-9', async () => {
    const res = await stack.request('GET', `/v1/partners/BM-T-ME/benchmarks?asOf=${AS_OF}`, { key: stack.adminKey });
    const b = (await res.json()) as Benchmark;
    expect(res.status).toBe(200);
    expect(b.cohort).toEqual({ tier: 'tiny', region: 'EMEA', segment: 'SMB', size: '3-9' });
    // Peers logged in 10, 11, 12 times: with 3 values, every quartile is the middle one.
    expect(b.metrics.find((m) => m.metric === 'portal_logins')).toMatchObject({ value: 13, p25: 11, p50: 11, p75: 11, percentile: 88 });
  });
});
