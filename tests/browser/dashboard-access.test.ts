import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../functions/app/app';
import { DASHBOARD_ROUTES, type DashboardRoute } from '../../functions/app/dashboard';
import { sessionCookieValue } from '../../functions/app/dashboard/session';
import { sha256Hex } from '../../data/util/hash';
import type { Role } from '../../data/schemas/api-key';
import { startTestStack, type TestStack } from '../helpers/test-stack';

/*
 * The dashboard over HTTP, without a browser: who may open which page (a matrix generated from
 * DASHBOARD_ROUTES and the API routes each page mirrors, so a new page is covered without touching
 * this file), sessions (cookie attributes, forgery, expiry, revocation), CSRF on every form, and
 * keys never reaching a URL, a cookie or a log line. The browser tests are in dashboard.test.ts.
 */

const OWN = 'P-DASH-OWN';
const OTHER = 'P-DASH-OTHER';

type Caller = 'no session' | 'forged cookie' | 'revoked key' | 'admin' | 'ops' | 'integration' | 'partner-own' | 'partner-other';
interface Case {
  name: string;
  route: DashboardRoute;
  path: string;
  caller: Caller;
  expected: 'sign-in' | 403 | 'allowed';
}

const concrete = (route: DashboardRoute, partner: string): string =>
  route.path.replace(':id', encodeURIComponent(partner)).replace(':model', 'churn').replace(':version', '20200101-000000-none');

/** The contract's rule, written out again here: a role may open a page when every API route behind it allows that role (and, for a partner key, its own partner). */
function expectedFor(route: DashboardRoute, role: Role, partnerOwn: boolean): 403 | 'allowed' {
  if (route.access === 'public') return 'allowed';
  const ok = route.access.every((api) => api.roles.includes(role) && (role !== 'partner' || !api.partnerParam || partnerOwn));
  return ok ? 'allowed' : 403;
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  for (const route of DASHBOARD_ROUTES.filter((r) => r.access !== 'public')) {
    const label = `${route.method.toUpperCase()} ${route.path}`;
    const add = (caller: Caller, expected: Case['expected'], partner = OWN): void => {
      cases.push({ name: `${label} as ${caller} → ${expected}`, route, path: concrete(route, partner), caller, expected });
    };
    for (const caller of ['no session', 'forged cookie', 'revoked key'] as const) add(caller, 'sign-in');
    for (const role of ['admin', 'ops', 'integration'] as const) add(role, expectedFor(route, role, false));
    add('partner-own', expectedFor(route, 'partner', true));
    if (route.path.includes(':id')) add('partner-other', expectedFor(route, 'partner', false), OTHER);
  }
  return cases;
}
const CASES = buildCases();

interface Session {
  cookie: string;
  csrf: string;
  setCookie: string[];
  location: string;
}

const hiddenValue = (html: string, name: string): string | undefined => new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html)?.[1];
const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const FORM = 'application/x-www-form-urlencoded';
/** The same text with its first character changed (a token or signature that is almost right). */
const flip = (text: string): string => `${text[0] === 'A' ? 'B' : 'A'}${text.slice(1)}`;

describe('dashboard access, sessions and CSRF', () => {
  let stack: TestStack;
  const secrets = new Set<string>();
  const cookies = new Set<string>();
  const sessions = {} as Record<'admin' | 'ops' | 'integration' | 'partner-own' | 'revoked key', Session>;
  let keys: Record<'ops' | 'integration' | 'partner', string>;

  const get = (path: string, cookie?: string, headers: Record<string, string> = {}): Promise<Response> =>
    Promise.resolve(stack.app.request(path, { headers: { ...(cookie ? { cookie } : {}), ...headers } }));
  const post = (path: string, body: string, cookie?: string, headers: Record<string, string> = {}): Promise<Response> =>
    Promise.resolve(stack.app.request(path, { method: 'POST', body, headers: { 'content-type': FORM, ...(cookie ? { cookie } : {}), ...headers } }));

  /** The sign-in form's token and its pre-session cookie. */
  async function signInForm(headers: Record<string, string> = {}): Promise<{ token: string; cookie: string; setCookie: string[] }> {
    const res = await get('/', undefined, headers);
    expect(res.status).toBe(200);
    const setCookie = res.headers.getSetCookie();
    const pre = setCookie.map((c) => /^((?:__Host-)?ps_signin)=([^;]+)/.exec(c)).find(Boolean);
    expect(pre, setCookie.join('\n')).toBeTruthy();
    const token = hiddenValue(await res.text(), '_csrf');
    expect(token).toBe(pre![2]);
    return { token: token!, cookie: `${pre![1]}=${pre![2]}`, setCookie };
  }

  async function signIn(key: string, headers: Record<string, string> = {}): Promise<Session> {
    const pre = await signInForm(headers);
    const res = await post('/sign-in', form({ key, _csrf: pre.token }), pre.cookie, headers);
    expect(res.status, await res.clone().text()).toBe(303);
    const setCookie = res.headers.getSetCookie();
    const session = setCookie.map((c) => /^((?:__Host-)?ps_session)=([^;]+)/.exec(c)).find(Boolean);
    expect(session, setCookie.join('\n')).toBeTruthy();
    const cookie = `${session![1]}=${session![2]}`;
    cookies.add(session![2]!);
    const location = res.headers.get('location')!;
    const home = await get(location, cookie, headers);
    expect(home.status).toBe(200);
    const csrf = hiddenValue(await home.text(), '_csrf');
    expect(csrf).toBeTruthy();
    return { cookie, csrf: csrf!, setCookie, location };
  }

  beforeAll(async () => {
    stack = await startTestStack();
    const ingest = await stack.request('POST', '/v1/partners', {
      key: stack.adminKey,
      body: [OWN, OTHER].map((partnerId) => ({ partnerId, name: `Partner ${partnerId}`, tier: 'gold', region: 'EMEA', segment: 'SMB', joinedAt: '2024-01-15', status: 'active' })),
    });
    expect(ingest.status).toBe(200);
    keys = { ops: await stack.keyFor('ops'), integration: await stack.keyFor('integration'), partner: await stack.keyFor('partner', OWN) };
    for (const k of [stack.adminKey, ...Object.values(keys)]) secrets.add(k);
    sessions.admin = await signIn(stack.adminKey);
    sessions.ops = await signIn(keys.ops);
    sessions.integration = await signIn(keys.integration);
    sessions['partner-own'] = await signIn(keys.partner);
    const revoked = await stack.deps.apiKeys.create({ name: 'dashboard revoked', role: 'admin' });
    secrets.add(revoked.key);
    sessions['revoked key'] = await signIn(revoked.key);
    await stack.deps.apiKeys.revoke(revoked.id);
  }, 60_000);
  afterAll(async () => stack?.close());

  describe('page table', () => {
    it('mirrors only routes of the API route table, and keeps the forms few and known', () => {
      const apiRoutes = new Set(RESOURCES.flatMap((r) => r.routes));
      for (const route of DASHBOARD_ROUTES) {
        if (route.access === 'public') continue;
        for (const api of route.access) expect(apiRoutes.has(api), `${route.path} mirrors a route that is not in RESOURCES`).toBe(true);
      }
      expect(DASHBOARD_ROUTES.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.path}`).sort()).toEqual(['get /', 'get /assets/dashboard.css', 'get /assets/favicon.svg', 'post /sign-in']);
      // Every page that shows data mirrors at least one API route (only sign-out needs just a session).
      for (const route of DASHBOARD_ROUTES) if (route.access !== 'public' && route.path !== '/sign-out') expect(route.access.length, route.path).toBeGreaterThan(0);
    });

    it('has a case for every page and caller', () => {
      const guarded = DASHBOARD_ROUTES.filter((r) => r.access !== 'public');
      expect(CASES).toHaveLength(guarded.length * 7 + guarded.filter((r) => r.path.includes(':id')).length);
      // The matrix is not vacuous: some pages refuse partner keys, one admits them, some refuse integration keys.
      expect(CASES.some((c) => c.caller === 'partner-own' && c.expected === 403)).toBe(true);
      expect(CASES.some((c) => c.caller === 'partner-own' && c.expected === 'allowed' && c.route.path !== '/sign-out')).toBe(true);
      expect(CASES.some((c) => c.caller === 'integration' && c.expected === 403)).toBe(true);
    });
  });

  describe('matrix generated from DASHBOARD_ROUTES', () => {
    it.each(CASES)('$name', async (c) => {
      const session = c.caller === 'no session' ? undefined : c.caller === 'forged cookie' ? undefined : c.caller === 'partner-other' ? sessions['partner-own'] : sessions[c.caller];
      const cookie =
        c.caller === 'forged cookie'
          ? // A well-formed cookie for the admin key, signed with something other than its stored hash.
            `ps_session=${sessionCookieValue(sessions.admin.cookie.split('=')[1]!.split('.')[0]!, sha256Hex('not the key hash'), Math.floor(Date.now() / 1000) + 3600)}`
          : session?.cookie;
      const res = c.route.method === 'get' ? await get(c.path, cookie) : await post(c.path, form({ _csrf: session?.csrf ?? '' }), cookie);
      const text = await res.text();
      if (c.expected === 'sign-in') {
        expect(res.status, text).toBe(303);
        expect(res.headers.get('location')).toMatch(/^\/(\?|$)/);
        expect(res.headers.get('location')).not.toContain('signedOut');
      } else if (c.expected === 403) {
        expect(res.status, text).toBe(403);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(text).toContain('role="alert"');
      } else {
        expect([401, 403, 500], text.slice(0, 500)).not.toContain(res.status);
        if (res.status === 303) expect(res.headers.get('location')).not.toMatch(/^\/(\?next|\?expired|$)/);
      }
    });
  });

  describe('sessions', () => {
    it('sets an HttpOnly, SameSite=Strict, path-wide cookie that holds neither the key nor its hash', () => {
      const line = sessions.ops.setCookie.find((c) => c.startsWith('ps_session='))!;
      expect(line).toMatch(/;\s*HttpOnly/i);
      expect(line).toMatch(/;\s*SameSite=Strict/i);
      expect(line).toMatch(/;\s*Path=\//i);
      expect(line).toMatch(/;\s*Max-Age=\d+/i);
      expect(line).not.toMatch(/;\s*Secure/i); // plain http here; see the https case
      expect(line).not.toContain(keys.ops);
      expect(line).not.toContain(sha256Hex(keys.ops));
      expect(sessions.ops.location).toBe('/churn-risk');
      expect(sessions['partner-own'].location).toBe(`/partners/${OWN}/benchmarks`);
    });

    it('marks the cookies Secure with the __Host- prefix when served over https', async () => {
      const session = await signIn(keys.ops, { 'x-forwarded-proto': 'https' });
      const line = session.setCookie.find((c) => c.startsWith('__Host-ps_session='))!;
      expect(line).toMatch(/;\s*Secure/i);
      expect(line).toMatch(/;\s*HttpOnly/i);
      expect(line).toMatch(/;\s*SameSite=Strict/i);
      expect(line).not.toMatch(/Domain=/i);
    });

    it('ends an expired or tampered session', async () => {
      const [keyId, expiry, signature] = sessions.ops.cookie.split('=')[1]!.split('.');
      const tampered = [`ps_session=${keyId}.${Number(expiry) + 3600}.${signature}`, `ps_session=${keyId}.${expiry}.${flip(signature!)}`, 'ps_session=garbage'];
      const keyHash = sha256Hex(keys.ops);
      const expired = `ps_session=${sessionCookieValue(keyId!, keyHash, Math.floor(Date.now() / 1000) - 1)}`;
      // The same construction with a live expiry is accepted: the refusals above are about expiry and the signature.
      const valid = `ps_session=${sessionCookieValue(keyId!, keyHash, Math.floor(Date.now() / 1000) + 60)}`;
      expect((await get('/churn-risk', valid)).status).toBe(200);
      for (const cookie of [...tampered, expired]) {
        const res = await get('/churn-risk', cookie);
        expect(res.status, cookie).toBe(303);
        expect(res.headers.get('location')).toMatch(/^\/\?expired/);
        expect(res.headers.getSetCookie().join('\n')).toMatch(/ps_session=;/);
      }
    });

    it('ends every session of a key the moment the key is revoked', async () => {
      const created = await stack.deps.apiKeys.create({ name: 'revoke me', role: 'ops' });
      secrets.add(created.key);
      const session = await signIn(created.key);
      expect((await get('/models', session.cookie)).status).toBe(200);
      await stack.request('DELETE', `/v1/api-keys/${created.id}`, { key: stack.adminKey });
      const res = await get('/models', session.cookie);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toMatch(/^\/\?expired/);
    });

    it('refuses a wrong key, a key in the query string, and a sign-in form from elsewhere', async () => {
      const pre = await signInForm();
      const wrong = await post('/sign-in', form({ key: 'psk_not-a-key', _csrf: pre.token }), pre.cookie);
      expect(wrong.status).toBe(401);
      expect(wrong.headers.getSetCookie().join('\n')).not.toMatch(/ps_session=[^;]/);
      expect(await wrong.text()).toContain('unknown or has been revoked');
      // The key is read from the form body only.
      const inQuery = await post(`/sign-in?key=${encodeURIComponent(keys.ops)}`, form({ _csrf: pre.token }), pre.cookie);
      expect(inQuery.status).toBe(401);
      // No pre-session token (a form posted by another page): refused before the key is even looked at.
      const noToken = await post('/sign-in', form({ key: keys.ops }), pre.cookie);
      expect(noToken.status).toBe(403);
      expect(noToken.headers.getSetCookie().join('\n')).not.toMatch(/ps_session=[^;]/);
      const otherToken = await post('/sign-in', form({ key: keys.ops, _csrf: 'x'.repeat(43) }), pre.cookie);
      expect(otherToken.status).toBe(403);
      const crossSite = await post('/sign-in', form({ key: keys.ops, _csrf: pre.token }), pre.cookie, { 'sec-fetch-site': 'cross-site' });
      expect(crossSite.status).toBe(403);
    });

    it('refuses an oversized form before reading it', async () => {
      const pre = await signInForm();
      const res = await post('/sign-in', form({ key: 'x'.repeat(20_000), _csrf: pre.token }), pre.cookie);
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    });

    it('returns to the page asked for after signing in, never to another site', async () => {
      const redirected = await get('/program?from=2025-01-01');
      expect(redirected.status).toBe(303);
      const location = redirected.headers.get('location')!;
      expect(location).toBe(`/?next=${encodeURIComponent('/program?from=2025-01-01')}`);
      const pre = await signInForm();
      const back = await post('/sign-in', form({ key: keys.ops, _csrf: pre.token, next: '/program?from=2025-01-01' }), pre.cookie);
      expect(back.headers.get('location')).toBe('/program?from=2025-01-01');
      for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
        const res = await post('/sign-in', form({ key: keys.ops, _csrf: pre.token, next }), pre.cookie);
        expect(res.headers.get('location'), next).toBe('/churn-risk');
      }
    });
  });

  describe('CSRF', () => {
    it('refuses a form without the token, with another session’s token, or sent from another site', async () => {
      const ops = sessions.ops;
      const promote = '/models/churn/versions/20200101-000000-none/promote';
      for (const [body, headers] of [
        [form({}), {}],
        [form({ _csrf: sessions.admin.csrf }), {}],
        [form({ _csrf: flip(ops.csrf) }), {}],
        [form({ _csrf: ops.csrf }), { 'sec-fetch-site': 'cross-site' }],
      ] as const) {
        const res = await post(promote, body, ops.cookie, headers);
        expect(res.status, `${body} ${JSON.stringify(headers)}`).toBe(403);
      }
      // With its own token the same request gets through to the (unknown) version.
      expect((await post(promote, form({ _csrf: ops.csrf }), ops.cookie, { 'sec-fetch-site': 'same-origin' })).status).toBe(404);
      // Signing out needs the token too; a refused sign-out leaves the session alive.
      expect((await post('/sign-out', form({}), ops.cookie)).status).toBe(403);
      expect((await get('/churn-risk', ops.cookie)).status).toBe(200);
    });

    it('puts a token in every form of every page', async () => {
      for (const path of ['/churn-risk', '/models', '/program', `/partners/${OWN}`, `/partners/${OWN}/benchmarks`]) {
        const html = await (await get(path, sessions.admin.cookie)).text();
        const forms = [...html.matchAll(/<form method="post"[^>]*>([\s\S]*?)<\/form>/g)];
        expect(forms.length, path).toBeGreaterThan(0);
        for (const f of forms) expect(f[1], path).toContain(`name="_csrf" value="${sessions.admin.csrf}"`);
      }
    });
  });

  describe('pages', () => {
    it('carry a strict content security policy and load nothing from another host', async () => {
      for (const path of ['/', '/churn-risk', '/models', '/program', `/partners/${OWN}`]) {
        const res = await get(path, path === '/' ? undefined : sessions.admin.cookie);
        const html = await res.text();
        expect(res.headers.get('content-security-policy'), path).toMatch(/default-src 'none'/);
        expect(res.headers.get('cache-control'), path).toBe('no-store');
        expect(html.match(/\b(?:https?|wss?|ftp):\/\//gi) ?? [], path).toEqual([]);
        expect(html, path).not.toMatch(/<script/i);
        expect(html, path).not.toMatch(/\sstyle=/i);
      }
      const css = await get('/assets/dashboard.css');
      expect(css.headers.get('content-type')).toMatch(/^text\/css/);
      expect((await css.text()).match(/url\(|@import|https?:/gi) ?? []).toEqual([]);
    });

    it('escapes stored text: a partner name cannot become markup', async () => {
      const name = '<img src=x onerror=alert(1)>"\'&';
      await stack.request('POST', '/v1/partners', { key: stack.adminKey, body: [{ partnerId: 'P-DASH-XSS', name, tier: 'gold', region: 'EMEA', segment: 'SMB', joinedAt: '2024-01-15', status: 'active' }] });
      const html = await (await get('/partners/P-DASH-XSS', sessions.admin.cookie)).text();
      expect(html).not.toContain('<img src=x');
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
    });

    it('explains a bad filter on the page instead of dropping it', async () => {
      const res = await get('/churn-risk?min=150&tier=gold', sessions.ops.cookie);
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html).toMatch(/Minimum churn probability: must be at most 100/);
      expect(html).toContain('value="150" aria-invalid="true"');
      const program = await get('/program?from=2025-05-01&to=2025-01-01', sessions.ops.cookie);
      expect(program.status).toBe(400);
      expect(await program.text()).toMatch(/must be before to/);
    });
  });

  it('never writes a key or a session cookie into a log line', () => {
    expect(stack.logLines.length).toBeGreaterThan(10);
    expect(stack.logLines.some((l) => l.includes('dashboard sign-in'))).toBe(true);
    for (const line of stack.logLines) {
      for (const secret of secrets) expect(line.includes(secret), `a log line carries a key: ${line.slice(0, 200)}`).toBe(false);
      for (const cookie of cookies) expect(line.includes(cookie.split('.')[2]!), `a log line carries a session: ${line.slice(0, 200)}`).toBe(false);
    }
  });
});
