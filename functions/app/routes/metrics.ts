import { z } from 'zod';
import { ValidationError } from '../../../data/errors';
import { asOfInstant } from '../../../data/schemas/as-of';
import { parseIsoTime, TIME_HINT } from '../../../data/schemas/common';
import type { HistoryStore } from '../../../data/stores/history-store';
import { ProgramMetricsAccumulator, type ProgramMetrics } from '../../../models/program-metrics';
import { authErrors, problem } from '../common-schemas';
import { defineResource } from '../route-spec';
import { validQuery } from '../validate';

const DAY_MS = 86_400_000;
/** Default period: the 365 × 24 h ending at `to`. */
export const DEFAULT_PERIOD_DAYS = 365;
const PAGE_SIZE = 1000;

/** `from`: a date is the start of that day (00:00:00.000Z); a date-time is that instant. */
const fromSchema = z
  .string()
  .meta({
    description: 'First instant of the period, included: a date (from 00:00:00Z of that day) or a date-time with a zone. Default: 365 days before `to`.',
    example: '2025-01-01',
  })
  .transform((value, ctx) => {
    const ms = parseIsoTime(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: TIME_HINT });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });

/** `to`: a date is the whole of that day (to 23:59:59.999Z), as `asOf`; a date-time is that instant. */
const toSchema = z
  .string()
  .meta({
    description: 'Last instant of the period, included: a date (the whole day, to 23:59:59.999Z) or a date-time with a zone. Default: now.',
    example: '2025-12-31',
  })
  .transform((value, ctx) => {
    const instant = asOfInstant(value);
    if (instant === undefined) {
      ctx.addIssue({ code: 'custom', message: TIME_HINT });
      return z.NEVER;
    }
    return instant;
  });

export const programQuery = z.object({ from: fromSchema.optional(), to: toSchema.optional() });

const count = (description: string) => z.number().int().min(0).meta({ description });
const rate = (description: string) => z.number().min(0).max(1).nullable().meta({ description });

const dealSegmentSchema = z
  .object({
    wonDeals: count('Deals with stage `won` and closedAt within [from, to]'),
    lostDeals: count('Deals with stage `lost` and closedAt within [from, to]'),
    winRate: rate('wonDeals / (wonDeals + lostDeals); null when neither'),
    wonRevenue: z.number().min(0).meta({ description: 'Sum of the amounts of the won deals, rounded to cents' }),
    averageDealSize: z.number().min(0).nullable().meta({ description: 'wonRevenue / wonDeals, rounded to cents; null without won deals' }),
    averageCycleDays: z
      .number()
      .min(0)
      .nullable()
      .meta({ description: 'Mean over the won deals of closedAt − createdAt, in days (24 h, fractional, not rounded); null without won deals' }),
  })
  .meta({ id: 'ProgramDealSegment', description: 'Deals closed in the period, of one kind (with a partner, or direct).' });

const roleSchema = (role: string) =>
  z
    .object({
      wonDeals: count(`Won deals in the period with partnerRole \`${role}\``),
      wonRevenue: z.number().min(0).meta({ description: `Sum of their amounts (partner-${role} won revenue), rounded to cents` }),
    })
    .meta({ description: `Partner-${role} won deals and revenue` });

export const programMetricsSchema = z
  .object({
    from: z.string().meta({ description: 'First instant of the period, included (ISO date-time, UTC)' }),
    to: z.string().meta({ description: 'Last instant of the period, included (ISO date-time, UTC)' }),
    deals: z
      .object({
        wonDeals: count('All won deals in the period (stage `won`, closedAt within [from, to]), with a partner or without'),
        wonRevenue: z.number().min(0).meta({ description: 'Sum of their amounts, rounded to cents' }),
        attachRate: rate('Partner attach rate: won deals with a partner (partnerId set) / all won deals in the period; null without won deals'),
        sourced: roleSchema('sourced'),
        influenced: roleSchema('influenced'),
        withPartner: dealSegmentSchema.meta({ description: 'Deals with a partner (partnerId set, either role)' }),
        withoutPartner: dealSegmentSchema.meta({ description: 'Direct deals (partnerId null)' }),
      })
      .meta({
        description:
          'Deals as stored now (latest version). A deal counts in the period when its stage is `won` or `lost` and its closedAt lies within [from, to]; registered and open deals, and deals closed outside the period, do not count.',
      }),
    partners: z
      .object({
        activeAtFrom: count('Partners active at `from`: joinedAt <= from and not churned at or before from'),
        activeAtTo: count('Partners active at `to`: joinedAt <= to and not churned at or before to'),
        joined: count('Partners whose joinedAt lies within [from, to]'),
        churned: count('Partners whose churnedAt lies within [from, to] (churned during the period)'),
        retained: count('Partners active at `from` and still active at `to`'),
        retentionRate: rate('retained / activeAtFrom; null when no partner was active at `from`'),
      })
      .meta({ description: 'Partners, by joinedAt and churnedAt (dates: 00:00:00Z of that day).' }),
    timeToFirstDeal: z
      .object({
        partnersJoined: count('Partners whose joinedAt lies within [from, to]'),
        withDeal: count('Of those, partners with at least one deal (any stage, any role) created at or before `to`'),
        withoutDeal: count('Of those, partners with no deal created at or before `to` (not in the median)'),
        medianDays: z
          .number()
          .min(0)
          .nullable()
          .meta({
            description:
              'Median over withDeal of the whole days (floor of 24 h periods) from joinedAt to the createdAt of the partner’s earliest deal; a deal created before joinedAt counts as 0; an even count takes the mean of the two middle values; null when withDeal is 0',
          }),
      })
      .meta({ description: 'Time to first deal of the partners who joined in the period' }),
  })
  .meta({ id: 'ProgramMetrics', description: 'Program metrics over the period [from, to]. Definitions: docs/metrics.md.' });

/** Resolves the period of a query: defaults, and `from` before `to`. */
export function resolvePeriod(query: { from?: string; to?: string }, now: Date = new Date()): { from: string; to: string } {
  const to = query.to ?? now.toISOString();
  const from = query.from ?? new Date(Date.parse(to) + 1 - DEFAULT_PERIOD_DAYS * DAY_MS).toISOString();
  if (!(Date.parse(from) < Date.parse(to))) {
    throw new ValidationError(`The request query is invalid: from (${from}) must be before to (${to}).`, [{ path: 'query.from', message: `must be before to (${to})` }]);
  }
  return { from, to };
}

/** Streams every partner and every deal into the accumulator, a page at a time (the two scans run side by side). */
export async function programMetrics(history: HistoryStore, period: { from: string; to: string }): Promise<ProgramMetrics> {
  const acc = new ProgramMetricsAccumulator(period);
  const scanPartners = async (): Promise<void> => {
    let cursor: string | undefined;
    do {
      const page = await history.listPartners({ limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) });
      acc.addPartners(page.items);
      cursor = page.nextCursor;
    } while (cursor);
  };
  const scanDeals = async (): Promise<void> => {
    let cursor: string | undefined;
    do {
      const page = await history.listDeals({ limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) });
      acc.addDeals(page.items);
      cursor = page.nextCursor;
    } while (cursor);
  };
  await Promise.all([scanPartners(), scanDeals()]);
  return acc.result();
}

export const metricsResource = defineResource({
  basePath: '/v1/metrics',
  tag: 'Metrics',
  routes: [
    {
      method: 'get',
      path: '/program',
      summary: 'Program metrics over a period',
      description:
        'Partner attach rate, partner-sourced and partner-influenced won revenue, win rate, average deal size and average cycle days with a partner and without, median time to first deal of the partners who joined, active and churned partners and retention over the period [from, to] (both ends included). `from` is a date (from its 00:00:00Z) or a date-time; `to` is a date (the whole day, to 23:59:59.999Z) or a date-time. Default: the 365 days up to now. `from` must be before `to`. Computed from every stored deal and partner at request time.',
      roles: ['admin', 'ops'],
      query: programQuery,
      responses: {
        200: { description: 'The metrics', schema: programMetricsSchema },
        400: problem('Invalid from or to, or from not before to (errors name the field)'),
        ...authErrors,
      },
      handler: async (c) => {
        const period = resolvePeriod(validQuery(c, programQuery));
        const deps = c.get('deps');
        const started = performance.now();
        const metrics = await programMetrics(deps.history, period);
        deps.logger.info('program metrics', { requestId: c.get('requestId'), from: period.from, to: period.to, ms: Math.round(performance.now() - started) });
        return c.json(metrics);
      },
    },
  ],
});
