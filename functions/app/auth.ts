import type { MiddlewareHandler } from 'hono';
import { ForbiddenError, ValidationError } from '../../data/errors';
import type { AppEnv, RouteSpec } from './route-spec';

const QUERY_KEY_NAMES = ['api_key', 'apikey', 'apiKey', 'key', 'access_token', 'token'];

/** Every /v1 request: the bearer key is looked up (consistently, so revocation is immediate). */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const url = new URL(c.req.url);
  if (QUERY_KEY_NAMES.some((name) => url.searchParams.has(name))) {
    throw new ValidationError('API keys are accepted only in the Authorization header, never in the query string.');
  }
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const principal = await c.get('deps').apiKeys.authenticate(match?.[1]);
  c.set('principal', principal);
  await next();
};

/** The role table, enforced in one place: each route's `roles`, and partner keys confined to their own partner. */
export function authorize(route: RouteSpec): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!route.roles.includes(principal.role)) {
      throw new ForbiddenError(`Role ${principal.role} may not ${route.method.toUpperCase()} this resource.`);
    }
    if (principal.role === 'partner' && route.partnerParam) {
      if (c.req.param(route.partnerParam) !== principal.partnerId) {
        throw new ForbiddenError('A partner key may read only its own partner.');
      }
    }
    await next();
  };
}
