import { z } from 'zod';
import { partnerIdSchema } from './common';

export const ROLES = ['admin', 'ops', 'integration', 'partner'] as const;
export type Role = (typeof ROLES)[number];

export const createApiKeySchema = z
  .strictObject({
    name: z.string().min(1).max(100),
    role: z.enum(ROLES),
    partnerId: partnerIdSchema.optional(),
  })
  .superRefine((k, ctx) => {
    if (k.role === 'partner' && k.partnerId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['partnerId'], message: 'is required for role partner' });
    }
    if (k.role !== 'partner' && k.partnerId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['partnerId'], message: `must be absent for role ${k.role}; only partner keys are bound to a partner` });
    }
  })
  .meta({ id: 'CreateApiKey' });

export const apiKeyViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    partnerId: z.string().optional(),
    createdAt: z.string(),
    revokedAt: z.string().optional(),
  })
  .meta({ id: 'ApiKey', description: 'An API key without its secret.' });

export const createdApiKeySchema = z
  .object({ id: z.string(), key: z.string().meta({ description: 'The secret. Shown once; only its hash is stored.' }) })
  .meta({ id: 'CreatedApiKey' });

export type CreateApiKey = z.output<typeof createApiKeySchema>;
export type ApiKeyView = z.output<typeof apiKeyViewSchema>;
