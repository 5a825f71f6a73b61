import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ServiceError } from '../../data/errors';
import type { FieldError } from '../../data/schemas/common';
import type { AppEnv } from './route-spec';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
}

export function problemResponse(c: Context, problem: Problem, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(problem), problem.status as 400, { 'content-type': 'application/problem+json', ...headers });
}

export function problemOf(error: ServiceError, instance?: string): Problem {
  return {
    type: error.type,
    title: error.title,
    status: error.status,
    detail: error.message,
    ...(instance ? { instance } : {}),
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

/** The one error path: domain errors become problem+json; anything else is logged and answered with a generic 500. */
export function onError(error: Error, c: Context<AppEnv>): Response {
  const requestId = c.get('requestId');
  if (error instanceof ServiceError) {
    if (error.status >= 500) c.get('deps')?.logger.warn('request failed', { requestId, error: error.message, cause: String((error.cause as Error | undefined)?.message ?? '') });
    // RFC 9110 §15.5.2: a 401 must say which scheme to use.
    const headers: Record<string, string> = error.status === 503 ? { 'retry-after': '1' } : error.status === 401 ? { 'www-authenticate': 'Bearer realm="partner-scoring"' } : {};
    return problemResponse(c, problemOf(error, c.req.path), headers);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return problemResponse(c, { type: 'about:blank', title: 'Bad request', status: error.status, detail: error.message || 'The request could not be processed.' });
  }
  c.get('deps')?.logger.error('unhandled error', { requestId, error });
  return problemResponse(c, {
    type: 'about:blank',
    title: 'Internal server error',
    status: 500,
    detail: `Something went wrong on our side. Quote request id ${requestId ?? 'unknown'} when you report it.`,
  });
}

export function notFound(c: Context<AppEnv>): Response {
  return problemResponse(c, { type: 'https://partner-scoring.dev/problems/not-found', title: 'Not found', status: 404, detail: `No route ${c.req.method} ${c.req.path}.` });
}
