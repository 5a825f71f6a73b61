/**
 * Program metrics over a period (contract §8): partner attach rate, partner-sourced and
 * partner-influenced won revenue, win rate, average deal size and cycle with a partner and
 * without, median time to first deal of the partners who joined, active and churned partners
 * and retention. Pure: no I/O, no clock, no AWS SDK. Definitions: docs/metrics.md.
 *
 * The accumulator is fed page by page (partners and deals in any order, each record once) and
 * keeps only counters plus one number per partner, never the deals themselves.
 *
 * Times (as everywhere, docs/features.md): a stored date `YYYY-MM-DD` (joinedAt, churnedAt)
 * means 00:00:00.000Z of that day. The period is [from, to], both ends included.
 */
import type { Deal } from '../data/schemas/deal';
import type { Partner } from '../data/schemas/partner';
import { DAY_MS, timeMs } from './features/build-features';

export interface ProgramPeriod {
  /** First instant of the period, ISO date-time (included). */
  from: string;
  /** Last instant of the period, ISO date-time (included). */
  to: string;
}

export interface DealSegmentMetrics {
  wonDeals: number;
  lostDeals: number;
  /** wonDeals / (wonDeals + lostDeals); null when neither. */
  winRate: number | null;
  wonRevenue: number;
  /** wonRevenue / wonDeals; null without won deals. */
  averageDealSize: number | null;
  /** Mean of (closedAt − createdAt) in days (fractional) over the won deals; null without won deals. */
  averageCycleDays: number | null;
}

export interface RoleRevenue {
  wonDeals: number;
  wonRevenue: number;
}

export interface ProgramMetrics {
  from: string;
  to: string;
  deals: {
    /** Every won deal in the period, with a partner or without. */
    wonDeals: number;
    wonRevenue: number;
    /** Won deals with a partner / all won deals; null without won deals. */
    attachRate: number | null;
    sourced: RoleRevenue;
    influenced: RoleRevenue;
    withPartner: DealSegmentMetrics;
    withoutPartner: DealSegmentMetrics;
  };
  partners: {
    activeAtFrom: number;
    activeAtTo: number;
    joined: number;
    churned: number;
    /** Active at from and still active at to. */
    retained: number;
    /** retained / activeAtFrom; null when no partner was active at from. */
    retentionRate: number | null;
  };
  timeToFirstDeal: {
    /** Partners whose joinedAt falls within the period. */
    partnersJoined: number;
    /** Of those, the ones with a deal created at or before `to`. */
    withDeal: number;
    withoutDeal: number;
    /** Median of whole days from joinedAt to the first deal's createdAt (at least 0) over withDeal; null when withDeal is 0. */
    medianDays: number | null;
  };
}

/** Money is summed exactly as given and reported rounded to cents. */
const money = (x: number): number => Math.round(x * 100) / 100;
const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

class Segment {
  won = 0;
  lost = 0;
  revenue = 0;
  cycleMs = 0;

  metrics(): DealSegmentMetrics {
    return {
      wonDeals: this.won,
      lostDeals: this.lost,
      winRate: ratio(this.won, this.won + this.lost),
      wonRevenue: money(this.revenue),
      averageDealSize: this.won > 0 ? money(this.revenue / this.won) : null,
      averageCycleDays: this.won > 0 ? this.cycleMs / this.won / DAY_MS : null,
    };
  }
}

export class ProgramMetricsAccumulator {
  private readonly fromMs: number;
  private readonly toMs: number;
  private readonly withPartner = new Segment();
  private readonly withoutPartner = new Segment();
  private readonly sourced = { wonDeals: 0, wonRevenue: 0 };
  private readonly influenced = { wonDeals: 0, wonRevenue: 0 };
  private readonly partners = { activeAtFrom: 0, activeAtTo: 0, joined: 0, churned: 0, retained: 0 };
  /** Earliest createdAt (ms) of each partner's deals created at or before `to`: one number per partner. */
  private readonly firstDealMs = new Map<string, number>();
  /** joinedAt (ms) of the partners who joined in the period. */
  private readonly joinedMs = new Map<string, number>();

  constructor(readonly period: ProgramPeriod) {
    this.fromMs = timeMs(period.from);
    this.toMs = timeMs(period.to);
    if (!Number.isFinite(this.fromMs) || !Number.isFinite(this.toMs)) throw new Error(`invalid period ${JSON.stringify(period)}`);
    if (this.fromMs > this.toMs) throw new Error(`period from ${period.from} is after to ${period.to}`);
  }

  private inPeriod(ms: number): boolean {
    return ms >= this.fromMs && ms <= this.toMs;
  }

  addDeal(deal: Deal): void {
    const created = timeMs(deal.createdAt);
    // A deal created after `to` did not exist at `to`: it is not anyone's first deal yet.
    if (deal.partnerId !== null && created <= this.toMs) {
      const seen = this.firstDealMs.get(deal.partnerId);
      if (seen === undefined || created < seen) this.firstDealMs.set(deal.partnerId, created);
    }
    if ((deal.stage !== 'won' && deal.stage !== 'lost') || deal.closedAt === undefined) return;
    const closed = timeMs(deal.closedAt);
    if (!this.inPeriod(closed)) return;
    const segment = deal.partnerId !== null ? this.withPartner : this.withoutPartner;
    if (deal.stage === 'lost') {
      segment.lost += 1;
      return;
    }
    segment.won += 1;
    segment.revenue += deal.amount;
    segment.cycleMs += Math.max(0, closed - created);
    const role = deal.partnerRole === 'sourced' ? this.sourced : deal.partnerRole === 'influenced' ? this.influenced : undefined;
    if (role) {
      role.wonDeals += 1;
      role.wonRevenue += deal.amount;
    }
  }

  addPartner(partner: Partner): void {
    const joined = timeMs(partner.joinedAt);
    const churned = partner.churnedAt === undefined ? Infinity : timeMs(partner.churnedAt);
    // §2: active at t when joinedAt <= t and not churned at or before t.
    const activeAt = (t: number): boolean => joined <= t && churned > t;
    const atFrom = activeAt(this.fromMs);
    const atTo = activeAt(this.toMs);
    const p = this.partners;
    if (atFrom) p.activeAtFrom += 1;
    if (atTo) p.activeAtTo += 1;
    if (atFrom && atTo) p.retained += 1;
    if (this.inPeriod(churned)) p.churned += 1;
    if (this.inPeriod(joined)) {
      p.joined += 1;
      this.joinedMs.set(partner.partnerId, joined);
    }
  }

  addDeals(deals: Iterable<Deal>): void {
    for (const d of deals) this.addDeal(d);
  }

  addPartners(partners: Iterable<Partner>): void {
    for (const p of partners) this.addPartner(p);
  }

  result(): ProgramMetrics {
    const wp = this.withPartner;
    const wo = this.withoutPartner;
    const days: number[] = [];
    for (const [partnerId, joined] of this.joinedMs) {
      const first = this.firstDealMs.get(partnerId);
      // Whole days, as the days_to_first_deal feature; a deal registered before joining counts as day 0.
      if (first !== undefined) days.push(Math.max(0, Math.floor((first - joined) / DAY_MS)));
    }
    const p = this.partners;
    return {
      from: new Date(this.fromMs).toISOString(),
      to: new Date(this.toMs).toISOString(),
      deals: {
        wonDeals: wp.won + wo.won,
        wonRevenue: money(wp.revenue + wo.revenue),
        attachRate: ratio(wp.won, wp.won + wo.won),
        sourced: { wonDeals: this.sourced.wonDeals, wonRevenue: money(this.sourced.wonRevenue) },
        influenced: { wonDeals: this.influenced.wonDeals, wonRevenue: money(this.influenced.wonRevenue) },
        withPartner: wp.metrics(),
        withoutPartner: wo.metrics(),
      },
      partners: { ...p, retentionRate: ratio(p.retained, p.activeAtFrom) },
      timeToFirstDeal: { partnersJoined: p.joined, withDeal: days.length, withoutDeal: p.joined - days.length, medianDays: median(days) },
    };
  }
}

/** One-shot form of the accumulator, for callers that hold the records already. */
export function computeProgramMetrics(period: ProgramPeriod, partners: Iterable<Partner>, deals: Iterable<Deal>): ProgramMetrics {
  const acc = new ProgramMetricsAccumulator(period);
  acc.addPartners(partners);
  acc.addDeals(deals);
  return acc.result();
}
