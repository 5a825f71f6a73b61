/**
 * A partner's raw activity in numbers, for the people who manage it: what it did (events by type)
 * and what it sold (deals), over the last 90 and 365 days. Pure: a history and an instant in, plain
 * numbers out, by the contract's point-in-time rules (events at or before `at`; a deal is won or
 * lost only once closedAt is at or before `at`).
 */
import { EVENT_TYPES, type EventType } from '../../../data/schemas/event';
import type { PartnerHistory } from '../../../models/types';

const DAY_MS = 86_400_000;

export const EVENT_LABELS: Record<EventType, string> = {
  portal_login: 'Portal logins',
  content_view: 'Content views',
  training_completed: 'Trainings completed',
  certification_earned: 'Certifications earned',
  co_sell_meeting: 'Co-sell meetings',
  marketing_campaign: 'Marketing campaigns',
  support_ticket: 'Support tickets',
  qbr_attended: 'QBRs attended',
  nps_response: 'NPS responses',
};

export interface EventActivity {
  type: EventType;
  label: string;
  last90: number;
  last365: number;
  total: number;
  lastAt: string | null;
}

export interface DealWindow {
  won: number;
  lost: number;
  wonSourced: number;
  wonInfluenced: number;
  /** won / (won + lost); null when none closed. */
  winRate: number | null;
}

export interface ActivitySummary {
  at: string;
  events: EventActivity[];
  nps: { responses: number; average: number | null };
  deals: {
    total: number;
    open: { count: number; amount: number };
    last90: DealWindow;
    last365: DealWindow;
    lastCreatedAt: string | null;
  };
  lastActivityAt: string | null;
}

function dealWindow(history: PartnerHistory, from: number, at: number): DealWindow {
  const w = { won: 0, lost: 0, wonSourced: 0, wonInfluenced: 0 };
  for (const d of history.deals) {
    const closed = d.closedAt ? Date.parse(d.closedAt) : NaN;
    if (!(closed > from && closed <= at) || Date.parse(d.createdAt) > at) continue;
    if (d.stage === 'won') {
      w.won += 1;
      if (d.partnerRole === 'sourced') w.wonSourced += d.amount;
      else w.wonInfluenced += d.amount;
    } else if (d.stage === 'lost') w.lost += 1;
  }
  return { ...w, winRate: w.won + w.lost > 0 ? w.won / (w.won + w.lost) : null };
}

export function activitySummary(history: PartnerHistory, at: number): ActivitySummary {
  const from90 = at - 90 * DAY_MS;
  const from365 = at - 365 * DAY_MS;
  const byType = new Map<EventType, EventActivity>(EVENT_TYPES.map((type) => [type, { type, label: EVENT_LABELS[type], last90: 0, last365: 0, total: 0, lastAt: null }]));
  let [npsCount, npsSum] = [0, 0];
  let lastEvent: string | null = null;
  for (const e of history.events) {
    const t = Date.parse(e.occurredAt);
    if (!(t <= at)) continue;
    const row = byType.get(e.type)!;
    const q = e.quantity ?? 1;
    row.total += q;
    if (t > from365) row.last365 += q;
    if (t > from90) row.last90 += q;
    if (!row.lastAt || e.occurredAt > row.lastAt) row.lastAt = e.occurredAt;
    if (!lastEvent || e.occurredAt > lastEvent) lastEvent = e.occurredAt;
    if (e.type === 'nps_response' && t > from365 && typeof e.value === 'number') {
      npsCount += 1;
      npsSum += e.value;
    }
  }
  const existing = history.deals.filter((d) => Date.parse(d.createdAt) <= at);
  const isOpen = (d: (typeof existing)[number]): boolean => !((d.stage === 'won' || d.stage === 'lost') && d.closedAt !== undefined && Date.parse(d.closedAt) <= at);
  const open = existing.filter(isOpen);
  const lastCreatedAt = existing.reduce<string | null>((m, d) => (!m || d.createdAt > m ? d.createdAt : m), null);
  const lastActivityAt = [lastEvent, lastCreatedAt].filter((v): v is string => v !== null).sort().pop() ?? null;
  return {
    at: new Date(at).toISOString(),
    events: [...byType.values()],
    nps: { responses: npsCount, average: npsCount > 0 ? npsSum / npsCount : null },
    deals: {
      total: existing.length,
      open: { count: open.length, amount: open.reduce((s, d) => s + d.amount, 0) },
      last90: dealWindow(history, from90, at),
      last365: dealWindow(history, from365, at),
      lastCreatedAt,
    },
    lastActivityAt,
  };
}
