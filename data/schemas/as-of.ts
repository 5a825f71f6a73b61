import { z } from 'zod';
import { parseIsoTime } from './common';

/**
 * The instant a computation looks from. A date means the whole of that day (UTC): "as of
 * 2025-03-01" counts that day's events and a partner churned on that date. Stored and
 * compared as `YYYY-MM-DDTHH:mm:ss.sssZ`, the format of every stored time.
 */
export function asOfInstant(value: string): string | undefined {
  const ms = parseIsoTime(value);
  if (ms === undefined) return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(ms + 86_400_000 - 1).toISOString() : new Date(ms).toISOString();
}

export const asOfSchema = z
  .string()
  .meta({ description: 'Point in time to look from: a date (the whole day, UTC) or a date-time. Default: now.', example: '2025-03-01' })
  .transform((value, ctx) => {
    const instant = asOfInstant(value);
    if (instant === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 date or date-time with a time zone, e.g. 2025-03-01 or 2025-03-01T12:00:00Z' });
      return z.NEVER;
    }
    return instant;
  });
