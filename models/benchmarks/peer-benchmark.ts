/**
 * Peer benchmarks (contract §7), as pure functions: the cohort widening decision, coarsened
 * quartiles that never use the lowest or highest peer, the partner's percentile read off those
 * quartiles, cohort size ranges and withheld metrics. The privacy reasoning behind each rule, and
 * what a partner key can and cannot learn, is in docs/privacy.md.
 *
 * The one property everything here keeps: a benchmark depends on peers only through their
 * coarsened values (two significant figures), the number of peers, and which peers have a value.
 * Peers' exact values never reach a quartile: they are coarsened first, then ranked.
 */
import type { Partner } from '../../data/schemas/partner';
import { DAY_MS } from '../features/build-features';
import { isActiveAt } from '../labels';
import { BENCHMARK_METRICS, type BenchmarkMetricName, type BenchmarkValues } from './benchmark-metrics';

/** Default and floor of k, the fewest peers a cohort, and each metric, needs. */
export const DEFAULT_K = 5;
export const MIN_K = 3;

/** Significant figures peer values are rounded to before any quartile is taken. */
export const SIGNIFICANT_FIGURES = 2;

export type CohortLevel = 'segment' | 'region' | 'tier';

export interface CohortSpec {
  tier: string;
  region?: string;
  segment?: string;
}

export interface Cohort extends CohortSpec {
  /** A range of the number of peers (`5-9`, `10-24`, `25-99`, `100+`), never the exact count. */
  size: string;
}

export interface MetricBenchmark {
  metric: BenchmarkMetricName;
  label: string;
  unit: string;
  /** The partner's own value (exact: it is its own), or null when it has none. */
  value: number | null;
  /** Where the partner's value falls, 0–100, read off p25/p50/p75 only; null without a value. */
  percentile: number | null;
  p25: number;
  p50: number;
  p75: number;
}

export type WithheldReason = 'cohort_too_small' | 'partner_not_active';

export interface PeerBenchmark {
  partnerId: string;
  /** The UTC day (`YYYY-MM-DD`) the benchmark is computed as of: the whole day, to its last millisecond. */
  asOf: string;
  cohort: Cohort | null;
  metrics: MetricBenchmark[];
  withheld: BenchmarkMetricName[];
  /** Only when the whole benchmark is withheld (cohort null). */
  reason?: WithheldReason;
}

/** k as configured, never below MIN_K. */
export const effectiveK = (configured: number | undefined): number => Math.max(MIN_K, Math.floor(configured ?? DEFAULT_K));

/**
 * Benchmarks have a resolution of one UTC day: the instant used is the end of the latest UTC day
 * that is complete at `asOfMs` (a date asOf, which means the end of that day, is kept; any time
 * within a day uses the end of the day before). Never later than asked, so point-in-time holds,
 * and stepping asOf within a day cannot time a peer's event.
 */
export function benchmarkDay(asOfMs: number): { day: string; at: number } {
  const endOfDay = Math.floor(asOfMs / DAY_MS) * DAY_MS + DAY_MS - 1;
  const at = asOfMs >= endOfDay ? endOfDay : endOfDay - DAY_MS;
  return { day: new Date(at).toISOString().slice(0, 10), at };
}

/** The cohorts tried, narrowest first: same tier, region and segment; then tier and region; then the tier. */
export function cohortSteps(partner: Partner): { level: CohortLevel; spec: CohortSpec }[] {
  const { tier, region, segment } = partner;
  return [
    { level: 'segment', spec: { tier, region, segment } },
    { level: 'region', spec: { tier, region } },
    { level: 'tier', spec: { tier } },
  ];
}

const inSpec = (p: Partner, spec: CohortSpec): boolean =>
  p.tier === spec.tier && (spec.region === undefined || p.region === spec.region) && (spec.segment === undefined || p.segment === spec.segment);

/** The peers among candidates: in the cohort, active at `at` (joined, not churned), not the partner itself; by partnerId. */
export function activePeers(candidates: readonly Partner[], spec: CohortSpec, selfId: string, at: number): Partner[] {
  const seen = new Set<string>([selfId]);
  const out: Partner[] = [];
  for (const p of candidates) {
    if (seen.has(p.partnerId) || !inSpec(p, spec) || !isActiveAt(p, at)) continue;
    seen.add(p.partnerId);
    out.push(p);
  }
  return out.sort((a, b) => (a.partnerId < b.partnerId ? -1 : a.partnerId > b.partnerId ? 1 : 0));
}

export interface CohortChoice {
  level: CohortLevel;
  spec: CohortSpec;
  peers: Partner[];
}

/**
 * Widens segment → region → tier until a cohort holds at least k peers besides the partner;
 * null when even the tier does not. `fetch` gives the candidates of a cohort (one store query
 * per step, made only when the narrower step fell short).
 */
export async function widenCohort(
  partner: Partner,
  at: number,
  k: number,
  fetch: (spec: CohortSpec) => Promise<readonly Partner[]> | readonly Partner[],
): Promise<CohortChoice | null> {
  for (const { level, spec } of cohortSteps(partner)) {
    const peers = activePeers(await fetch(spec), spec, partner.partnerId, at);
    if (peers.length >= k) return { level, spec, peers };
  }
  return null;
}

/**
 * The published range of a peer count n >= k. Ranges are the contract's `5-9`, `10-24`,
 * `25-99`, `100+`; with k = 3 or 4 the lowest range starts at k (`3-9`, `4-9`) rather than adding
 * a narrow `3-4` range that would be nearly exact.
 */
export function sizeRange(n: number, k: number): string {
  if (n >= 100) return '100+';
  if (n >= 25) return '25-99';
  if (n >= 10) return '10-24';
  return `${Math.min(Math.max(k, MIN_K), 5)}-9`;
}

/** A value rounded to two significant figures (half away from zero): 123456 → 120000, 0.6667 → 0.67, 23 → 23. */
export function coarsen(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return 0;
  const r = Number(v.toPrecision(SIGNIFICANT_FIGURES));
  return r === 0 ? 0 : r;
}

/**
 * Rank (0-based, in ascending order) of quantile p among n >= 3 values: nearest rank, clamped
 * to 1..n−2 so that the lowest and the highest value are never used. No interpolation: each
 * quartile is one (coarsened) order statistic, so combining quartiles cannot undo the coarsening.
 */
export function quantileRank(n: number, p: number): number {
  if (n < 3) throw new Error(`quantiles need at least 3 values, got ${n}`);
  return Math.min(n - 2, Math.max(1, Math.round((n - 1) * p)));
}

export interface Quartiles {
  p25: number;
  p50: number;
  p75: number;
}

/** p25/p50/p75 of peer values: each value coarsened first, then ranked (quantileRank). Needs >= 3 values. */
export function peerQuartiles(values: readonly number[]): Quartiles {
  const sorted = values.map(coarsen).sort((a, b) => a - b);
  const at = (p: number): number => sorted[quantileRank(sorted.length, p)] as number;
  return { p25: at(0.25), p50: at(0.5), p75: at(0.75) };
}

/** Percentile of the bottom and top quarter: where in them the partner stands would reveal the lowest or highest peer. */
export const BOTTOM_QUARTER_PERCENTILE = 12;
export const TOP_QUARTER_PERCENTILE = 88;

/**
 * Where `value` falls among the peers, 0–100, computed from the published quartiles only, so it
 * tells nothing about peers that p25/p50/p75 do not: 25/50/75 at a quartile (the mean of those it
 * equals), linear between quartiles, 12 below p25 and 88 above p75.
 */
export function percentileFromQuartiles(value: number, q: Quartiles): number {
  const anchors: [number, number][] = [
    [q.p25, 25],
    [q.p50, 50],
    [q.p75, 75],
  ];
  if (value < q.p25) return BOTTOM_QUARTER_PERCENTILE;
  if (value > q.p75) return TOP_QUARTER_PERCENTILE;
  const equal = anchors.filter(([v]) => v === value);
  if (equal.length > 0) return Math.round(equal.reduce((s, [, p]) => s + p, 0) / equal.length);
  for (let i = 0; i < anchors.length - 1; i += 1) {
    const [[v0, p0], [v1, p1]] = [anchors[i] as [number, number], anchors[i + 1] as [number, number]];
    if (value > v0 && value < v1) return Math.round(p0 + ((p1 - p0) * (value - v0)) / (v1 - v0));
  }
  /* c8 ignore next */
  return 50; // unreachable: p25 <= value <= p75 and equal to none lies strictly between two quartiles
}

/**
 * The benchmark of each metric: withheld when fewer than k peers have a value; otherwise the
 * coarsened quartiles of those peers and the partner's own value and percentile.
 */
export function benchmarkAgainstPeers(own: BenchmarkValues, peers: readonly BenchmarkValues[], k: number): { metrics: MetricBenchmark[]; withheld: BenchmarkMetricName[] } {
  const metrics: MetricBenchmark[] = [];
  const withheld: BenchmarkMetricName[] = [];
  for (const def of BENCHMARK_METRICS) {
    const values = peers.map((p) => p[def.metric]).filter((v): v is number => v !== null && Number.isFinite(v));
    if (values.length < Math.max(k, MIN_K)) {
      withheld.push(def.metric);
      continue;
    }
    const q = peerQuartiles(values);
    const value = own[def.metric];
    metrics.push({ metric: def.metric, label: def.label, unit: def.unit, value, percentile: value === null ? null : percentileFromQuartiles(value, q), ...q });
  }
  return { metrics, withheld };
}

/** The response of a withheld benchmark: no cohort, no metrics, every metric withheld. */
export function withheldBenchmark(partnerId: string, day: string, reason: WithheldReason): PeerBenchmark {
  return { partnerId, asOf: day, cohort: null, metrics: [], withheld: BENCHMARK_METRICS.map((m) => m.metric), reason };
}

/** The whole benchmark, given the cohort chosen (or null) and the metric values of the partner and of its peers. */
export function peerBenchmark(input: {
  partner: Partner;
  day: string;
  k: number;
  choice: Pick<CohortChoice, 'spec'> | null;
  own: BenchmarkValues;
  peers: readonly BenchmarkValues[];
}): PeerBenchmark {
  const { partner, day, choice } = input;
  const k = Math.max(input.k, MIN_K);
  if (choice === null || input.peers.length < k) return withheldBenchmark(partner.partnerId, day, 'cohort_too_small');
  const { metrics, withheld } = benchmarkAgainstPeers(input.own, input.peers, k);
  const { tier, region, segment } = choice.spec;
  const cohort: Cohort = { tier, ...(region !== undefined ? { region } : {}), ...(segment !== undefined ? { segment } : {}), size: sizeRange(input.peers.length, k) };
  return { partnerId: partner.partnerId, asOf: day, cohort, metrics, withheld };
}
