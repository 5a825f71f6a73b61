import { z } from 'zod';
import { fullPath, type Resource, type RouteSpec } from './route-spec';

type Json = Record<string, unknown>;

/**
 * Builds the OpenAPI 3.1 document from the route table and the same zod schemas that
 * validate requests: nothing in it is written by hand.
 */
export function buildOpenApi(resources: readonly Resource[], publicPaths: Json, version: string): Json {
  const components: Record<string, unknown> = {};

  const toSchema = (schema: z.ZodType, io: 'input' | 'output'): Json => {
    const js = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Json;
    const defs = (js.$defs ?? {}) as Record<string, unknown>;
    delete js.$defs;
    delete js.$schema;
    const rewrite = (v: unknown): Json => JSON.parse(JSON.stringify(v).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
    for (const [name, def] of Object.entries(defs)) components[name] ??= rewrite(def);
    return rewrite(js);
  };

  const parameters = (route: RouteSpec): Json[] => {
    const out: Json[] = [];
    for (const [where, obj] of [['path', route.params], ['query', route.query]] as const) {
      if (!obj) continue;
      for (const [name, prop] of Object.entries(obj.shape as Record<string, z.ZodType>)) {
        const schema = toSchema(prop, 'input');
        out.push({
          name,
          in: where,
          required: where === 'path' || !prop.safeParse(undefined).success,
          schema,
          ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
        });
      }
    }
    return out;
  };

  const paths: Record<string, Json> = { ...(publicPaths as Record<string, Json>) };
  for (const resource of resources) {
    for (const route of resource.routes) {
      const path = fullPath(resource, route);
      const responses: Json = {};
      for (const [status, spec] of Object.entries(route.responses)) {
        responses[status] = {
          description: spec.description,
          ...(spec.schema ? { content: { [spec.contentType ?? 'application/json']: { schema: toSchema(spec.schema, 'output') } } } : {}),
        };
      }
      paths[path] ??= {};
      paths[path][route.method] = {
        tags: [resource.tag],
        summary: route.summary,
        description: `${route.description ?? route.summary}\n\nRoles: ${route.roles.join(', ')}${route.partnerParam ? ' (a partner key: its own partner only)' : ''}.`,
        operationId: `${route.method}${path.replace(/\{([^}]+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ? ch.toUpperCase() : ''))}`,
        'x-roles': route.roles,
        security: [{ bearerAuth: [] }],
        ...(route.params || route.query ? { parameters: parameters(route) } : {}),
        ...(route.body
          ? { requestBody: { required: true, content: Object.fromEntries(route.body.contentTypes.map((ct) => [ct, { schema: toSchema(route.body!.schema, 'input') }])) } }
          : {}),
        responses,
      };
    }
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Partner scoring service',
      version,
      description: 'Ingest partner data, train churn and top-performer models, serve scores, churn-risk lists and anonymized peer benchmarks.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: { schemas: components, securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key from POST /v1/api-keys (or ADMIN_API_KEY).' } } },
  };
}
