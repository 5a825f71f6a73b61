/**
 * Simulates a partner program: partners with latent traits, engagement events, deals with a
 * stage history, churn, and the ground truth (future churn, complete first-year revenue) that
 * the emitted data does not show yet. Pure and deterministic: no I/O, no Math.random.
 * See docs/demo-data.md for what is simulated and why.
 */
import type { DealInput } from '../schemas/deal';
import type { EventInput, EventType } from '../schemas/event';
import type { PartnerInput } from '../schemas/partner';
import { Rng, clamp, isWorkday, sigmoid } from './random';

export interface ProgramOptions {
  /** Default 42. */ seed?: number;
  /** Default 600. */ partners?: number;
  /** 'YYYY-MM-DD', the "today" of the data set; default: today's UTC date. */ end?: string;
  /** History length before `end`; default 2.5. */ years?: number;
  /** Deals with no partner; default partners / 10. */ directDealsPerMonth?: number;
}
export interface PartnerTruth {
  partnerId: string;
  /** May be after `end`: the future the data does not show yet. */ churnedAt: string | null;
  /** Won sourced deals closed within 365 days of joinedAt, over the whole simulation. */ firstYearRevenue: number;
  archetype: string;
}
export interface GeneratedProgram {
  options: Required<ProgramOptions>;
  /** State as known at `end`. */ partners: PartnerInput[];
  /** Sorted by occurredAt, none after `end`. */ events: EventInput[];
  /** One record per version of a deal, sorted by updatedAt, none after `end`. */ deals: DealInput[];
  truth: PartnerTruth[];
}

const DAY = 86_400_000;
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
type Tier = (typeof TIERS)[number];
/** Cumulative share of partners down to each tier (a pyramid). */
const TIER_CUTS = [0.06, 0.22, 0.52, 1];
const REGIONS = ['NA', 'EMEA', 'APAC', 'LATAM'] as const;
type Region = (typeof REGIONS)[number];
const REGION_WEIGHTS = [0.4, 0.3, 0.2, 0.1];
/** Business hours in UTC: first hour and span. */
const REGION_HOURS: Record<Region, [number, number]> = { NA: [14, 9], EMEA: [7, 10], APAC: [0, 10], LATAM: [12, 9] };
const SEGMENTS = ['SMB', 'mid-market', 'enterprise'] as const;
type Segment = (typeof SEGMENTS)[number];
const SEGMENT_WEIGHTS = [0.5, 0.35, 0.15];
/** Deal-size median, deal-rate factor, median cycle days, win-rate shift. */
const SEGMENT_DEALS: Record<Segment, { median: number; rate: number; cycle: number; win: number }> = {
  SMB: { median: 9_000, rate: 1.3, cycle: 28, win: 0.15 },
  'mid-market': { median: 32_000, rate: 1.0, cycle: 55, win: 0 },
  enterprise: { median: 110_000, rate: 0.6, cycle: 95, win: -0.25 },
};
const QBR_CHANCE: Record<Tier, number> = { platinum: 0.9, gold: 0.7, silver: 0.25, registered: 0.05 };
const TIER_ACTIVITY: Record<Tier, number> = { platinum: 1.6, gold: 1.3, silver: 1.0, registered: 0.75 };
const NAME_A = 'North Blue Iron Silver Bright Cedar Summit Harbor Vector Atlas Nimbus Quartz Redwood Falcon Orbit Granite'.split(' ');
const NAME_B = 'wind peak bridge stone field gate point line path wave forge spring light crest'.split(' ');
const NAME_C = ['Solutions', 'Systems', 'Consulting', 'Technologies', 'Partners', 'Group', 'Digital', 'IT Services', 'Labs', 'Networks'];

/**
 * A simulated partner. Days are whole UTC days since 1970-01-01. startDay: first simulated day (the
 * join, or the start of the history for partners who joined before it). declineDays: length of the
 * disengagement before churn. Latent traits: engagement multiplier, capability z-score, satisfaction
 * 0–1, content interest, and ambition (onboarding drive: early trainings, certifications, logins and
 * a fast first deal; tracks capability, noisily). 'fading' partners lose engagement from fadeAfter
 * days on, with time constant fadeTau.
 */
interface SimPartner {
  idx: number; id: string; name: string; archetype: Archetype; region: Region; segment: Segment; tier: Tier;
  joinDay: number; startDay: number; churnDay: number | null; declineDays: number;
  engagement: number; capability: number; satisfaction: number; interest: number; ambition: number;
  fadeAfter: number | null; fadeTau: number; qbrOffset: number;
}
interface Ctx { seed: number; startDay: number; endDay: number; horizonDay: number }
type Version = { stage: 'registered' | 'open' | 'won' | 'lost'; ms: number; amount: number };
interface DealPlan { partnerId: string | null; role: 'sourced' | 'influenced' | null; versions: Version[] }

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 19) + 'Z';
const isoDate = (day: number): string => new Date(day * DAY).toISOString().slice(0, 10);
/** Weeks run Monday to Sunday; block k starts on day 4 + 7k (day 4 was a Monday). */
const blockOf = (day: number): number => Math.floor((day - 4) / 7);

function parseEndDay(end: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(end) ? Date.parse(`${end}T00:00:00Z`) : NaN;
  if (!Number.isFinite(ms) || isoDate(ms / DAY) !== end) throw new Error(`end must be a date YYYY-MM-DD, got ${end}`);
  return ms / DAY;
}

/** Calls fn for each Monday-to-Sunday slice [d0, d1) of the days [from, limit). */
function forEachWeek(from: number, limit: number, fn: (d0: number, d1: number, block: number) => void): void {
  for (let block = blockOf(from); 4 + 7 * block < limit; block += 1) {
    const d0 = Math.max(4 + 7 * block, from);
    const d1 = Math.min(4 + 7 * block + 7, limit);
    if (d1 > d0) fn(d0, d1, block);
  }
}

/** A time on `day` within the region's business hours. */
const businessTime = (rng: Rng, region: Region, day: number): number => rng.timeOn(day, ...REGION_HOURS[region]);

/** Holiday dip at the turn of the year, a quiet August in EMEA, a slight annual wave. */
function season(day: number, region: Region): number {
  const date = new Date(day * DAY);
  const [month, dom] = [date.getUTCMonth(), date.getUTCDate()];
  if ((month === 11 && dom >= 20) || (month === 0 && dom <= 3)) return 0.55;
  if (month === 7 && region === 'EMEA') return 0.75;
  return 1 + 0.08 * Math.sin((2 * Math.PI * (day % 365)) / 365);
}

/** Underlying engagement before noise, season, onboarding and pre-churn disengagement. */
function level(p: SimPartner, day: number): number {
  const t = p.fadeAfter === null ? 0 : day - p.startDay - p.fadeAfter;
  return t <= 0 ? p.engagement : p.engagement * Math.max(0.12, Math.exp(-t / p.fadeTau));
}

/** Progress (0–1) through the disengagement that precedes churn; 0 when not in it. */
function declineProgress(p: SimPartner, day: number): number {
  if (p.churnDay === null) return 0;
  const from = p.churnDay - p.declineDays;
  return day <= from ? 0 : clamp((day - from) / p.declineDays, 0, 1);
}

/**
 * Engagement in the week `block`: level, season, pre-churn disengagement, and a week-to-week noise
 * (busy weeks, quiet weeks) that events and deals share.
 */
function activity(ctx: Ctx, p: SimPartner, day: number, block: number): number {
  const noise = Math.exp(Rng.from(ctx.seed, p.idx, 'week', block).normal(0, 0.3));
  return level(p, day) * noise * season(day, p.region) * (1 - 0.9 * Math.pow(declineProgress(p, day), 0.9));
}

/** Onboarding boost in the first 90 days, larger for ambitious partners. */
function onboarding(p: SimPartner, day: number): number {
  const tenure = day - p.joinDay;
  return tenure >= 0 && tenure < 90 ? p.ambition * (1 - tenure / 90) : 0;
}

function makePartner(ctx: Ctx, idx: number, joinDay: number): SimPartner {
  const rng = Rng.from(ctx.seed, idx, 'traits');
  const archetype = rng.pickWeighted(ARCHETYPES, ARCHETYPES.map((a) => ARCHETYPE_SPEC[a].weight));
  const spec = ARCHETYPE_SPEC[archetype];
  const capability = rng.normal(spec.capability, 0.7);
  const name = `${rng.pick(NAME_A)}${rng.pick(NAME_B)} ${rng.pick(NAME_C)}`;
  const region = rng.pickWeighted(REGIONS, REGION_WEIGHTS);
  const segment = rng.pickWeighted(SEGMENTS, SEGMENT_WEIGHTS);
  const declineDays = rng.int(60, 150);
  const engagement = Math.exp(rng.normal(spec.engagement + 0.05 * capability, 0.3));
  const satisfaction = clamp(rng.normal(spec.satisfaction, 0.09), 0.05, 0.98);
  const ambition = Math.exp(0.5 * capability + rng.normal(0, 0.6));
  const interest = Math.exp(rng.normal(0, 0.3));
  const fadeAfter = archetype === 'fading' ? rng.int(30, 300) : null;
  const [fadeTau, qbrOffset] = [rng.uniform(150, 400), rng.int(0, 12)];
  const startDay = Math.max(joinDay, ctx.startDay);
  return {
    ...{ idx, id: '', name, archetype, region, segment, tier: 'registered', joinDay, startDay, churnDay: null, declineDays },
    ...{ engagement, capability, satisfaction, interest, ambition, fadeAfter, fadeTau, qbrOffset },
  };
}

/** Weekly churn hazard: higher for low engagement, low satisfaction, low capability, new partners, and near renewal. */
function drawChurn(ctx: Ctx, p: SimPartner): number | null {
  const rng = Rng.from(ctx.seed, p.idx, 'churn');
  for (let day = p.startDay + 30; day < ctx.horizonDay; day += 7) {
    const tenure = day - p.joinDay;
    const renewal = 365 - (tenure % 365) <= 45 ? 1.9 : 0.85; // "did not renew" clusters before anniversaries
    const risk = -0.9 * Math.log(level(p, day)) - 2.2 * (p.satisfaction - 0.7) - 0.25 * p.capability;
    const annual = 0.085 * Math.exp(risk) * (tenure < 365 ? 1.25 : 1) * renewal;
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
  const tierF = TIER_ACTIVITY[p.tier];
  forEachWeek(p.startDay, Math.min(p.churnDay ?? Infinity, ctx.endDay), (d0, d1, block) => {
    const [frac, mid] = [(d1 - d0) / 7, (d0 + d1 - 1) / 2];
    const [on, base] = [onboarding(p, mid), activity(ctx, p, mid, block)];
    const m = base * (1 + 0.7 * on); // onboarding lifts logins and content views too
    const faded = 1 - level(p, mid) / p.engagement;
    const sat = clamp(p.satisfaction * (1 - 0.5 * declineProgress(p, mid)) - 0.15 * faded, 0, 1);
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
    for (const [type, rate] of counts) for (let n = rng.poisson(rate * frac); n > 0; n -= 1) emit(rng.workdayIn(d0, d1), type);
    if ((block - p.qbrOffset) % 13 === 0 && rng.chance(QBR_CHANCE[p.tier] * Math.min(1, 0.35 + 0.5 * base))) emit(rng.workdayIn(d0, d1), 'qbr_attended');
    // A program-wide NPS survey goes out once a quarter; engaged partners answer more often.
    if (block % 13 === 6 && rng.chance(clamp(0.2 + 0.35 * base, 0.05, 0.9))) {
      const score = Math.round(clamp(rng.normal(10.5 * sat, 1.3), 0, 10));
      emit(rng.workdayIn(d0, d1), 'nps_response', { value: score });
    }
  });
  return out;
}

/** The stage history of one deal; `cutoffDay` (churn) forces an open deal to be lost before it. */
function dealVersions(
  rng: Rng, region: Region, segment: Segment, createdDay: number,
  registered: boolean, winP: number, amount0: number, cutoffDay: number | null,
): Version[] {
  const round = (a: number): number => Math.max(0, Math.round(a / 10) * 10);
  const versions: Version[] = [];
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
    day += Math.max(3, Math.round(Math.min(400, rng.lognormal(Math.log(SEGMENT_DEALS[segment].cycle), 0.6))));
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
  const seg = SEGMENT_DEALS[p.segment];
  const plans: DealPlan[] = [];
  const rampDays = 110 / p.ambition;
  // No new registrations in the last week before churn.
  forEachWeek(p.startDay, Math.min(p.churnDay === null ? ctx.horizonDay : p.churnDay - 7, ctx.horizonDay), (d0, d1, block) => {
    const mid = (d0 + d1 - 1) / 2;
    const ramp = 1 - Math.exp(-Math.max(0, mid - p.joinDay) / rampDays);
    const rate = 0.14 * Math.exp(0.55 * p.capability) * seg.rate * Math.pow(Math.min(activity(ctx, p, mid, block), 2.5), 0.7) * ramp;
    for (let n = rng.poisson((rate * (d1 - d0)) / 7); n > 0; n -= 1) {
      const role = rng.chance(sigmoid(0.2 + 0.6 * p.capability)) ? 'sourced' : 'influenced';
      const winP = sigmoid(-0.6 + 0.8 * p.capability + (role === 'sourced' ? 0.2 : 0) + seg.win);
      const amount = rng.lognormal(Math.log(seg.median) + 0.2 * p.capability, 1.0);
      plans.push({ partnerId: p.id, role, versions: dealVersions(rng, p.region, p.segment, rng.workdayIn(d0, d1), true, winP, amount, p.churnDay) });
    }
  });
  return plans;
}

/** Deals with no partner, from the start of the history to `end`. */
function simulateDirectDeals(ctx: Ctx, perMonth: number): DealPlan[] {
  const rng = Rng.from(ctx.seed, 'direct');
  const plans: DealPlan[] = [];
  forEachWeek(ctx.startDay, ctx.endDay, (d0, d1) => {
    for (let n = rng.poisson((perMonth * (d1 - d0)) / 30.44); n > 0; n -= 1) {
      const segment = rng.pickWeighted(SEGMENTS, SEGMENT_WEIGHTS);
      const region = rng.pickWeighted(REGIONS, REGION_WEIGHTS);
      const amount = rng.lognormal(Math.log(SEGMENT_DEALS[segment].median), 0.9);
      const winP = sigmoid(-0.7 + SEGMENT_DEALS[segment].win);
      plans.push({ partnerId: null, role: null, versions: dealVersions(rng, region, segment, rng.workdayIn(d0, d1), false, winP, amount, null) });
    }
  });
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
  scored.forEach(({ p }, rank) => (p.tier = TIERS[TIER_CUTS.findIndex((cut) => (rank + 0.5) / scored.length <= cut)] ?? 'registered'));
}

/** One record per deal version known at endMs, sorted by updatedAt; deal ids follow creation order. */
function emitDeals(plans: DealPlan[], endMs: number): DealInput[] {
  const created = plans.map((plan, i) => ({ plan, i, ms: plan.versions[0]?.ms ?? 0 })).sort((a, b) => a.ms - b.ms || a.i - b.i);
  const timed: Array<{ ms: number; deal: DealInput }> = [];
  created.forEach(({ plan }, n) => {
    const dealId = `D-${String(n + 1).padStart(6, '0')}`;
    const createdAt = iso(plan.versions[0]?.ms ?? 0);
    for (const v of plan.versions) {
      if (v.ms > endMs) break;
      const closedAt = v.stage === 'won' || v.stage === 'lost' ? { closedAt: iso(v.ms) } : {};
      const deal = { dealId, partnerId: plan.partnerId, partnerRole: plan.role, amount: v.amount, stage: v.stage, createdAt };
      timed.push({ ms: v.ms, deal: { ...deal, ...closedAt, updatedAt: iso(v.ms) } });
    }
  });
  return timed.sort((a, b) => a.ms - b.ms).map((t) => t.deal);
}

export function generateProgram(options: ProgramOptions = {}): GeneratedProgram {
  const resolved: Required<ProgramOptions> = {
    seed: options.seed ?? 42,
    partners: options.partners ?? 600,
    end: options.end ?? new Date().toISOString().slice(0, 10),
    years: options.years ?? 2.5,
    directDealsPerMonth: options.directDealsPerMonth ?? Math.round((options.partners ?? 600) / 10),
  };
  const { partners: count, years, directDealsPerMonth } = resolved;
  if (!Number.isInteger(count) || count < 1 || count > 99_999) throw new Error('partners must be an integer from 1 to 99999');
  if (!(years > 0 && years <= 20)) throw new Error('years must be > 0 and at most 20');
  if (!(directDealsPerMonth >= 0)) throw new Error('directDealsPerMonth must be >= 0');
  const endDay = parseEndDay(resolved.end);
  const startDay = endDay - Math.max(1, Math.round(years * 365));
  const ctx: Ctx = { seed: resolved.seed >>> 0, startDay, endDay, horizonDay: endDay + FUTURE_DAYS };

  // Joins: 30% of the partners predate the history; the rest join during it, more of them lately.
  const joinRng = Rng.from(ctx.seed, 'joins');
  const span = endDay - startDay;
  const sims: SimPartner[] = [];
  for (let i = 0; i < count; i += 1) {
    const legacy = joinRng.chance(0.3);
    const joinDay = legacy ? startDay - joinRng.int(1, 1095) : startDay + Math.min(span - 1, Math.floor(span * Math.pow(joinRng.next(), 0.75)));
    sims.push(makePartner(ctx, i, joinDay));
  }
  sims.sort((a, b) => a.joinDay - b.joinDay || a.idx - b.idx);
  sims.forEach((p, i) => (p.id = `P-${String(i + 1).padStart(5, '0')}`)); // ids follow the join order
  for (const p of sims) p.churnDay = drawChurn(ctx, p);
  assignTiers(ctx, sims);

  const partners: PartnerInput[] = [];
  const timedEvents: Array<{ ms: number; event: EventInput }> = [];
  const plans: DealPlan[] = [];
  const truth: PartnerTruth[] = [];
  for (const p of sims) {
    const joinedAt = isoDate(p.joinDay);
    const churnedAt = p.churnDay !== null && p.churnDay <= endDay ? isoDate(p.churnDay) : undefined;
    const { name, tier, region, segment } = p;
    const status = churnedAt ? { status: 'churned' as const, churnedAt } : { status: 'active' as const };
    partners.push({ partnerId: p.id, name, tier, region, segment, joinedAt, ...status, updatedAt: `${churnedAt ?? joinedAt}T00:00:00Z` });
    const own = simulateEvents(ctx, p).sort((a, b) => a.ms - b.ms);
    own.forEach(({ ms, event }, n) => timedEvents.push({ ms, event: { eventId: `E-${p.id}-${n + 1}`, ...event } }));
    const ownDeals = simulatePartnerDeals(ctx, p);
    plans.push(...ownDeals);
    let firstYearRevenue = 0; // contract §5, over the whole simulation
    for (const { role, versions } of ownDeals) {
      const last = versions[versions.length - 1];
      if (role === 'sourced' && last?.stage === 'won' && last.ms - p.joinDay * DAY <= 365 * DAY) firstYearRevenue += last.amount;
    }
    truth.push({ partnerId: p.id, churnedAt: p.churnDay === null ? null : isoDate(p.churnDay), firstYearRevenue, archetype: p.archetype });
  }
  plans.push(...simulateDirectDeals(ctx, directDealsPerMonth));

  timedEvents.sort((a, b) => a.ms - b.ms);
  const events = timedEvents.filter((e) => e.ms <= endDay * DAY).map((e) => e.event);
  return { options: resolved, partners, events, deals: emitDeals(plans, endDay * DAY), truth };
}
