import type { MiddlewareHandler } from 'hono';
import type { Principal } from '../../data/auth/api-keys';
import { ForbiddenError, ValidationError } from '../../data/errors';
import type { AppEnv, RouteSpec } from './route-spec';

/** Query parameters that look like a credential, compared without case, '-' or '_' (api_key, X-Api-Key, Authorization…). */
const QUERY_KEY_NAMES = new Set(['apikey', 'key', 'accesstoken', 'token', 'xapikey', 'authorization', 'bearer']);
const looksLikeKey = (name: string): boolean => QUERY_KEY_NAMES.has(name.toLowerCase().replace(/[-_]/g, ''));

/** Every /v1 request: the bearer key is looked up (consistently, so revocation is immediate). */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const url = new URL(c.req.url);
  // Refused even next to a valid header: a key in a URL ends up in proxy and access logs.
  if ([...url.searchParams.keys()].some(looksLikeKey)) {
    throw new ValidationError('API keys are accepted only in the Authorization header, never in the query string.');
  }
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const principal = await c.get('deps').apiKeys.authenticate(match?.[1]);
  c.set('principal', principal);
  await next();
};

/**
 * The role table's rule for one route: why this principal may not call it (its role is not in the
 * route's `roles`, or a partner key names another partner), or undefined when it may.
 * `partnerValue` is the value of the route's `partnerParam` in the request.
 * The API (authorize) and the dashboard pages that mirror API routes both decide with this.
 */
export function accessDenial(route: RouteSpec, principal: Principal, partnerValue: string | undefined): string | undefined {
  if (!route.roles.includes(principal.role)) return `Role ${principal.role} may not ${route.method.toUpperCase()} this resource.`;
  if (principal.role === 'partner' && route.partnerParam && partnerValue !== principal.partnerId) return 'A partner key may read only its own partner.';
  return undefined;
}

/** The role table, enforced in one place: each route's `roles`, and partner keys confined to their own partner. */
export function authorize(route: RouteSpec): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const denial = accessDenial(route, c.get('principal'), route.partnerParam ? c.req.param(route.partnerParam) : undefined);
    if (denial) throw new ForbiddenError(denial);
    await next();
  };
}
