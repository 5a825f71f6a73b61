import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Deal } from '../../data/schemas/deal';
import type { PartnerEvent } from '../../data/schemas/event';
import type { Partner } from '../../data/schemas/partner';
import { buildFeatures } from '../../models/features/build-features';
import {
  churnLabel,
  churnSnapshotTimes,
  churnSnapshots,
  dataStartMs,
  firstYearRevenue,
  isActiveAt,
  isTopPerformer,
  splitByTime,
  topPerformerPopulation,
  topPerformerSnapshots,
  topPerformerThreshold,
} from '../../models/labels';
import type { PartnerHistory, Snapshot } from '../../models/types';

const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const at = (s: string): string => iso(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s));
const date = (ms: number): string => iso(ms).slice(0, 10);

function partner(id: string, joinedAt: string, churnedAt?: string): Partner {
  const status = churnedAt === undefined ? { status: 'active' as const } : { status: 'churned' as const, churnedAt };
  return { partnerId: id, name: id, tier: 'gold', region: 'NA', segment: 'SMB', joinedAt, ...status };
}
function login(partnerId: string, occurredAt: string): PartnerEvent {
  return { eventId: `${partnerId}-${occurredAt}`, partnerId, type: 'portal_login', occurredAt: at(occurredAt), quantity: 1 };
}
let seq = 0;
function deal(partnerId: string, role: 'sourced' | 'influenced', amount: number, stage: Deal['stage'], createdAt: string, closedAt?: string): Deal {
  seq += 1;
  const closed = closedAt === undefined ? {} : { closedAt: at(closedAt) };
  return { dealId: `D${seq}`, partnerId, partnerRole: role, amount, stage, createdAt: at(createdAt), ...closed, updatedAt: at(closedAt ?? createdAt) };
}
const hist = (p: Partner, events: PartnerEvent[] = [], deals: Deal[] = []): PartnerHistory => ({ partner: p, events, deals });
const summary = (rows: Snapshot[]): string[] => rows.map((s) => `${s.asOf.slice(0, 10)} ${s.partnerId} ${s.label}`);

describe('activity and the churn label', () => {
  it('active from joinedAt (00:00Z) until churnedAt (exclusive)', () => {
    const p = partner('P', '2025-01-01', '2025-03-01');
    expect(isActiveAt(p, '2024-12-31T23:59:59.999Z')).toBe(false);
    expect(isActiveAt(p, '2025-01-01')).toBe(true);
    expect(isActiveAt(p, '2025-02-28T23:59:59.999Z')).toBe(true);
    expect(isActiveAt(p, '2025-03-01')).toBe(false);
    expect(isActiveAt(partner('Q', '2025-01-01'), '2030-01-01')).toBe(true);
  });

  it('churnLabel is t < churnedAt <= t + horizon', () => {
    const t = '2025-01-01';
    const label = (churnedAt: string | undefined, h?: number): 0 | 1 => churnLabel(partner('P', '2024-01-01', churnedAt), t, h);
    expect(label('2025-01-01')).toBe(0); // churned at t: not active, not scored
    expect(isActiveAt(partner('P', '2024-01-01', '2025-01-01'), t)).toBe(false);
    expect(label('2025-01-02')).toBe(1);
    expect(label('2025-04-01')).toBe(1); // t + 90 days
    expect(label('2025-04-02')).toBe(0); // t + 91 days
    expect(label(undefined)).toBe(0);
    expect(label('2025-01-31', 30)).toBe(1);
    expect(label('2025-02-01', 30)).toBe(0);
  });
});

describe('churn snapshots', () => {
  const asOf = '2025-07-01';
  const histories = [
    hist(partner('A', '2024-12-01', '2025-03-02'), [login('A', '2024-12-01T09:00:00Z')]),
    hist(partner('B', '2025-02-15')),
    hist(partner('C', '2024-12-01', '2025-06-30')),
    hist(partner('E', '2024-12-01', '2025-07-05')), // churns after asOf: unknown at asOf
    hist(partner('L', '2020-01-01')), // joined before the recorded history
  ];

  it('steps back in calendar months from asOf − horizon, day clamped to the month end', () => {
    expect(churnSnapshotTimes(asOf, 90, 4).map(date)).toEqual(['2025-01-02', '2025-02-02', '2025-03-02', '2025-04-02']);
    expect(churnSnapshotTimes('2025-06-29', 90, 3).map(date)).toEqual(['2025-01-31', '2025-02-28', '2025-03-31']);
    expect(churnSnapshotTimes('2025-06-29T15:00:00Z', 90, 1).map(iso)).toEqual(['2025-03-31T15:00:00.000Z']);
  });

  it('takes active partners at times whose outcome is known, labelled by the horizon', () => {
    const rows = churnSnapshots(histories, asOf, { months: 4 });
    expect(summary(rows)).toEqual([
      '2025-01-02 A 1',
      '2025-01-02 C 0',
      '2025-01-02 E 0',
      '2025-02-02 A 1',
      '2025-02-02 C 0',
      '2025-02-02 E 0',
      '2025-03-02 B 0', // A churned at t: not scored
      '2025-03-02 C 0',
      '2025-03-02 E 0',
      '2025-04-02 B 0',
      '2025-04-02 C 1',
      '2025-04-02 E 0', // churns on 5 July, after asOf
    ]);
    expect(rows.every((s) => Date.parse(s.asOf) + 90 * DAY <= Date.parse(`${asOf}T00:00:00Z`))).toBe(true);
    const a = rows[0] as Snapshot;
    expect(a.values).toEqual(buildFeatures(histories[0] as PartnerHistory, a.asOf).values);
  });

  it('with a longer history, more months are taken and none whose outcome is unknown', () => {
    const rows = churnSnapshots(histories, '2025-06-15', { months: 24, horizonDays: 30 });
    const times = [...new Set(rows.map((s) => s.asOf))];
    expect(times.at(-1)).toBe('2025-05-16T00:00:00.000Z');
    expect(times[0]).toBe('2024-12-16T00:00:00.000Z'); // nobody before that: the history starts on 1 December
    expect(summary(rows).filter((s) => s.startsWith('2025-02-16 A'))).toEqual(['2025-02-16 A 1']);
  });

  it('leaves out partners who joined before the history until the lookback lies inside it', () => {
    expect(dataStartMs(histories)).toBe(Date.parse('2024-12-01T09:00:00Z'));
    const withLegacy = churnSnapshots(histories, asOf, { months: 4, lookbackDays: 45 });
    expect(summary(withLegacy).filter((s) => s.includes(' L '))).toEqual(['2025-02-02 L 0', '2025-03-02 L 0', '2025-04-02 L 0']);
    const explicit = churnSnapshots(histories, asOf, { months: 4, dataStart: '2019-01-01' });
    expect(summary(explicit).filter((s) => s.includes(' L '))).toHaveLength(4);
  });
});

describe('first-year revenue and the top-performer threshold', () => {
  it('counts won sourced deals closed within 365 days of joinedAt, known at asOf', () => {
    const p = partner('P', '2024-01-01');
    const h = hist(p, [], [
      deal('P', 'sourced', 100, 'won', '2024-05-01', '2024-06-01'),
      deal('P', 'influenced', 1000, 'won', '2024-05-01', '2024-06-01'),
      deal('P', 'sourced', 2000, 'lost', '2024-05-01', '2024-06-01'),
      deal('P', 'sourced', 4000, 'won', '2024-11-01', '2024-12-31T00:00:00Z'), // joinedAt + 365 days exactly
      deal('P', 'sourced', 8000, 'won', '2024-11-01', '2024-12-31T00:00:00.001Z'), // just late
      deal('P', 'sourced', 16000, 'open', '2024-02-01', '2024-03-01'), // open (with an expected close date)
    ]);
    expect(firstYearRevenue(h)).toBe(4100);
    expect(firstYearRevenue(h, '2024-07-01')).toBe(100);
  });

  /** Partners who joined on 2024-01-01 (each with a login that day), one won sourced deal each of the given amount. */
  function cohort(revenues: number[], prefix = 'T'): PartnerHistory[] {
    return revenues.map((r, i) => {
      const id = `${prefix}${i}`;
      const deals = r > 0 ? [deal(id, 'sourced', r, 'won', '2024-02-01', '2024-04-01')] : [];
      return hist(partner(id, '2024-01-01'), [login(id, '2024-01-01T10:00:00Z')], deals);
    });
  }
  const asOf = '2025-06-30';

  it('is the k-th highest revenue, k = ceil(20% of n), over complete first years inside the history', () => {
    const base = cohort([0, 0, 0, 100, 200, 300, 400, 500, 600, 900]);
    expect(topPerformerThreshold(base, asOf)).toBe(600);
    expect(topPerformerThreshold(cohort([0, 0, 0, 0, 10, 20, 30]), asOf)).toBe(20); // k = ceil(1.4) = 2
    const young = hist(partner('Y', '2025-01-01'), [], [deal('Y', 'sourced', 1e6, 'won', '2025-02-01', '2025-03-01')]);
    const legacy = hist(partner('L', '2023-06-01'));
    const all = [...base, young, legacy];
    expect(topPerformerPopulation(all, asOf).map((h) => h.partner.partnerId)).not.toContain('L');
    expect(topPerformerThreshold(all, asOf)).toBe(600); // neither the unfinished year nor the truncated one counts
    expect(topPerformerThreshold(all, asOf, { dataStart: '2023-01-01' })).toBe(500); // had the legacy partner (0) counted: n = 11, k = 3
    expect(topPerformerThreshold([young, legacy], asOf)).toBeNull();
  });

  it('puts ties at the threshold in the top, and never a partner without revenue', () => {
    const tied = cohort([0, 0, 0, 100, 200, 300, 400, 500, 500, 900]);
    const t = topPerformerThreshold(tied, asOf) as number;
    expect(t).toBe(500);
    expect(tied.filter((h) => isTopPerformer(firstYearRevenue(h), t))).toHaveLength(3);
    const sparse = cohort([0, 0, 0, 0, 0, 0, 0, 0, 0, 50]);
    const z = topPerformerThreshold(sparse, asOf) as number;
    expect(z).toBe(0);
    expect(sparse.map((h) => (isTopPerformer(firstYearRevenue(h), z) ? 1 : 0))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('snapshots at ages 30/60/90/180/270 while active, features at that age, one label per partner', () => {
    const base = cohort([0, 0, 0, 100, 200, 300, 400, 500, 600, 900]);
    const churned = hist(partner('X', '2024-01-01', '2024-04-15'), [], [deal('X', 'sourced', 5000, 'won', '2024-01-10', '2024-02-01')]);
    const young = hist(partner('Y', '2025-01-01'));
    const rows = topPerformerSnapshots([churned, ...base, young], asOf);
    expect(summary(rows.filter((s) => s.partnerId === 'X'))).toEqual(['2024-01-31 X 1', '2024-03-01 X 1', '2024-03-31 X 1']); // churned at age 105
    expect(summary(rows.filter((s) => s.partnerId === 'T9')).map((s) => s.slice(0, 10))).toEqual(['2024-01-31', '2024-03-01', '2024-03-31', '2024-06-29', '2024-09-27']);
    expect(rows.filter((s) => s.partnerId === 'Y')).toEqual([]);
    const labels = new Map(rows.map((s) => [s.partnerId, s.label]));
    expect(['T7', 'T8', 'T9'].map((id) => labels.get(id))).toEqual([0, 1, 1]); // n = 11, k = 3: threshold 600
    const x90 = rows.find((s) => s.partnerId === 'X' && s.asOf.startsWith('2024-03-31')) as Snapshot;
    expect(x90.values).toEqual(buildFeatures(churned, '2024-03-31').values);
  });
});

/** Snapshots of `perTime[k]` partners at month k (from 2023-01-01), partner ids p0…. */
function churnRows(perTime: number[]): Snapshot[] {
  return perTime.flatMap((n, k) =>
    Array.from({ length: n }, (_, i) => ({ partnerId: `p${i}`, asOf: iso(Date.UTC(2023, k, 1)), values: [k], categories: { tier: 'gold', region: 'NA', segment: 'SMB' }, label: 0 as const })),
  );
}
const ms = (s: Snapshot): number => Date.parse(s.asOf);
const key = (s: Snapshot): string => `${s.partnerId}@${s.asOf}`;

describe('splitByTime', () => {
  it('churn: the latest months are held out, with a purge gap of one horizon', () => {
    const rows = churnRows(Array.from({ length: 12 }, () => 10));
    const split = splitByTime(rows, { model: 'churn' });
    expect(split.holdoutStart).toBe('2023-10-01T00:00:00.000Z');
    expect(split.holdout).toHaveLength(30);
    expect([...new Set(split.train.map((s) => s.asOf.slice(0, 7)))]).toEqual(['2023-01', '2023-02', '2023-03', '2023-04', '2023-05', '2023-06', '2023-07']);
    const shuffled = [...rows].reverse();
    const again = splitByTime(shuffled, { model: 'churn' });
    expect([again.holdoutStart, again.train.map(key).sort(), again.holdout.map(key).sort()]).toEqual([split.holdoutStart, split.train.map(key).sort(), split.holdout.map(key).sort()]);
    expect(splitByTime(rows, { model: 'churn', holdoutFraction: 0 })).toEqual({ train: rows, holdout: [], holdoutStart: null });
    expect(() => splitByTime(rows, { model: 'churn', holdoutFraction: 1 })).toThrow(/holdoutFraction/);
    expect(splitByTime(rows, { model: 'churn', horizonDays: 30 }).train).toHaveLength(90); // 1 Sep + 30 days = 1 Oct: nothing to purge
    expect(splitByTime(rows, { model: 'churn', horizonDays: 31 }).train).toHaveLength(80);
  });

  it('churn (property): time order, purge gap, about the requested share, deterministic', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 30 }), fc.double({ min: 0.05, max: 0.6, noNaN: true }), fc.integer({ min: 1, max: 120 }), (perTime, f, h) => {
        const rows = churnRows(perTime);
        const split = splitByTime(rows, { model: 'churn', holdoutFraction: f, horizonDays: h });
        if (split.holdoutStart === null) {
          expect(new Set(rows.map((s) => s.asOf)).size).toBeLessThanOrEqual(1);
          return;
        }
        const start = Date.parse(split.holdoutStart);
        expect(split.holdout.every((s) => ms(s) >= start)).toBe(true);
        expect(split.train.every((s) => ms(s) + h * DAY <= start)).toBe(true);
        expect(split.holdout.length).toBeGreaterThanOrEqual(Math.min(f * rows.length, rows.filter((s) => ms(s) > Math.min(...rows.map(ms))).length));
        // Minimal: the holdout without its first month would be short of the share (unless the holdout is that month).
        const later = split.holdout.filter((s) => ms(s) > start).length;
        if (later > 0) expect(later).toBeLessThan(f * rows.length);
        expect(split.train.length + split.holdout.length + rows.filter((s) => ms(s) < start && ms(s) + h * DAY > start).length).toBe(rows.length);
        expect(splitByTime([...rows].reverse(), { model: 'churn', holdoutFraction: f, horizonDays: h }).holdoutStart).toBe(split.holdoutStart);
      }),
      { numRuns: 200 },
    );
  });

  it('top-performer (property): no partner on both sides; the latest joiners are held out', () => {
    const partnerArb = fc.record({ joinDay: fc.integer({ min: 0, max: 400 }), ages: fc.integer({ min: 1, max: 5 }) });
    fc.assert(
      fc.property(fc.array(partnerArb, { minLength: 1, maxLength: 40 }), fc.double({ min: 0.05, max: 0.6, noNaN: true }), (partners, f) => {
        const ages = [30, 60, 90, 180, 270];
        const rows: Snapshot[] = partners.flatMap((p, i) =>
          ages.slice(0, p.ages).map((age) => ({ partnerId: `p${i}`, asOf: iso(Date.UTC(2024, 0, 1) + (p.joinDay + age) * DAY), values: [], categories: { tier: 'gold', region: 'NA', segment: 'SMB' }, label: 0 as const })),
        );
        const split = splitByTime(rows, { model: 'top-performer', holdoutFraction: f });
        const trainIds = new Set(split.train.map((s) => s.partnerId));
        const holdIds = new Set(split.holdout.map((s) => s.partnerId));
        expect([...holdIds].filter((id) => trainIds.has(id))).toEqual([]);
        expect(split.train.length + split.holdout.length).toBe(rows.length);
        const joinOf = (id: string): number => partners[Number(id.slice(1))]?.joinDay as number;
        const maxTrain = Math.max(...[...trainIds].map(joinOf));
        expect([...holdIds].every((id) => joinOf(id) > maxTrain)).toBe(true);
        if (new Set(partners.map((p) => p.joinDay)).size > 1) {
          const firstJoin = Math.min(...partners.map((p) => p.joinDay));
          const notFirst = rows.filter((s) => joinOf(s.partnerId) > firstJoin).length; // the earliest joiners always train
          expect(split.holdout.length).toBeGreaterThanOrEqual(Math.min(f * rows.length, notFirst));
          expect(split.train.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});
