/**
 * Labels, point-in-time training snapshots and the time-based holdout split of the two models
 * (contract §5). Pure: no I/O, no clock. Rules and reasons: docs/features.md.
 *
 * Times: a date `YYYY-MM-DD` means 00:00:00.000Z of that day, everywhere (asOf, joinedAt,
 * churnedAt). "Active at t": joinedAt <= t and not churned at or before t.
 */
import type { Partner } from '../data/schemas/partner';
import { DAY_MS, buildFeaturesAt, parseAsOf, timeMs } from './features/build-features';
import type { ModelName, PartnerHistory, Snapshot } from './types';

export const DEFAULT_HORIZON_DAYS = 90;
export const FIRST_YEAR_DAYS = 365;
/** Ages (days since joinedAt) of the top-performer snapshots. */
export const TOP_PERFORMER_AGES = [30, 60, 90, 180, 270] as const;
/** "Top 20%": the share of partners, in percent, whose first-year revenue sets the threshold. */
export const TOP_PERCENT = 20;

type When = string | number;
const toMs = (t: When): number => (typeof t === 'number' ? t : parseAsOf(t));
const iso = (ms: number): string => new Date(ms).toISOString();

/** Joined at or before t and not churned at or before t. */
export function isActiveAt(partner: Partner, asOf: When): boolean {
  const at = toMs(asOf);
  if (!(timeMs(partner.joinedAt) <= at)) return false;
  return partner.churnedAt === undefined || timeMs(partner.churnedAt) > at;
}

/** 1 when t < churnedAt <= t + horizonDays, else 0 (contract §5). */
export function churnLabel(partner: Partner, t: When, horizonDays: number = DEFAULT_HORIZON_DAYS): 0 | 1 {
  if (partner.churnedAt === undefined) return 0;
  const at = toMs(t);
  const churn = timeMs(partner.churnedAt);
  return churn > at && churn <= at + horizonDays * DAY_MS ? 1 : 0;
}

/**
 * The start of the program's recorded history: the earliest event occurredAt or deal createdAt
 * of any partner (epoch ms), or undefined with no records. Partners who joined before that day
 * ("legacy" partners) have truncated histories.
 */
export function dataStartMs(histories: readonly PartnerHistory[]): number | undefined {
  let min = Infinity;
  for (const h of histories) {
    // Events are sorted by occurredAt and deals by createdAt (PartnerHistory), so the first of each is the earliest.
    const [e, d] = [h.events[0], h.deals[0]];
    if (e) min = Math.min(min, timeMs(e.occurredAt));
    if (d) min = Math.min(min, timeMs(d.createdAt));
  }
  return Number.isFinite(min) ? min : undefined;
}

/** Joined before the day the recorded history starts. */
function joinedBeforeData(partner: Partner, dataStart: number | undefined): boolean {
  if (dataStart === undefined) return false;
  return timeMs(partner.joinedAt) < Math.floor(dataStart / DAY_MS) * DAY_MS;
}

export function isFirstYearComplete(partner: Partner, asOf: When): boolean {
  return timeMs(partner.joinedAt) + FIRST_YEAR_DAYS * DAY_MS <= toMs(asOf);
}

/**
 * Contract §5: the amounts of won deals with partnerRole 'sourced' whose closedAt is within 365
 * days of joinedAt (joinedAt <= closedAt <= joinedAt + 365 days). With asOf, only deals closed
 * at or before it count (what was known then).
 */
export function firstYearRevenue(history: PartnerHistory, asOf?: When): number {
  const join = timeMs(history.partner.joinedAt);
  const end = Math.min(join + FIRST_YEAR_DAYS * DAY_MS, asOf === undefined ? Infinity : toMs(asOf));
  let sum = 0;
  for (const d of history.deals) {
    if (d.stage !== 'won' || d.partnerRole !== 'sourced' || d.closedAt === undefined) continue;
    const closed = timeMs(d.closedAt);
    if (closed >= join && closed <= end) sum += d.amount;
  }
  return sum;
}

export interface PopulationOptions {
  /** Start of the recorded history (date or date-time); default: dataStartMs(histories). */
  dataStart?: string;
}

const resolveDataStart = (histories: readonly PartnerHistory[], opts: PopulationOptions): number | undefined =>
  opts.dataStart === undefined ? dataStartMs(histories) : parseAsOf(opts.dataStart);

/** Partners whose first year is complete at asOf and lies inside the recorded history. */
export function topPerformerPopulation(histories: readonly PartnerHistory[], asOf: When, opts: PopulationOptions = {}): PartnerHistory[] {
  const at = toMs(asOf);
  const start = resolveDataStart(histories, opts);
  return histories.filter((h) => isFirstYearComplete(h.partner, at) && !joinedBeforeData(h.partner, start));
}

/**
 * The top-20% threshold: with the n first-year revenues of topPerformerPopulation sorted from
 * highest, the k-th highest, k = ceil(20% of n). Ties at the threshold are all in the top (so the
 * top can hold more than 20%). null when the population is empty.
 */
export function topPerformerThreshold(histories: readonly PartnerHistory[], asOf: When, opts: PopulationOptions = {}): number | null {
  const revenues = topPerformerPopulation(histories, asOf, opts).map((h) => firstYearRevenue(h, asOf));
  if (revenues.length === 0) return null;
  revenues.sort((a, b) => b - a);
  const k = Math.max(1, Math.ceil((revenues.length * TOP_PERCENT) / 100));
  return revenues[k - 1] as number;
}

/** Top performer: revenue reaches the threshold and is above 0 (a threshold of 0 would make "no revenue" a top performer). */
export function isTopPerformer(revenue: number, threshold: number): boolean {
  return revenue >= threshold && revenue > 0;
}

/** Monthly times t_k = (asOf − horizon) − k calendar months (day clamped to the month's end), oldest first. */
export function churnSnapshotTimes(asOf: When, horizonDays: number = DEFAULT_HORIZON_DAYS, months = 24): number[] {
  const t0 = toMs(asOf) - horizonDays * DAY_MS;
  const d = new Date(t0);
  const timeOfDay = t0 - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const times: number[] = [];
  for (let k = months - 1; k >= 0; k -= 1) {
    const [y, m] = [d.getUTCFullYear(), d.getUTCMonth() - k];
    const daysInMonth = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    times.push(Date.UTC(y, m, Math.min(d.getUTCDate(), daysInMonth)) + timeOfDay);
  }
  return times;
}

export interface ChurnSnapshotOptions extends PopulationOptions {
  horizonDays?: number;
  /** Number of monthly snapshot times; default 24. */
  months?: number;
  /** A partner who joined before the recorded history is snapshotted at t only when t − lookbackDays is inside it; default 365 (the longest feature window). */
  lookbackDays?: number;
}

/**
 * Churn training snapshots: at monthly times t with t + horizon <= asOf (the outcome is known at
 * asOf), every partner active at t, labelled churnLabel(partner, t, horizon), features at t.
 * Oldest time first, partners in input order.
 */
export function churnSnapshots(histories: readonly PartnerHistory[], asOf: When, opts: ChurnSnapshotOptions = {}): Snapshot[] {
  const horizon = opts.horizonDays ?? DEFAULT_HORIZON_DAYS;
  const lookback = opts.lookbackDays ?? 365;
  const at = toMs(asOf);
  const start = resolveDataStart(histories, opts);
  const times = churnSnapshotTimes(at, horizon, opts.months ?? 24).filter((t) => t + horizon * DAY_MS <= at);
  const byTime: Snapshot[][] = times.map(() => []);
  // Partner by partner (the feature builder indexes each history once), collected by time.
  for (const h of histories) {
    const legacy = joinedBeforeData(h.partner, start);
    times.forEach((t, k) => {
      if (!isActiveAt(h.partner, t)) return;
      if (legacy && t - lookback * DAY_MS < (start as number)) return;
      (byTime[k] as Snapshot[]).push({ ...buildFeaturesAt(h, t), label: churnLabel(h.partner, t, horizon) });
    });
  }
  return byTime.flat();
}

/**
 * Top-performer training snapshots: for partners of topPerformerPopulation (first year complete
 * at asOf, joined inside the recorded history), one snapshot at each age in TOP_PERFORMER_AGES at
 * which the partner is still active, features at joinedAt + age, label isTopPerformer(first-year
 * revenue, threshold at asOf). Partners in input order, ages ascending.
 */
export function topPerformerSnapshots(histories: readonly PartnerHistory[], asOf: When, opts: PopulationOptions = {}): Snapshot[] {
  const at = toMs(asOf);
  const threshold = topPerformerThreshold(histories, at, opts);
  if (threshold === null) return [];
  const out: Snapshot[] = [];
  for (const h of topPerformerPopulation(histories, at, opts)) {
    const label: 0 | 1 = isTopPerformer(firstYearRevenue(h, at), threshold) ? 1 : 0;
    const join = timeMs(h.partner.joinedAt);
    for (const age of TOP_PERFORMER_AGES) {
      const t = join + age * DAY_MS;
      if (isActiveAt(h.partner, t)) out.push({ ...buildFeaturesAt(h, t), label });
    }
  }
  return out;
}

export interface SplitOptions {
  model: ModelName;
  /** Share of rows to hold out (0 <= f < 1); default 0.2. */
  holdoutFraction?: number;
  /** Churn label horizon, for the purge gap; default 90. */
  horizonDays?: number;
}

export interface Split {
  train: Snapshot[];
  holdout: Snapshot[];
  /** churn: the first holdout snapshot time; top-performer: the earliest first snapshot of a holdout partner. null if no holdout. */
  holdoutStart: string | null;
}

/** Groups keyed by time, latest first, taken whole until they reach the target; the oldest group always stays out. */
function pickLatest(keys: Map<number, number>, target: number): number | null {
  const sorted = [...keys.entries()].sort((a, b) => b[0] - a[0]);
  let [acc, start] = [0, null as number | null];
  for (let i = 0; i < sorted.length - 1 && acc < target; i += 1) {
    const [key, count] = sorted[i] as [number, number];
    acc += count;
    start = key;
  }
  return start;
}

/**
 * Holdout by time, never at random; deterministic; rows keep their input order.
 * - churn: the latest snapshot times (whole months, about holdoutFraction of the rows) are the
 *   holdout; a training row is kept only if its label window (t, t + horizon] ends at or before
 *   holdoutStart (purge gap), so no training label looks into the holdout period.
 * - top-performer: by partner: the partners who joined latest (by their first snapshot; partners
 *   with the same first snapshot time together) are the holdout; no partner is on both sides.
 */
export function splitByTime(snapshots: readonly Snapshot[], opts: SplitOptions): Split {
  const fraction = opts.holdoutFraction ?? 0.2;
  if (!(fraction >= 0 && fraction < 1)) throw new Error('holdoutFraction must be at least 0 and below 1');
  const target = fraction * snapshots.length;
  const times = snapshots.map((s) => parseAsOf(s.asOf));
  if (opts.model === 'churn') {
    const counts = new Map<number, number>();
    for (const t of times) counts.set(t, (counts.get(t) ?? 0) + 1);
    const start = target > 0 ? pickLatest(counts, target) : null;
    if (start === null) return { train: snapshots.slice(), holdout: [], holdoutStart: null };
    const purge = (opts.horizonDays ?? DEFAULT_HORIZON_DAYS) * DAY_MS;
    return {
      train: snapshots.filter((_, i) => (times[i] as number) + purge <= start),
      holdout: snapshots.filter((_, i) => (times[i] as number) >= start),
      holdoutStart: iso(start),
    };
  }
  const first = new Map<string, number>();
  snapshots.forEach((s, i) => first.set(s.partnerId, Math.min(first.get(s.partnerId) ?? Infinity, times[i] as number)));
  const counts = new Map<number, number>();
  for (const s of snapshots) {
    const key = first.get(s.partnerId) as number;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const start = target > 0 ? pickLatest(counts, target) : null;
  if (start === null) return { train: snapshots.slice(), holdout: [], holdoutStart: null };
  const isHoldout = (s: Snapshot): boolean => (first.get(s.partnerId) as number) >= start;
  return { train: snapshots.filter((s) => !isHoldout(s)), holdout: snapshots.filter(isHoldout), holdoutStart: iso(start) };
}
