import { describe, it, expect } from 'vitest';
import { generateProgram, type GeneratedProgram } from '../../data/generator';
import { partnerSchema } from '../../data/schemas/partner';
import { EVENT_TYPES, eventSchema } from '../../data/schemas/event';
import { DEAL_STAGES, dealSchema, type DealInput } from '../../data/schemas/deal';

const DAY = 86_400_000;
const OPTIONS = { seed: 7, partners: 200, years: 1.5, end: '2025-06-30' } as const;
const program: GeneratedProgram = generateProgram(OPTIONS);
const endMs = Date.parse(`${OPTIONS.end}T00:00:00Z`);
const startMs = endMs - Math.round(OPTIONS.years * 365) * DAY;
const ms = (iso: string): number => Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : iso);

const eventIndex = new Map<string, Array<{ type: string; at: number; quantity: number }>>();
for (const e of program.events) {
  const list = eventIndex.get(e.partnerId) ?? [];
  list.push({ type: e.type, at: ms(e.occurredAt), quantity: e.quantity ?? 1 });
  eventIndex.set(e.partnerId, list);
}

function eventsOf(partnerId: string, type?: string): Array<{ at: number; quantity: number }> {
  return (eventIndex.get(partnerId) ?? []).filter((e) => type === undefined || e.type === type);
}

function versionsByDeal(): Map<string, DealInput[]> {
  const byDeal = new Map<string, DealInput[]>();
  for (const d of program.deals) byDeal.set(d.dealId, [...(byDeal.get(d.dealId) ?? []), d]);
  return byDeal;
}

describe('generateProgram', () => {
  it('is deterministic for a seed and differs for another seed', () => {
    const again = generateProgram(OPTIONS);
    expect(JSON.stringify(again)).toBe(JSON.stringify(program));
    const other = generateProgram({ ...OPTIONS, seed: 8 });
    expect(other.events).not.toEqual(program.events);
    expect(other.truth).not.toEqual(program.truth);
  });

  it('resolves its options and honours the requested size', () => {
    expect(program.options).toEqual({ ...OPTIONS, directDealsPerMonth: 20 });
    expect(program.partners).toHaveLength(200);
    expect(program.truth.map((t) => t.partnerId)).toEqual(program.partners.map((p) => p.partnerId));
    expect(generateProgram({ partners: 3, end: '2024-01-15', years: 1 }).options).toMatchObject({ seed: 42, years: 1, directDealsPerMonth: 0 });
    expect(() => generateProgram({ end: '2024-02-30' })).toThrow(/end/);
  });

  it('emits only records that pass the schemas, with unique ids', () => {
    const invalid = [
      ...program.partners.filter((p) => !partnerSchema.safeParse(p).success),
      ...program.events.filter((e) => !eventSchema.safeParse(e).success),
      ...program.deals.filter((d) => !dealSchema.safeParse(d).success),
    ];
    expect(invalid).toEqual([]);
    expect(new Set(program.partners.map((p) => p.partnerId)).size).toBe(program.partners.length);
    expect(new Set(program.events.map((e) => e.eventId)).size).toBe(program.events.length);
    expect(program.partners.every((p) => /^P-\d{5}$/.test(p.partnerId))).toBe(true);
    expect(program.events.every((e) => e.eventId.startsWith(`E-${e.partnerId}-`))).toBe(true);
    expect(program.deals.every((d) => d.dealId.startsWith('D-'))).toBe(true);
  });

  it('uses every event type, tier, and a plausible volume', () => {
    expect(new Set(program.events.map((e) => e.type))).toEqual(new Set(EVENT_TYPES));
    expect(new Set(program.partners.map((p) => p.tier))).toEqual(new Set(['platinum', 'gold', 'silver', 'registered']));
    const count = (tier: string): number => program.partners.filter((p) => p.tier === tier).length;
    expect(count('platinum')).toBeLessThan(count('gold'));
    expect(count('gold')).toBeLessThan(count('registered'));
    let partnerYears = 0;
    for (const p of program.partners) {
      const from = Math.max(ms(p.joinedAt), startMs);
      partnerYears += Math.max(0, (p.churnedAt ? ms(p.churnedAt) : endMs) - from) / (365 * DAY);
    }
    const perYear = program.events.length / partnerYears;
    expect(perYear).toBeGreaterThan(120);
    expect(perYear).toBeLessThan(300);
    const newcomers = program.partners.filter((p) => p.status === 'active' && endMs - ms(p.joinedAt) < 365 * DAY);
    expect(newcomers.length).toBeGreaterThan(5);
    expect(program.partners.some((p) => ms(p.joinedAt) < startMs)).toBe(true);
  });

  it('dates nothing after end, and keeps the outputs sorted', () => {
    expect(program.partners.filter((p) => ms(p.joinedAt) > endMs || (p.churnedAt !== undefined && ms(p.churnedAt) > endMs))).toEqual([]);
    expect(program.events.filter((e) => ms(e.occurredAt) > endMs)).toEqual([]);
    const late = program.deals.filter((d) => [d.createdAt, d.updatedAt, d.closedAt ?? d.createdAt].some((t) => ms(t) > endMs));
    expect(late).toEqual([]);
    const eventTimes = program.events.map((e) => ms(e.occurredAt));
    expect(eventTimes.every((t, i) => i === 0 || t >= (eventTimes[i - 1] ?? 0))).toBe(true);
    const dealTimes = program.deals.map((d) => ms(d.updatedAt));
    expect(dealTimes.every((t, i) => i === 0 || t >= (dealTimes[i - 1] ?? 0))).toBe(true);
  });

  it('stops a churned partner at churnedAt and keeps future churn hidden', () => {
    const churned = program.partners.filter((p) => p.status === 'churned');
    expect(churned.length).toBeGreaterThan(3);
    for (const p of churned) {
      const at = ms(p.churnedAt ?? '');
      expect(eventsOf(p.partnerId).filter((e) => e.at > at)).toEqual([]);
      expect(program.deals.filter((d) => d.partnerId === p.partnerId && ms(d.updatedAt) > at)).toEqual([]);
    }
    const byId = new Map(program.partners.map((p) => [p.partnerId, p]));
    const future = program.truth.filter((t) => t.churnedAt !== null && ms(t.churnedAt) > endMs);
    expect(future.length).toBeGreaterThan(0);
    for (const t of future) {
      const p = byId.get(t.partnerId);
      expect([p?.status, p?.churnedAt]).toEqual(['active', undefined]);
    }
    for (const t of program.truth.filter((x) => x.churnedAt !== null && ms(x.churnedAt) <= endMs)) {
      expect(byId.get(t.partnerId)).toMatchObject({ status: 'churned', churnedAt: t.churnedAt });
    }
    expect(program.partners.filter((p) => p.status === 'churned' && !program.truth.some((t) => t.partnerId === p.partnerId && t.churnedAt === p.churnedAt))).toEqual([]);
  });

  it('gives every deal a consistent stage history', () => {
    const order = (stage: string): number => Math.min(DEAL_STAGES.indexOf(stage as (typeof DEAL_STAGES)[number]), 2);
    const byDeal = versionsByDeal();
    let multiVersion = 0;
    for (const versions of byDeal.values()) {
      const first = versions[0]!;
      expect(first.updatedAt).toBe(first.createdAt);
      if (versions.length > 1) multiVersion += 1;
      versions.forEach((v, i) => {
        expect([v.createdAt, v.partnerId, v.partnerRole]).toEqual([first.createdAt, first.partnerId, first.partnerRole]);
        const closed = v.stage === 'won' || v.stage === 'lost';
        expect(closed).toBe(v.closedAt !== undefined);
        if (closed) expect(v.closedAt).toBe(v.updatedAt);
        if (i === 0) return;
        const prev = versions[i - 1]!;
        expect(ms(v.updatedAt)).toBeGreaterThan(ms(prev.updatedAt));
        expect(order(v.stage)).toBeGreaterThan(order(prev.stage));
      });
    }
    expect(multiVersion).toBeGreaterThan(byDeal.size / 2);
    const finals = [...byDeal.values()].map((v) => v[v.length - 1]!);
    expect(finals.some((d) => d.stage === 'won')).toBe(true);
    expect(finals.some((d) => d.stage === 'lost')).toBe(true);
    expect(finals.some((d) => d.stage === 'open' || d.stage === 'registered')).toBe(true);
  });

  it('includes direct deals and both partner roles', () => {
    const direct = program.deals.filter((d) => d.partnerId === null);
    expect(direct.length).toBeGreaterThan(0);
    expect(direct.every((d) => d.partnerRole === null)).toBe(true);
    expect(program.deals.some((d) => d.partnerRole === 'sourced')).toBe(true);
    expect(program.deals.some((d) => d.partnerRole === 'influenced')).toBe(true);
  });

  it('agrees with truth on first-year revenue once the first year is over', () => {
    const finals = [...versionsByDeal().values()].map((v) => v[v.length - 1]!);
    const complete = program.partners.filter((p) => ms(p.joinedAt) >= startMs && ms(p.joinedAt) + 365 * DAY < endMs);
    expect(complete.length).toBeGreaterThan(5);
    for (const p of complete) {
      const joined = ms(p.joinedAt);
      const revenue = finals
        .filter((d) => d.partnerId === p.partnerId && d.partnerRole === 'sourced' && d.stage === 'won' && ms(d.closedAt ?? '') - joined <= 365 * DAY)
        .reduce((sum, d) => sum + d.amount, 0);
      expect(program.truth.find((t) => t.partnerId === p.partnerId)?.firstYearRevenue).toBe(revenue);
    }
  });

  it('foreshadows churn: logins fall in the 90 days before churnedAt', () => {
    let earlierLogins = 0;
    let earlierDays = 0;
    let lateLogins = 0;
    let lateDays = 0;
    for (const t of program.truth) {
      if (t.churnedAt === null || ms(t.churnedAt) > endMs) continue;
      const partner = program.partners.find((p) => p.partnerId === t.partnerId)!;
      const churnAt = ms(t.churnedAt);
      const from = Math.max(ms(partner.joinedAt), startMs);
      if (churnAt - from < 180 * DAY) continue; // needs an earlier period to compare with
      for (const e of eventsOf(t.partnerId, 'portal_login')) {
        if (e.at >= churnAt - 90 * DAY) lateLogins += e.quantity;
        else earlierLogins += e.quantity;
      }
      earlierDays += (churnAt - 90 * DAY - from) / DAY;
      lateDays += 90;
    }
    expect(lateDays).toBeGreaterThan(0);
    expect(lateLogins / lateDays).toBeLessThan(0.6 * (earlierLogins / earlierDays));
  });

  it('shows early signs of top performers in their first 90 days', () => {
    const cohort = program.partners.filter((p) => ms(p.joinedAt) >= startMs && ms(p.joinedAt) + 90 * DAY <= endMs);
    const revenue = new Map(program.truth.map((t) => [t.partnerId, t.firstYearRevenue]));
    const ranked = [...cohort].sort((a, b) => (revenue.get(b.partnerId) ?? 0) - (revenue.get(a.partnerId) ?? 0));
    const topCount = Math.ceil(ranked.length * 0.2);
    const early = (partnerId: string, joinedAt: string): number =>
      [...eventsOf(partnerId, 'training_completed'), ...eventsOf(partnerId, 'certification_earned')].filter((e) => e.at < ms(joinedAt) + 90 * DAY).length;
    const mean = (ps: typeof ranked): number => ps.reduce((s, p) => s + early(p.partnerId, p.joinedAt), 0) / ps.length;
    expect(topCount).toBeGreaterThan(3);
    expect(revenue.get(ranked[0]!.partnerId)).toBeGreaterThan(0);
    expect(mean(ranked.slice(0, topCount))).toBeGreaterThan(1.3 * mean(ranked.slice(topCount)));
  });
});
