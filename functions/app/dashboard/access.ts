/**
 * Who may open each dashboard page: exactly whoever may call the API routes it mirrors (the data
 * it shows, the action it takes). Roles are never listed here: they come from the route table,
 * and the decision is the API's own (accessDenial in ../auth.ts).
 */
import type { Principal } from '../../../data/auth/api-keys';
import { accessDenial } from '../auth';
import type { Resource, RouteSpec } from '../route-spec';
import { churnRiskResource } from '../routes/churn-risk';
import { metricsResource } from '../routes/metrics';
import { modelsResource } from '../routes/models';
import { partnersResource } from '../routes/partners';

function apiRoute(resource: Resource, method: RouteSpec['method'], path: string): RouteSpec {
  const route = resource.routes.find((r) => r.method === method && r.path === path);
  if (!route) throw new Error(`The dashboard mirrors ${method.toUpperCase()} ${resource.basePath}${path}, which the route table does not have.`);
  return route;
}

/** The API routes behind each page. A page that shows the data of several routes needs all of them. */
export const MIRRORS = {
  churnRisk: [apiRoute(churnRiskResource, 'get', '/')],
  partner: [apiRoute(partnersResource, 'get', '/{id}/scores'), apiRoute(partnersResource, 'get', '/{id}/benchmarks')],
  benchmarks: [apiRoute(partnersResource, 'get', '/{id}/benchmarks')],
  models: [apiRoute(modelsResource, 'get', '/')],
  promote: [apiRoute(modelsResource, 'post', '/{model}/versions/{version}/promote')],
  program: [apiRoute(metricsResource, 'get', '/program')],
} as const satisfies Record<string, readonly RouteSpec[]>;

/**
 * Why this principal may not use these routes, or undefined when it may. `param` reads a path
 * parameter of the page, named as in the API route (partner-scoped routes use it).
 */
export function pageDenial(principal: Principal, routes: readonly RouteSpec[], param: (name: string) => string | undefined): string | undefined {
  for (const route of routes) {
    const denial = accessDenial(route, principal, route.partnerParam ? param(route.partnerParam) : undefined);
    if (denial) return denial;
  }
  return undefined;
}

export const mayUse = (principal: Principal, routes: readonly RouteSpec[], params: Record<string, string> = {}): boolean => pageDenial(principal, routes, (name) => params[name]) === undefined;
