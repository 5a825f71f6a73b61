import { createHash, randomBytes } from 'node:crypto';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp, RESOURCES } from '../../functions/app/app';
import { authenticate, authorize } from '../../functions/app/auth';
import { notFound, onError } from '../../functions/app/problem';
import { fullPath, honoPath, type AppEnv, type Resource, type RouteSpec } from '../../functions/app/route-spec';
import { ROLES, type Role } from '../../data/schemas/api-key';
import type { RecordStore } from '../../data/stores/record-store';
import { startTestStack, type TestStack } from '../helpers/test-stack';

/*
 * Authentication and authorization, as the contract (sections 2 and 3) states them.
 * The route × caller matrix is generated from RESOURCES, so a route added to the table is
 * covered without touching this file.
 */

const OWN_PARTNER = 'P-ACCESS-OWN';
const OTHER_PARTNER = 'P-ACCESS-OTHER';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const randomSecret = (): string => `psk_${randomBytes(32).toString('base64url')}`;

type Caller = 'no key' | 'unknown key' | 'revoked key' | 'admin' | 'ops' | 'integration' | 'partner-own' | 'partner-other';

interface Case {
  name: string;
  method: string;
  path: string;
  caller: Caller;
  expected: 401 | 403 | 'allowed';
  hasBody: boolean;
}

/** Path names of an OpenAPI-style path: `/a/{id}/b/{x}` → ['id', 'x']. */
const pathParamNames = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);

/** A value the route's own params schema accepts, so an allowed call gets past path validation where it can. */
function plausibleValue(schema: z.ZodType | undefined): string {
  if (schema instanceof z.ZodEnum) return String(schema.options[0]);
  const candidates = ['key_00000000000000000000', 'x-access-1', '1', '2025-03-01', 'churn'];
  return candidates.find((c) => !schema || schema.safeParse(c).success) ?? 'x-access-1';
}

function concretePath(resource: Resource, route: RouteSpec, partnerValue: string): string {
  const shape = (route.params?.shape ?? {}) as Record<string, z.ZodType>;
  let path = fullPath(resource, route);
  for (const name of pathParamNames(path)) {
    const value = name === route.partnerParam ? partnerValue : plausibleValue(shape[name]);
    path = path.replace(`{${name}}`, encodeURIComponent(value));
  }
  return path;
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  for (const resource of RESOURCES) {
    for (const route of resource.routes) {
      const method = route.method.toUpperCase();
      const label = `${method} ${fullPath(resource, route)}`;
      const ownPath = concretePath(resource, route, OWN_PARTNER);
      const hasBody = route.body !== undefined;
      const add = (caller: Caller, expected: Case['expected'], path = ownPath): void => {
        cases.push({ name: `${label} as ${caller} → ${expected === 'allowed' ? 'not 401/403' : expected}`, method, path, caller, expected, hasBody });
      };
      add('no key', 401);
      add('unknown key', 401);
      add('revoked key', 401);
      for (const role of ['admin', 'ops', 'integration'] as const) add(role, route.roles.includes(role) ? 'allowed' : 403);
      add('partner-own', route.roles.includes('partner') ? 'allowed' : 403);
      if (route.partnerParam) add('partner-other', 403, concretePath(resource, route, OTHER_PARTNER));
    }
  }
  return cases;
}

const CASES = buildCases();

/** Asserts an RFC 9457 problem response with this status and returns its body. */
async function expectProblem(res: Response, status: number): Promise<Record<string, unknown>> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/problem\+json\b/);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(typeof body.type).toBe('string');
  expect((body.type as string).length).toBeGreaterThan(0);
  expect(typeof body.title).toBe('string');
  expect((body.title as string).length).toBeGreaterThan(0);
  expect(body.status).toBe(status);
  expect(typeof body.detail).toBe('string');
  expect((body.detail as string).length).toBeGreaterThan(0);
  return body;
}

describe('access control', () => {
  let stack: TestStack;
  /** Every secret this file uses: none of them may ever reach a log line or the store. */
  const secrets = new Set<string>();
  const keys = {} as Record<Exclude<Caller, 'no key' | 'partner-other'>, string>;

  const remember = (secret: string): string => {
    secrets.add(secret);
    return secret;
  };

  beforeAll(async () => {
    stack = await startTestStack();
    remember(stack.adminKey);
    keys.admin = stack.adminKey;
    keys.ops = remember(await stack.keyFor('ops'));
    keys.integration = remember(await stack.keyFor('integration'));
    keys['partner-own'] = remember(await stack.keyFor('partner', OWN_PARTNER));
    keys['unknown key'] = remember(randomSecret());
    const revoked = await stack.deps.apiKeys.create({ name: 'revoked admin', role: 'admin' });
    await stack.deps.apiKeys.revoke(revoked.id);
    keys['revoked key'] = remember(revoked.key);
  });
  afterAll(async () => stack?.close());

  describe('route table', () => {
    it('is not empty and every route names known roles, always including admin', () => {
      const routes = RESOURCES.flatMap((r) => r.routes);
      expect(routes.length).toBeGreaterThan(0);
      for (const resource of RESOURCES) {
        for (const route of resource.routes) {
          const label = `${route.method} ${fullPath(resource, route)}`;
          expect(route.roles.length, label).toBeGreaterThan(0);
          for (const role of route.roles) expect(ROLES, label).toContain(role);
          expect(route.roles, `${label}: admin may do everything`).toContain('admin');
        }
      }
    });

    it('lets partner keys only read, and only routes scoped to one partner by a path parameter', () => {
      for (const resource of RESOURCES) {
        for (const route of resource.routes) {
          const label = `${route.method} ${fullPath(resource, route)}`;
          if (route.partnerParam) expect(pathParamNames(fullPath(resource, route)), label).toContain(route.partnerParam);
          if (!route.roles.includes('partner')) continue;
          expect(route.method, `${label}: partner keys only read`).toBe('get');
          expect(route.partnerParam, `${label}: a partner route must be confined to the key's partner`).toBeTruthy();
        }
      }
    });

    it('keeps API key management for admin only', () => {
      const keyRoutes = RESOURCES.filter((r) => r.basePath === '/v1/api-keys').flatMap((r) => r.routes);
      expect(keyRoutes.map((r) => r.method).sort()).toEqual(['delete', 'get', 'post']);
      for (const route of keyRoutes) expect(route.roles).toEqual(['admin']);
    });

    it('registers in the app exactly the /v1 routes of RESOURCES', () => {
      const registered = new Set(
        createApp(stack.deps)
          .routes.filter((r) => r.method !== 'ALL' && (r.path === '/v1' || r.path.startsWith('/v1/')))
          .map((r) => `${r.method.toUpperCase()} ${r.path}`),
      );
      const declared = new Set(RESOURCES.flatMap((res) => res.routes.map((route) => `${route.method.toUpperCase()} ${honoPath(fullPath(res, route))}`)));
      expect(registered.size).toBeGreaterThan(0);
      for (const route of registered) expect(declared, `${route} is served but not in RESOURCES (no roles, no docs)`).toContain(route);
      for (const route of declared) expect(registered, `${route} is in RESOURCES but not served`).toContain(route);
    });

    it('serves nothing outside /v1 (where there is no authentication) but reads', () => {
      const outside = createApp(stack.deps).routes.filter((r) => r.method !== 'ALL' && r.path !== '/v1' && !r.path.startsWith('/v1/'));
      expect(outside.length).toBeGreaterThan(0);
      for (const r of outside) expect(['GET', 'HEAD'], `${r.method} ${r.path}`).toContain(r.method.toUpperCase());
    });
  });

  describe('matrix generated from RESOURCES', () => {
    it('has a case for every route and caller', () => {
      const routeCount = RESOURCES.reduce((n, r) => n + r.routes.length, 0);
      const partnerScoped = RESOURCES.reduce((n, r) => n + r.routes.filter((route) => route.partnerParam).length, 0);
      expect(CASES).toHaveLength(routeCount * 7 + partnerScoped);
    });

    it.each(CASES)('$name', async (c) => {
      const key = c.caller === 'no key' ? undefined : c.caller === 'partner-other' ? keys['partner-own'] : keys[c.caller];
      // Allowed calls get a malformed body: authorization must come first, and nothing is started or stored.
      const res = await stack.request(c.method, c.path, {
        ...(key ? { key } : {}),
        ...(c.hasBody ? { rawBody: '{"probe": ', headers: { 'content-type': 'application/json' } } : {}),
      });
      if (c.expected === 'allowed') {
        const text = await res.text();
        expect([401, 403], `${c.caller} was refused: ${text}`).not.toContain(res.status);
        expect(res.status, `an allowed call with plausible values must not crash: ${text}`).not.toBe(500);
      } else {
        await expectProblem(res, c.expected);
      }
    });
  });

  describe('partner keys are confined to their own partner', () => {
    // No route in the table may have partnerParam yet; the mechanism is checked on a probe route.
    const probeRoute: RouteSpec = {
      method: 'get',
      path: '/{partnerId}/probe',
      summary: 'probe',
      roles: ['admin', 'partner'],
      partnerParam: 'partnerId',
      responses: {},
      handler: (c) => c.json({ ok: true }),
    };
    let probe: Hono<AppEnv>;
    beforeAll(() => {
      probe = new Hono<AppEnv>();
      probe.use('*', async (c, next) => {
        c.set('deps', stack.deps);
        c.set('requestId', 'probe');
        await next();
      });
      probe.use('/v1/*', authenticate);
      probe.get('/v1/probe-partners/:partnerId/probe', authorize(probeRoute), probeRoute.handler);
      probe.notFound(notFound);
      probe.onError(onError);
    });
    const call = (partnerId: string, key: string): Promise<Response> =>
      Promise.resolve(probe.request(`/v1/probe-partners/${partnerId}/probe`, { headers: { authorization: `Bearer ${key}` } }));

    it('allows the own partner', async () => {
      expect((await call(OWN_PARTNER, keys['partner-own'])).status).toBe(200);
    });
    it('refuses another partner with 403', async () => {
      await expectProblem(await call(OTHER_PARTNER, keys['partner-own']), 403);
    });
    it('does not confine other roles', async () => {
      expect((await call(OTHER_PARTNER, keys.admin)).status).toBe(200);
    });
    it('refuses roles that are not listed even for the own partner id', async () => {
      await expectProblem(await call(OWN_PARTNER, keys.ops), 403);
    });
  });

  describe('bearer keys', () => {
    it('answers 401 with WWW-Authenticate: Bearer when no key is sent', async () => {
      const res = await stack.request('GET', '/v1/api-keys');
      await expectProblem(res, 401);
      expect(res.headers.get('www-authenticate') ?? '').toMatch(/^Bearer\b/i);
    });

    it.each([
      ['Basic with the key as password', (k: string) => `Basic ${Buffer.from(`admin:${k}`).toString('base64')}`],
      ['Basic with the bare key', (k: string) => `Basic ${k}`],
      ['the key without a scheme', (k: string) => k],
      ['Bearer without a key', () => 'Bearer'],
      ['Bearer and spaces only', () => 'Bearer    '],
      ['Bearer glued to the key', (k: string) => `Bearer${k}`],
      ['Bearer with two tokens', (k: string) => `Bearer ${k} ${k}`],
      ['Token scheme', (k: string) => `Token ${k}`],
      ['Bearer with a truncated key', (k: string) => `Bearer ${k.slice(0, -1)}`],
      ['Bearer with an oversized key', (k: string) => `Bearer ${k}${'A'.repeat(600)}`],
    ])('refuses %s with 401', async (_name, header) => {
      const res = await stack.request('GET', '/v1/api-keys', { headers: { authorization: header(stack.adminKey) } });
      await expectProblem(res, 401);
    });

    it('accepts the bearer scheme case-insensitively (RFC 9110)', async () => {
      const res = await stack.request('GET', '/v1/api-keys', { headers: { authorization: `bearer ${stack.adminKey}` } });
      expect(res.status).toBe(200);
    });

    it.each(['api_key', 'apikey', 'apiKey', 'access_token', 'token', 'key'])('never authenticates a key in the query string (?%s=)', async (name) => {
      const url = `/v1/api-keys?${name}=${encodeURIComponent(stack.adminKey)}`;
      const res = await stack.request('GET', url);
      expect(res.status).not.toBe(200);
      const body = await expectProblem(res, res.status);
      expect([400, 401]).toContain(body.status);
      expect(JSON.stringify(body)).not.toContain(stack.adminKey);
    });

    it('refuses a request that carries a key in the query string even with a valid header', async () => {
      const res = await stack.request('GET', `/v1/api-keys?api_key=${encodeURIComponent(stack.adminKey)}`, { key: stack.adminKey });
      expect(res.status).not.toBe(200);
      await expectProblem(res, res.status);
    });

    it.each(['/v1/api-keys/', '/v1//api-keys', '//v1/api-keys', '/v1/./api-keys', '/v1/x/../api-keys', '/v1/%61pi-keys', '/V1/api-keys'])(
      'does not bypass authentication through the path variant %s',
      async (path) => {
        const res = await stack.request('GET', path);
        expect([401, 404], `${path} answered ${res.status}`).toContain(res.status);
      },
    );
  });

  describe('API key management', () => {
    it('creates a key: 201 {id, key}, and the key works at once', async () => {
      const res = await stack.request('POST', '/v1/api-keys', { key: stack.adminKey, body: { name: 'ci ops', role: 'ops' } });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
      const body = (await res.json()) as { id: string; key: string };
      expect(Object.keys(body).sort()).toEqual(['id', 'key']);
      expect(typeof body.id).toBe('string');
      expect(typeof body.key).toBe('string');
      expect(body.key.length).toBeGreaterThanOrEqual(32);
      expect(body.key).not.toContain(body.id);
      remember(body.key);
      expect((await stack.request('GET', '/v1/rejects', { key: body.key })).status).toBe(200);
      await expectProblem(await stack.request('GET', '/v1/api-keys', { key: body.key }), 403);
    });

    it('creates a partner key bound to its partner', async () => {
      const res = await stack.request('POST', '/v1/api-keys', { key: stack.adminKey, body: { name: 'acme portal', role: 'partner', partnerId: 'P-42' } });
      expect(res.status).toBe(201);
      const created = (await res.json()) as { id: string; key: string };
      remember(created.key);
      const principal = await stack.deps.apiKeys.authenticate(created.key);
      expect(principal).toMatchObject({ keyId: created.id, role: 'partner', partnerId: 'P-42' });
      const list = (await (await stack.request('GET', '/v1/api-keys', { key: stack.adminKey })).json()) as { items: Array<Record<string, unknown>> };
      expect(list.items.find((k) => k.id === created.id)).toMatchObject({ name: 'acme portal', role: 'partner', partnerId: 'P-42' });
    });

    it('requires partnerId for role partner', async () => {
      const body = await expectProblem(await stack.request('POST', '/v1/api-keys', { key: stack.adminKey, body: { name: 'no partner', role: 'partner' } }), 400);
      expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'partnerId' })]));
    });

    it.each(['admin', 'ops', 'integration'] as const)('refuses partnerId for role %s', async (role) => {
      const body = await expectProblem(await stack.request('POST', '/v1/api-keys', { key: stack.adminKey, body: { name: 'bound', role, partnerId: 'P-1' } }), 400);
      expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'partnerId' })]));
    });

    it.each([
      ['an unknown role', { name: 'x', role: 'superuser' }, 'role'],
      ['a missing name', { role: 'ops' }, 'name'],
      ['an invalid partnerId', { name: 'x', role: 'partner', partnerId: 'bad id!' }, 'partnerId'],
      ['a caller-chosen secret', { name: 'x', role: 'ops', key: 'my-own-secret-value' }, 'key'],
    ])('refuses %s with a validation problem naming the field', async (_name, input, field) => {
      const body = await expectProblem(await stack.request('POST', '/v1/api-keys', { key: stack.adminKey, body: input }), 400);
      expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: field, message: expect.any(String) })]));
    });

    it('answers malformed JSON with a 400 problem', async () => {
      await expectProblem(await stack.request('POST', '/v1/api-keys', { key: stack.adminKey, rawBody: '{"name": ', headers: { 'content-type': 'application/json' } }), 400);
    });

    it('creates no key for a refused request', async () => {
      const before = await stack.deps.apiKeys.list();
      await stack.request('POST', '/v1/api-keys', { key: stack.adminKey, body: { name: 'refused', role: 'ops', partnerId: 'P-1' } });
      await stack.request('POST', '/v1/api-keys', { key: keys.ops, body: { name: 'by ops', role: 'admin' } });
      const after = await stack.deps.apiKeys.list();
      expect(after.length).toBe(before.length);
      expect(after.some((k) => k.name === 'refused' || k.name === 'by ops')).toBe(false);
    });

    it('shows the secret once: listing carries no secret, no hash, and new keys differ', async () => {
      const a = (await (await stack.request('POST', '/v1/api-keys', { key: stack.adminKey, body: { name: 'twin', role: 'integration' } })).json()) as { id: string; key: string };
      const b = (await (await stack.request('POST', '/v1/api-keys', { key: stack.adminKey, body: { name: 'twin', role: 'integration' } })).json()) as { id: string; key: string };
      remember(a.key);
      remember(b.key);
      expect(a.key).not.toBe(b.key);
      expect(a.id).not.toBe(b.id);

      const res = await stack.request('GET', '/v1/api-keys', { key: stack.adminKey });
      expect(res.status).toBe(200);
      const text = await res.text();
      const list = JSON.parse(text) as { items: Array<Record<string, unknown>> };
      expect(list.items.map((k) => k.id)).toEqual(expect.arrayContaining([a.id, b.id]));
      for (const item of list.items) {
        for (const field of Object.keys(item)) expect(field).not.toMatch(/secret|hash|^key$|token|password/i);
        expect(item).toEqual(expect.objectContaining({ id: expect.any(String), name: expect.any(String), role: expect.any(String), createdAt: expect.any(String) }));
      }
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(sha256(secret));
      }
    });

    it('stores only a hash of the secret in DynamoDB', async () => {
      const created = (await (await stack.request('POST', '/v1/api-keys', { key: stack.adminKey, body: { name: 'stored', role: 'ops' } })).json()) as { id: string; key: string };
      remember(created.key);
      const table = stack.config.tables.apiKeys;
      const { Item } = await stack.clients.ddb.send(new GetCommand({ TableName: table, Key: { keyId: created.id }, ConsistentRead: true }));
      expect(Item).toBeDefined();
      expect(Item!.keyHash).toBe(sha256(created.key));
      expect(JSON.stringify(Item)).not.toContain(created.key);

      const scan = await stack.clients.ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
      expect((scan.Items ?? []).length).toBeGreaterThan(1);
      const everything = JSON.stringify(scan.Items);
      for (const secret of secrets) expect(everything).not.toContain(secret);
    });

    it('revokes a key effective on the very next request', async () => {
      const created = (await (await stack.request('POST', '/v1/api-keys', { key: stack.adminKey, body: { name: 'to revoke', role: 'ops' } })).json()) as { id: string; key: string };
      remember(created.key);
      expect((await stack.request('GET', '/v1/rejects', { key: created.key })).status).toBe(200);
      const del = await stack.request('DELETE', `/v1/api-keys/${encodeURIComponent(created.id)}`, { key: stack.adminKey });
      expect(del.status).toBe(204);
      await expectProblem(await stack.request('GET', '/v1/rejects', { key: created.key }), 401);
      const list = (await (await stack.request('GET', '/v1/api-keys', { key: stack.adminKey })).json()) as { items: Array<Record<string, unknown>> };
      expect(list.items.find((k) => k.id === created.id)?.revokedAt).toEqual(expect.any(String));
    });

    it('answers 404 for revoking an unknown key', async () => {
      await expectProblem(await stack.request('DELETE', '/v1/api-keys/key_doesnotexist00000000', { key: stack.adminKey }), 404);
    });
  });

  describe('ADMIN_API_KEY bootstrap', () => {
    it('is idempotent and re-activates a revoked bootstrap key', async () => {
      const secret = remember(`bootstrap-${randomBytes(24).toString('hex')}`);
      const countOf = async (id: string): Promise<number> => (await stack.deps.apiKeys.list()).filter((k) => k.id === id).length;

      const first = await stack.deps.apiKeys.ensureAdminKey(secret);
      const second = await stack.deps.apiKeys.ensureAdminKey(secret);
      expect(second).toBe(first);
      expect(await countOf(first)).toBe(1);
      expect((await stack.request('GET', '/v1/api-keys', { key: secret })).status).toBe(200);

      expect((await stack.request('DELETE', `/v1/api-keys/${first}`, { key: stack.adminKey })).status).toBe(204);
      await expectProblem(await stack.request('GET', '/v1/api-keys', { key: secret }), 401);

      const third = await stack.deps.apiKeys.ensureAdminKey(secret);
      expect(third).toBe(first);
      expect(await countOf(first)).toBe(1);
      const view = (await stack.deps.apiKeys.list()).find((k) => k.id === first);
      expect(view).toMatchObject({ role: 'admin' });
      expect(view?.revokedAt).toBeUndefined();
      expect((await stack.request('GET', '/v1/api-keys', { key: secret })).status).toBe(200);
    });
  });

  describe('errors', () => {
    it('answers an unknown /v1 route with a valid key with a 404 problem', async () => {
      await expectProblem(await stack.request('GET', '/v1/no-such-thing', { key: stack.adminKey }), 404);
    });

    it('answers an unknown method on a known /v1 path with a 404 or 405 problem', async () => {
      const res = await stack.request('PUT', '/v1/api-keys', { key: stack.adminKey, body: {} });
      expect([404, 405]).toContain(res.status);
      await expectProblem(res, res.status);
    });

    it('answers an unknown route outside /v1 with a 404 problem', async () => {
      await expectProblem(await stack.request('GET', '/no-such-page'), 404);
    });

    it('answers a body over the limit with a 413 problem', async () => {
      const big = `[${'"x",'.repeat(2_700_000)}"x"]`; // ~10.8 MB
      await expectProblem(await stack.request('POST', '/v1/partners', { key: stack.adminKey, rawBody: big, headers: { 'content-type': 'application/json' } }), 413);
    });

    it('answers an unexpected error with a generic 500 that reveals nothing, and logs it', async () => {
      const failing = Object.assign(Object.create(stack.deps.records) as RecordStore, {
        getVersions: async (): Promise<never> => {
          throw new Error('secret internals at /srv/db password=hunter2');
        },
      });
      const app = createApp({ ...stack.deps, records: failing });
      const partner = { partnerId: 'P-500', name: 'Crash', tier: 'gold', region: 'NA', segment: 'SMB', joinedAt: '2024-01-01', status: 'active' };
      const res = await app.request('/v1/partners', {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify([partner]),
      });
      const text = await res.clone().text();
      const body = await expectProblem(res, 500);
      expect(text).not.toContain('secret internals');
      expect(text).not.toContain('hunter2');
      expect(text).not.toMatch(/\bat .*\.[jt]s:\d+/); // no stack trace
      expect(body.errors).toBeUndefined();
      expect(stack.logLines.some((line) => line.includes('"level":"error"') && line.includes('secret internals'))).toBe(true);
    });
  });

  // Runs last (vitest keeps file order): everything above has had the chance to log.
  describe('logs', () => {
    it('never carry a secret used in this file', () => {
      expect(secrets.size).toBeGreaterThan(5);
      expect(stack.logLines.length).toBeGreaterThan(CASES.length);
      expect(stack.logLines.some((l) => l.includes('"status":401'))).toBe(true);
      for (const line of stack.logLines) {
        for (const secret of secrets) expect(line.includes(secret), `a log line carries a secret: ${line.slice(0, 200)}`).toBe(false);
      }
    });
  });
});
