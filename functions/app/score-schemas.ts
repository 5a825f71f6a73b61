import { z } from 'zod';

export const driverSchema = z
  .object({
    feature: z.string(),
    label: z.string().meta({ description: 'Worded for a person: "Portal logins, last 30 days: 2 — peers\' median 14"' }),
    value: z.number(),
    peerMedian: z.number(),
    effect: z.number().meta({ description: 'Change in probability caused by this feature against the peers\' median' }),
  })
  .meta({ id: 'Driver' });

export const scoreDetailSchema = z
  .object({
    probability: z.number().min(0).max(1),
    riskBand: z.enum(['low', 'medium', 'high']),
    modelVersion: z.string(),
    drivers: z.array(driverSchema),
  })
  .meta({ id: 'ScoreDetail' });

const briefSchema = scoreDetailSchema.omit({ drivers: true });

export const partnerScoresSchema = z
  .object({
    partnerId: z.string(),
    asOf: z.string(),
    runId: z.string(),
    churn: scoreDetailSchema,
    topPerformer: scoreDetailSchema.nullable().meta({ description: 'Only for partners in their first 365 days' }),
    change: z.number().nullable().meta({ description: 'Churn probability change since the previous run' }),
    history: z.array(z.object({ asOf: z.string(), churn: briefSchema.nullable(), topPerformer: briefSchema.nullable() })),
  })
  .meta({ id: 'PartnerScores' });

export const adHocScoreSchema = z
  .object({ partnerId: z.string(), asOf: z.string(), churn: scoreDetailSchema, topPerformer: scoreDetailSchema.nullable() })
  .meta({ id: 'AdHocScore' });

export const churnRiskItemSchema = z
  .object({
    partnerId: z.string(),
    name: z.string(),
    tier: z.string(),
    region: z.string(),
    segment: z.string(),
    probability: z.number(),
    riskBand: z.enum(['low', 'medium', 'high']),
    change: z.number().nullable(),
    drivers: z.array(driverSchema),
  })
  .meta({ id: 'ChurnRiskItem' });
