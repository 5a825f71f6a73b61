import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RESOURCES } from '../../functions/app/app';
import { fullPath, type Resource, type RouteSpec } from '../../functions/app/route-spec';
import { RECORD_KIND } from '../../data/ingest/record-kinds';
import { ID_PATTERN } from '../../data/schemas/common';
import { startTestStack, type TestStack } from '../helpers/test-stack';

/*
 * Discovery (contract section 9): /health, /openapi.json generated from RESOURCES and the
 * zod schemas, and a /docs page that works offline.
 */

type Json = Record<string, unknown>;

/** The nine event types, as the contract lists them (section 4). */
const CONTRACT_EVENT_TYPES = [
  'portal_login',
  'content_view',
  'training_completed',
  'certification_earned',
  'co_sell_meeting',
  'marketing_campaign',
  'support_ticket',
  'qbr_attended',
  'nps_response',
];

const allRoutes = (): Array<{ resource: Resource; route: RouteSpec; path: string }> =>
  RESOURCES.flatMap((resource) => resource.routes.map((route) => ({ resource, route, path: fullPath(resource, route) })));

/** Every `$ref` string anywhere under a value. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

/** Unwraps optional / nullable / default wrappers of a zod field. */
function innerOf(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s;
}

/** All `enum` arrays in a JSON schema property (a nullable enum is an anyOf). */
function enumsOf(prop: Json): unknown[][] {
  const out: unknown[][] = [];
  if (Array.isArray(prop.enum)) out.push(prop.enum);
  for (const alt of [...((prop.anyOf as Json[]) ?? []), ...((prop.oneOf as Json[]) ?? [])]) out.push(...enumsOf(alt));
  return out;
}

function patternsOf(prop: Json): string[] {
  const out: string[] = [];
  if (typeof prop.pattern === 'string') out.push(prop.pattern);
  for (const alt of [...((prop.anyOf as Json[]) ?? []), ...((prop.oneOf as Json[]) ?? [])]) out.push(...patternsOf(alt));
  return out;
}

describe('discovery', () => {
  let stack: TestStack;
  let doc: Json;
  let paths: Record<string, Record<string, Json>>;
  let components: Record<string, Json>;

  const resolve = (ref: string): Json => {
    const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
    expect(m, `${ref} is not a component reference`).not.toBeNull();
    const target = components[decodeURIComponent(m![1]!)];
    expect(target, `${ref} does not resolve`).toBeDefined();
    return target!;
  };

  beforeAll(async () => {
    stack = await startTestStack();
    const res = await stack.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = (await res.json()) as Json;
    paths = doc.paths as Record<string, Record<string, Json>>;
    components = ((doc.components as Json).schemas ?? {}) as Record<string, Json>;
  });
  afterAll(async () => stack?.close());

  describe('/health', () => {
    it('answers 200 without a key', async () => {
      const res = await stack.request('GET', '/health');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
      expect(await res.json()).toMatchObject({ status: 'ok' });
    });

    it('answers 200 even with a bogus key (it needs none)', async () => {
      expect((await stack.request('GET', '/health', { key: 'not-a-key' })).status).toBe(200);
    });
  });

  describe('/openapi.json', () => {
    it('is served as JSON without a key and is OpenAPI 3.1', async () => {
      const res = await stack.request('GET', '/openapi.json');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
      expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
      expect(doc.info).toEqual(expect.objectContaining({ title: expect.any(String), version: expect.any(String) }));
    });

    it('declares bearer authentication, applied by default', () => {
      const schemes = (doc.components as Json).securitySchemes as Record<string, Json>;
      expect(schemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(doc.security).toEqual([{ bearerAuth: [] }]);
    });

    it('has every route of RESOURCES, with x-roles, bearer security and auth error responses', () => {
      const routes = allRoutes();
      expect(routes.length).toBeGreaterThan(0);
      for (const { route, path } of routes) {
        const label = `${route.method.toUpperCase()} ${path}`;
        const op = paths[path]?.[route.method];
        expect(op, `${label} is missing from the document`).toBeDefined();
        expect(op!['x-roles'], label).toEqual([...route.roles]);
        expect(op!.security, label).toEqual([{ bearerAuth: [] }]);
        const responses = op!.responses as Record<string, Json>;
        expect(Object.keys(responses), label).toEqual(expect.arrayContaining(['401', '403']));
        expect(Object.keys(responses).some((s) => /^2\d\d$/.test(s)), `${label} documents a success`).toBe(true);
      }
    });

    it('documents no /v1 operation that RESOURCES does not have', () => {
      const declared = new Set(allRoutes().map(({ route, path }) => `${route.method} ${path}`));
      const documented = Object.entries(paths)
        .filter(([p]) => p.startsWith('/v1'))
        .flatMap(([p, item]) => Object.keys(item).map((m) => `${m} ${p}`));
      expect(documented.length).toBe(declared.size);
      for (const op of documented) expect(declared).toContain(op);
    });

    it('documents the public routes as needing no key', () => {
      for (const p of ['/health', '/openapi.json', '/docs']) {
        expect(paths[p]?.get, p).toBeDefined();
        expect(paths[p]!.get!.security, p).toEqual([]);
      }
    });

    it('gives every /v1 operation an operationId, all unique', () => {
      for (const { route, path } of allRoutes()) expect(paths[path]![route.method]!.operationId, `${route.method} ${path}`).toEqual(expect.any(String));
      const ids = Object.values(paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
      const defined = ids.filter((id): id is string => typeof id === 'string');
      expect(defined.length).toBeGreaterThanOrEqual(allRoutes().length);
      expect(new Set(defined).size).toBe(defined.length);
    });

    it('declares every path parameter, required, and every query parameter of the route schemas', () => {
      for (const { route, path } of allRoutes()) {
        const label = `${route.method.toUpperCase()} ${path}`;
        const params = (paths[path]![route.method]!.parameters ?? []) as Json[];
        const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
        for (const name of names) {
          const p = params.find((x) => x.name === name && x.in === 'path');
          expect(p, `${label}: path parameter ${name}`).toBeDefined();
          expect(p!.required, `${label}: ${name}`).toBe(true);
        }
        for (const name of Object.keys((route.query?.shape ?? {}) as Json)) {
          expect(params.find((x) => x.name === name && x.in === 'query'), `${label}: query parameter ${name}`).toBeDefined();
        }
      }
    });

    it('resolves every $ref in the document', () => {
      const refs = refsIn(doc);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) resolve(ref);
    });

    it('gives every route with a body a request body per accepted content type', () => {
      const withBody = allRoutes().filter(({ route }) => route.body);
      expect(withBody.length).toBeGreaterThan(0);
      for (const { route, path } of withBody) {
        const rb = paths[path]![route.method]!.requestBody as Json | undefined;
        expect(rb, path).toBeDefined();
        const content = rb!.content as Record<string, Json>;
        expect(Object.keys(content).sort(), path).toEqual([...route.body!.contentTypes].sort());
        for (const media of Object.values(content)) expect(media.schema, path).toBeDefined();
      }
    });

    describe('ingest request bodies come from the zod record schemas', () => {
      const ingest = [
        { path: '/v1/partners', kind: 'partners', component: 'Partner' },
        { path: '/v1/events', kind: 'events', component: 'Event' },
        { path: '/v1/deals', kind: 'deals', component: 'Deal' },
      ] as const;

      it.each(ingest)('POST $path accepts an array of, or {items: [...]}, $component records', ({ path, component }) => {
        const content = (paths[path]!.post!.requestBody as Json).content as Record<string, Json>;
        expect(Object.keys(content)).toEqual(expect.arrayContaining(['application/json', 'application/x-ndjson']));
        const schema = content['application/json']!.schema as Json;
        const alternatives = (schema.anyOf ?? schema.oneOf) as Json[];
        expect(alternatives).toHaveLength(2);
        const array = alternatives.find((a) => a.type === 'array')!;
        const wrapped = alternatives.find((a) => a.type === 'object')!;
        expect(array.items).toEqual({ $ref: `#/components/schemas/${component}` });
        expect((wrapped.properties as Json).items).toEqual({ type: 'array', items: { $ref: `#/components/schemas/${component}` } });
        expect(wrapped.required).toEqual(['items']);
      });

      it.each(ingest)('the $component component mirrors the zod schema field by field', ({ kind, component }) => {
        const schema = components[component]!;
        expect(schema, component).toBeDefined();
        const zodSchema = RECORD_KIND[kind].schema as unknown as z.ZodObject;
        const shape = zodSchema.shape as Record<string, z.ZodType>;
        const props = schema.properties as Record<string, Json>;
        expect(Object.keys(props).sort()).toEqual(Object.keys(shape).sort());
        const required = Object.entries(shape)
          .filter(([, field]) => !field.safeParse(undefined).success)
          .map(([name]) => name);
        expect(((schema.required as string[]) ?? []).slice().sort()).toEqual(required.sort());
        expect(schema.additionalProperties).toBe(false);
        for (const [name, field] of Object.entries(shape)) {
          const inner = innerOf(field);
          if (inner instanceof z.ZodEnum) expect(enumsOf(props[name]!), `${component}.${name}`).toContainEqual([...inner.options]);
          if (name === 'partnerId') expect(patternsOf(props[name]!), `${component}.${name}`).toContain(ID_PATTERN.source);
        }
      });

      it('Partner: partnerId pattern as the contract says, status enum active|churned', () => {
        const props = components.Partner!.properties as Record<string, Json>;
        const pattern = new RegExp(patternsOf(props.partnerId!)[0]!, 'u');
        for (const ok of ['P-00042', 'a.b_c:d-e', 'x'.repeat(128)]) expect(pattern.test(ok), ok).toBe(true);
        for (const bad of ['', 'has space', 'semi;colon', 'x'.repeat(129), 'ü']) expect(pattern.test(bad), bad).toBe(false);
        expect(props.status!.enum).toEqual(['active', 'churned']);
        expect(components.Partner!.required).toEqual(expect.arrayContaining(['partnerId', 'name', 'tier', 'region', 'segment', 'joinedAt', 'status']));
      });

      it('Event: type enum lists exactly the nine contract types', () => {
        const props = components.Event!.properties as Record<string, Json>;
        expect(props.type!.enum).toHaveLength(9);
        expect([...(props.type!.enum as string[])].sort()).toEqual([...CONTRACT_EVENT_TYPES].sort());
      });

      it('Deal: stage and partnerRole enums, partnerId nullable', () => {
        const props = components.Deal!.properties as Record<string, Json>;
        expect(enumsOf(props.stage!)).toContainEqual(['registered', 'open', 'won', 'lost']);
        expect(enumsOf(props.partnerRole!)).toContainEqual(['sourced', 'influenced']);
        expect(JSON.stringify(props.partnerId)).toContain('"null"');
      });
    });

    it('CreateApiKey body lists the four roles', () => {
      const body = (paths['/v1/api-keys']!.post!.requestBody as Json).content as Record<string, Json>;
      const ref = (body['application/json']!.schema as Json).$ref as string;
      const schema = ref ? resolve(ref) : (body['application/json']!.schema as Json);
      const props = schema.properties as Record<string, Json>;
      expect(props.role!.enum).toEqual(['admin', 'ops', 'integration', 'partner']);
      expect(Object.keys(props)).not.toContain('key');
    });
  });

  describe('/docs', () => {
    let html: string;
    let contentType: string;
    beforeAll(async () => {
      const res = await stack.request('GET', '/docs');
      expect(res.status).toBe(200);
      contentType = res.headers.get('content-type') ?? '';
      html = await res.text();
    });

    it('is an HTML page served without a key', () => {
      expect(contentType).toMatch(/^text\/html/);
      expect(html).toMatch(/^<!doctype html>/i);
      expect(html).toMatch(/<title>[^<]+<\/title>/);
    });

    it('loads /openapi.json from its own origin', () => {
      expect(html).toMatch(/fetch\(\s*['"`]\/openapi\.json['"`]/);
    });

    it('has no absolute URL at all, so it loads nothing from another host', () => {
      expect(html.match(/\b(?:https?|wss?|ftp):\/\//gi) ?? []).toEqual([]);
    });

    it('loads scripts, styles, images and fonts only by same-origin relative URLs', () => {
      const refs = [
        ...[...html.matchAll(/\b(?:src|href|action|poster|data)\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1]!),
        ...[...html.matchAll(/url\(\s*["']?([^"')]+)/gi)].map((m) => m[1]!),
        ...[...html.matchAll(/@import\s+["']([^"']+)/gi)].map((m) => m[1]!),
        ...[...html.matchAll(/\b(?:fetch|import)\(\s*["'`]([^"'`]+)/g)].map((m) => m[1]!),
      ];
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(ref.startsWith('//'), `protocol-relative ${ref}`).toBe(false);
        expect(/^[a-z][a-z0-9+.-]*:/i.test(ref) && !/^(?:data|blob|#)/i.test(ref), `absolute ${ref}`).toBe(false);
      }
      expect(html).not.toMatch(/<script[^>]+src\s*=\s*["']?(?:https?:)?\/\//i);
      expect(html).not.toMatch(/<link[^>]+href\s*=\s*["']?(?:https?:)?\/\//i);
    });
  });

  describe('/', () => {
    it('serves an HTML page without a key', async () => {
      const res = await stack.request('GET', '/');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type') ?? '').toMatch(/^text\/html/);
    });
  });
});
