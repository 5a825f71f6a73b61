import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Deal } from '../../data/schemas/deal';
import type { EventType, PartnerEvent } from '../../data/schemas/event';
import type { Partner } from '../../data/schemas/partner';
import { benchmarkKFromEnv, ConfigError } from '../../functions/config';
import { BENCHMARK_METRIC_NAMES, BENCHMARK_METRICS, benchmarkMetrics, type BenchmarkValues } from '../../models/benchmarks/benchmark-metrics';
import { benchmarkAgainstPeers, benchmarkDay, coarsen, effectiveK, peerBenchmark, peerQuartiles, percentileFromQuartiles, quantileRank, sizeRange, widenCohort } from '../../models/benchmarks/peer-benchmark';
import type { CohortSpec, PeerBenchmark } from '../../models/benchmarks/peer-benchmark';
import type { PartnerHistory } from '../../models/types';

const DAY = 86_400_000;
const AS_OF = '2025-06-30T23:59:59.999Z';
const AT = Date.parse(AS_OF);
const iso = (s: string): string => new Date(Date.parse(s)).toISOString();

function partner(partnerId: string, more: Partial<Partner> = {}): Partner {
  return { partnerId, name: `Name of ${partnerId}`, tier: 'gold', region: 'EMEA', segment: 'SMB', joinedAt: '2024-01-01', status: 'active', ...more };
}

let seq = 0;
const event = (type: EventType, occurredAt: string, quantity = 1, value?: number): PartnerEvent => {
  seq += 1;
  return { eventId: `E${seq}`, partnerId: 'P1', type, occurredAt: iso(occurredAt), quantity, ...(value === undefined ? {} : { value }) };
};
const deal = (dealId: string, role: 'sourced' | 'influenced', amount: number, stage: Deal['stage'], createdAt: string, closedAt?: string): Deal => ({
  dealId,
  partnerId: 'P1',
  partnerRole: role,
  amount,
  stage,
  createdAt: iso(createdAt),
  ...(closedAt ? { closedAt: iso(closedAt) } : {}),
  updatedAt: iso(closedAt ?? createdAt),
});
const history = (p: Partner, events: PartnerEvent[], deals: Deal[]): PartnerHistory => ({
  partner: p,
  events: [...events].sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : 1)),
  deals: [...deals].sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1)),
});

const values = (v: Partial<BenchmarkValues>): BenchmarkValues => ({ ...(Object.fromEntries(BENCHMARK_METRIC_NAMES.map((m) => [m, null])) as BenchmarkValues), ...v });

describe('benchmarkMetrics: the ten metrics at a point in time', () => {
  const P = partner('P1', { joinedAt: '2025-01-10' });
  const windowStart = AT - 90 * DAY; // (asOf − 90 days, asOf]
  const h = history(
    P,
    [
      event('portal_login', AS_OF, 3), // exactly asOf: counted
      event('portal_login', new Date(windowStart).toISOString(), 50), // exactly asOf − 90 days: not counted
      event('portal_login', new Date(windowStart + 1).toISOString(), 2), // just inside
      event('portal_login', '2025-07-01T00:00:00Z', 100), // after asOf
      event('certification_earned', '2025-05-01T00:00:00Z', 1),
      event('training_completed', '2025-05-01T00:00:00Z', 4),
      event('training_completed', '2025-01-15T00:00:00Z', 9), // before the window
      event('nps_response', '2025-03-01T00:00:00Z', 1, 2), // before the window
      event('nps_response', '2025-05-01T00:00:00Z', 1, 9),
      event('nps_response', '2025-06-01T00:00:00Z', 1, 6),
      event('nps_response', '2025-07-02T00:00:00Z', 1, 0), // after asOf
    ],
    [
      deal('D0', 'sourced', 999, 'won', '2025-02-01T00:00:00Z', '2025-02-20T00:00:00Z'), // first deal; closed before the window
      deal('D1', 'sourced', 1000, 'won', '2025-04-10T00:00:00Z', '2025-05-10T00:00:00Z'), // 30 days
      deal('D2', 'influenced', 3000, 'won', '2025-03-01T00:00:00Z', '2025-06-01T12:00:00Z'), // created before the window, 92.5 days
      deal('D3', 'sourced', 5000, 'lost', '2025-05-01T00:00:00Z', '2025-06-15T00:00:00Z'),
      deal('D4', 'sourced', 7000, 'won', '2025-06-01T00:00:00Z', '2025-07-05T00:00:00Z'), // won after asOf: open at asOf
      deal('D5', 'sourced', 8000, 'open', '2025-06-10T00:00:00Z', '2025-06-20T00:00:00Z'), // open with an expected closedAt: open
      deal('D6', 'sourced', 9000, 'registered', '2025-07-10T00:00:00Z'), // created after asOf: does not exist
    ],
  );

  it('applies the point-in-time rules and the half-open 90-day window', () => {
    // Registered: D1, D3, D4, D5. Closed: D1, D2 won, D3 lost. Cycle (30 + 92.5) / 2. First deal 2025-01-10 → 02-01.
    const expected = { deals_registered: 4, win_rate: 0.6667, sourced_revenue: 1000, average_deal_size: 2000, deal_cycle_days: 61.3, time_to_first_deal: 22 };
    expect(benchmarkMetrics(h, AT)).toEqual({ ...expected, certifications: 1, trainings: 4, portal_logins: 5, nps: 7.5 });
  });

  it('gives null, not a default, for what the partner has no value for', () => {
    const empty = benchmarkMetrics(history(P, [event('portal_login', '2025-06-01T00:00:00Z')], []), AT);
    expect(empty).toEqual(values({ deals_registered: 0, sourced_revenue: 0, certifications: 0, trainings: 0, portal_logins: 1 }));
  });

  it('lists the ten contract metrics with labels and units', () => {
    const contract = 'deals_registered win_rate sourced_revenue average_deal_size deal_cycle_days time_to_first_deal certifications trainings portal_logins nps';
    expect(BENCHMARK_METRIC_NAMES.join(' ')).toBe(contract);
    for (const m of BENCHMARK_METRICS) expect(m.label.length).toBeGreaterThan(5);
  });
});

describe('day resolution and k', () => {
  it('keeps a date asOf (the end of that day) and moves any time within a day to the end of the day before', () => {
    expect(benchmarkDay(AT)).toEqual({ day: '2025-06-30', at: AT });
    expect(benchmarkDay(Date.parse('2025-06-30T23:59:59.998Z'))).toEqual({ day: '2025-06-29', at: AT - DAY });
    expect(benchmarkDay(Date.parse('2025-06-30T00:00:00Z'))).toEqual({ day: '2025-06-29', at: AT - DAY });
    expect(benchmarkDay(Date.parse('2025-07-01T00:00:00Z'))).toEqual({ day: '2025-06-30', at: AT });
  });

  it('reads BENCHMARK_K: default 5, never below 3', () => {
    expect(benchmarkKFromEnv({})).toBe(5);
    expect(benchmarkKFromEnv({ BENCHMARK_K: '' })).toBe(5);
    expect(benchmarkKFromEnv({ BENCHMARK_K: '7' })).toBe(7);
    expect(benchmarkKFromEnv({ BENCHMARK_K: '3' })).toBe(3);
    for (const bad of ['2', '0', '-5', '4.5', 'five']) expect(() => benchmarkKFromEnv({ BENCHMARK_K: bad })).toThrow(ConfigError);
    expect(effectiveK(undefined)).toBe(5);
    expect(effectiveK(1)).toBe(3);
  });

  it('gives sizes as ranges, the lowest starting at k when k is below 5', () => {
    expect([5, 9, 10, 24, 25, 99, 100, 5000].map((n) => sizeRange(n, 5))).toEqual(['5-9', '5-9', '10-24', '10-24', '25-99', '25-99', '100+', '100+']);
    expect(sizeRange(3, 3)).toBe('3-9');
    expect(sizeRange(7, 3)).toBe('3-9');
    expect(sizeRange(4, 4)).toBe('4-9');
    expect(sizeRange(8, 7)).toBe('5-9');
  });
});

/** A tier "gold" with `segment` peers in EMEA/SMB, `region` more in EMEA/ENT, `tier` more in APAC (segment SMB too), plus decoys that never count. */
function world(counts: { segment: number; region: number; tier: number }): Partner[] {
  const out: Partner[] = [partner('ME')];
  const add = (n: number, prefix: string, more: Partial<Partner>): void => {
    for (let i = 0; i < n; i += 1) out.push(partner(`${prefix}-${i}`, more));
  };
  add(counts.segment, 'seg', {});
  add(counts.region, 'reg', { segment: 'ENT' });
  add(counts.tier, 'tier', { region: 'APAC' });
  // Decoys: churned on or before asOf, joined after asOf, another tier; a duplicate of ME's own id.
  add(3, 'churned', { status: 'churned', joinedAt: '2024-01-01', churnedAt: '2025-06-30' });
  add(3, 'late', { joinedAt: '2025-07-01' });
  add(20, 'silver', { tier: 'silver' });
  out.push(partner('ME'));
  return out;
}

const fetcher = (all: readonly Partner[], calls: CohortSpec[]) => (spec: CohortSpec) => {
  calls.push(spec);
  return all.filter((p) => p.tier === spec.tier && (spec.region === undefined || p.region === spec.region) && (spec.segment === undefined || p.segment === spec.segment));
};

describe.each([3, 5, 7])('cohort widening with k = %i', (k) => {
  const me = partner('ME');
  const run = async (counts: { segment: number; region: number; tier: number }) => {
    const calls: CohortSpec[] = [];
    const choice = await widenCohort(me, AT, k, fetcher(world(counts), calls));
    return { choice, calls };
  };
  const many = k + 10;

  it.each([['segment', k - 1, 'region'], ['segment', k, 'segment'], ['segment', k + 1, 'segment']] as const)('%s step: %i peers in the segment → %s cohort', async (_step, n, level) => {
    const { choice, calls } = await run({ segment: n, region: many, tier: many });
    expect(choice?.level).toBe(level);
    if (level === 'segment') {
      expect(choice!.peers).toHaveLength(n);
      expect(calls).toEqual([{ tier: 'gold', region: 'EMEA', segment: 'SMB' }]); // no wider query than needed
    } else {
      expect(choice!.peers).toHaveLength(n + many);
      expect(choice!.spec).toEqual({ tier: 'gold', region: 'EMEA' });
    }
  });

  it.each([[k - 1, 'tier'], [k, 'region'], [k + 1, 'region']] as const)('region step: %i peers in the region → %s cohort', async (n, level) => {
    const segment = Math.min(1, n);
    const { choice, calls } = await run({ segment, region: n - segment, tier: many });
    expect(choice?.level).toBe(level);
    expect(choice!.peers).toHaveLength(level === 'region' ? n : n + many);
    expect(calls.length).toBe(level === 'region' ? 2 : 3);
  });

  it.each([[k - 1, null], [k, 'tier'], [k + 1, 'tier']] as const)('tier step: %i peers in the tier → %s', async (n, level) => {
    const { choice, calls } = await run({ segment: 1, region: 1, tier: n - 2 });
    expect(choice?.level ?? null).toBe(level);
    if (choice) {
      expect(choice.peers).toHaveLength(n);
      expect(choice.spec).toEqual({ tier: 'gold' });
    }
    expect(calls).toHaveLength(3);
  });

  it('never counts the partner itself, churned or not-yet-joined partners, or another tier', async () => {
    const { choice } = await run({ segment: k, region: 0, tier: 0 });
    const ids = choice!.peers.map((p) => p.partnerId);
    expect(ids).not.toContain('ME');
    expect(ids.every((id) => id.startsWith('seg-'))).toBe(true);
  });

  it('withholds the whole benchmark when even the tier is too small: cohort null, no metrics, every metric withheld', () => {
    const body = peerBenchmark({ partner: me, day: '2025-06-30', k, choice: null, own: values({}), peers: [] });
    expect(body).toEqual({ partnerId: 'ME', asOf: '2025-06-30', cohort: null, metrics: [], withheld: [...BENCHMARK_METRIC_NAMES], reason: 'cohort_too_small' });
  });

  it.each([[k - 1, true], [k, false], [k + 1, false]])('withholds a metric that only %i peers have a value for: %s', (n, withheld) => {
    const peers = Array.from({ length: k + 1 }, (_, i) => values({ deals_registered: i, nps: i < n ? 5 + i / 10 : null }));
    const body = peerBenchmark({ partner: me, day: '2025-06-30', k, choice: { spec: { tier: 'gold' } }, own: values({ deals_registered: 2, nps: 6 }), peers });
    expect(body.withheld.includes('nps')).toBe(withheld);
    expect(body.metrics.some((m) => m.metric === 'nps')).toBe(!withheld);
    expect(body.metrics.find((m) => m.metric === 'deals_registered')).toBeDefined();
    expect([...body.metrics.map((m) => m.metric), ...body.withheld].sort()).toEqual([...BENCHMARK_METRIC_NAMES].sort());
  });
});

describe('coarsened quartiles', () => {
  it('round to two significant figures', () => {
    expect([123456.78, 0.66667, 23, 7.25, 0, 99.5, 1234, 0.0123].map(coarsen)).toEqual([120000, 0.67, 23, 7.3, 0, 100, 1200, 0.012]);
  });

  it('hide a small cohort’s exact median, which a plain median would reveal', () => {
    const revenue = [10_111.11, 45_678.91, 123_456.78, 234_567.89, 987_654.32];
    expect(revenue[2]).toBe(123_456.78); // the plain median: one peer's exact number
    expect(peerQuartiles(revenue)).toEqual({ p25: 46_000, p50: 120_000, p75: 230_000 });
  });

  it('never use the lowest or highest value: ranks 1..n−2', () => {
    for (let n = 3; n <= 60; n += 1) {
      for (const p of [0.25, 0.5, 0.75]) {
        const r = quantileRank(n, p);
        expect(r).toBeGreaterThanOrEqual(1);
        expect(r).toBeLessThanOrEqual(n - 2);
      }
    }
    expect(peerQuartiles([1, 500, 900])).toEqual({ p25: 500, p50: 500, p75: 500 });
    expect(peerQuartiles([1, 2, 3, 1000])).toEqual({ p25: 2, p50: 3, p75: 3 });
  });

  it('read the percentile off the quartiles only: 12 in the bottom quarter, 88 in the top', () => {
    const q = { p25: 10, p50: 20, p75: 40 };
    expect([0, 9.99, 10, 15, 20, 30, 40, 41, 1e9].map((v) => percentileFromQuartiles(v, q))).toEqual([12, 12, 25, 38, 50, 63, 75, 88, 88]);
    expect(percentileFromQuartiles(0, { p25: 0, p50: 0, p75: 1 })).toBe(38);
    expect(percentileFromQuartiles(3, { p25: 3, p50: 3, p75: 3 })).toBe(50);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: over random cohorts, no response carries a peer's identity or exact value.

const idArb = fc.string({ unit: fc.constantFrom(...'abcdefghijkmnpqrstuvwxyz23456789'), minLength: 10, maxLength: 10 });
/** Metric values: often with many significant digits (distinctive), sometimes round, sometimes absent. */
const valueArb = fc.oneof(
  { weight: 5, arbitrary: fc.double({ min: 0, max: 5_000_000, noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2_000 }) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 1, arbitrary: fc.constant(null) },
);
const peerArb = fc.record({
  id: idArb,
  region: fc.constantFrom('EMEA', 'APAC'),
  segment: fc.constantFrom('SMB', 'ENT'),
  joinedDaysBefore: fc.integer({ min: -30, max: 900 }),
  churnedDaysBefore: fc.option(fc.integer({ min: -30, max: 60 }), { nil: undefined }),
  values: fc.tuple(...BENCHMARK_METRIC_NAMES.map(() => valueArb)),
});
const cohortArb = fc.record({ k: fc.integer({ min: 3, max: 7 }), peers: fc.uniqueArray(peerArb, { minLength: 0, maxLength: 40, selector: (p) => p.id }), own: fc.tuple(...BENCHMARK_METRIC_NAMES.map(() => valueArb)) });

const dayString = (daysBefore: number): string => new Date(AT - daysBefore * DAY).toISOString().slice(0, 10);
const toValues = (t: readonly (number | null)[]): BenchmarkValues => Object.fromEntries(BENCHMARK_METRIC_NAMES.map((m, i) => [m, t[i] ?? null])) as BenchmarkValues;

interface Case { me: Partner; all: Partner[]; valuesOf: Map<string, BenchmarkValues>; k: number }

type CohortInput = typeof cohortArb extends fc.Arbitrary<infer T> ? T : never;

function buildCase(c: CohortInput): Case {
  const me = partner('asking-partner-0');
  const all = [me];
  const valuesOf = new Map<string, BenchmarkValues>([[me.partnerId, toValues(c.own)]]);
  for (const p of c.peers) {
    const churned = p.churnedDaysBefore !== undefined && p.churnedDaysBefore < p.joinedDaysBefore;
    const status = churned ? { status: 'churned' as const, churnedAt: dayString(p.churnedDaysBefore!) } : {};
    all.push(partner(`peer-${p.id}`, { name: `Peer Name ${p.id}`, region: p.region, segment: p.segment, joinedAt: dayString(p.joinedDaysBefore), ...status }));
    valuesOf.set(`peer-${p.id}`, toValues(p.values));
  }
  return { me, all, valuesOf, k: c.k };
}

async function benchmarkOf(c: Case, transform: (v: BenchmarkValues) => BenchmarkValues = (v) => v, order: (ps: Partner[]) => Partner[] = (ps) => ps): Promise<{ body: PeerBenchmark; peers: Partner[] }> {
  const choice = await widenCohort(c.me, AT, c.k, (spec) => order(c.all.filter((p) => p.tier === spec.tier && (!spec.region || p.region === spec.region) && (!spec.segment || p.segment === spec.segment))));
  const peers = choice?.peers ?? [];
  const own = c.valuesOf.get(c.me.partnerId)!;
  return { body: peerBenchmark({ partner: c.me, day: '2025-06-30', k: c.k, choice, own, peers: peers.map((p) => transform(c.valuesOf.get(p.partnerId)!)) }), peers };
}

/** A value other than v that rounds to the same two significant figures (or the rounded value itself). */
function sameBucket(v: number | null, jitter: number): number | null {
  if (v === null) return null;
  const c = coarsen(v);
  if (c === 0) return 0;
  const step = 10 ** (Math.floor(Math.log10(Math.abs(c))) - 1);
  const candidate = c + jitter * 0.045 * step; // well inside the bucket, also just below a power of ten
  return coarsen(candidate) === c ? candidate : c;
}

describe('property: no peer identity or exact value in any benchmark', () => {
  it('over random cohorts: no peer id or name; quartiles are rounded values of interior ranks; an exact peer value appears only where it is itself a rounded value', async () => {
    let offGridMediansHidden = 0;
    await fc.assert(
      fc.asyncProperty(cohortArb, async (raw) => {
        const c = buildCase(raw);
        const { body, peers } = await benchmarkOf(c);
        const text = JSON.stringify(body);
        for (const p of c.all.slice(1)) {
          expect(text).not.toContain(p.partnerId);
          expect(text).not.toContain(p.name);
        }
        expect(Object.keys(body).sort()).toEqual(body.cohort ? ['asOf', 'cohort', 'metrics', 'partnerId', 'withheld'] : ['asOf', 'cohort', 'metrics', 'partnerId', 'reason', 'withheld']);
        if (body.cohort === null) {
          expect(body.metrics).toEqual([]);
          expect(body.withheld).toEqual([...BENCHMARK_METRIC_NAMES]);
          return;
        }
        expect(peers.length).toBeGreaterThanOrEqual(c.k);
        for (const m of body.metrics) {
          const exact = peers.map((p) => c.valuesOf.get(p.partnerId)![m.metric]).filter((v): v is number => v !== null);
          expect(exact.length).toBeGreaterThanOrEqual(c.k);
          const rounded = exact.map(coarsen).sort((a, b) => a - b);
          const n = rounded.length;
          const interior = new Set(rounded.slice(1, n - 1));
          expect(Object.keys(m).sort()).toEqual(['label', 'metric', 'p25', 'p50', 'p75', 'percentile', 'unit', 'value']);
          for (const q of [m.p25, m.p50, m.p75]) {
            expect(coarsen(q)).toBe(q); // a rounded value by construction
            expect(interior.has(q)).toBe(true); // of a rank other than the lowest or highest
            for (const v of exact) if (v === q) expect(coarsen(v)).toBe(v); // equal to a peer's exact value only if that value is itself rounded
          }
          // No min or max: when the lowest (highest) rounded value is unique, no quartile shows it.
          if (rounded[0]! < rounded[1]!) expect([m.p25, m.p50, m.p75]).not.toContain(rounded[0]);
          if (rounded[n - 1]! > rounded[n - 2]!) expect([m.p25, m.p50, m.p75]).not.toContain(rounded[n - 1]);
          // The partner's percentile is a function of its own value and the quartiles alone.
          expect(m.percentile).toBe(m.value === null ? null : percentileFromQuartiles(m.value, m));
          const sortedExact = [...exact].sort((a, b) => a - b);
          if (coarsen(sortedExact[quantileRank(n, 0.5)]!) !== sortedExact[quantileRank(n, 0.5)]) offGridMediansHidden += 1;
        }
        for (const w of body.withheld) {
          expect(peers.filter((p) => c.valuesOf.get(p.partnerId)![w] !== null).length).toBeLessThan(c.k);
        }
      }),
      { numRuns: 300, seed: 20250630 },
    );
    // The property was exercised where a plain median would have leaked a peer's distinctive number.
    expect(offGridMediansHidden).toBeGreaterThan(100);
  });

  it('depends on peers only through their rounded values: moving every peer within its rounding bucket, or reordering them, changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(cohortArb, fc.double({ min: -1, max: 1, noNaN: true }), async (raw, jitter) => {
        const c = buildCase(raw);
        const { body } = await benchmarkOf(c);
        const moved = (v: BenchmarkValues): BenchmarkValues => Object.fromEntries(BENCHMARK_METRIC_NAMES.map((m) => [m, sameBucket(v[m], jitter)])) as BenchmarkValues;
        const roundedOnly = (v: BenchmarkValues): BenchmarkValues => Object.fromEntries(BENCHMARK_METRIC_NAMES.map((m) => [m, v[m] === null ? null : coarsen(v[m])])) as BenchmarkValues;
        expect((await benchmarkOf(c, moved, (ps) => [...ps].reverse())).body).toEqual(body);
        expect((await benchmarkOf(c, roundedOnly)).body).toEqual(body);
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('adding or removing one peer moves a quartile at most to a neighbouring rounded order statistic (differencing learns no more)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 5, maxLength: 30 }), fc.double({ min: 0, max: 1e6, noNaN: true }), (vals, extra) => {
        const before = peerQuartiles(vals);
        const after = peerQuartiles([...vals, extra]);
        const rounded = [...vals, extra].map(coarsen);
        for (const key of ['p25', 'p50', 'p75'] as const) {
          expect(rounded).toContain(after[key]); // every published number is some peer's rounded value ...
          expect(coarsen(after[key])).toBe(after[key]); // ... never finer, whatever the difference with `before`
          expect(coarsen(before[key])).toBe(before[key]);
        }
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('is the same for random histories run through benchmarkMetrics: no peer’s exact revenue reaches a quartile', () => {
    const amountArb = fc.integer({ min: 100_001, max: 9_999_999 }).map((cents) => cents / 100 + 0.01); // distinctive: 1,000.02 … 100,000.00
    fc.assert(
      fc.property(fc.array(fc.array(amountArb, { minLength: 1, maxLength: 3 }), { minLength: 5, maxLength: 12 }), (dealsPerPeer) => {
        const peers = dealsPerPeer.map((amounts, i) =>
          benchmarkMetrics(
            history(
              partner(`peer-${i}`),
              [],
              amounts.map((a, j) => deal(`D${i}-${j}`, 'sourced', a, 'won', '2025-05-01T00:00:00Z', '2025-06-01T00:00:00Z')),
            ),
            AT,
          ),
        );
        const { metrics } = benchmarkAgainstPeers(values({ sourced_revenue: 0 }), peers, 5);
        const revenue = metrics.find((m) => m.metric === 'sourced_revenue')!;
        const exact = peers.map((p) => p.sourced_revenue!);
        for (const q of [revenue.p25, revenue.p50, revenue.p75]) {
          expect(coarsen(q)).toBe(q);
          for (const v of exact) if (coarsen(v) !== v) expect(q).not.toBe(v);
        }
        expect(revenue.percentile).toBe(12); // 0 is below every peer: "bottom quarter", not "below the lowest peer"
      }),
      { numRuns: 100, seed: 3 },
    );
  });
});
