import { z } from 'zod';
import { isoDateTimeSchema, partnerIdSchema, recordIdSchema, storableNumberSchema } from './common';

export const EVENT_TYPES = [
  'portal_login',
  'content_view',
  'training_completed',
  'certification_earned',
  'co_sell_meeting',
  'marketing_campaign',
  'support_ticket',
  'qbr_attended',
  'nps_response',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const eventSchema = z
  .strictObject({
    eventId: recordIdSchema.meta({ description: 'Unique id; the idempotency key' }),
    partnerId: partnerIdSchema,
    type: z.enum(EVENT_TYPES),
    occurredAt: isoDateTimeSchema,
    quantity: storableNumberSchema.min(0).default(1),
    value: storableNumberSchema.optional().meta({ description: 'nps_response: integer 0–10 (required)' }),
  })
  .superRefine((e, ctx) => {
    if (e.type !== 'nps_response') return;
    if (e.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'is required for nps_response' });
    } else if (!Number.isInteger(e.value) || e.value < 0 || e.value > 10) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be an integer from 0 to 10 for nps_response' });
    }
  })
  .meta({ id: 'Event', description: 'An engagement event, stored once per eventId.' });

export type EventInput = z.input<typeof eventSchema>;
export type PartnerEvent = z.output<typeof eventSchema>;
