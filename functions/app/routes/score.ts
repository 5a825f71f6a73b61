import { z } from 'zod';
import { asOfSchema } from '../../../data/schemas/as-of';
import { partnerIdSchema } from '../../../data/schemas/common';
import { mapLimit } from '../../../data/util/async';
import { loadHistory } from '../../../models/load-histories';
import { loadChampions, scoreHistories } from '../../../models/scoring';
import { isActiveAt } from '../../../models/labels';
import { authErrors, problem } from '../common-schemas';
import { defineResource } from '../route-spec';
import { adHocScoreSchema } from '../score-schemas';
import { validJson } from '../validate';

const body = z.strictObject({
  partnerIds: z.array(partnerIdSchema).min(1).max(1000),
  asOf: asOfSchema.optional(),
});

export const scoreResource = defineResource({
  basePath: '/v1/score',
  tag: 'Scores',
  routes: [
    {
      method: 'post',
      path: '/',
      summary: 'Score partners now, from current data',
      description: 'Ad-hoc scoring for other tools: up to 1,000 partners, computed at request time with both champions as of `asOf` (default now). Unknown partners and partners not active at asOf are listed apart.',
      roles: ['admin', 'ops', 'integration'],
      body: { schema: body, contentTypes: ['application/json'] },
      responses: {
        200: {
          description: 'Scores',
          schema: z.object({
            asOf: z.string(),
            items: z.array(adHocScoreSchema),
            notFound: z.array(z.string()),
            notScored: z.array(z.object({ partnerId: z.string(), reason: z.string() })),
          }),
        },
        400: problem('Invalid body'),
        ...authErrors,
        409: problem('No churn model has been trained yet'),
      },
      handler: async (c) => {
        const input = await validJson(c, body);
        const deps = c.get('deps');
        const asOf = input.asOf ?? new Date().toISOString();
        const ids = [...new Set(input.partnerIds)];
        const [champions, partners] = await Promise.all([loadChampions(deps.models, deps.modelCache), deps.history.getPartners(ids)]);
        const notFound = ids.filter((id) => !partners.has(id));
        const known = ids.flatMap((id) => (partners.has(id) ? [partners.get(id)!] : []));
        const notScored = known
          .filter((p) => !isActiveAt(p, asOf))
          .map((p) => ({ partnerId: p.partnerId, reason: p.churnedAt && p.churnedAt <= asOf ? `churned on ${p.churnedAt}` : `joined on ${p.joinedAt}, after asOf` }));
        const histories = await mapLimit(known.filter((p) => isActiveAt(p, asOf)), 8, (p) => loadHistory(deps.history, p, asOf));
        const items = scoreHistories(champions, histories, asOf, deps.bands).map((s) => ({ partnerId: s.partnerId, asOf, churn: s.churn, topPerformer: s.topPerformer }));
        return c.json({ asOf, items, notFound, notScored });
      },
    },
  ],
});
