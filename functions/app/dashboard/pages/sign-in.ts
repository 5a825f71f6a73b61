import { UnauthorizedError } from '../../../../data/errors';
import { html, type Html } from '../html';
import { homeOf, layout, respond, sessionOf, type DashContext } from '../layout';
import { endSession, readSession, SESSION_TTL_SECONDS, signInToken, signInTokenMatches, startSession } from '../session';

/** Where to go after signing in: a path on this site only (never another host, never a scheme). */
export function safeNext(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 1024) return undefined;
  return /^\/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/.test(value) && !value.startsWith('/sign-') ? value : undefined;
}

function signInForm(c: DashContext, options: { error?: string; notice?: string; next?: string }): Html {
  const token = signInToken(c);
  return layout({
    title: 'Sign in',
    body: html`<div class="signin">
<h1>Sign in</h1>
<p class="lede">Churn risk, top-performer likelihood, model health and peer benchmarks of the partner program.</p>
${options.notice ? html`<div class="notice notice-info" role="status">${options.notice}</div>` : ''}
${options.error ? html`<div class="notice notice-error" role="alert" id="signin-error">${options.error}</div>` : ''}
<div class="card">
<form method="post" action="/sign-in">
<input type="hidden" name="_csrf" value="${token}">
${options.next ? html`<input type="hidden" name="next" value="${options.next}">` : ''}
<div class="field">
<label for="key">API key</label>
<input type="password" id="key" name="key" required autocomplete="off" spellcheck="false" aria-describedby="key-hint"${options.error ? html` aria-invalid="true"` : ''}>
<span class="hint" id="key-hint">Paste the key you were given (psk_…). It is sent once, in this form, never in a link.</span>
</div>
<button class="btn" type="submit">Sign in</button>
</form>
</div>
<p class="small muted">The dashboard then keeps a session cookie bound to the key (HttpOnly, SameSite=Strict) that ends after ${SESSION_TTL_SECONDS / 3600} hours, when you sign out, or at once when the key is revoked. What you see follows the key's role.</p>
</div>`,
  });
}

/** GET /: the sign-in form, or the signed-in key's first page. */
export async function signInPage(c: DashContext): Promise<Response> {
  const session = await readSession(c, c.get('deps').apiKeys);
  if (session) return c.redirect(homeOf(session.principal), 303);
  const q = c.req.query();
  const notice = q.signedOut !== undefined ? 'You are signed out.' : q.expired !== undefined ? 'Your session has ended. Sign in again.' : undefined;
  return respond(c, signInForm(c, { ...(notice ? { notice } : {}), ...(safeNext(q.next) ? { next: safeNext(q.next)! } : {}) }));
}

/** POST /sign-in: the key in the form body → a session cookie → the first page (the key never reaches a URL or a log line). */
export async function signIn(c: DashContext): Promise<Response> {
  const deps = c.get('deps');
  const form = await c.req.parseBody();
  const next = safeNext(form.next);
  if (!signInTokenMatches(c, form._csrf)) {
    return respond(c, signInForm(c, { error: 'This sign-in form has expired or did not come from this page. Please try again.', ...(next ? { next } : {}) }), 403);
  }
  const key = typeof form.key === 'string' ? form.key.trim() : '';
  try {
    const principal = await deps.apiKeys.authenticate(key);
    const active = await deps.apiKeys.activeKey(principal.keyId);
    if (!active) throw new UnauthorizedError();
    startSession(c, principal.keyId, active.keyHash);
    c.set('principal', principal);
    deps.logger.info('dashboard sign-in', { requestId: c.get('requestId'), keyId: principal.keyId, role: principal.role });
    return c.redirect(next ?? homeOf(principal), 303);
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    deps.logger.info('dashboard sign-in refused', { requestId: c.get('requestId') });
    return respond(c, signInForm(c, { error: key ? 'That key is unknown or has been revoked.' : 'Enter an API key.', ...(next ? { next } : {}) }), 401);
  }
}

/** POST /sign-out */
export async function signOut(c: DashContext): Promise<Response> {
  const session = sessionOf(c);
  endSession(c);
  c.get('deps').logger.info('dashboard sign-out', { requestId: c.get('requestId'), keyId: session.principal.keyId });
  return c.redirect('/?signedOut', 303);
}
