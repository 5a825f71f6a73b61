import { randomUUID } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError } from '../../data/errors';
import type { ServiceDeps } from '../deps';
import { authenticate, authorize } from './auth';
import { dashboardApp } from './dashboard';
import { DOCS_HTML } from './docs-page';
import { buildOpenApi } from './openapi';
import { notFound, onError } from './problem';
import { MAX_BODY_BYTES } from './read-records';
import { honoPath, type AppEnv, type Resource } from './route-spec';
import { apiKeysResource } from './routes/api-keys';
import { dealsResource, eventsResource } from './routes/ingest';
import { partnersResource } from './routes/partners';
import { jobsResource } from './routes/jobs';
import { metricsResource } from './routes/metrics';
import { modelsResource } from './routes/models';
import { rejectsResource } from './routes/rejects';
import { churnRiskResource } from './routes/churn-risk';
import { scoreResource } from './routes/score';
import { scoringRunsResource } from './routes/scoring-runs';

export const SERVICE_VERSION = '0.1.0';

/** The route table: every /v1 resource. The OpenAPI document and the access tests are generated from it. */
export const RESOURCES: readonly Resource[] = [partnersResource, eventsResource, dealsResource, apiKeysResource, rejectsResource, modelsResource, jobsResource, scoringRunsResource, scoreResource, churnRiskResource, metricsResource];

const PUBLIC_PATHS = {
  '/health': { get: { tags: ['Discovery'], operationId: 'getHealth', summary: 'Liveness', security: [], responses: { 200: { description: 'The service is up' } } } },
  '/openapi.json': { get: { tags: ['Discovery'], operationId: 'getOpenApi', summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } } },
  '/docs': { get: { tags: ['Discovery'], operationId: 'getDocs', summary: 'API reference page', security: [], responses: { 200: { description: 'HTML' } } } },
  '/': { get: { tags: ['Discovery'], operationId: 'getDashboard', summary: 'Dashboard', security: [], responses: { 200: { description: 'HTML' } } } },
};

let openApiCache: Record<string, unknown> | undefined;
export const openApiDocument = (): Record<string, unknown> => (openApiCache ??= buildOpenApi(RESOURCES, PUBLIC_PATHS, SERVICE_VERSION));

function resourceApp(resource: Resource): Hono<AppEnv> {
  const sub = new Hono<AppEnv>();
  for (const route of resource.routes) {
    sub.on(route.method.toUpperCase(), honoPath(route.path), authorize(route), route.handler);
  }
  return sub;
}

/** Every request's context: its deps and request id (given or new), and one log line when answered. */
export function requestContext(deps: ServiceDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    c.set('deps', deps);
    c.set('requestId', requestId);
    const started = performance.now();
    await next();
    c.header('x-request-id', requestId);
    deps.logger.info('request', {
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
      keyId: c.get('principal')?.keyId,
    });
  };
}

/** The one Hono app, served by @hono/node-server locally and by hono/aws-lambda on Lambda. */
export function createApp(deps: ServiceDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use('*', requestContext(deps));

  app.get('/health', (c) => c.json({ status: 'ok', version: SERVICE_VERSION }));
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.get('/docs', (c) => c.html(DOCS_HTML));
  // The dashboard (GET / and its pages): sessions instead of bearer keys, the same roles (dashboard/access.ts).
  app.route('/', dashboardApp());

  app.use('/v1/*', authenticate);
  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new PayloadTooLargeError(`The body is over ${MAX_BODY_BYTES / 1024 / 1024} MB. Split it, or use bulk file ingest.`);
    },
  });
  // GET and HEAD requests never carry a body (the Fetch spec forbids one), so bodyLimit would pass
  // them on untouched; it is skipped for them because its check (c.req.raw.body) makes
  // @hono/node-server build a full Request with an AbortController for every read request
  // (~0.1 ms of CPU each; tests/bench/serve-bench.ts).
  app.use('/v1/*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));
  for (const resource of RESOURCES) app.route(resource.basePath, resourceApp(resource));

  app.notFound(notFound);
  app.onError(onError);
  return app;
}
