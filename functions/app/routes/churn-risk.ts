import { z } from 'zod';
import { ValidationError } from '../../../data/errors';
import { asOfSchema } from '../../../data/schemas/as-of';
import { shortLabelSchema } from '../../../data/schemas/common';
import type { ScoreRecord } from '../../../data/stores/score-store';
import { runFor } from '../../../models/score-queries';
import { authErrors, problem } from '../common-schemas';
import { toCsv } from '../csv';
import { defineResource } from '../route-spec';
import { churnRiskItemSchema } from '../score-schemas';
import { validQuery } from '../validate';

const query = z.object({
  tier: shortLabelSchema.optional(),
  region: shortLabelSchema.optional(),
  segment: shortLabelSchema.optional(),
  minProbability: z.coerce.number().min(0).max(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().min(1).max(4096).optional(),
  format: z.enum(['json', 'csv']).default('json'),
  asOf: asOfSchema.optional().meta({ description: 'Read the latest run at or before this date instead of the latest run' }),
});

const toItem = (s: ScoreRecord) => ({
  partnerId: s.partnerId,
  name: s.name,
  tier: s.tier,
  region: s.region,
  segment: s.segment,
  probability: s.churn.probability,
  riskBand: s.churn.riskBand,
  change: s.change,
  drivers: s.churn.drivers,
});

const CSV_COLUMNS = ['partnerId', 'name', 'tier', 'region', 'segment', 'probability', 'riskBand', 'change', 'drivers'] as const;

export const churnRiskResource = defineResource({
  basePath: '/v1/churn-risk',
  tag: 'Scores',
  routes: [
    {
      method: 'get',
      path: '/',
      summary: 'Partners ranked by churn risk',
      description:
        'The latest completed scoring run, highest churn probability first, with filters. `nextCursor` continues the same run even if a newer one lands meanwhile. `change` is the difference from the partner’s previous run. `format=csv` returns the same rows as CSV (drivers joined by " | ").',
      roles: ['admin', 'ops', 'integration'],
      query,
      responses: {
        200: {
          description: 'Ranked partners',
          schema: z.object({ asOf: z.string().nullable(), runId: z.string().nullable(), modelVersion: z.string().nullable(), items: z.array(churnRiskItemSchema), nextCursor: z.string().nullable() }),
        },
        400: problem('Invalid query'),
        ...authErrors,
      },
      handler: async (c) => {
        const q = validQuery(c, query);
        const deps = c.get('deps');
        const run = q.cursor ? undefined : await runFor(deps.scores, q.asOf);
        const runId = q.cursor ? runIdOfCursor(q.cursor) : run?.runId;
        const page = runId
          ? await deps.scores.rankedPage(runId, { ...(q.tier ? { tier: q.tier } : {}), ...(q.region ? { region: q.region } : {}), ...(q.segment ? { segment: q.segment } : {}), ...(q.minProbability !== undefined ? { minProbability: q.minProbability } : {}) }, q.limit, q.cursor)
          : { items: [] };
        const items = page.items.map(toItem);
        const first = page.items[0];
        if (q.format === 'csv') {
          const rows = items.map((i) => ({ ...i, drivers: i.drivers.map((d) => d.label).join(' | ') }));
          c.header('content-type', 'text/csv; charset=utf-8');
          c.header('content-disposition', 'attachment; filename="churn-risk.csv"');
          if (page.nextCursor) c.header('x-next-cursor', page.nextCursor);
          return c.body(toCsv(CSV_COLUMNS, rows));
        }
        return c.json({
          asOf: first?.asOf ?? run?.asOf ?? null,
          runId: runId ?? null,
          modelVersion: first?.churn.modelVersion ?? run?.models.churn ?? null,
          items,
          nextCursor: page.nextCursor ?? null,
        });
      },
    },
  ],
});

/** The run a cursor pins; a cursor this API did not return is a 400 (not an empty, seemingly last, page). */
function runIdOfCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { runId?: unknown };
    if (typeof parsed.runId === 'string') return parsed.runId;
  } catch {
    // fall through
  }
  throw new ValidationError('cursor is not one this API returned.', [{ path: 'query.cursor', message: 'is not a cursor from a previous page' }]);
}
