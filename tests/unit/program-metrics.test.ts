import { describe, expect, it } from 'vitest';
import { dealSchema, type Deal, type DealInput } from '../../data/schemas/deal';
import { partnerSchema, type Partner, type PartnerInput } from '../../data/schemas/partner';
import { computeProgramMetrics, median, ProgramMetricsAccumulator, type ProgramMetrics } from '../../models/program-metrics';

/*
 * A hand-computed example (docs/metrics.md, "Program metrics"). The period is the first half of
 * 2025 as the route resolves `from=2025-01-01&to=2025-06-30`: [2025-01-01T00:00:00.000Z,
 * 2025-06-30T23:59:59.999Z].
 */
const PERIOD = { from: '2025-01-01T00:00:00.000Z', to: '2025-06-30T23:59:59.999Z' };

const partner = (partnerId: string, joinedAt: string, churnedAt?: string): Partner =>
  partnerSchema.parse({
    partnerId,
    name: `Partner ${partnerId}`,
    tier: 'gold',
    region: 'EMEA',
    segment: 'SMB',
    joinedAt,
    status: churnedAt ? 'churned' : 'active',
    ...(churnedAt ? { churnedAt } : {}),
  } satisfies PartnerInput);

const deal = (dealId: string, partnerId: string | null, role: 'sourced' | 'influenced' | null, stage: Deal['stage'], amount: number, createdAt: string, closedAt?: string): Deal =>
  dealSchema.parse({
    dealId,
    partnerId,
    partnerRole: role,
    amount,
    stage,
    createdAt,
    ...(closedAt ? { closedAt } : {}),
    updatedAt: closedAt ?? createdAt,
  } satisfies DealInput);

const PARTNERS: Partner[] = [
  partner('P1', '2024-01-01'), //                active at from and to: retained
  partner('P2', '2024-06-01', '2025-03-15'), //  active at from, churned in the period
  partner('P3', '2025-02-01'), //                joined in the period, first deal after 10.5 days → 10
  partner('P4', '2025-03-01', '2025-05-01'), //  joined and churned in the period, first deal after 20 days
  partner('P5', '2025-04-01'), //                joined in the period, its only deal is created after `to`: no deal
  partner('P6', '2024-01-01', '2024-12-01'), //  churned before the period: nowhere
  partner('P7', '2025-08-01'), //                joins after the period: nowhere
  partner('P8', '2023-05-01', '2025-01-01'), //  churned exactly at `from`: not active at from, churned in the period
  partner('P9', '2025-06-30'), //                joined on the last day; its first deal predates joining → 0 days
  partner('P10', '2024-03-01', '2025-07-01'), // churns after `to`: active at to, retained, not churned
];

const DEALS: Deal[] = [
  // with a partner
  deal('D1', 'P1', 'sourced', 'won', 1000, '2025-01-10T00:00:00Z', '2025-02-09T00:00:00Z'), //   won, 30 days
  deal('D2', 'P1', 'influenced', 'won', 500, '2024-12-01T00:00:00Z', '2025-01-01T00:00:00Z'), // won exactly at from, 31 days
  deal('D3', 'P2', 'sourced', 'lost', 700, '2025-01-05T00:00:00Z', '2025-02-01T00:00:00Z'), //  lost
  deal('D4', 'P3', 'sourced', 'won', 2000, '2025-02-11T12:00:00Z', '2025-06-30T12:00:00Z'), //  won, 139 days; P3's first deal
  deal('D5', 'P4', 'influenced', 'won', 300, '2025-03-21T00:00:00Z', '2025-03-31T00:00:00Z'), // won, 10 days; P4's first deal
  deal('D6', 'P1', 'sourced', 'won', 5000, '2025-05-01T00:00:00Z', '2025-07-01T00:00:00Z'), //  closed after to: out
  deal('D7', 'P10', 'sourced', 'won', 800, '2024-11-01T00:00:00Z', '2024-12-31T23:59:59Z'), // closed before from: out
  deal('D8', 'P1', 'sourced', 'open', 900, '2025-03-01T00:00:00Z'), //                          open: out
  deal('D9', 'P5', 'sourced', 'registered', 100, '2025-07-05T00:00:00Z'), //                     created after to: out, and not P5's first deal
  deal('D10', 'P9', 'influenced', 'lost', 400, '2025-06-29T10:00:00Z', '2025-06-30T09:00:00Z'), // lost; P9's first deal, before it joined
  deal('D11', 'P1', 'influenced', 'lost', 250, '2025-02-01T00:00:00Z', '2025-05-05T00:00:00Z'), // lost
  // direct (no partner)
  deal('X1', null, null, 'won', 1200, '2025-01-15T00:00:00Z', '2025-03-16T00:00:00Z'), //       won, 60 days
  deal('X2', null, null, 'won', 600.25, '2025-04-01T00:00:00Z', '2025-04-21T06:00:00Z'), //     won, 20.25 days
  deal('X3', null, null, 'lost', 300, '2025-04-01T00:00:00Z', '2025-05-10T00:00:00Z'), //       lost
  deal('X4', null, null, 'won', 9999, '2025-06-01T00:00:00Z', '2025-07-02T00:00:00Z'), //       closed after to: out
  deal('X5', null, null, 'open', 450, '2025-06-01T00:00:00Z'), //                                open: out
  deal('X6', null, null, 'lost', 350, '2024-11-01T00:00:00Z', '2024-12-15T00:00:00Z'), //       closed before from: out
];

/** Worked out by hand from the records above. */
const EXPECTED: ProgramMetrics = {
  from: '2025-01-01T00:00:00.000Z',
  to: '2025-06-30T23:59:59.999Z',
  deals: {
    wonDeals: 6, // D1 D2 D4 D5 X1 X2
    wonRevenue: 5600.25, // 3800 + 1800.25
    attachRate: 4 / 6,
    sourced: { wonDeals: 2, wonRevenue: 3000 }, // D1 + D4
    influenced: { wonDeals: 2, wonRevenue: 800 }, // D2 + D5
    withPartner: {
      wonDeals: 4,
      lostDeals: 3, // D3 D10 D11
      winRate: 4 / 7,
      wonRevenue: 3800,
      averageDealSize: 950,
      averageCycleDays: (30 + 31 + 139 + 10) / 4, // 52.5
    },
    withoutPartner: {
      wonDeals: 2,
      lostDeals: 1, // X3
      winRate: 2 / 3,
      wonRevenue: 1800.25,
      averageDealSize: 900.13, // 900.125 rounded to cents
      averageCycleDays: (60 + 20.25) / 2, // 40.125
    },
  },
  partners: {
    activeAtFrom: 3, // P1 P2 P10
    activeAtTo: 5, // P1 P3 P5 P9 P10
    joined: 4, // P3 P4 P5 P9
    churned: 3, // P2 P4 P8
    retained: 2, // P1 P10
    retentionRate: 2 / 3,
  },
  timeToFirstDeal: {
    partnersJoined: 4,
    withDeal: 3, // P3 (10), P4 (20), P9 (0)
    withoutDeal: 1, // P5
    medianDays: 10,
  },
};

describe('program metrics on a hand-computed example', () => {
  it('computes every number', () => {
    const got = computeProgramMetrics(PERIOD, PARTNERS, DEALS);
    expect(got).toEqual({
      ...EXPECTED,
      deals: {
        ...EXPECTED.deals,
        attachRate: expect.closeTo(EXPECTED.deals.attachRate!, 12),
        withPartner: { ...EXPECTED.deals.withPartner, winRate: expect.closeTo(4 / 7, 12), averageCycleDays: expect.closeTo(52.5, 9) },
        withoutPartner: { ...EXPECTED.deals.withoutPartner, winRate: expect.closeTo(2 / 3, 12), averageCycleDays: expect.closeTo(40.125, 9) },
      },
      partners: { ...EXPECTED.partners, retentionRate: expect.closeTo(2 / 3, 12) },
    });
  });

  it('does not depend on the order or the paging of the records', () => {
    const acc = new ProgramMetricsAccumulator(PERIOD);
    const deals = [...DEALS].reverse();
    const partners = [...PARTNERS].reverse();
    // deals first, then partners, in pages of 3 interleaved
    for (let i = 0; i < Math.max(deals.length, partners.length); i += 3) {
      acc.addDeals(deals.slice(i, i + 3));
      acc.addPartners(partners.slice(i, i + 3));
    }
    expect(acc.result()).toEqual(computeProgramMetrics(PERIOD, PARTNERS, DEALS));
  });

  it('moves a deal in or out of the period by its closedAt, both ends included', () => {
    const justBefore = computeProgramMetrics({ from: '2025-01-01T00:00:00.001Z', to: PERIOD.to }, PARTNERS, DEALS);
    // D2 closed at exactly 2025-01-01T00:00:00Z drops out; P8 (churned at that instant) no longer churned in the period.
    expect(justBefore.deals.influenced).toEqual({ wonDeals: 1, wonRevenue: 300 });
    expect(justBefore.deals.withPartner.wonDeals).toBe(3);
    expect(justBefore.partners.churned).toBe(2);

    const toEarlier = computeProgramMetrics({ from: PERIOD.from, to: '2025-06-30T11:59:59.999Z' }, PARTNERS, DEALS);
    // D4 (closed 12:00 on the 30th) is still open at `to`: not won, not lost.
    expect(toEarlier.deals.sourced).toEqual({ wonDeals: 1, wonRevenue: 1000 });
    expect(toEarlier.deals.withPartner.lostDeals).toBe(3);
  });

  it('counts only deals created at or before `to` as a first deal', () => {
    const later = computeProgramMetrics({ from: PERIOD.from, to: '2025-07-10T23:59:59.999Z' }, PARTNERS, DEALS);
    // With D9 (created 2025-07-05) known, P5 has a first deal after 95 days: [0, 10, 20, 95] → 15.
    expect(later.timeToFirstDeal).toEqual({ partnersJoined: 4, withDeal: 4, withoutDeal: 0, medianDays: 15 });
  });

  it('answers null, not 0 or NaN, where a rate or an average has nothing to divide by', () => {
    const empty = computeProgramMetrics({ from: '2030-01-01T00:00:00.000Z', to: '2030-12-31T23:59:59.999Z' }, PARTNERS, DEALS);
    expect(empty.deals).toEqual({
      wonDeals: 0,
      wonRevenue: 0,
      attachRate: null,
      sourced: { wonDeals: 0, wonRevenue: 0 },
      influenced: { wonDeals: 0, wonRevenue: 0 },
      withPartner: { wonDeals: 0, lostDeals: 0, winRate: null, wonRevenue: 0, averageDealSize: null, averageCycleDays: null },
      withoutPartner: { wonDeals: 0, lostDeals: 0, winRate: null, wonRevenue: 0, averageDealSize: null, averageCycleDays: null },
    });
    // P1, P3, P5, P7 and P9 are still active in 2030; nobody joined or churned.
    expect(empty.partners).toEqual({ activeAtFrom: 5, activeAtTo: 5, joined: 0, churned: 0, retained: 5, retentionRate: 1 });
    expect(empty.timeToFirstDeal).toEqual({ partnersJoined: 0, withDeal: 0, withoutDeal: 0, medianDays: null });
    const nobody = computeProgramMetrics(PERIOD, [], []);
    expect(nobody.partners.retentionRate).toBeNull();
  });

  it('takes the median as the middle value, or the mean of the two middle ones', () => {
    expect(median([])).toBeNull();
    expect(median([7])).toBe(7);
    expect(median([20, 0, 10])).toBe(10);
    expect(median([95, 0, 20, 10])).toBe(15);
  });

  it('refuses a period that ends before it starts', () => {
    expect(() => new ProgramMetricsAccumulator({ from: '2025-02-01T00:00:00.000Z', to: '2025-01-01T00:00:00.000Z' })).toThrow(/after/);
    expect(() => new ProgramMetricsAccumulator({ from: 'nope', to: '2025-01-01T00:00:00.000Z' })).toThrow(/invalid/);
  });
});
