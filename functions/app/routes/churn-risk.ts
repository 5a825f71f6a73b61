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
import type { ServiceDeps } from '../../deps';

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

export const toChurnRiskItem = (s: ScoreRecord) => ({
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

export type ChurnRiskItem = ReturnType<typeof toChurnRiskItem>;

const CSV_COLUMNS = ['partnerId', 'name', 'tier', 'region', 'segment', 'probability', 'riskBand', 'change', 'drivers'] as const;

/** The rows as CSV, drivers joined by " | " (the API's format=csv and the dashboard's export). */
export const churnRiskCsv = (items: readonly ChurnRiskItem[]): string => toCsv(CSV_COLUMNS, items.map((i) => ({ ...i, drivers: i.drivers.map((d) => d.label).join(' | ') })));

export interface ChurnRiskQuery {
  tier?: string;
  region?: string;
  segment?: string;
  minProbability?: number;
  limit: number;
  cursor?: string;
  asOf?: string;
}

/** One page of the ranked list: the latest completed run (or the one at or before asOf, or the one the cursor pins). */
export async function readChurnRisk(deps: ServiceDeps, q: ChurnRiskQuery): Promise<{ asOf: string | null; runId: string | null; modelVersion: string | null; items: ChurnRiskItem[]; nextCursor: string | null }> {
  const run = q.cursor ? undefined : await runFor(deps.scores, q.asOf);
  const runId = q.cursor ? runIdOfCursor(q.cursor) : run?.runId;
  const page = runId
    ? await deps.scores.rankedPage(runId, { ...(q.tier ? { tier: q.tier } : {}), ...(q.region ? { region: q.region } : {}), ...(q.segment ? { segment: q.segment } : {}), ...(q.minProbability !== undefined ? { minProbability: q.minProbability } : {}) }, q.limit, q.cursor)
    : { items: [] };
  const first = page.items[0];
  return {
    asOf: first?.asOf ?? run?.asOf ?? null,
    runId: runId ?? null,
    modelVersion: first?.churn.modelVersion ?? run?.models.churn ?? null,
    items: page.items.map(toChurnRiskItem),
    nextCursor: page.nextCursor ?? null,
  };
}

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
        const result = await readChurnRisk(c.get('deps'), q);
        if (q.format === 'csv') {
          c.header('content-type', 'text/csv; charset=utf-8');
          c.header('content-disposition', 'attachment; filename="churn-risk.csv"');
          if (result.nextCursor) c.header('x-next-cursor', result.nextCursor);
          return c.body(churnRiskCsv(result.items));
        }
        return c.json(result);
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
