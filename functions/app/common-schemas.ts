import { z } from 'zod';

export const fieldErrorSchema = z.object({ path: z.string(), message: z.string() });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(fieldErrorSchema).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export const ingestResultSchema = z
  .object({
    accepted: z.number().int(),
    unchanged: z.number().int(),
    rejected: z.array(z.object({ index: z.number().int(), id: z.string().optional(), errors: z.array(fieldErrorSchema) })),
  })
  .meta({ id: 'IngestResult' });

/** The error responses every authenticated route can give. */
export const authErrors = {
  401: { description: 'Missing, unknown or revoked API key', schema: problemSchema, contentType: 'application/problem+json' },
  403: { description: 'The key’s role does not allow this', schema: problemSchema, contentType: 'application/problem+json' },
} as const;

export const problem = (description: string) => ({ description, schema: problemSchema, contentType: 'application/problem+json' });
