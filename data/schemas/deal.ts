import { z } from 'zod';
import { isoDateTimeSchema, partnerIdSchema, recordIdSchema, storableNumberSchema } from './common';

export const DEAL_STAGES = ['registered', 'open', 'won', 'lost'] as const;
export const PARTNER_ROLES = ['sourced', 'influenced'] as const;
export type DealStage = (typeof DEAL_STAGES)[number];

export const dealSchema = z
  .strictObject({
    dealId: recordIdSchema.meta({ description: 'Deals are upserted by dealId' }),
    partnerId: partnerIdSchema.nullable().meta({ description: 'null for a direct deal' }),
    partnerRole: z.enum(PARTNER_ROLES).nullable(),
    amount: storableNumberSchema.min(0),
    stage: z.enum(DEAL_STAGES),
    createdAt: isoDateTimeSchema,
    closedAt: isoDateTimeSchema.optional(),
    updatedAt: isoDateTimeSchema,
  })
  .superRefine((d, ctx) => {
    if (d.partnerId === null && d.partnerRole !== null) {
      ctx.addIssue({ code: 'custom', path: ['partnerRole'], message: 'must be null for a direct deal (partnerId null)' });
    }
    if (d.partnerId !== null && d.partnerRole === null) {
      ctx.addIssue({ code: 'custom', path: ['partnerRole'], message: 'must be sourced or influenced when partnerId is set' });
    }
    const closed = d.stage === 'won' || d.stage === 'lost';
    if (closed && d.closedAt === undefined) {
      ctx.addIssue({ code: 'custom', path: ['closedAt'], message: `is required when stage is ${d.stage}` });
    }
    if (d.closedAt !== undefined && d.closedAt < d.createdAt) {
      ctx.addIssue({ code: 'custom', path: ['closedAt'], message: 'must not be before createdAt' });
    }
  })
  .meta({ id: 'Deal', description: 'A deal, with or without a partner, upserted by dealId.' });

export type DealInput = z.input<typeof dealSchema>;
export type Deal = z.output<typeof dealSchema>;
