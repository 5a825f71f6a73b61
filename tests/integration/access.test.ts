import { spawn } from 'node:child_process';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createApp, RESOURCES } from '../../functions/app/app';
import { authenticate, authorize } from '../../functions/app/auth';
import { DASHBOARD_ROUTES } from '../../functions/app/dashboard';
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

// The comparison of key hashes is watched (and passed through): it must be timingSafeEqual, every time.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
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

    it('serves nothing outside /v1 (where there is no authentication) but reads and the dashboard forms', () => {
      // The dashboard's forms check a session and a CSRF token instead (tests/browser/dashboard-access.test.ts).
      const forms = new Set(DASHBOARD_ROUTES.filter((r) => r.method === 'post').map((r) => `POST ${r.path}`));
      const outside = createApp(stack.deps).routes.filter((r) => r.method !== 'ALL' && r.path !== '/v1' && !r.path.startsWith('/v1/') && !forms.has(`${r.method.toUpperCase()} ${r.path}`));
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

  describe('keys in the query string, for every route of the table', () => {
    /** Spellings a client might use; all are refused, none is ever read as a credential. */
    const QUERY_NAMES = ['api_key', 'apiKey', 'API_KEY', 'X-Api-Key', 'access_token', 'token', 'key', 'Authorization', 'bearer'];
    const routes = RESOURCES.flatMap((resource) =>
      resource.routes.map((route) => ({ label: `${route.method.toUpperCase()} ${fullPath(resource, route)}`, method: route.method.toUpperCase(), path: concretePath(resource, route, OWN_PARTNER), hasBody: !!route.body })),
    );

    it.each(routes)('$label: a key in the query string is never accepted, with or without a header', async (route) => {
      const body = route.hasBody ? { rawBody: '[]', headers: { 'content-type': 'application/json' } } : {};
      for (const name of QUERY_NAMES) {
        const url = `${route.path}?${encodeURIComponent(name)}=${encodeURIComponent(keys.admin)}`;
        const alone = await stack.request(route.method, url, body);
        const problem = await expectProblem(alone, alone.status);
        expect([400, 401], `${name}: ${JSON.stringify(problem)}`).toContain(alone.status);
        expect(JSON.stringify(problem)).not.toContain(keys.admin);
        // Next to a valid header it is refused too: a key in a URL ends up in proxy and access logs.
        await expectProblem(await stack.request(route.method, url, { key: keys.admin, ...body }), 400);
      }
    });

    it('does not take a key from other headers or a cookie either', async () => {
      for (const headers of [{ 'x-api-key': keys.admin }, { 'api-key': keys.admin }, { cookie: `api_key=${keys.admin}` }, { 'proxy-authorization': `Bearer ${keys.admin}` }] as Record<string, string>[]) {
        await expectProblem(await stack.request('GET', '/v1/api-keys', { headers }), 401);
      }
    });
  });

  describe('key comparison', () => {
    const compare = vi.mocked(timingSafeEqual);

    it('compares the whole hash with timingSafeEqual, for unknown, revoked and valid keys alike', async () => {
      for (const [secret, ok] of [
        [randomSecret(), false],
        [keys['revoked key'], false],
        [keys.ops, true],
      ] as const) {
        compare.mockClear();
        const outcome = await stack.deps.apiKeys.authenticate(secret).then(
          () => true,
          () => false,
        );
        expect(outcome).toBe(ok);
        expect(compare).toHaveBeenCalledTimes(1);
        const [a, b] = compare.mock.calls[0]!;
        // Two SHA-256 digests: the same length whatever was presented, so nothing is learnt from it.
        expect([a.byteLength, b.byteLength]).toEqual([32, 32]);
      }
    });

    it('refuses a key whose id matches a stored key but whose hash differs in the last digit', async () => {
      const secret = remember(randomSecret());
      const hash = sha256(secret);
      const forged = `${hash.slice(0, -1)}${hash.endsWith('0') ? '1' : '0'}`;
      await stack.clients.ddb.send(
        new PutCommand({ TableName: stack.config.tables.apiKeys, Item: { keyId: `key_${hash.slice(0, 20)}`, keyHash: forged, name: 'forged', role: 'admin', createdAt: new Date().toISOString() } }),
      );
      await expectProblem(await stack.request('GET', '/v1/api-keys', { key: secret }), 401);
    });

    it.each([
      ['the prefix alone', () => 'psk_'],
      ['a key over 512 characters', () => `psk_${'A'.repeat(600)}`],
      ['the key in upper case', () => keys.admin.toUpperCase()],
      ['the key without its prefix', () => keys.admin.slice(4)],
      ['the key with a Latin-1 character added', () => `${keys.admin}ÿ`],
      ['the key doubled', () => `${keys.admin}${keys.admin}`],
      ['the key id instead of the key', () => `key_${sha256(keys.admin).slice(0, 20)}`],
      ['the key hash instead of the key', () => sha256(keys.admin)],
    ])('refuses %s with 401', async (_name, key) => {
      await expectProblem(await stack.request('GET', '/v1/api-keys', { key: key() }), 401);
    });
  });

  describe('a full run of the server', () => {
    it('never writes a key to its output, whatever the requests carry', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'access-run-'));
      const adminSecret = `bootstrap-${randomBytes(24).toString('hex')}`;
      const secrets = [adminSecret];
      const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', 'functions/local/start.ts', '--port', '0', '--data-dir', dataDir, '--no-demo'], {
        cwd: ROOT,
        env: { ...process.env, ADMIN_API_KEY: adminSecret, LOG_LEVEL: 'debug', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        const url = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`not ready:\n${output}`)), 60_000);
          child.stdout.on('data', () => {
            const m = /listening on (http:\/\/\S+)/.exec(output);
            if (m) {
              clearTimeout(timer);
              resolve(m[1]!.replace('localhost', '127.0.0.1'));
            }
          });
          void exited.then(() => reject(new Error(`exited:\n${output}`)));
        });
        let sent = 0;
        const call = async (method: string, path: string, init: { key?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Response> => {
          sent++;
          const res = await fetch(`${url}${path}`, {
            method,
            headers: { ...(init.key ? { authorization: `Bearer ${init.key}` } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
            ...(init.body !== undefined ? { body: init.body } : {}),
            redirect: 'manual',
          });
          await res.arrayBuffer();
          return res;
        };
        const create = async (body: Record<string, string>): Promise<{ id: string; key: string }> => {
          const res = await fetch(`${url}/v1/api-keys`, { method: 'POST', headers: { authorization: `Bearer ${adminSecret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
          expect(res.status).toBe(201);
          const created = (await res.json()) as { id: string; key: string };
          secrets.push(created.key);
          return created;
        };
        const callers: Record<string, string> = {
          admin: adminSecret,
          ops: (await create({ name: 'run ops', role: 'ops' })).key,
          integration: (await create({ name: 'run integration', role: 'integration' })).key,
          partner: (await create({ name: 'run partner', role: 'partner', partnerId: OWN_PARTNER })).key,
        };
        const revoked = await create({ name: 'run revoked', role: 'ops' });
        expect((await call('DELETE', `/v1/api-keys/${revoked.id}`, { key: adminSecret })).status).toBe(204);
        callers.revoked = revoked.key;
        callers.unknown = randomSecret();
        secrets.push(callers.unknown);

        // Every route, as every caller; bodies that are valid for ingest and malformed elsewhere.
        const record = JSON.stringify([{ partnerId: OWN_PARTNER, name: 'Full run', tier: 'gold', region: 'NA', segment: 'SMB', joinedAt: '2024-01-01', status: 'active' }]);
        for (const resource of RESOURCES) {
          for (const route of resource.routes) {
            const path = concretePath(resource, route, OWN_PARTNER);
            const body = route.body ? (route.body.contentTypes.includes('application/x-ndjson') ? record : '{"probe": ') : undefined;
            for (const key of Object.values(callers)) await call(route.method.toUpperCase(), path, { key, ...(body !== undefined ? { body } : {}) });
            await call(route.method.toUpperCase(), `${path}?api_key=${encodeURIComponent(adminSecret)}`);
            await call(route.method.toUpperCase(), `${path}?token=${encodeURIComponent(callers.ops!)}`, { key: callers.ops! });
          }
        }
        // Malformed headers, a train job the worker runs (and fails: no data), the dashboard's sign-in form.
        for (const header of [`Basic ${Buffer.from(`admin:${adminSecret}`).toString('base64')}`, adminSecret, `Bearer ${adminSecret} extra`, `Token ${callers.ops}`]) {
          await call('GET', '/v1/api-keys', { headers: { authorization: header } });
        }
        const queued = await fetch(`${url}/v1/models/churn/train`, { method: 'POST', headers: { authorization: `Bearer ${callers.ops}`, 'content-type': 'application/json' }, body: '{}' });
        expect(queued.status).toBe(202);
        const { jobId } = (await queued.json()) as { jobId: string };
        let status = 'queued';
        for (let i = 0; i < 150 && status !== 'failed' && status !== 'succeeded'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          status = ((await (await fetch(`${url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${callers.ops}` } })).json()) as { status: string }).status;
        }
        expect(status, 'the train job ran to its end (its logs are part of the run)').toMatch(/^(failed|succeeded)$/);
        for (const key of [callers.ops!, callers.revoked, 'not-a-key']) {
          await call('POST', '/sign-in', { body: new URLSearchParams({ key }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url } });
        }
        expect(sent).toBeGreaterThan(RESOURCES.length * 7);
      } finally {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
        rmSync(dataDir, { recursive: true, force: true });
      }
      // The run logged what it did (requests, the job) and never a secret, nor one's hash.
      expect(output).toContain('"message":"request"');
      expect(output.split('\n').length).toBeGreaterThan(RESOURCES.length * 7);
      for (const secret of secrets) {
        expect(output.includes(secret), 'a key reached the server output').toBe(false);
        expect(output.includes(sha256(secret)), "a key's hash reached the server output").toBe(false);
      }
    }, 120_000);
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
