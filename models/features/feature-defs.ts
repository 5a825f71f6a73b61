/**
 * The numeric features of a partner at a point in time, in the order of `FeatureRow.values`.
 * Each has a snake_case name, a label for people (reused in score drivers), a unit, the
 * transform applied to the raw quantity, and a one-line definition (docs/features.md).
 *
 * Values are stored transformed (log1p for counts and money) so that models see well-scaled
 * inputs; `displayValue` turns a stored value back into the quantity a person reads.
 */
import type { EventType } from '../../data/schemas/event';
import type { FeatureDef, FeatureUnit } from '../types';

export type FeatureTransform = 'none' | 'log1p';

export interface FeatureSpec extends FeatureDef {
  transform: FeatureTransform;
  /** What the raw quantity is, in one line. */
  definition: string;
}

/** Trailing windows (days) of the event counts. */
export const EVENT_WINDOWS = [30, 90, 180] as const;
/** Trailing windows (days) of the deal features. */
export const DEAL_WINDOWS = [90, 180, 365] as const;
/** Days-since, time-to-first-deal and anniversary features are capped here. */
export const DAYS_CAP = 365;
/** Tenure is capped at five years. */
export const TENURE_CAP = 1825;
/** Average cycle days are capped at two years. */
export const CYCLE_CAP = 730;
/** NPS level used when a partner has no NPS response yet (a "passive" score); `has_nps` tells the model. */
export const NPS_NEUTRAL = 7;

/** Plural and singular wording of each event type. */
export const EVENT_WORDS: Record<EventType, { plural: string; singular: string }> = {
  portal_login: { plural: 'Portal logins', singular: 'portal login' },
  content_view: { plural: 'Content views', singular: 'content view' },
  training_completed: { plural: 'Trainings completed', singular: 'training' },
  certification_earned: { plural: 'Certifications earned', singular: 'certification' },
  co_sell_meeting: { plural: 'Co-sell meetings', singular: 'co-sell meeting' },
  marketing_campaign: { plural: 'Marketing campaigns', singular: 'marketing campaign' },
  support_ticket: { plural: 'Support tickets', singular: 'support ticket' },
  qbr_attended: { plural: 'QBRs attended', singular: 'QBR' },
  nps_response: { plural: 'NPS responses', singular: 'NPS response' },
};

/** Event types in the order their features appear (EVENT_TYPES order). */
export const FEATURE_EVENT_TYPES: readonly EventType[] = [
  'portal_login',
  'content_view',
  'training_completed',
  'certification_earned',
  'co_sell_meeting',
  'marketing_campaign',
  'support_ticket',
  'qbr_attended',
  'nps_response',
];

/** Event types with a trend feature (NPS has nps_change instead; QBRs are quarterly, so a 30-day trend is noise). */
export const TREND_EVENT_TYPES: readonly EventType[] = [
  'portal_login',
  'content_view',
  'training_completed',
  'certification_earned',
  'co_sell_meeting',
  'marketing_campaign',
  'support_ticket',
];

const spec = (name: string, label: string, unit: FeatureUnit, transform: FeatureTransform, definition: string): FeatureSpec => ({
  name,
  label,
  unit,
  transform,
  definition,
});

const TREND_DEF = '(n30 − n90/3) / (n30 + n90/3 + 1), in [−1, 0.5]: above 0 = more in the last 30 days than the 90-day monthly rate';

function buildSpecs(): FeatureSpec[] {
  const out: FeatureSpec[] = [];
  for (const type of FEATURE_EVENT_TYPES) {
    for (const w of EVENT_WINDOWS) {
      out.push(spec(`${type}_${w}d`, `${EVENT_WORDS[type].plural}, last ${w} days`, 'count', 'log1p', `sum of quantity of ${type} events with occurredAt in (asOf − ${w}d, asOf]`));
    }
  }
  for (const type of TREND_EVENT_TYPES) {
    out.push(spec(`${type}_trend`, `${EVENT_WORDS[type].plural}, trend (last 30 days vs 90-day rate)`, 'ratio', 'none', `${type}: ${TREND_DEF}`));
  }
  out.push(spec('engagement_trend', 'All engagement, trend (last 30 days vs 90-day rate)', 'ratio', 'none', `all events except nps_response: ${TREND_DEF}`));
  for (const type of FEATURE_EVENT_TYPES) {
    out.push(
      spec(`days_since_${type}`, `Days since last ${EVENT_WORDS[type].singular}`, 'days', 'none', `whole days since the last ${type} at or before asOf; if none: days since joinedAt; capped at ${DAYS_CAP}`),
    );
  }
  out.push(spec('nps_last', 'NPS score, latest response', 'score', 'none', `value (0–10) of the latest nps_response at or before asOf; ${NPS_NEUTRAL} if none`));
  out.push(spec('nps_change', 'NPS change since previous response', 'score', 'none', 'latest NPS value minus the one before it; 0 with fewer than two responses'));
  out.push(spec('has_nps', 'Has answered an NPS survey', 'flag', 'none', '1 if at least one nps_response at or before asOf, else 0'));
  for (const w of DEAL_WINDOWS) {
    out.push(spec(`deals_registered_${w}d`, `Deals registered, last ${w} days`, 'count', 'log1p', `deals with createdAt in (asOf − ${w}d, asOf]`));
    out.push(spec(`deals_won_${w}d`, `Deals won, last ${w} days`, 'count', 'log1p', `deals won with closedAt in (asOf − ${w}d, asOf]`));
    out.push(spec(`deals_lost_${w}d`, `Deals lost, last ${w} days`, 'count', 'log1p', `deals lost with closedAt in (asOf − ${w}d, asOf]`));
    out.push(spec(`win_rate_${w}d`, `Win rate, last ${w} days`, 'ratio', 'none', `(won + 1) / (won + lost + 2) over deals closed in (asOf − ${w}d, asOf]; 0.5 with none`));
  }
  for (const w of [90, 365] as const) {
    out.push(spec(`sourced_won_revenue_${w}d`, `Sourced won revenue, last ${w} days`, 'currency', 'log1p', `sum of amount of won sourced deals with closedAt in (asOf − ${w}d, asOf]`));
    out.push(spec(`influenced_won_revenue_${w}d`, `Influenced won revenue, last ${w} days`, 'currency', 'log1p', `sum of amount of won influenced deals with closedAt in (asOf − ${w}d, asOf]`));
  }
  out.push(spec('avg_deal_size_365d', 'Average won deal size, last 365 days', 'currency', 'log1p', 'mean amount of deals won with closedAt in (asOf − 365d, asOf]; 0 if none'));
  out.push(spec('avg_cycle_days_365d', 'Average deal cycle, last 365 days (days)', 'days', 'none', `mean days from createdAt to closedAt of deals won in (asOf − 365d, asOf]; 0 if none; capped at ${CYCLE_CAP}`));
  out.push(spec('open_pipeline_deals', 'Open pipeline, deals', 'count', 'log1p', 'deals created at or before asOf and not closed won/lost by asOf'));
  out.push(spec('open_pipeline_amount', 'Open pipeline, amount', 'currency', 'log1p', 'sum of amount of those open deals'));
  out.push(spec('has_first_deal', 'Has registered a deal', 'flag', 'none', '1 if any deal has createdAt at or before asOf'));
  out.push(spec('days_to_first_deal', 'Days from joining to first deal', 'days', 'none', `days from joinedAt to the first deal's createdAt; if none yet: tenure so far; capped at ${DAYS_CAP}`));
  out.push(spec('tenure_days', 'Days in the program', 'days', 'none', `whole days from joinedAt to asOf; capped at ${TENURE_CAP}`));
  out.push(spec('days_to_anniversary', 'Days until membership anniversary', 'days', 'none', 'days until the next yearly anniversary of joinedAt (1–365), when programs renew'));
  return out;
}

/** Every numeric feature, with its transform and definition, in FeatureRow.values order. */
export const FEATURE_SPECS: readonly FeatureSpec[] = buildSpecs();

/** Every numeric feature: name, person label, unit (FeatureRow.values order). */
export const FEATURE_DEFS: FeatureDef[] = FEATURE_SPECS.map(({ name, label, unit }) => ({ name, label, unit }));

export const FEATURE_NAMES: readonly string[] = FEATURE_DEFS.map((d) => d.name);

/** Position of each feature in FeatureRow.values. */
export const FEATURE_INDEX: Readonly<Record<string, number>> = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i]));

/** The quantity a person reads (undoes log1p), given a feature name and its stored value. Unknown names pass through. */
export function displayValue(name: string, value: number): number {
  const i = FEATURE_INDEX[name];
  const s = i === undefined ? undefined : FEATURE_SPECS[i];
  return s?.transform === 'log1p' ? Math.expm1(value) : value;
}
