/**
 * The dashboard: server-rendered pages for the people of contract §3, served by the same app as
 * the API and calling the same core functions. The page table below is the dashboard's route
 * table: each page names the API routes it mirrors, and whoever may not call those may not open it
 * (access.ts). Sessions and CSRF: session.ts.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ForbiddenError, PayloadTooLargeError } from '../../../data/errors';
import { onError, type Problem } from '../problem';
import type { AppEnv, RouteSpec } from '../route-spec';
import { MIRRORS, pageDenial } from './access';
import { html } from './html';
import { homeOf, layout, respond, sessionIfAny, setSession, type DashContext } from './layout';
import { benchmarksPage } from './pages/benchmarks';
import { churnRiskExport, churnRiskPage } from './pages/churn-risk';
import { modelsPage, promote } from './pages/models';
import { partnerPage } from './pages/partner';
import { programPage } from './pages/program';
import { signIn, signInPage, signOut } from './pages/sign-in';
import { csrfMatches, endSession, isCrossSite, readSession } from './session';
import { DASHBOARD_CSS, FAVICON_SVG } from './styles';

export interface DashboardRoute {
  method: 'get' | 'post';
  /** Hono path; a partner-scoped page names its partner `:id`, as the API routes it mirrors do. */
  path: string;
  /**
   * 'public': no session (the sign-in form, the stylesheet). Otherwise the API routes the page
   * mirrors: a signed-in key must be allowed every one of them ([]: any signed-in key).
   */
  access: 'public' | readonly RouteSpec[];
  handler: (c: DashContext) => Response | Promise<Response>;
}

const asset =
  (body: string, contentType: string) =>
  (c: DashContext): Response =>
    c.body(body, 200, { 'content-type': contentType, 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' });

export const DASHBOARD_ROUTES: readonly DashboardRoute[] = [
  { method: 'get', path: '/', access: 'public', handler: signInPage },
  { method: 'post', path: '/sign-in', access: 'public', handler: signIn },
  { method: 'get', path: '/assets/dashboard.css', access: 'public', handler: asset(DASHBOARD_CSS, 'text/css; charset=utf-8') },
  { method: 'get', path: '/assets/favicon.svg', access: 'public', handler: asset(FAVICON_SVG, 'image/svg+xml') },
  { method: 'post', path: '/sign-out', access: [], handler: signOut },
  { method: 'get', path: '/churn-risk', access: MIRRORS.churnRisk, handler: churnRiskPage },
  { method: 'get', path: '/churn-risk/export', access: MIRRORS.churnRisk, handler: churnRiskExport },
  { method: 'get', path: '/partners/:id', access: MIRRORS.partner, handler: partnerPage },
  { method: 'get', path: '/partners/:id/benchmarks', access: MIRRORS.benchmarks, handler: benchmarksPage },
  { method: 'get', path: '/models', access: MIRRORS.models, handler: modelsPage },
  { method: 'post', path: '/models/:model/versions/:version/promote', access: MIRRORS.promote, handler: promote },
  { method: 'get', path: '/program', access: MIRRORS.program, handler: programPage },
];

/** A signed-in key, or back to the sign-in form (which returns here afterwards). */
const requireSession: MiddlewareHandler<AppEnv> = async (c, next) => {
  const hadCookie = /(?:^|;\s*)(?:__Host-)?ps_session=/.test(c.req.header('cookie') ?? '');
  const session = await readSession(c, c.get('deps').apiKeys);
  if (!session) {
    if (hadCookie) endSession(c);
    const url = new URL(c.req.url);
    const query = [hadCookie ? 'expired' : '', c.req.method === 'GET' ? `next=${encodeURIComponent(`${url.pathname}${url.search}`)}` : ''].filter(Boolean).join('&');
    return c.redirect(query ? `/?${query}` : '/', 303);
  }
  setSession(c, session);
  c.set('principal', session.principal);
  await next();
};

/** The page's API routes decide, with the API's own rule. */
const guard =
  (routes: readonly RouteSpec[]): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const denial = pageDenial(c.get('principal'), routes, (name) => c.req.param(name));
    if (denial) throw new ForbiddenError(denial);
    await next();
  };

const limitForm = bodyLimit({
  maxSize: 16 * 1024,
  onError: () => {
    throw new PayloadTooLargeError('A dashboard form is never this large.');
  },
});

const refuseCrossSite: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (isCrossSite(c)) throw new ForbiddenError('This form was sent from another site.');
  await next();
};

/** Every state-changing form of a session carries its CSRF token. */
const requireCsrf: MiddlewareHandler<AppEnv> = async (c, next) => {
  const form = await c.req.parseBody();
  const session = sessionIfAny(c);
  if (!session || !csrfMatches(session, form._csrf)) throw new ForbiddenError('This form has expired or did not come from this dashboard. Reload the page and try again.');
  await next();
};

/** Errors go through the one error path (status, logging), then are shown as a page rather than problem+json. */
async function renderError(error: Error, c: DashContext): Promise<Response> {
  const res = await onError(error, c);
  const problem = (await res.json()) as Problem;
  const session = sessionIfAny(c);
  const back = session ? homeOf(session.principal) : '/';
  const body = html`<h1>${problem.title}</h1>
<div class="notice notice-error" role="alert" id="problem"><p>${problem.detail}</p>${problem.errors?.length ? html`<ul>${problem.errors.map((e) => html`<li>${e.path}: ${e.message}</li>`)}</ul>` : ''}</div>
<p><a href="${back}">${session ? 'Back to your dashboard' : 'Sign in'}</a></p>`;
  const status = ([400, 401, 403, 404, 413, 500, 503] as const).find((s) => s === res.status) ?? 500;
  const page = respond(c, layout({ title: problem.title, ...(session ? { session } : {}), body }), status);
  const retryAfter = res.headers.get('retry-after');
  if (retryAfter) page.headers.set('retry-after', retryAfter);
  return page;
}

export function dashboardApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const route of DASHBOARD_ROUTES) {
    const chain: MiddlewareHandler<AppEnv>[] = [];
    if (route.method === 'post') chain.push(limitForm, refuseCrossSite);
    if (route.access !== 'public') chain.push(requireSession, guard(route.access));
    if (route.method === 'post' && route.access !== 'public') chain.push(requireCsrf);
    const handlers = [...chain, route.handler as MiddlewareHandler<AppEnv>] as [MiddlewareHandler<AppEnv>];
    app.on(route.method.toUpperCase(), route.path, ...handlers);
  }
  app.onError(renderError);
  return app;
}
