/**
 * The ten peer-benchmark metrics of one partner at one point in time (contract §7). Pure: no
 * I/O, no clock. Built on the feature builder's history index (models/features/build-features.ts),
 * so the point-in-time rules are the features' own (contract §2):
 * - events count when `occurredAt <= asOf`;
 * - a deal exists when `createdAt <= asOf`; it is won/lost only when its stage is won/lost AND
 *   `closedAt <= asOf` (otherwise it is open, its outcome unknown);
 * - the window is the trailing 90 days, half-open: `(asOf − 90 days, asOf]`.
 * A metric the partner has no value for (no closed deal for a win rate, no NPS response) is null,
 * never a made-up default: benchmarks compare partners that have the quantity.
 * Definitions: docs/privacy.md (“Metrics”).
 */
import { FEATURE_EVENT_TYPES } from '../features/feature-defs';
import { DAY_MS, indexHistory, parseAsOf, upperBound, type HistoryIndex } from '../features/build-features';
import type { EventType } from '../../data/schemas/event';
import type { FeatureUnit, PartnerHistory } from '../types';

/** Trailing window of every windowed metric (days). */
export const BENCHMARK_WINDOW_DAYS = 90;

export interface BenchmarkMetricDef {
  metric: string;
  label: string;
  unit: FeatureUnit;
  /** Decimals a value is reported with (the partner's own value; peers' values are coarsened further). */
  decimals: number;
}

const def = <M extends string>(metric: M, label: string, unit: FeatureUnit, decimals: number): BenchmarkMetricDef & { metric: M } => ({ metric, label, unit, decimals });

/** The metrics, in the order a benchmark lists them. */
export const BENCHMARK_METRICS = [
  def('deals_registered', 'Deals registered, last 90 days', 'count', 0),
  def('win_rate', 'Win rate of deals closed, last 90 days', 'ratio', 4),
  def('sourced_revenue', 'Sourced won revenue, last 90 days', 'currency', 2),
  def('average_deal_size', 'Average won deal size, last 90 days', 'currency', 2),
  def('deal_cycle_days', 'Average deal cycle of deals won, last 90 days (days)', 'days', 1),
  def('time_to_first_deal', 'Days from joining to first deal', 'days', 0),
  def('certifications', 'Certifications earned, last 90 days', 'count', 2),
  def('trainings', 'Trainings completed, last 90 days', 'count', 2),
  def('portal_logins', 'Portal logins, last 90 days', 'count', 2),
  def('nps', 'NPS score, average response, last 90 days', 'score', 1),
] as const satisfies readonly BenchmarkMetricDef[];

export type BenchmarkMetricName = (typeof BENCHMARK_METRICS)[number]['metric'];

export const BENCHMARK_METRIC_NAMES: readonly BenchmarkMetricName[] = BENCHMARK_METRICS.map((m) => m.metric);

/** One partner's metric values; null where it has none. */
export type BenchmarkValues = Record<BenchmarkMetricName, number | null>;

type Series = HistoryIndex['series'][number];

const seriesOf = (ix: HistoryIndex, type: EventType): Series => ix.series[FEATURE_EVENT_TYPES.indexOf(type)] as Series;

/** Sum of quantity of a series in (from, to]. */
function windowSum(s: Series, from: number, to: number): number {
  return (s.q[upperBound(s.t, to)] as number) - (s.q[upperBound(s.t, from)] as number);
}

/** Mean of the values of a series in (from, to]; null when there is none. */
function windowMean(s: Series, from: number, to: number): number | null {
  const [lo, hi] = [upperBound(s.t, from), upperBound(s.t, to)];
  let [sum, n] = [0, 0];
  for (let i = lo; i < hi; i += 1) {
    const v = s.v[i] as number;
    if (Number.isFinite(v)) {
      sum += v;
      n += 1;
    }
  }
  return n > 0 ? sum / n : null;
}

const round = (v: number | null, decimals: number): number | null => {
  if (v === null || !Number.isFinite(v)) return null;
  const f = 10 ** decimals;
  const r = Math.round(v * f) / f;
  return r === 0 ? 0 : r; // no -0
};

/** The metrics of an indexed history at epoch ms `at`. */
export function benchmarkMetricsFromIndex(ix: HistoryIndex, at: number): BenchmarkValues {
  const from = at - BENCHMARK_WINDOW_DAYS * DAY_MS;
  const d = ix.deal;
  const exist = upperBound(d.created, at);
  let [registered, won, lost, wonAmount, sourced, cycleDays] = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < exist; i += 1) {
    const created = d.created[i] as number;
    if (created > from) registered += 1;
    const closed = d.closed[i] as number; // NaN unless won/lost
    if (!(closed <= at && closed > from)) continue;
    if (d.won[i] !== 1) {
      lost += 1;
      continue;
    }
    const amount = d.amount[i] as number;
    won += 1;
    wonAmount += amount;
    cycleDays += Math.max(0, closed - created) / DAY_MS;
    if (d.role[i] === 1) sourced += amount;
  }
  const firstDeal = exist > 0 && Number.isFinite(ix.joinMs) ? Math.max(0, Math.floor(((d.created[0] as number) - ix.joinMs) / DAY_MS)) : null;
  const raw: BenchmarkValues = {
    deals_registered: registered,
    win_rate: won + lost > 0 ? won / (won + lost) : null,
    sourced_revenue: sourced,
    average_deal_size: won > 0 ? wonAmount / won : null,
    deal_cycle_days: won > 0 ? cycleDays / won : null,
    time_to_first_deal: firstDeal,
    certifications: windowSum(seriesOf(ix, 'certification_earned'), from, at),
    trainings: windowSum(seriesOf(ix, 'training_completed'), from, at),
    portal_logins: windowSum(seriesOf(ix, 'portal_login'), from, at),
    nps: windowMean(seriesOf(ix, 'nps_response'), from, at),
  };
  const out = {} as BenchmarkValues;
  for (const m of BENCHMARK_METRICS) out[m.metric] = round(raw[m.metric], m.decimals);
  return out;
}

/**
 * The ten benchmark metrics of a partner as of `asOf`: epoch ms (what the route passes: the end of
 * the benchmark day), or an ISO string read as the feature builder reads it (a bare date is 00:00Z).
 */
export function benchmarkMetrics(history: PartnerHistory, asOf: string | number): BenchmarkValues {
  return benchmarkMetricsFromIndex(indexHistory(history), typeof asOf === 'number' ? asOf : parseAsOf(asOf));
}
