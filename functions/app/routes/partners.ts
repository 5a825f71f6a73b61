import { defineResource } from '../route-spec';
import { ingestRoute } from './ingest';
import { partnerBenchmarkRoutes } from './partner-benchmarks';
import { partnerScoreRoutes } from './partner-scores';

/** /v1/partners: ingest, and each partner's scores and peer benchmarks. */
export const partnersResource = defineResource({
  basePath: '/v1/partners',
  tag: 'Partners',
  routes: [ingestRoute('partners'), ...partnerScoreRoutes, ...partnerBenchmarkRoutes],
});
