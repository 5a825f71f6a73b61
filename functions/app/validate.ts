import type { z } from 'zod';
import { ValidationError } from '../../data/errors';
import { toFieldErrors } from '../../data/schemas/common';
import type { AppContext } from './route-spec';

function check<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    // Body fields are named as they are in the body (like ingest's record fields); query and path ones carry their origin.
    const errors = toFieldErrors(result.error).map((e) => ({ ...e, path: where === 'body' ? e.path : e.path ? `${where}.${e.path}` : where }));
    throw new ValidationError(`The request ${where} is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors);
  }
  return result.data;
}

export const validQuery = <T extends z.ZodType>(c: AppContext, schema: T): z.output<T> => check(schema, c.req.query(), 'query');

export const validParams = <T extends z.ZodType>(c: AppContext, schema: T): z.output<T> => check(schema, c.req.param(), 'path');

/** A JSON body validated by its schema; malformed JSON is a 400 that says so. */
export async function validJson<T extends z.ZodType>(c: AppContext, schema: T): Promise<z.output<T>> {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`The body is not valid JSON: ${(error as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('The body must be a JSON object.', [{ path: 'body', message: 'must be a JSON object' }]);
  }
  return check(schema, body, 'body');
}
