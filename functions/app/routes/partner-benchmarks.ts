import { z } from 'zod';
import { NotFoundError } from '../../../data/errors';
import { asOfSchema } from '../../../data/schemas/as-of';
import { partnerIdSchema } from '../../../data/schemas/common';
import { mapLimit } from '../../../data/util/async';
import { BENCHMARK_METRIC_NAMES, benchmarkMetrics } from '../../../models/benchmarks/benchmark-metrics';
import { benchmarkDay, effectiveK, peerBenchmark, widenCohort, withheldBenchmark, type PeerBenchmark } from '../../../models/benchmarks/peer-benchmark';
import type { ServiceDeps } from '../../deps';
import { isActiveAt } from '../../../models/labels';
import { loadHistory } from '../../../models/load-histories';
import { authErrors, problem } from '../common-schemas';
import type { RouteSpec } from '../route-spec';
import { validParams, validQuery } from '../validate';

const params = z.object({ id: partnerIdSchema });
const query = z.object({ asOf: asOfSchema.optional() });

const metricName = z.enum(BENCHMARK_METRIC_NAMES as [string, ...string[]]);

export const peerBenchmarkSchema = z
  .object({
    partnerId: z.string(),
    asOf: z.string().meta({ description: 'The UTC day the benchmark is computed as of (the whole day). Benchmarks have a resolution of one day: a date-time asOf uses the last day complete at that time.' }),
    cohort: z
      .object({
        tier: z.string(),
        region: z.string().optional(),
        segment: z.string().optional(),
        size: z.string().meta({ description: 'Number of peers (besides this partner) as a range: 5-9, 10-24, 25-99, 100+', example: '10-24' }),
      })
      .nullable()
      .meta({ description: 'The peers, chosen by the server: same tier, region and segment, widened (segment, then region dropped) until it holds at least k peers; null when even the tier is too small.' }),
    metrics: z.array(
      z.object({
        metric: metricName,
        label: z.string(),
        unit: z.string(),
        value: z.number().nullable().meta({ description: "This partner's own value; null when it has none" }),
        percentile: z.number().nullable().meta({ description: 'Where this partner stands, 0-100, read off p25/p50/p75 (12 = bottom quarter, 88 = top quarter)' }),
        p25: z.number(),
        p50: z.number(),
        p75: z.number().meta({ description: 'Peer quartiles of values rounded to two significant figures; never the lowest or highest peer' }),
      }),
    ),
    withheld: z.array(metricName).meta({ description: 'Metrics that fewer than k peers have a value for (all of them when cohort is null)' }),
    reason: z.enum(['cohort_too_small', 'partner_not_active']).optional().meta({ description: 'Only when the whole benchmark is withheld' }),
  })
  .meta({ id: 'PeerBenchmark' });

/** A partner's peer benchmark as of a date (default now); NotFoundError for an unknown partner. */
export async function partnerBenchmark(deps: ServiceDeps, id: string, asOf?: string): Promise<PeerBenchmark> {
  const k = effectiveK(deps.config.benchmarkK);
  const { day, at } = benchmarkDay(Date.parse(asOf ?? new Date().toISOString()));

  const partner = (await deps.history.getPartners([id])).get(id);
  if (!partner) throw new NotFoundError(`No partner ${id}.`);
  // Benchmarks compare members with members: a partner not (or no longer) in the program at asOf sees none.
  if (!isActiveAt(partner, at)) return withheldBenchmark(id, day, 'partner_not_active');

  const until = new Date(at).toISOString();
  const choice = await widenCohort(partner, at, k, (spec) => deps.history.partnersInCohort(spec.tier, spec.region, spec.segment));
  if (choice === null) return withheldBenchmark(id, day, 'cohort_too_small');

  const [ownHistory, ...peerHistories] = await mapLimit([partner, ...choice.peers], 8, (p) => loadHistory(deps.history, p, until));
  return peerBenchmark({
    partner,
    day,
    k,
    choice,
    own: benchmarkMetrics(ownHistory!, at),
    peers: peerHistories.map((h) => benchmarkMetrics(h, at)),
  });
}

export const partnerBenchmarkRoutes: RouteSpec[] = [
  {
    method: 'get',
    path: '/{id}/benchmarks',
    summary: "A partner's anonymized peer benchmarks",
    description:
      'Trailing-90-day metrics of the partner next to coarsened quartiles of its peers (docs/privacy.md). The cohort is chosen by the server, never by the caller; no response carries another partner’s identity or exact value.',
    roles: ['admin', 'ops', 'partner'],
    partnerParam: 'id',
    params,
    query,
    responses: { 200: { description: 'The benchmark (withheld: cohort null, every metric in withheld)', schema: peerBenchmarkSchema }, 400: problem('Invalid asOf'), ...authErrors, 404: problem('No such partner') },
    handler: async (c) => {
      const { id } = validParams(c, params);
      const { asOf } = validQuery(c, query);
      const body = await partnerBenchmark(c.get('deps'), id, asOf);
      c.get('deps').logger.debug('peer benchmark', { requestId: c.get('requestId'), partnerId: id, asOf: body.asOf, metrics: body.metrics.length });
      return c.json(body);
    },
  },
];
