/**
 * Dashboard sessions without a session table or a new secret. The cookie is
 * `keyId.expiry.HMAC-SHA256(storedKeyHash, "keyId.expiry")`: only someone who held the key when
 * signing in (the service, which then saw its hash) can make one, and each request reads the key
 * record again (one consistent GetItem, as API authentication does), so revoking the key ends
 * every session of it at once. The key itself is never stored in the browser.
 *
 * CSRF: every state-changing form carries HMAC(storedKeyHash, "csrf:" + cookie), checked on every
 * POST; the sign-in form, which has no session yet, carries a random token that must equal an
 * HttpOnly, SameSite=Strict pre-session cookie (double submit). Cookies are SameSite=Strict too.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ApiKeyService, Principal } from '../../../data/auth/api-keys';

/** A session lasts a working day; signing in again starts a new one. */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;
const SIGN_IN_TOKEN_TTL_SECONDS = 60 * 60;

export interface Session {
  principal: Principal;
  /** The cookie value, which the CSRF token is bound to. */
  cookie: string;
  /** The stored hash of the key: the HMAC key of the cookie and of the CSRF token. */
  keyHash: string;
  expiresAt: number;
}

const mac = (keyHash: string, text: string): string => createHmac('sha256', keyHash).update(text).digest('base64url');

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Served over https (directly, or behind a proxy that says so): cookies get Secure and the __Host- prefix. */
export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}

const sessionCookieName = (secure: boolean): string => (secure ? '__Host-ps_session' : 'ps_session');
const signInCookieName = (secure: boolean): string => (secure ? '__Host-ps_signin' : 'ps_signin');

const cookieOptions = (secure: boolean, maxAge: number) => ({ httpOnly: true, sameSite: 'Strict' as const, secure, path: '/', maxAge });

export function sessionCookieValue(keyId: string, keyHash: string, expiresAt: number): string {
  const payload = `${keyId}.${expiresAt}`;
  return `${payload}.${mac(keyHash, payload)}`;
}

/** The session of a cookie value, or undefined when it is malformed, expired, forged or its key is unknown or revoked. */
export async function verifySessionCookie(apiKeys: Pick<ApiKeyService, 'activeKey'>, cookie: string | undefined, nowSeconds: number): Promise<Session | undefined> {
  if (!cookie || cookie.length > 256) return undefined;
  const match = /^(key_[0-9a-f]{20})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
  if (!match) return undefined;
  const [, keyId = '', expiry = '', signature = ''] = match;
  const expiresAt = Number(expiry);
  if (!(expiresAt > nowSeconds)) return undefined;
  const active = await apiKeys.activeKey(keyId);
  if (!active || !sameText(signature, mac(active.keyHash, `${keyId}.${expiry}`))) return undefined;
  return { principal: active.principal, cookie, keyHash: active.keyHash, expiresAt };
}

export const csrfToken = (session: Session): string => mac(session.keyHash, `csrf:${session.cookie}`);

export const csrfMatches = (session: Session, token: unknown): boolean => typeof token === 'string' && sameText(token, csrfToken(session));

export async function readSession(c: Context, apiKeys: Pick<ApiKeyService, 'activeKey'>): Promise<Session | undefined> {
  return verifySessionCookie(apiKeys, getCookie(c, sessionCookieName(isHttps(c))), Math.floor(Date.now() / 1000));
}

/** Starts a session for a key that was just authenticated. */
export function startSession(c: Context, keyId: string, keyHash: string): void {
  const secure = isHttps(c);
  const expiresAt = Math.floor(Date.now() / 1000) + SESSION_TTL_SECONDS;
  setCookie(c, sessionCookieName(secure), sessionCookieValue(keyId, keyHash, expiresAt), cookieOptions(secure, SESSION_TTL_SECONDS));
  deleteCookie(c, signInCookieName(secure), { path: '/', secure });
}

export function endSession(c: Context): void {
  const secure = isHttps(c);
  deleteCookie(c, sessionCookieName(secure), { path: '/', secure, httpOnly: true, sameSite: 'Strict' });
}

/** The sign-in form's token: reuses the pre-session cookie if there is one, else sets a new one. */
export function signInToken(c: Context): string {
  const secure = isHttps(c);
  const existing = getCookie(c, signInCookieName(secure));
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  setCookie(c, signInCookieName(secure), token, cookieOptions(secure, SIGN_IN_TOKEN_TTL_SECONDS));
  return token;
}

export function signInTokenMatches(c: Context, token: unknown): boolean {
  const cookie = getCookie(c, signInCookieName(isHttps(c)));
  return typeof token === 'string' && !!cookie && /^[A-Za-z0-9_-]{43}$/.test(cookie) && sameText(token, cookie);
}

/** Browsers say where a request came from; a form posted from another site is refused before anything else. */
export function isCrossSite(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  return site === 'cross-site' || site === 'same-site';
}
