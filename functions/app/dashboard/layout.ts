import type { Context } from 'hono';
import type { Principal } from '../../../data/auth/api-keys';
import type { AppEnv } from '../route-spec';
import { MIRRORS, mayUse } from './access';
import { html, type Child, type Html } from './html';
import { csrfToken, type Session } from './session';

export type DashContext = Context<AppEnv>;

/** The session of each request that has one (set by requireSession), kept beside the request rather than in the app's variables. */
const sessions = new WeakMap<Request, Session>();
export const setSession = (c: DashContext, session: Session): void => void sessions.set(c.req.raw, session);
export const sessionIfAny = (c: DashContext): Session | undefined => sessions.get(c.req.raw);

/** Strict enough that injected markup could not run or load anything: no script at all, styles and forms from this origin only. */
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export type NavKey = 'churn-risk' | 'models' | 'program' | 'benchmarks' | 'partner';

interface NavItem {
  key: NavKey;
  label: string;
  href: string;
}

/** The pages a principal may open, from the same table that guards them. */
export function navFor(principal: Principal): NavItem[] {
  const items: NavItem[] = [];
  if (mayUse(principal, MIRRORS.churnRisk)) items.push({ key: 'churn-risk', label: 'Churn risk', href: '/churn-risk' });
  if (mayUse(principal, MIRRORS.models)) items.push({ key: 'models', label: 'Models', href: '/models' });
  if (mayUse(principal, MIRRORS.program)) items.push({ key: 'program', label: 'Program', href: '/program' });
  if (principal.partnerId && mayUse(principal, MIRRORS.benchmarks, { id: principal.partnerId })) {
    items.push({ key: 'benchmarks', label: 'Your benchmarks', href: `/partners/${encodeURIComponent(principal.partnerId)}/benchmarks` });
  }
  return items;
}

/** Where a principal lands after signing in: its first page. */
export const homeOf = (principal: Principal): string => navFor(principal)[0]?.href ?? '/';

/** The hidden CSRF field of a state-changing form. */
export const csrfField = (session: Session): Html => html`<input type="hidden" name="_csrf" value="${csrfToken(session)}">`;

const MARK = html`<svg class="brand-mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><rect x="2" y="12" width="4" height="10" rx="1" fill="#9db4ee"/><rect x="10" y="7" width="4" height="15" rx="1" fill="#5b7fd6"/><rect x="18" y="2" width="4" height="20" rx="1" fill="#1d4ed8"/></svg>`;

export interface PageOptions {
  title: string;
  session?: Session;
  active?: NavKey;
  body: Child;
}

export function layout(options: PageOptions): Html {
  const { session } = options;
  const nav = session ? navFor(session.principal) : [];
  const who = session
    ? html`<div class="who"><span>Signed in: <strong>${session.principal.role}</strong>${session.principal.partnerId ? html` of ${session.principal.partnerId}` : ''} <span class="muted">(${session.principal.keyId.slice(0, 12)}…)</span></span>
        <form method="post" action="/sign-out">${csrfField(session)}<button class="btn btn-secondary btn-small" type="submit">Sign out</button></form></div>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Partner scoring</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header class="topbar"><div class="topbar-inner">
<a class="brand" href="/">${MARK}<span>Partner scoring</span></a>
${nav.length ? html`<nav aria-label="Dashboard"><ul class="nav">${nav.map((n) => html`<li><a href="${n.href}"${n.key === options.active ? html` aria-current="page"` : ''}>${n.label}</a></li>`)}</ul></nav>` : ''}
${who}
</div></header>
<main id="content" tabindex="-1">
${options.body}
</main>
<footer><p>Partner scoring service · <a href="/docs">API reference</a> · all times UTC</p></footer>
</body>
</html>`;
}

/** An HTML page with the headers every dashboard page carries. */
export function respond(c: Context, page: Html, status: 200 | 400 | 401 | 403 | 404 | 413 | 500 | 503 = 200): Response {
  return c.body(page.text, status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
  });
}

/** A field error list (from ValidationError) for the top of a form. */
export function errorSummary(errors: readonly { path: string; message: string }[], heading = 'Please correct the filters'): Html {
  if (errors.length === 0) return html``;
  return html`<div class="notice notice-error" role="alert"><strong>${heading}</strong><ul>${errors.map((e) => html`<li>${e.path}: ${e.message}</li>`)}</ul></div>`;
}

/** A churn band reads as risk, a top-performer band as likelihood. */
export const bandBadge = (band: string, kind: 'risk' | 'likelihood' = 'risk'): Html => html`<span class="badge band-${band}">${band} ${kind}</span>`;

/** The session of a page behind requireSession (set before any handler runs). */
export function sessionOf(c: DashContext): Session {
  const session = sessionIfAny(c);
  if (!session) throw new Error('dashboard handler reached without a session');
  return session;
}
