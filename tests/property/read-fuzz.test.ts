import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { ScoreDetail, ScoreRecord } from '../../data/stores/score-store';
import { createApp, RESOURCES } from '../../functions/app/app';
import { fullPath, honoPath } from '../../functions/app/route-spec';
import { forgetRuns } from '../../models/score-queries';
import { startTestStack, type TestStack } from '../helpers/test-stack';
import { EXPRESSION_LIKE } from './arbitraries';

/*
 * Path and query parameters fuzzed on every read route the app serves (the /v1 route table and
 * whatever else is mounted), over a store holding partners, a completed scoring run, a reject
 * batch and a job, so that valid-looking values reach the stores: never a 5xx, errors are
 * problem+json, and a partner key is confined to its partner whatever the id looks like.
 */

const RUNS = Number(process.env.FC_RUNS ?? 25);
const PARTNERS = Array.from({ length: 12 }, (_, i) => `RF-${String(i).padStart(2, '0')}`);
const OWN = PARTNERS[0]!;
const AS_OF = '2025-06-30T23:59:59.999Z';
const RUN_ID = 'run_20250630T235959999Z';

const detail = (probability: number): ScoreDetail => ({
  probability,
  riskBand: probability > 0.25 ? 'high' : probability > 0.1 ? 'medium' : 'low',
  modelVersion: 'v-fuzz',
  drivers: [{ feature: 'portal_login_30d', label: 'Portal logins, last 30 days', value: 3, peerMedian: 5, effect: 0.02 }],
});

interface GetRoute {
  /** Hono path, e.g. /v1/partners/:id/scores */
  path: string;
  params: string[];
  queryKeys: string[];
  partnerParam?: string;
}

/** Every GET route the app serves: the /v1 ones with their declared query keys, the others with their path params. */
function getRoutes(stack: TestStack): GetRoute[] {
  const declared = new Map<string, GetRoute>();
  for (const resource of RESOURCES) {
    for (const route of resource.routes) {
      if (route.method !== 'get') continue;
      const path = honoPath(fullPath(resource, route));
      const shape = (route.query?.shape ?? {}) as Record<string, z.ZodType>;
      declared.set(path, { path, params: [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!), queryKeys: Object.keys(shape), ...(route.partnerParam ? { partnerParam: route.partnerParam } : {}) });
    }
  }
  const served = createApp(stack.deps).routes.filter((r) => r.method === 'GET').map((r) => r.path);
  for (const path of served) {
    if (!declared.has(path)) declared.set(path, { path, params: [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!), queryKeys: ['asOf', 'cursor', 'limit', 'format', 'partnerId', 'q'] });
  }
  return [...declared.values()];
}

describe('read routes under fuzzed path and query parameters', () => {
  let stack: TestStack;
  let partnerKey: string;
  let routes: GetRoute[];
  /** Values that reach deep: real ids, a real cursor of each paginated list, a real reject batch id, a real job id. */
  const real: string[] = [];
  let churnCursor = '';

  beforeAll(async () => {
    stack = await startTestStack();
    partnerKey = await stack.keyFor('partner', OWN);
    const partners = PARTNERS.map((partnerId, i) => ({ partnerId, name: `Fuzz ${i}`, tier: 'gold', region: 'EMEA', segment: 'SMB', joinedAt: '2024-01-01', status: 'active' }));
    const events = PARTNERS.flatMap((partnerId, i) => [
      { eventId: `RF-E-${i}-1`, partnerId, type: 'portal_login', occurredAt: '2025-06-01T00:00:00Z' },
      { eventId: `RF-E-${i}-2`, partnerId, type: 'nps_response', occurredAt: '2025-06-02T00:00:00Z', value: i % 11 },
    ]);
    const deals = PARTNERS.map((partnerId, i) => ({ dealId: `RF-D-${i}`, partnerId, partnerRole: 'sourced', amount: 1000 * i, stage: 'won', createdAt: '2025-04-01T00:00:00Z', closedAt: '2025-05-01T00:00:00Z', updatedAt: '2025-05-01T00:00:00Z' }));
    for (const [kind, body] of [['partners', partners], ['events', events], ['deals', deals]] as const) {
      expect((await stack.request('POST', `/v1/${kind}`, { key: stack.adminKey, body })).status).toBe(200);
    }
    // A reject batch, so /v1/rejects/{id} has a real id.
    await stack.request('POST', '/v1/events', { key: stack.adminKey, body: [{ eventId: 'RF-BAD' }] });
    const rejects = (await (await stack.request('GET', '/v1/rejects', { key: stack.adminKey })).json()) as { items: { id: string }[] };
    real.push(...rejects.items.map((b) => b.id));

    // A completed scoring run, written through the score store as a run writes it.
    await stack.deps.scores.putRun({ runId: RUN_ID, asOf: AS_OF, status: 'running', startedAt: AS_OF, models: { churn: 'v-fuzz' } });
    const scores: ScoreRecord[] = PARTNERS.map((partnerId, i) => ({
      partnerId,
      asOf: AS_OF,
      runId: RUN_ID,
      name: `Fuzz ${i}`,
      tier: 'gold',
      region: 'EMEA',
      segment: 'SMB',
      churn: detail(i / 20),
      topPerformer: i % 2 === 0 ? detail(0.5) : null,
      change: null,
      scoredAt: AS_OF,
    }));
    await stack.deps.scores.putScores(scores);
    await stack.deps.scores.putRun({ runId: RUN_ID, asOf: AS_OF, status: 'complete', startedAt: AS_OF, completedAt: AS_OF, scored: scores.length, models: { churn: 'v-fuzz' } });
    forgetRuns(stack.deps.scores);
    const page = (await (await stack.request('GET', '/v1/churn-risk?limit=3', { key: stack.adminKey })).json()) as { items: unknown[]; nextCursor: string | null };
    expect(page.items).toHaveLength(3);
    churnCursor = page.nextCursor!;
    real.push(churnCursor, RUN_ID, AS_OF, ...PARTNERS);

    await stack.deps.jobs.create({ jobId: 'job_fuzz_1', type: 'score', params: { asOf: AS_OF }, status: 'succeeded', createdAt: AS_OF });
    real.push('job_fuzz_1');
    routes = getRoutes(stack);
  });
  afterAll(async () => stack?.close());

  /** A cursor this API issued, with one part changed: tampered cursors must be refused, not sent to the store. */
  const tamperedCursorArb = fc
    .tuple(fc.constantFrom('runId', 'key', 'key.partnerId', 'key.rankKey', 'key.runId', 'key.scoreKey', 'extra'), fc.oneof(fc.constantFrom('', ' ', '#runs', 'run_x', null, 0, [], {}, 'x'.repeat(3000)), fc.string({ unit: 'binary', maxLength: 20 })))
    .map(([where, value]) => {
      const cursor = JSON.parse(Buffer.from(churnCursor, 'base64url').toString('utf8')) as Record<string, unknown>;
      if (where.startsWith('key.')) (cursor.key as Record<string, unknown>)[where.slice(4)] = value;
      else cursor[where] = value;
      return Buffer.from(JSON.stringify(cursor)).toString('base64url');
    });

  const valueArb = (): fc.Arbitrary<string> =>
    fc.oneof(
      { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
      { weight: 2, arbitrary: fc.constantFrom(...EXPRESSION_LIKE) },
      { weight: 3, arbitrary: fc.constantFrom(...real) },
      { weight: 2, arbitrary: tamperedCursorArb },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => Buffer.from(s).toString('base64url')) },
      { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%00', '%ED%A0%80', '..', '.', '/', '\\', '?', '#', '&', '=', ' ', '') },
      { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1e309', 'NaN', '1000', '1001', '0.5', 'csv', 'json', 'xml', '2025-02-30', '2025-06-30', '0000-01-01', '9999-12-31T23:59:59Z', '2025-06-30T25:00:00Z') },
      { weight: 1, arbitrary: fc.integer({ min: 100, max: 5000 }).map((n) => 'a'.repeat(n)) },
    );

  /** One request: a route, its path params, some of its query keys (and maybe unknown ones), and how values are encoded. */
  const requestArb = (forPartner: boolean) =>
    fc
      .record({
        route: fc.nat(),
        params: fc.array(valueArb(), { minLength: 4, maxLength: 4 }),
        query: fc.array(fc.tuple(fc.oneof(fc.nat(), fc.string({ unit: 'grapheme-ascii', maxLength: 8 })), valueArb()), { maxLength: 4 }),
        encodePath: fc.boolean(),
        ownId: fc.boolean(),
      })
      .map(({ route: pick, params, query, encodePath, ownId }) => {
        const candidates = forPartner ? routes.filter((r) => r.partnerParam) : routes;
        const route = candidates[pick % candidates.length]!;
        let path = route.path;
        route.params.forEach((name, i) => {
          const value = forPartner && ownId && name === route.partnerParam ? OWN : params[i]!;
          // Unencoded values may change the route (a slash, a '?'): that must end in a 404 or 400, not a crash.
          path = path.replace(`:${name}`, encodePath ? encodeURIComponent(value) : value);
        });
        path = path.replace('*', encodePath ? encodeURIComponent(params[3]!) : params[3]!);
        const qs = query.map(([k, v]) => `${encodeURIComponent(typeof k === 'number' ? (route.queryKeys[k % Math.max(1, route.queryKeys.length)] ?? 'x') : k)}=${encodeURIComponent(v)}`).join('&');
        return { route, url: qs ? `${path}?${qs}` : path, partnerValue: forPartner && ownId ? OWN : undefined };
      });

  async function expectNoServerError(res: Response, url: string): Promise<string> {
    const text = await res.text();
    expect(res.status, `GET ${url.slice(0, 300)} → ${res.status}: ${text.slice(0, 300)}`).toBeLessThan(500);
    if (res.status >= 400 && res.headers.get('content-type')?.includes('json')) {
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((JSON.parse(text) as { status: number }).status).toBe(res.status);
    }
    return text;
  }

  it('covers every GET route of the table', () => {
    const tablePaths = RESOURCES.flatMap((r) => r.routes.filter((route) => route.method === 'get').map((route) => honoPath(fullPath(r, route))));
    expect(tablePaths.length).toBeGreaterThan(5);
    for (const p of tablePaths) expect(routes.map((r) => r.path)).toContain(p);
  });

  it('answers an admin key without a 5xx, whatever the parameters', async () => {
    await fc.assert(
      fc.asyncProperty(requestArb(false), async ({ url }) => {
        const res = await stack.request('GET', url, { key: stack.adminKey });
        await expectNoServerError(res, url);
        if (url.startsWith('/v1/')) expect([401, 403], url).not.toContain(res.status);
      }),
      { numRuns: RUNS * 6 },
    );
  });

  it('confines a partner key to its own partner, whatever the id looks like', async () => {
    await fc.assert(
      fc.asyncProperty(requestArb(true), async ({ url, route, partnerValue }) => {
        const res = await stack.request('GET', url, { key: partnerKey });
        const text = await expectNoServerError(res, url);
        if (partnerValue !== OWN && res.status === 200) {
          // Only the own partner's data may come back: a 200 must be about it.
          expect(text, `${route.path} answered 200 for ${url}`).toContain(OWN);
          for (const other of PARTNERS.slice(1)) expect(text).not.toContain(other);
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('refuses every tampered churn-risk cursor with a 400 naming the cursor', async () => {
    await fc.assert(
      fc.asyncProperty(tamperedCursorArb, async (cursor) => {
        const res = await stack.request('GET', `/v1/churn-risk?cursor=${encodeURIComponent(cursor)}`, { key: stack.adminKey });
        const text = await expectNoServerError(res, cursor);
        if (cursor !== churnCursor && res.status !== 200) {
          expect(res.status, text).toBe(400);
          expect(text).toContain('query.cursor');
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('refuses a reject-list cursor S3 never issued with a 400, not a 503', async () => {
    for (const cursor of ['garbage', 'x'.repeat(2000), EXPRESSION_LIKE[0], Buffer.from('rejects/events/').toString('base64')]) {
      const res = await stack.request('GET', `/v1/rejects?cursor=${encodeURIComponent(cursor)}`, { key: stack.adminKey });
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect(text).toContain('query.cursor');
    }
  });
});
