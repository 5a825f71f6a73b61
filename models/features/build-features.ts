/**
 * Point-in-time features of a partner: one builder for training, batch scoring, ad-hoc scoring
 * and benchmarks. Pure: no I/O, no clock. Definitions, units and labels: feature-defs.ts and
 * docs/features.md.
 *
 * What is true "as of" a time (contract §2):
 * - `asOf` is a date-time with a zone, or a date `YYYY-MM-DD`, which means that day at
 *   00:00:00.000Z (the start of the day: nothing that happened during that day is seen).
 * - events count when `occurredAt <= asOf`;
 * - a deal exists when `createdAt <= asOf`; it is won/lost at asOf only when its stage is
 *   won/lost AND `closedAt <= asOf`; otherwise it is open pipeline (its outcome unknown);
 * - trailing windows are half-open: "last 30 days" is `(asOf − 30 days, asOf]`.
 * Limits of the stored data: a deal keeps only its latest version, so its amount (and role)
 * is the latest known one; the partner's tier/region/segment are its current ones.
 *
 * Speed: a history is indexed once (times per event type with prefix sums of quantity, deal
 * arrays; O(n)), then features at any time cost a few binary searches and one pass over the
 * deals. buildFeatures keeps the index of the LAST history it saw, so calling it for many times
 * of one history in a row (as churnSnapshots/topPerformerSnapshots do) indexes once; or hold an
 * index yourself with indexHistory + featuresFromIndex. Histories are treated as immutable
 * values: the kept index is dropped when the history object, its arrays or their lengths
 * change, not when an element is mutated in place.
 */
import { parseIsoTime } from '../../data/schemas/common';
import type { FeatureRow, PartnerHistory } from '../types';
import {
  CYCLE_CAP,
  DAYS_CAP,
  DEAL_WINDOWS,
  EVENT_WINDOWS,
  FEATURE_EVENT_TYPES,
  FEATURE_SPECS,
  NPS_NEUTRAL,
  TENURE_CAP,
  TREND_EVENT_TYPES,
} from './feature-defs';

export const DAY_MS = 86_400_000;

/** Epoch ms of an asOf (date → 00:00Z of that day, date-time → that instant); throws on anything else. */
export function parseAsOf(asOf: string): number {
  const ms = parseIsoTime(asOf);
  if (ms === undefined) throw new Error(`asOf must be an ISO 8601 date or date-time with a zone, got ${JSON.stringify(asOf)}`);
  return ms;
}

/** The number written by n ASCII digits of s from i; NaN if any is not a digit. */
function num(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k += 1) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y0: number, m: number, d: number): number {
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

/**
 * Epoch ms of a stored date (`YYYY-MM-DD`, 00:00Z) or date-time; NaN when unparsable. The stored
 * forms (`YYYY-MM-DD`, `YYYY-MM-DDTHH:mm:ss.sssZ`) are read by hand (Date.parse costs ~0.5 µs,
 * which dominated the feature builder); anything else goes to Date.parse.
 */
export function timeMs(iso: string): number {
  const n = iso.length;
  if (n === 10 || n === 24) {
    const ok =
      iso.charCodeAt(4) === 45 && // -
      iso.charCodeAt(7) === 45 &&
      (n === 10 ||
        (iso.charCodeAt(10) === 84 && // T
          iso.charCodeAt(13) === 58 && // :
          iso.charCodeAt(16) === 58 &&
          iso.charCodeAt(19) === 46 && // .
          iso.charCodeAt(23) === 90)); // Z
    const m = num(iso, 5, 2);
    const d = num(iso, 8, 2);
    if (ok && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
      const day = daysFromCivil(num(iso, 0, 4), m, d) * DAY_MS;
      if (n === 10) return day;
      const hh = num(iso, 11, 2);
      const mm = num(iso, 14, 2);
      const ss = num(iso, 17, 2);
      if (hh <= 23 && mm <= 59 && ss <= 59) return day + ((hh * 60 + mm) * 60 + ss) * 1000 + num(iso, 20, 3);
    }
  }
  return n === 10 ? Date.parse(`${iso}T00:00:00Z`) : Date.parse(iso);
}

/** Index of the first element > x in an ascending array (= how many are <= x). */
export function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Series {
  /** Ascending times (ms). */ t: number[];
  /** Prefix sums of quantity: q[i] = sum of the first i quantities (length n + 1). */ q: number[];
  /** Event values (NaN when absent). */ v: number[];
}

interface DealIndex {
  /** Ascending createdAt (ms). */ created: number[];
  /** closedAt (ms) when the stage is won/lost, else NaN. */ closed: number[];
  /** 1 won, 0 not. */ won: number[];
  /** 1 sourced, 2 influenced, 0 neither. */ role: number[];
  amount: number[];
}

/** A history prepared for fast point-in-time queries (see indexHistory). */
export interface HistoryIndex {
  history: PartnerHistory;
  events: unknown;
  deals: unknown;
  partner: unknown;
  nEvents: number;
  nDeals: number;
  joinMs: number;
  series: Series[];
  engagement: Series;
  deal: DealIndex;
}

const TYPE_POS = new Map<string, number>(FEATURE_EVENT_TYPES.map((t, i) => [t, i]));
const TREND_POS = TREND_EVENT_TYPES.map((t) => TYPE_POS.get(t) as number);
const NPS_POS = TYPE_POS.get('nps_response') as number;
const MAX_EVENT_WINDOW = EVENT_WINDOWS[EVENT_WINDOWS.length - 1] as number;
// Module-local copies: imported bindings can compile to getters, which cost in the hot loop.
const EVENT_WINDOW_MS = EVENT_WINDOWS.map((w) => w * DAY_MS);
const DEAL_WINDOW_MS = DEAL_WINDOWS.map((w) => w * DAY_MS);
const N_FEATURES = FEATURE_SPECS.length;
const [DAYS_CAP_, TENURE_CAP_, CYCLE_CAP_, NPS_NEUTRAL_] = [DAYS_CAP, TENURE_CAP, CYCLE_CAP, NPS_NEUTRAL];

function emptySeries(): Series {
  return { t: [], q: [0], v: [] };
}

/** Positions 0..n-1 in ascending order of t (stable); identity when t is already sorted. */
function orderOf(t: readonly number[]): number[] {
  const order = new Array<number>(t.length);
  let sorted = true;
  for (let i = 0; i < t.length; i += 1) {
    order[i] = i;
    if (i > 0 && (t[i] as number) < (t[i - 1] as number)) sorted = false;
  }
  if (!sorted) order.sort((a, b) => (t[a] as number) - (t[b] as number) || a - b);
  return order;
}

/** Indexes a history for featuresFromIndex: O(events + deals log deals). */
export function indexHistory(h: PartnerHistory): HistoryIndex {
  // Pass 1: times and types; pass 2: per-type series in time order (histories are sorted; an unsorted one is ordered here).
  const events = h.events;
  const n = events.length;
  const times: number[] = [];
  const kinds: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const e = events[i] as PartnerHistory['events'][number];
    const pos = TYPE_POS.get(e.type);
    const t = timeMs(e.occurredAt);
    times.push(t);
    kinds.push(pos === undefined || Number.isNaN(t) ? -1 : pos);
  }
  const series = FEATURE_EVENT_TYPES.map(emptySeries);
  const engagement = emptySeries();
  const order = orderOf(times);
  for (let o = 0; o < n; o += 1) {
    const i = order[o] as number;
    const k = kinds[i] as number;
    if (k < 0) continue;
    const e = events[i] as PartnerHistory['events'][number];
    const t = times[i] as number;
    const q = e.quantity ?? 1;
    const s = series[k] as Series;
    s.q.push((s.q[s.t.length] as number) + q);
    s.t.push(t);
    s.v.push(e.value ?? NaN);
    if (k !== NPS_POS) {
      engagement.q.push((engagement.q[engagement.t.length] as number) + q);
      engagement.t.push(t);
    }
  }

  const dealList = h.deals.filter((d) => !Number.isNaN(timeMs(d.createdAt)));
  const created = dealList.map((d) => timeMs(d.createdAt));
  const deal: DealIndex = { created: [], closed: [], won: [], role: [], amount: [] };
  for (const i of orderOf(created)) {
    const d = dealList[i] as PartnerHistory['deals'][number];
    const outcome = d.stage === 'won' || d.stage === 'lost';
    const c = created[i] as number;
    // closedAt is never before createdAt (schema); clamped anyway so that "closed by asOf" implies "created by asOf".
    deal.created.push(c);
    deal.closed.push(outcome && d.closedAt !== undefined ? Math.max(c, timeMs(d.closedAt)) : NaN);
    deal.won.push(d.stage === 'won' ? 1 : 0);
    deal.role.push(d.partnerRole === 'sourced' ? 1 : d.partnerRole === 'influenced' ? 2 : 0);
    deal.amount.push(Number.isFinite(d.amount) ? d.amount : 0);
  }
  return {
    history: h,
    events: h.events,
    deals: h.deals,
    partner: h.partner,
    nEvents: h.events.length,
    nDeals: h.deals.length,
    joinMs: timeMs(h.partner.joinedAt),
    series,
    engagement,
    deal,
  };
}

/** The index of the last history seen (a WeakMap memo of every history cost more in GC than it saved). */
let last: HistoryIndex | undefined;

function indexOf(h: PartnerHistory): HistoryIndex {
  const hit = last;
  if (
    hit &&
    hit.history === h &&
    hit.events === h.events &&
    hit.deals === h.deals &&
    hit.partner === h.partner &&
    hit.nEvents === h.events.length &&
    hit.nDeals === h.deals.length
  ) {
    return hit;
  }
  last = indexHistory(h);
  return last;
}

const log1p = Math.log1p;
const wholeDays = (ms: number): number => Math.floor(ms / DAY_MS);

/** Sum of quantity in (from, to], given hi = upperBound(t, to). */
function windowSum(s: Series, hi: number, from: number): number {
  return (s.q[hi] as number) - (s.q[upperBound(s.t, from)] as number);
}

function trend(s: Series, hi: number, at: number): number {
  const n30 = windowSum(s, hi, at - 30 * DAY_MS);
  const rate = windowSum(s, hi, at - 90 * DAY_MS) / 3;
  return (n30 - rate) / (n30 + rate + 1);
}

/** Numeric feature values (FEATURE_DEFS order) of an indexed history at asOfMs (epoch ms). */
export function featuresFromIndex(ix: HistoryIndex, at: number): number[] {
  const out: number[] = [];
  const his = ix.series.map((s) => upperBound(s.t, at));
  const tenureRaw = Number.isNaN(ix.joinMs) ? 0 : Math.max(0, wholeDays(at - ix.joinMs));

  // Event counts per type and window.
  ix.series.forEach((s, k) => {
    const hi = his[k] as number;
    for (const w of EVENT_WINDOW_MS) out.push(log1p(windowSum(s, hi, at - w)));
  });
  // Trends.
  for (const k of TREND_POS) out.push(trend(ix.series[k] as Series, his[k] as number, at));
  out.push(trend(ix.engagement, upperBound(ix.engagement.t, at), at));
  // Days since the last event of each type (tenure when none), capped.
  ix.series.forEach((s, k) => {
    const hi = his[k] as number;
    const days = hi > 0 ? Math.max(0, wholeDays(at - (s.t[hi - 1] as number))) : tenureRaw;
    out.push(Math.min(days, DAYS_CAP_));
  });
  // NPS.
  const nps = ix.series[NPS_POS] as Series;
  const nNps = his[NPS_POS] as number;
  const last = nNps > 0 ? (nps.v[nNps - 1] as number) : NaN;
  const prev = nNps > 1 ? (nps.v[nNps - 2] as number) : NaN;
  const hasLast = Number.isFinite(last);
  out.push(hasLast ? last : NPS_NEUTRAL_);
  out.push(hasLast && Number.isFinite(prev) ? last - prev : 0);
  out.push(hasLast ? 1 : 0);

  // Deals, in one pass over the deals that exist at asOf.
  const d = ix.deal;
  const hi = upperBound(d.created, at);
  const nw = DEAL_WINDOW_MS.length;
  const registered = new Array<number>(nw).fill(0);
  const won = new Array<number>(nw).fill(0);
  const lost = new Array<number>(nw).fill(0);
  let [sourced90, influenced90, sourced365, influenced365, wonAmount365, cycle365, won365] = [0, 0, 0, 0, 0, 0, 0];
  let [openDeals, openAmount] = [0, 0];
  for (let i = 0; i < hi; i += 1) {
    const created = d.created[i] as number;
    const closed = d.closed[i] as number;
    for (let j = 0; j < nw; j += 1) if (created > at - (DEAL_WINDOW_MS[j] as number)) registered[j] = (registered[j] as number) + 1;
    if (!(closed <= at)) {
      openDeals += 1;
      openAmount += d.amount[i] as number;
      continue;
    }
    const isWon = d.won[i] === 1;
    for (let j = 0; j < nw; j += 1) {
      if (closed <= at - (DEAL_WINDOW_MS[j] as number)) continue;
      if (isWon) won[j] = (won[j] as number) + 1;
      else lost[j] = (lost[j] as number) + 1;
    }
    if (!isWon || closed <= at - 365 * DAY_MS) continue;
    const amount = d.amount[i] as number;
    const role = d.role[i];
    won365 += 1;
    wonAmount365 += amount;
    cycle365 += Math.max(0, closed - created) / DAY_MS;
    if (role === 1) sourced365 += amount;
    if (role === 2) influenced365 += amount;
    if (closed > at - 90 * DAY_MS) {
      if (role === 1) sourced90 += amount;
      if (role === 2) influenced90 += amount;
    }
  }
  for (let j = 0; j < nw; j += 1) {
    const [r, wn, ls] = [registered[j] as number, won[j] as number, lost[j] as number];
    out.push(log1p(r), log1p(wn), log1p(ls), (wn + 1) / (wn + ls + 2));
  }
  out.push(log1p(sourced90), log1p(influenced90), log1p(sourced365), log1p(influenced365));
  out.push(log1p(won365 > 0 ? wonAmount365 / won365 : 0));
  out.push(won365 > 0 ? Math.min(cycle365 / won365, CYCLE_CAP_) : 0);
  out.push(log1p(openDeals), log1p(openAmount));
  const firstDeal = hi > 0 ? Math.max(0, wholeDays((d.created[0] as number) - ix.joinMs)) : tenureRaw;
  out.push(hi > 0 ? 1 : 0, Math.min(Number.isNaN(firstDeal) ? 0 : firstDeal, DAYS_CAP_));
  out.push(Math.min(tenureRaw, TENURE_CAP_), 365 - (tenureRaw % 365));
  return out;
}

/** Features of one partner as of `asOf` (values in FEATURE_DEFS order, categories as currently recorded). */
export function buildFeatures(history: PartnerHistory, asOf: string): FeatureRow {
  return buildFeaturesAt(history, parseAsOf(asOf));
}

/** Same as buildFeatures with asOf given in epoch ms (for callers that loop over many times). */
export function buildFeaturesAt(history: PartnerHistory, asOfMs: number): FeatureRow {
  const values = featuresFromIndex(indexOf(history), asOfMs);
  if (values.length !== N_FEATURES) throw new Error(`feature builder produced ${values.length} values for ${N_FEATURES} features`);
  const { partnerId, tier, region, segment } = history.partner;
  return { partnerId, asOf: new Date(asOfMs).toISOString(), values, categories: { tier, region, segment } };
}

/** Features of many partners at one asOf. */
export function buildFeatureRows(histories: readonly PartnerHistory[], asOf: string): FeatureRow[] {
  const at = parseAsOf(asOf);
  return histories.map((h) => buildFeaturesAt(h, at));
}

/** Longest trailing window the features look back over (days). */
export const MAX_LOOKBACK_DAYS = Math.max(MAX_EVENT_WINDOW, ...DEAL_WINDOWS);
