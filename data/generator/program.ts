/**
 * Simulates a partner program: partners with latent traits, engagement events, deals with a
 * stage history, churn, and the ground truth (future churn, complete first-year revenue) that
 * the emitted data does not show yet. Pure and deterministic: no I/O, no Math.random.
 * See docs/demo-data.md for what is simulated and why.
 */
import type { DealInput } from '../schemas/deal';
import type { EventInput, EventType } from '../schemas/event';
import type { PartnerInput } from '../schemas/partner';
import { Rng, clamp, sigmoid } from './random';

export interface ProgramOptions {
  seed?: number;
  partners?: number;
  end?: string;
  years?: number;
  directDealsPerMonth?: number;
}
export interface PartnerTruth {
  partnerId: string;
  churnedAt: string | null;
  firstYearRevenue: number;
  archetype: string;
}
export interface GeneratedProgram {
  options: Required<ProgramOptions>;
  partners: PartnerInput[];
  events: EventInput[];
  deals: DealInput[];
  truth: PartnerTruth[];
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** How far past `end` the simulation runs, so that truth knows a full year of the future. */
const FUTURE_DAYS = 370;

export const ARCHETYPES = ['star', 'steady', 'casual', 'fading', 'dormant'] as const;
export type Archetype = (typeof ARCHETYPES)[number];
/** weight, log of typical engagement, capability z, satisfaction (0–1). */
const ARCHETYPE_SPEC: Record<Archetype, { weight: number; engagement: number; capability: number; satisfaction: number }> = {
  star: { weight: 0.08, engagement: Math.log(1.8), capability: 1.0, satisfaction: 0.86 },
  steady: { weight: 0.34, engagement: Math.log(1.1), capability: 0.3, satisfaction: 0.76 },
  casual: { weight: 0.28, engagement: Math.log(0.7), capability: -0.1, satisfaction: 0.64 },
  fading: { weight: 0.14, engagement: Math.log(1.0), capability: 0.0, satisfaction: 0.62 },
  dormant: { weight: 0.16, engagement: Math.log(0.35), capability: -0.5, satisfaction: 0.52 },
};
const TIERS = ['platinum', 'gold', 'silver', 'registered'] as const;
/** Cumulative share of partners down to each tier (a pyramid). */
const TIER_CUTS = [0.06, 0.22, 0.52, 1];
const REGIONS = ['NA', 'EMEA', 'APAC', 'LATAM'] as const;
const REGION_WEIGHTS = [0.4, 0.3, 0.2, 0.1];
/** Business hours in UTC: first hour and span. */
const REGION_HOURS: Record<string, [number, number]> = { NA: [14, 9], EMEA: [7, 10], APAC: [0, 10], LATAM: [12, 9] };
const SEGMENTS = ['SMB', 'mid-market', 'enterprise'] as const;
const SEGMENT_WEIGHTS = [0.5, 0.35, 0.15];
/** Deal-size median, deal-rate factor, median cycle days, win-rate shift. */
const SEGMENT_DEALS: Record<string, { median: number; rate: number; cycle: number; win: number }> = {
  SMB: { median: 9_000, rate: 1.3, cycle: 28, win: 0.15 },
  'mid-market': { median: 32_000, rate: 1.0, cycle: 55, win: 0 },
  enterprise: { median: 110_000, rate: 0.6, cycle: 95, win: -0.25 },
};
const QBR_CHANCE: Record<string, number> = { platinum: 0.9, gold: 0.7, silver: 0.25, registered: 0.05 };
const TIER_ACTIVITY: Record<string, number> = { platinum: 1.6, gold: 1.3, silver: 1.0, registered: 0.75 };
const NAME_A = ['North', 'Blue', 'Iron', 'Silver', 'Bright', 'Cedar', 'Summit', 'Harbor', 'Vector', 'Atlas', 'Nimbus', 'Quartz', 'Redwood', 'Falcon', 'Orbit', 'Granite', 'Pioneer', 'Lumen', 'Cobalt', 'Meridian', 'Sterling', 'Crescent', 'Evergreen', 'Keystone'];
const NAME_B = ['wind', 'peak', 'bridge', 'stone', 'field', 'gate', 'point', 'line', 'path', 'wave', 'forge', 'spring', 'light', 'crest'];
const NAME_C = ['Solutions', 'Systems', 'Consulting', 'Technologies', 'Partners', 'Group', 'Digital', 'IT Services', 'Labs', 'Networks', 'Integrators', 'Advisory'];

interface SimPartner {
  idx: number;
  id: string;
  name: string;
  archetype: Archetype;
  region: string;
  segment: string;
  tier: string;
  joinDay: number;
  /** First simulated day: the join, or the start of the history for partners who joined before it. */
  startDay: number;
  churnDay: number | null;
  /** Length of the disengagement before churn, in days. */
  declineDays: number;
  engagement: number;
  capability: number;
  satisfaction: number;
  /** Onboarding drive: early trainings, certifications, logins and a fast first deal. Tracks capability, noisily. */
  ambition: number;
  interest: number;
  fadeAfter: number | null;
  fadeTau: number;
  qbrOffset: number;
}

interface Ctx {
  seed: number;
  startDay: number;
  endDay: number;
  horizonDay: number;
}

interface DealPlan {
  partnerId: string | null;
  role: 'sourced' | 'influenced' | null;
  versions: Array<{ stage: 'registered' | 'open' | 'won' | 'lost'; ms: number; amount: number }>;
}

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 19) + 'Z';
const isoDate = (day: number): string => new Date(day * DAY).toISOString().slice(0, 10);
/** Day of week, 0 = Sunday (day 0, 1970-01-01, was a Thursday). */
const weekday = (day: number): number => (day + 4) % 7;
const isWorkday = (day: number): boolean => weekday(day) >= 1 && weekday(day) <= 5;
/** Weeks run Monday to Sunday; block k starts on day 4 + 7k (day 4 was a Monday). */
const blockOf = (day: number): number => Math.floor((day - 4) / 7);

function parseEndDay(end: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(end) ? Date.parse(`${end}T00:00:00Z`) : NaN;
  if (!Number.isFinite(ms) || isoDate(ms / DAY) !== end) throw new Error(`end must be a date YYYY-MM-DD, got ${end}`);
  return ms / DAY;
}

/** A time on `day` within the region's business hours. */
function businessTime(rng: Rng, region: string, day: number): number {
  const [first, span] = REGION_HOURS[region] ?? [9, 8];
  return day * DAY + first * HOUR + rng.int(0, span * 3600 - 1) * 1000;
}

/** A random workday in [d0, d1), or any day there if the slice holds no workday. */
function dayIn(rng: Rng, d0: number, d1: number): number {
  const work: number[] = [];
  for (let d = d0; d < d1; d += 1) if (isWorkday(d)) work.push(d);
  return work.length > 0 ? rng.pick(work) : rng.int(d0, d1 - 1);
}

/** Holiday dip at the turn of the year, a quiet August in EMEA, a slight annual wave. */
function season(day: number, region: string): number {
  const date = new Date(day * DAY);
  const month = date.getUTCMonth();
  const dom = date.getUTCDate();
  if ((month === 11 && dom >= 20) || (month === 0 && dom <= 3)) return 0.55;
  if (month === 7 && region === 'EMEA') return 0.75;
  return 1 + 0.08 * Math.sin((2 * Math.PI * (day % 365)) / 365);
}

/** Shared week-to-week noise of one partner (busy weeks, quiet weeks), the same for events and deals. */
function weekNoise(ctx: Ctx, p: SimPartner, block: number): number {
  return Math.exp(Rng.from(ctx.seed, p.idx, 'week', block).normal(0, 0.3));
}

/** Underlying engagement before noise, season, onboarding and pre-churn disengagement. */
function level(p: SimPartner, day: number): number {
  if (p.fadeAfter === null) return p.engagement;
  const t = day - p.startDay - p.fadeAfter;
  return t <= 0 ? p.engagement : p.engagement * Math.max(0.12, Math.exp(-t / p.fadeTau));
}

/** Progress (0–1) through the disengagement that precedes churn; 0 when not in it. */
function declineProgress(p: SimPartner, day: number): number {
  if (p.churnDay === null) return 0;
  const from = p.churnDay - p.declineDays;
  return day <= from ? 0 : clamp((day - from) / p.declineDays, 0, 1);
}

function onboarding(p: SimPartner, day: number): number {
  const tenure = day - p.joinDay;
  return tenure >= 0 && tenure < 90 ? p.ambition * (1 - tenure / 90) : 0;
}

function makePartner(ctx: Ctx, idx: number, joinDay: number): SimPartner {
  const rng = Rng.from(ctx.seed, idx, 'traits');
  const archetype = rng.pickWeighted(ARCHETYPES, ARCHETYPES.map((a) => ARCHETYPE_SPEC[a].weight));
  const spec = ARCHETYPE_SPEC[archetype];
  const capability = rng.normal(spec.capability, 0.7);
  const fading = archetype === 'fading';
  return {
    idx,
    id: `P-${String(idx + 1).padStart(5, '0')}`,
    name: `${rng.pick(NAME_A)}${rng.pick(NAME_B)} ${rng.pick(NAME_C)}`,
    archetype,
    region: rng.pickWeighted(REGIONS, REGION_WEIGHTS),
    segment: rng.pickWeighted(SEGMENTS, SEGMENT_WEIGHTS),
    tier: 'registered',
    joinDay,
    startDay: Math.max(joinDay, ctx.startDay),
    churnDay: null,
    declineDays: rng.int(60, 150),
    engagement: Math.exp(rng.normal(spec.engagement + 0.05 * capability, 0.3)),
    capability,
    satisfaction: clamp(rng.normal(spec.satisfaction, 0.09), 0.05, 0.98),
    ambition: Math.exp(0.5 * capability + rng.normal(0, 0.6)),
    interest: Math.exp(rng.normal(0, 0.3)),
    fadeAfter: fading ? rng.int(30, 300) : null,
    fadeTau: rng.uniform(150, 400),
    qbrOffset: rng.int(0, 12),
  };
}

/** Weekly churn hazard: higher for low engagement, low satisfaction, low capability, new partners, and near renewal. */
function drawChurn(ctx: Ctx, p: SimPartner): number | null {
  const rng = Rng.from(ctx.seed, p.idx, 'churn');
  for (let day = p.startDay + 30; day < ctx.horizonDay; day += 7) {
    const tenure = day - p.joinDay;
    const toAnniversary = 365 - (tenure % 365);
    const renewal = toAnniversary <= 45 ? 1.9 : 0.85;
    const annual =
      0.085 *
      Math.exp(-0.9 * Math.log(level(p, day)) - 2.2 * (p.satisfaction - 0.7) - 0.25 * p.capability) *
      (tenure < 365 ? 1.25 : 1) *
      renewal;
    if (rng.chance(1 - Math.exp((-annual * 7) / 365))) return day + rng.int(0, 6);
  }
  return null;
}

/** Engagement events, only before `end` and before churn. */
function simulateEvents(ctx: Ctx, p: SimPartner): Array<{ ms: number; event: Omit<EventInput, 'eventId'> }> {
  const rng = Rng.from(ctx.seed, p.idx, 'events');
  const out: Array<{ ms: number; event: Omit<EventInput, 'eventId'> }> = [];
  const emit = (day: number, type: EventType, extra: { quantity?: number; value?: number } = {}): void => {
    const ms = businessTime(rng, p.region, day);
    out.push({ ms, event: { partnerId: p.id, type, occurredAt: iso(ms), ...extra } });
  };
  const limit = Math.min(p.churnDay ?? Infinity, ctx.endDay);
  const tierF = TIER_ACTIVITY[p.tier] ?? 1;
  for (let block = blockOf(p.startDay); 4 + 7 * block < limit; block += 1) {
    const d0 = Math.max(4 + 7 * block, p.startDay);
    const d1 = Math.min(4 + 7 * block + 7, limit);
    if (d1 <= d0) continue;
    const frac = (d1 - d0) / 7;
    const mid = (d0 + d1 - 1) / 2;
    const x = declineProgress(p, mid);
    const on = onboarding(p, mid);
    const base = level(p, mid) * weekNoise(ctx, p, block) * season(mid, p.region) * (1 - 0.9 * Math.pow(x, 0.9));
    const m = base * (1 + 0.7 * on);
    const sat = clamp(p.satisfaction * (1 - 0.5 * x) - 0.15 * (1 - level(p, mid) / p.engagement), 0, 1);
    // Logins and content views are aggregated per partner-day: one event, quantity = sessions or views.
    for (let d = d0; d < d1; d += 1) {
      if (!isWorkday(d)) continue;
      if (rng.chance(1 - Math.exp(-0.6 * m))) emit(d, 'portal_login', { quantity: 1 + rng.poisson(0.8 * m) });
      if (rng.chance(1 - Math.exp(-0.25 * m * p.interest))) emit(d, 'content_view', { quantity: 1 + rng.poisson(1.2 * m) });
    }
    const counts: Array<[EventType, number]> = [
      ['training_completed', 0.09 * base + 0.45 * on],
      ['certification_earned', 0.02 * base * Math.exp(0.3 * p.capability) + 0.11 * on],
      ['co_sell_meeting', 0.05 * base * tierF * Math.exp(0.4 * p.capability)],
      ['marketing_campaign', 0.035 * base * tierF],
      ['support_ticket', 0.045 * (0.4 + base) * (1 + 2 * (1 - sat))],
    ];
    for (const [type, rate] of counts) {
      for (let n = rng.poisson(rate * frac); n > 0; n -= 1) emit(dayIn(rng, d0, d1), type);
    }
    if ((block - p.qbrOffset) % 13 === 0 && rng.chance((QBR_CHANCE[p.tier] ?? 0) * Math.min(1, 0.35 + 0.5 * base))) {
      emit(dayIn(rng, d0, d1), 'qbr_attended');
    }
    // A program-wide NPS survey goes out once a quarter; engaged partners answer more often.
    if (block % 13 === 6 && rng.chance(clamp(0.2 + 0.35 * base, 0.05, 0.9))) {
      const score = Math.round(clamp(rng.normal(10.5 * sat, 1.3), 0, 10));
      emit(dayIn(rng, d0, d1), 'nps_response', { value: score });
    }
  }
  return out;
}

/** The stage history of one deal; `cutoffDay` (churn) forces an open deal to be lost before it. */
function dealVersions(rng: Rng, region: string, segment: string, createdDay: number, registered: boolean, winP: number, amount0: number, cutoffDay: number | null): DealPlan['versions'] {
  const seg = SEGMENT_DEALS[segment] ?? { median: 20_000, rate: 1, cycle: 45, win: 0 };
  const round = (a: number): number => Math.max(0, Math.round(a / 10) * 10);
  const versions: DealPlan['versions'] = [];
  let amount = round(amount0);
  versions.push({ stage: registered ? 'registered' : 'open', ms: businessTime(rng, region, createdDay), amount });
  let day = createdDay;
  let outcome: 'won' | 'lost';
  if (registered && rng.chance(0.1)) {
    outcome = 'lost'; // registration rejected or abandoned
    day += rng.int(2, 20);
  } else {
    if (registered) {
      day += 1 + Math.floor(rng.exponential(6));
      amount = round(amount * Math.exp(rng.normal(0, 0.15)));
      versions.push({ stage: 'open', ms: businessTime(rng, region, day), amount });
    }
    day += Math.max(3, Math.round(Math.min(400, rng.lognormal(Math.log(seg.cycle), 0.6))));
    outcome = rng.chance(winP) ? 'won' : 'lost';
    if (outcome === 'won') amount = round(amount * Math.exp(rng.normal(0, 0.08)));
  }
  if (cutoffDay !== null && day >= cutoffDay - 1) {
    outcome = 'lost';
    day = Math.max(createdDay + 1, cutoffDay - rng.int(1, 3));
    while (versions.length > 1 && (versions[versions.length - 1]?.ms ?? 0) >= day * DAY) versions.pop();
  }
  versions.push({ stage: outcome, ms: businessTime(rng, region, day), amount });
  return versions;
}

/** Deals registered by the partner until churn (or a year past `end`), ramping up after the join. */
function simulatePartnerDeals(ctx: Ctx, p: SimPartner): DealPlan[] {
  const rng = Rng.from(ctx.seed, p.idx, 'deals');
  const seg = SEGMENT_DEALS[p.segment] ?? { median: 20_000, rate: 1, cycle: 45, win: 0 };
  const plans: DealPlan[] = [];
  const limit = Math.min(p.churnDay === null ? ctx.horizonDay : p.churnDay - 7, ctx.horizonDay);
  const rampDays = 110 / p.ambition;
  for (let block = blockOf(p.startDay); 4 + 7 * block < limit; block += 1) {
    const d0 = Math.max(4 + 7 * block, p.startDay);
    const d1 = Math.min(4 + 7 * block + 7, limit);
    if (d1 <= d0) continue;
    const mid = (d0 + d1 - 1) / 2;
    const activity = level(p, mid) * weekNoise(ctx, p, block) * season(mid, p.region) * (1 - 0.9 * Math.pow(declineProgress(p, mid), 0.9));
    const ramp = 1 - Math.exp(-Math.max(0, mid - p.joinDay) / rampDays);
    const rate = 0.14 * Math.exp(0.55 * p.capability) * seg.rate * Math.pow(Math.min(activity, 2.5), 0.7) * ramp;
    for (let n = rng.poisson((rate * (d1 - d0)) / 7); n > 0; n -= 1) {
      const role = rng.chance(sigmoid(0.2 + 0.6 * p.capability)) ? 'sourced' : 'influenced';
      const winP = sigmoid(-0.45 + 0.8 * p.capability + (role === 'sourced' ? 0.2 : 0) + seg.win);
      const amount = rng.lognormal(Math.log(seg.median) + 0.2 * p.capability, 1.0);
      plans.push({ partnerId: p.id, role, versions: dealVersions(rng, p.region, p.segment, dayIn(rng, d0, d1), true, winP, amount, p.churnDay) });
    }
  }
  return plans;
}

/** Deals with no partner, from the start of the history to `end`. */
function simulateDirectDeals(ctx: Ctx, perMonth: number): DealPlan[] {
  const rng = Rng.from(ctx.seed, 'direct');
  const plans: DealPlan[] = [];
  for (let d0 = ctx.startDay; d0 < ctx.endDay; d0 += 7) {
    const d1 = Math.min(d0 + 7, ctx.endDay);
    for (let n = rng.poisson((perMonth * (d1 - d0)) / 30.44); n > 0; n -= 1) {
      const segment = rng.pickWeighted(SEGMENTS, SEGMENT_WEIGHTS);
      const seg = SEGMENT_DEALS[segment] ?? { median: 20_000, rate: 1, cycle: 45, win: 0 };
      const region = rng.pickWeighted(REGIONS, REGION_WEIGHTS);
      const amount = rng.lognormal(Math.log(seg.median), 0.9);
      plans.push({ partnerId: null, role: null, versions: dealVersions(rng, region, segment, dayIn(rng, d0, d1), false, sigmoid(-0.7 + seg.win), amount, null) });
    }
  }
  return plans;
}

/** Ranks partners on a noisy mix of capability, engagement and tenure into a tier pyramid. */
function assignTiers(ctx: Ctx, sims: SimPartner[]): void {
  const scored = sims.map((p) => {
    const rng = Rng.from(ctx.seed, p.idx, 'tier');
    const tenureYears = (Math.min(p.churnDay ?? Infinity, ctx.endDay) - p.joinDay) / 365;
    return { p, score: p.capability + 0.5 * Math.log(p.engagement) + 0.5 * Math.min(tenureYears, 2) + rng.normal(0, 0.8) };
  });
  scored.sort((a, b) => b.score - a.score || a.p.idx - b.p.idx);
  scored.forEach(({ p }, rank) => {
    const share = (rank + 0.5) / scored.length;
    p.tier = TIERS[TIER_CUTS.findIndex((cut) => share <= cut)] ?? 'registered';
  });
}

export function generateProgram(options: ProgramOptions = {}): GeneratedProgram {
  const resolved: Required<ProgramOptions> = {
    seed: options.seed ?? 42,
    partners: options.partners ?? 600,
    end: options.end ?? new Date().toISOString().slice(0, 10),
    years: options.years ?? 2.5,
    directDealsPerMonth: options.directDealsPerMonth ?? Math.round((options.partners ?? 600) / 10),
  };
  if (!Number.isInteger(resolved.partners) || resolved.partners < 1 || resolved.partners > 99_999) {
    throw new Error('partners must be an integer from 1 to 99999');
  }
  if (!(resolved.years > 0 && resolved.years <= 20)) throw new Error('years must be > 0 and at most 20');
  if (!(resolved.directDealsPerMonth >= 0)) throw new Error('directDealsPerMonth must be >= 0');
  const endDay = parseEndDay(resolved.end);
  const startDay = endDay - Math.max(1, Math.round(resolved.years * 365));
  const ctx: Ctx = { seed: resolved.seed >>> 0, startDay, endDay, horizonDay: endDay + FUTURE_DAYS };

  // Joins: 30% of the partners predate the history; the rest join during it, more of them lately.
  const joinRng = Rng.from(ctx.seed, 'joins');
  const span = endDay - startDay;
  const sims: SimPartner[] = [];
  for (let i = 0; i < resolved.partners; i += 1) {
    const joinDay = joinRng.chance(0.3) ? startDay - joinRng.int(1, 1095) : startDay + Math.min(span - 1, Math.floor(span * Math.pow(joinRng.next(), 0.75)));
    sims.push(makePartner(ctx, i, joinDay));
  }
  sims.sort((a, b) => a.joinDay - b.joinDay || a.idx - b.idx);
  sims.forEach((p, i) => {
    p.id = `P-${String(i + 1).padStart(5, '0')}`; // ids follow the join order
  });
  for (const p of sims) p.churnDay = drawChurn(ctx, p);
  assignTiers(ctx, sims);

  const partners: PartnerInput[] = [];
  const timedEvents: Array<{ ms: number; event: EventInput }> = [];
  const plans: DealPlan[] = [];
  const truth: PartnerTruth[] = [];
  for (const p of sims) {
    const churned = p.churnDay !== null && p.churnDay <= endDay;
    const joinedAt = isoDate(p.joinDay);
    partners.push({
      partnerId: p.id,
      name: p.name,
      tier: p.tier,
      region: p.region,
      segment: p.segment,
      joinedAt,
      status: churned ? 'churned' : 'active',
      ...(churned && p.churnDay !== null ? { churnedAt: isoDate(p.churnDay) } : {}),
      updatedAt: `${churned && p.churnDay !== null ? isoDate(p.churnDay) : joinedAt}T00:00:00Z`,
    });
    const own = simulateEvents(ctx, p).sort((a, b) => a.ms - b.ms);
    own.forEach(({ ms, event }, n) => timedEvents.push({ ms, event: { eventId: `E-${p.id}-${n + 1}`, ...event } }));
    const ownDeals = simulatePartnerDeals(ctx, p);
    plans.push(...ownDeals);
    let firstYearRevenue = 0;
    for (const plan of ownDeals) {
      const last = plan.versions[plan.versions.length - 1];
      if (plan.role === 'sourced' && last?.stage === 'won' && last.ms - p.joinDay * DAY <= 365 * DAY) firstYearRevenue += last.amount;
    }
    truth.push({ partnerId: p.id, churnedAt: p.churnDay === null ? null : isoDate(p.churnDay), firstYearRevenue, archetype: p.archetype });
  }
  plans.push(...simulateDirectDeals(ctx, resolved.directDealsPerMonth));

  // Deal ids follow creation order; only versions known at `end` (00:00Z) are emitted.
  const endMs = endDay * DAY;
  const created = plans.map((plan, i) => ({ plan, i, ms: plan.versions[0]?.ms ?? 0 })).sort((a, b) => a.ms - b.ms || a.i - b.i);
  const timedDeals: Array<{ ms: number; deal: DealInput }> = [];
  created.forEach(({ plan }, n) => {
    const dealId = `D-${String(n + 1).padStart(6, '0')}`;
    const createdAt = iso(plan.versions[0]?.ms ?? 0);
    for (const v of plan.versions) {
      if (v.ms > endMs + 30 * DAY) break;
      const closed = v.stage === 'won' || v.stage === 'lost';
      timedDeals.push({
        ms: v.ms,
        deal: { dealId, partnerId: plan.partnerId, partnerRole: plan.role, amount: v.amount, stage: v.stage, createdAt, ...(closed ? { closedAt: iso(v.ms) } : {}), updatedAt: iso(v.ms) },
      });
    }
  });
  timedEvents.sort((a, b) => a.ms - b.ms);
  timedDeals.sort((a, b) => a.ms - b.ms);
  return {
    options: resolved,
    partners,
    events: timedEvents.filter((e) => e.ms <= endMs).map((e) => e.event),
    deals: timedDeals.map((d) => d.deal),
    truth,
  };
}
