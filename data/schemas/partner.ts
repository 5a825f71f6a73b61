import { z } from 'zod';
import { isoDateSchema, isoDateTimeSchema, partnerIdSchema, shortLabelSchema, textSchema } from './common';

export const PARTNER_STATUSES = ['active', 'churned'] as const;

export const partnerSchema = z
  .strictObject({
    partnerId: partnerIdSchema,
    name: textSchema(1, 200),
    tier: shortLabelSchema.meta({ description: 'e.g. platinum, gold, silver, registered' }),
    region: shortLabelSchema,
    segment: shortLabelSchema,
    joinedAt: isoDateSchema,
    status: z.enum(PARTNER_STATUSES),
    churnedAt: isoDateSchema.optional(),
    updatedAt: isoDateTimeSchema.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.status === 'churned' && p.churnedAt === undefined) {
      ctx.addIssue({ code: 'custom', path: ['churnedAt'], message: 'is required when status is churned' });
    }
    if (p.status === 'active' && p.churnedAt !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['churnedAt'], message: 'must be empty when status is active' });
    }
    if (p.churnedAt !== undefined && p.churnedAt < p.joinedAt) {
      ctx.addIssue({ code: 'custom', path: ['churnedAt'], message: 'must not be before joinedAt' });
    }
  })
  .meta({ id: 'Partner', description: 'A partner in the program, upserted by partnerId.' });

export type PartnerInput = z.input<typeof partnerSchema>;
export type Partner = z.output<typeof partnerSchema>;
