import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateProgram } from '../../data/generator';
import { dealSchema, type Deal, type DealInput } from '../../data/schemas/deal';
import { EVENT_TYPES, eventSchema, type EventType, type PartnerEvent } from '../../data/schemas/event';
import { partnerSchema, type Partner } from '../../data/schemas/partner';
import { buildFeatureRows, buildFeatures, timeMs } from '../../models/features/build-features';
import { encodeRow, encodedFeatureDefs, encodedFeatureNames, fitEncoder, toDataset } from '../../models/features/encode';
import { DAYS_CAP, FEATURE_DEFS, FEATURE_INDEX, FEATURE_SPECS, displayValue } from '../../models/features/feature-defs';
import type { FeatureRow, PartnerHistory } from '../../models/types';

const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const at = (s: string): string => iso(Date.parse(s));
const byTime = <T>(key: (x: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

function partner(id: string, joinedAt: string, more: Partial<Partner> = {}): Partner {
  return { partnerId: id, name: id, tier: 'gold', region: 'EMEA', segment: 'SMB', joinedAt, status: 'active', ...more };
}
let seq = 0;
function event(type: EventType, occurredAt: string, quantity = 1, value?: number): PartnerEvent {
  seq += 1;
  return { eventId: `E${seq}`, partnerId: 'P1', type, occurredAt: at(occurredAt), quantity, ...(value === undefined ? {} : { value }) };
}
function deal(id: string, role: 'sourced' | 'influenced', amount: number, stage: Deal['stage'], createdAt: string, closedAt?: string): Deal {
  const closed = closedAt === undefined ? {} : { closedAt: at(closedAt) };
  return { dealId: id, partnerId: 'P1', partnerRole: role, amount, stage, createdAt: at(createdAt), ...closed, updatedAt: at(closedAt ?? createdAt) };
}
function history(p: Partner, events: PartnerEvent[], deals: Deal[]): PartnerHistory {
  return { partner: p, events: [...events].sort(byTime((e) => e.occurredAt)), deals: [...deals].sort(byTime((d) => d.createdAt)) };
}
const value = (row: FeatureRow, name: string): number => {
  const i = FEATURE_INDEX[name];
  if (i === undefined) throw new Error(`no feature ${name}`);
  return row.values[i] as number;
};

describe('feature definitions', () => {
  it('have unique snake_case names, unique labels and the labels score drivers use', () => {
    const names = FEATURE_DEFS.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => !/^[a-z][a-z0-9_]*$/.test(n))).toEqual([]);
    expect(new Set(FEATURE_DEFS.map((d) => d.label)).size).toBe(names.length);
    const labels = new Map(FEATURE_DEFS.map((d) => [d.name, d.label]));
    expect(labels.get('portal_login_30d')).toBe('Portal logins, last 30 days');
    expect(labels.get('days_since_certification_earned')).toBe('Days since last certification');
    expect(labels.get('win_rate_365d')).toBe('Win rate, last 365 days');
    expect(labels.get('sourced_won_revenue_365d')).toBe('Sourced won revenue, last 365 days');
    expect(FEATURE_SPECS.map((s) => s.name)).toEqual(names);
    expect(displayValue('sourced_won_revenue_365d', Math.log1p(1234))).toBeCloseTo(1234, 6);
    expect(displayValue('win_rate_365d', 0.25)).toBe(0.25);
  });
});

describe('buildFeatures on a hand-made history', () => {
  const P = partner('P1', '2025-01-01');
  const events = [
    event('portal_login', '2025-06-01T00:00:00Z', 3), // exactly asOf: counted
    event('portal_login', '2025-05-02T00:00:00Z', 2), // exactly asOf − 30 days: not in the 30-day window
    event('portal_login', '2025-05-02T00:00:00.001Z', 1), // just inside the 30-day window
    event('portal_login', '2025-06-01T00:00:00.001Z', 100), // after asOf: ignored
    event('certification_earned', '2025-03-01T12:00:00Z'),
    event('nps_response', '2025-02-10T10:00:00Z', 1, 6),
    event('nps_response', '2025-05-10T10:00:00Z', 1, 9),
    event('nps_response', '2025-06-03T10:00:00Z', 1, 0), // after asOf
  ];
  const deals = [
    deal('D1', 'sourced', 1000, 'won', '2025-02-01', '2025-04-01'),
    deal('D2', 'influenced', 500, 'lost', '2025-02-15', '2025-02-20'),
    deal('D3', 'sourced', 2000, 'won', '2025-05-01', '2025-07-01'), // won after asOf: open at asOf
    deal('D4', 'sourced', 300, 'open', '2025-05-20'),
    deal('D5', 'sourced', 7000, 'won', '2025-06-02', '2025-06-20'), // created after asOf
  ];
  const row = buildFeatures(history(P, events, deals), '2025-06-01');

  it('counts quantities per window, with asOf included and asOf − window excluded', () => {
    expect(row.asOf).toBe('2025-06-01T00:00:00.000Z');
    expect(value(row, 'portal_login_30d')).toBe(Math.log1p(4));
    expect(value(row, 'portal_login_90d')).toBe(Math.log1p(6));
    expect(value(row, 'portal_login_180d')).toBe(Math.log1p(6));
    expect(value(row, 'certification_earned_30d')).toBe(0);
    expect(value(row, 'certification_earned_90d')).toBe(0); // 1 March is before asOf − 90 days (3 March)
    expect(value(row, 'certification_earned_180d')).toBe(Math.log1p(1));
    expect(displayValue('portal_login_30d', value(row, 'portal_login_30d'))).toBeCloseTo(4, 9);
    // trend: (4 − 6/3) / (4 + 6/3 + 1)
    expect(value(row, 'portal_login_trend')).toBeCloseTo(2 / 7, 12);
  });

  it('days since: whole days, tenure when never, capped', () => {
    expect(value(row, 'days_since_portal_login')).toBe(0);
    expect(value(row, 'days_since_certification_earned')).toBe(91); // 91.5 days
    expect(value(row, 'days_since_training_completed')).toBe(151); // never: tenure
    expect(value(row, 'tenure_days')).toBe(151);
    expect(value(row, 'days_to_anniversary')).toBe(365 - 151);
    const old = buildFeatures(history(partner('P1', '2020-01-01'), events, deals), '2025-06-01');
    expect(value(old, 'days_since_training_completed')).toBe(DAYS_CAP);
    expect(value(old, 'tenure_days')).toBe(1825);
  });

  it('NPS level and change from responses at or before asOf', () => {
    expect(value(row, 'nps_last')).toBe(9);
    expect(value(row, 'nps_change')).toBe(3);
    expect(value(row, 'has_nps')).toBe(1);
    const none = buildFeatures(history(P, [], []), '2025-06-01');
    expect([value(none, 'nps_last'), value(none, 'nps_change'), value(none, 'has_nps')]).toEqual([7, 0, 0]);
  });

  it('deals as they stood at asOf: counts, win rate, revenue, cycle, open pipeline', () => {
    expect(displayValue('deals_registered_90d', value(row, 'deals_registered_90d'))).toBeCloseTo(2, 9); // D3, D4
    expect(displayValue('deals_registered_180d', value(row, 'deals_registered_180d'))).toBeCloseTo(4, 9);
    expect(value(row, 'deals_won_90d')).toBe(Math.log1p(1));
    expect(value(row, 'deals_lost_90d')).toBe(0);
    expect(value(row, 'deals_lost_180d')).toBe(Math.log1p(1));
    expect(value(row, 'win_rate_90d')).toBeCloseTo(2 / 3, 12);
    expect(value(row, 'win_rate_180d')).toBeCloseTo(0.5, 12);
    expect(value(row, 'sourced_won_revenue_90d')).toBe(Math.log1p(1000));
    expect(value(row, 'sourced_won_revenue_365d')).toBe(Math.log1p(1000));
    expect(value(row, 'influenced_won_revenue_365d')).toBe(0);
    expect(value(row, 'avg_deal_size_365d')).toBe(Math.log1p(1000));
    expect(value(row, 'avg_cycle_days_365d')).toBe(59);
    expect(value(row, 'open_pipeline_deals')).toBe(Math.log1p(2)); // D3 (won after asOf) and D4
    expect(value(row, 'open_pipeline_amount')).toBe(Math.log1p(2300));
    expect(value(row, 'has_first_deal')).toBe(1);
    expect(value(row, 'days_to_first_deal')).toBe(31);
    const later = buildFeatures(history(P, events, deals), '2025-07-02');
    expect(value(later, 'sourced_won_revenue_90d')).toBe(Math.log1p(2000 + 7000)); // D3 and D5 have closed by then; D1 has left the window
    expect(value(later, 'open_pipeline_deals')).toBe(Math.log1p(1));
  });

  it('reads asOf as a date (00:00Z), a date-time or an offset, and refuses anything else', () => {
    const h = history(P, events, deals);
    expect(buildFeatures(h, '2025-06-01T00:00:00Z')).toEqual(row);
    expect(buildFeatures(h, '2025-06-01T02:00:00+02:00')).toEqual(row);
    expect(buildFeatures(h, '2025-06-01T00:00:00.001Z').values).not.toEqual(row.values); // the 100 logins count now
    expect(() => buildFeatures(h, '2025-06-31')).toThrow(/asOf/);
    expect(() => buildFeatures(h, 'yesterday')).toThrow(/asOf/);
    const rows = buildFeatureRows([h, history(partner('P2', '2025-03-01', { tier: 'silver' }), [], [])], '2025-06-01');
    expect(rows.map((r) => [r.partnerId, r.categories.tier, r.values.length])).toEqual([
      ['P1', 'gold', FEATURE_DEFS.length],
      ['P2', 'silver', FEATURE_DEFS.length],
    ]);
  });

  it('reads stored times by hand exactly as Date.parse does', () => {
    for (const s of ['2024-02-29T23:59:59.999Z', '1999-12-31T00:00:00.000Z', '2025-03-01', '2100-03-01T12:34:56.789Z', '2025-03-01T12:00:00Z']) {
      expect(timeMs(s)).toBe(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s));
    }
  });
});

// Random small histories: times in days after 2024-01-01, asOf in the middle.
const T0 = Date.parse('2024-01-01T00:00:00Z');
const eventArb = fc.record({ type: fc.constantFrom(...EVENT_TYPES), ms: fc.integer({ min: 0, max: 600 * DAY }), quantity: fc.integer({ min: 0, max: 5 }), value: fc.integer({ min: 0, max: 10 }) });
const dealArb = fc.record({
  role: fc.constantFrom('sourced' as const, 'influenced' as const),
  amount: fc.integer({ min: 0, max: 500_000 }),
  created: fc.integer({ min: 0, max: 600 * DAY }),
  stage: fc.constantFrom('registered' as const, 'open' as const, 'won' as const, 'lost' as const),
  cycle: fc.integer({ min: 0, max: 200 * DAY }),
});
const caseArb = fc.record({
  join: fc.integer({ min: 0, max: 300 }),
  asOf: fc.integer({ min: 0, max: 600 * DAY }),
  events: fc.array(eventArb, { maxLength: 40 }),
  deals: fc.array(dealArb, { maxLength: 12 }),
  laterEvents: fc.array(eventArb, { minLength: 1, maxLength: 10 }),
  laterDeals: fc.array(dealArb, { maxLength: 4 }),
  closeDelays: fc.array(fc.integer({ min: 1, max: 100 * DAY }), { minLength: 12, maxLength: 12 }),
  closeAs: fc.array(fc.constantFrom('won' as const, 'lost' as const), { minLength: 12, maxLength: 12 }),
});
type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never;

function toEvent(e: Case['events'][number], ms: number, i: number): PartnerEvent {
  const value = e.type === 'nps_response' ? { value: e.value } : {};
  return { eventId: `E${i}`, partnerId: 'P1', type: e.type, occurredAt: iso(T0 + ms), quantity: e.quantity, ...value };
}
function toDeal(d: Case['deals'][number], created: number, i: number): Deal {
  const closed = d.stage === 'won' || d.stage === 'lost' ? { closedAt: iso(T0 + created + d.cycle) } : {};
  return { dealId: `D${i}`, partnerId: 'P1', partnerRole: d.role, amount: d.amount, stage: d.stage, createdAt: iso(T0 + created), ...closed, updatedAt: iso(T0 + created + d.cycle) };
}
function baseHistory(c: Case): PartnerHistory {
  const p = partner('P1', iso(T0 + c.join * DAY).slice(0, 10));
  return history(p, c.events.map((e, i) => toEvent(e, e.ms, i)), c.deals.map((d, i) => toDeal(d, d.created, i)));
}

describe('point-in-time correctness (property)', () => {
  it('records dated after asOf, and deals that close only after asOf, change no feature at asOf', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const asOf = iso(T0 + c.asOf);
        const base = baseHistory(c);
        const before = buildFeatures(base, asOf);
        const afterMs = (ms: number): number => c.asOf + 1 + (ms % (200 * DAY));
        const events = [...base.events, ...c.laterEvents.map((e, i) => toEvent(e, afterMs(e.ms), 1000 + i))];
        // Deals open at asOf get their closing (won or lost) after asOf; amounts stay (only the latest amount is stored).
        const updated = base.deals.map((d, i): Deal => {
          const open = !((d.stage === 'won' || d.stage === 'lost') && d.closedAt !== undefined && d.closedAt <= asOf);
          if (!open || timeMs(d.createdAt) > T0 + c.asOf) return d;
          const closedAt = iso(Math.max(T0 + c.asOf, timeMs(d.createdAt)) + (c.closeDelays[i] ?? 1));
          return { ...d, stage: c.closeAs[i] ?? 'won', closedAt, updatedAt: closedAt };
        });
        const deals = [...updated, ...c.laterDeals.map((d, i) => toDeal(d, afterMs(d.created), 1000 + i))];
        const after = buildFeatures(history(base.partner, events, deals), asOf);
        expect(after).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });

  it('is not vacuous: a record at or before asOf does change the features', () => {
    fc.assert(
      fc.property(caseArb, fc.constantFrom(...EVENT_TYPES), (c, type) => {
        const asOf = iso(T0 + c.asOf);
        const base = baseHistory(c);
        const added = history(base.partner, [...base.events, toEvent({ type, ms: 0, quantity: 1, value: 5 }, c.asOf, 999)], base.deals);
        expect(buildFeatures(added, asOf).values).not.toEqual(buildFeatures(base, asOf).values);
      }),
      { numRuns: 100 },
    );
  });
});

/** Histories from generator records, normalized by the schemas; deals at their latest version known at `cut`. */
function historiesOf(program: ReturnType<typeof generateProgram>, cut?: string): PartnerHistory[] {
  const byId = new Map<string, PartnerHistory>();
  for (const p of program.partners) byId.set(p.partnerId, { partner: partnerSchema.parse(p), events: [], deals: [] });
  for (const e of program.events) {
    const ev = eventSchema.parse(e);
    if (cut === undefined || ev.occurredAt <= cut) byId.get(ev.partnerId)?.events.push(ev);
  }
  const latest = new Map<string, Deal>();
  for (const d of program.deals as DealInput[]) {
    const v = dealSchema.parse(d);
    const prev = latest.get(v.dealId);
    if ((cut === undefined || v.updatedAt <= cut) && (!prev || prev.updatedAt <= v.updatedAt)) latest.set(v.dealId, v);
  }
  for (const d of latest.values()) if (d.partnerId !== null) byId.get(d.partnerId)?.deals.push(d);
  return [...byId.values()].map((h) => history(h.partner, h.events, h.deals));
}

describe('features on generated data', () => {
  const program = generateProgram({ seed: 3, partners: 60, years: 1.5, end: '2025-06-30' });
  const full = historiesOf(program);

  it('from today’s store equal those from the store as it stood at asOf (except the latest-amount limit)', () => {
    const asOf = '2025-02-14T00:00:00.000Z';
    const then = historiesOf(program, asOf);
    const skip = FEATURE_INDEX['open_pipeline_amount'];
    const strip = (r: FeatureRow): number[] => r.values.filter((_, i) => i !== skip);
    const a = buildFeatureRows(full, asOf).map(strip);
    const b = buildFeatureRows(then, asOf).map(strip);
    expect(a).toEqual(b);
    const atEnd = buildFeatureRows(full, '2025-06-30').map(strip);
    expect(a.filter((v, i) => v.join() !== atEnd[i]?.join()).length).toBeGreaterThan(30); // the comparison is not vacuous
  });

  it('are finite and within their bounds', () => {
    const rows = ['2024-06-30', '2025-01-01', '2025-06-30'].flatMap((d) => buildFeatureRows(full, d));
    for (const r of rows) expect(r.values.every(Number.isFinite)).toBe(true);
    for (const spec of FEATURE_SPECS) {
      const vs = rows.map((r) => value(r, spec.name));
      const [lo, hi] = [Math.min(...vs), Math.max(...vs)];
      if (spec.unit === 'ratio') expect([lo >= -1, hi <= 1]).toEqual([true, true]);
      if (spec.unit === 'flag') expect(vs.every((v) => v === 0 || v === 1)).toBe(true);
      if (spec.unit === 'days') expect([lo >= 0, hi <= 1825]).toEqual([true, true]);
      if (spec.transform === 'log1p') expect([lo >= 0, hi < 25]).toEqual([true, true]);
    }
  });
});

describe('encoder', () => {
  const row = (id: string, tier: string, region: string, segment: string): FeatureRow => ({
    partnerId: id,
    asOf: '2025-01-01T00:00:00.000Z',
    values: FEATURE_DEFS.map((_, i) => i),
    categories: { tier, region, segment },
  });
  const rows = [row('a', 'silver', 'NA', 'SMB'), row('b', 'gold', 'EMEA', 'SMB'), row('c', 'gold', 'NA', 'enterprise')];
  const enc = fitEncoder(rows);
  const n = FEATURE_DEFS.length;

  it('fits sorted vocabularies and is plain JSON', () => {
    expect(enc.categories).toEqual({ tier: ['gold', 'silver'], region: ['EMEA', 'NA'], segment: ['SMB', 'enterprise'] });
    expect(JSON.parse(JSON.stringify(enc))).toEqual(enc);
    expect(fitEncoder([...rows].reverse())).toEqual(enc);
  });

  it('appends one-hots; an unknown category encodes as all zeros', () => {
    expect(encodeRow(enc, rows[0] as FeatureRow).slice(n)).toEqual([0, 1, 0, 1, 1, 0]);
    expect(encodeRow(enc, rows[0] as FeatureRow).slice(0, n)).toEqual(FEATURE_DEFS.map((_, i) => i));
    expect(encodeRow(enc, row('d', 'platinum', 'LATAM', 'enterprise')).slice(n)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(() => encodeRow(enc, { ...(rows[0] as FeatureRow), values: [1, 2] })).toThrow(/numeric values/);
  });

  it('names and labels the columns, and builds a dataset', () => {
    const names = encodedFeatureNames(enc);
    expect(names.slice(n)).toEqual(['tier=gold', 'tier=silver', 'region=EMEA', 'region=NA', 'segment=SMB', 'segment=enterprise']);
    const defs = encodedFeatureDefs(enc);
    expect(defs.map((d) => d.name)).toEqual(names);
    expect(defs[n]).toEqual({ name: 'tier=gold', label: 'Tier: gold', unit: 'flag' });
    expect(defs[0]).toEqual(FEATURE_DEFS[0]);
    const ds = toDataset(enc, rows.map((r, i) => ({ ...r, label: (i % 2) as 0 | 1 })));
    expect([ds.x.length, ds.x[0]?.length, ds.y, ds.groups, ds.featureNames]).toEqual([3, n + 6, [0, 1, 0], ['silver', 'gold', 'gold'], names]);
  });
});
