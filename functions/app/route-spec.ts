import type { Context } from 'hono';
import type { z } from 'zod';
import type { Principal } from '../../data/auth/api-keys';
import type { Role } from '../../data/schemas/api-key';
import type { ServiceDeps } from '../deps';

export type AppEnv = {
  Variables: {
    deps: ServiceDeps;
    requestId: string;
    principal: Principal;
  };
};

export type AppContext = Context<AppEnv>;

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

/**
 * One route: what the OpenAPI document says about it, who may call it, and its handler.
 * The list of these is the route table: the app, the document and the access tests all
 * come from it, so a route cannot exist without its roles.
 */
export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Relative to the resource's basePath, OpenAPI style: `/{id}`. */
  path: string;
  summary: string;
  description?: string;
  roles: readonly Role[];
  /** A partner key may call it only for its own partner, named by this path parameter. */
  partnerParam?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { schema: z.ZodType; contentTypes: readonly string[]; description?: string };
  responses: Record<number, ResponseSpec>;
  handler: (c: AppContext) => Response | Promise<Response>;
}

export interface Resource {
  basePath: string;
  tag: string;
  routes: readonly RouteSpec[];
}

export const defineResource = (resource: Resource): Resource => resource;

/** `/v1/api-keys` + `/{id}` → `/v1/api-keys/{id}` */
export const fullPath = (resource: Resource, route: RouteSpec): string => `${resource.basePath}${route.path === '/' ? '' : route.path}` || '/';

/** OpenAPI `{id}` → Hono `:id` */
export const honoPath = (openApiPath: string): string => openApiPath.replace(/\{([^}]+)\}/g, ':$1');
