import { z } from 'zod';
import { partnerIdSchema } from '../../../data/schemas/common';
import { partnerScoresView } from '../../../models/score-queries';
import { authErrors, problem } from '../common-schemas';
import type { RouteSpec } from '../route-spec';
import { partnerScoresSchema } from '../score-schemas';
import { validParams } from '../validate';

const params = z.object({ id: partnerIdSchema });

export const partnerScoreRoutes: RouteSpec[] = [
  {
    method: 'get',
    path: '/{id}/scores',
    summary: "A partner's latest scores, drivers and history",
    description: 'The latest completed scoring run for this partner (churn, and top-performer in its first 365 days), the drivers of each score, and the history of earlier runs, newest first.',
    roles: ['admin', 'ops', 'integration'],
    params,
    responses: { 200: { description: 'Scores', schema: partnerScoresSchema }, ...authErrors, 404: problem('No scores for this partner') },
    handler: async (c) => c.json(await partnerScoresView(c.get('deps').scores, validParams(c, params).id)),
  },
];
