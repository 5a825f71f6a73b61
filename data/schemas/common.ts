import { z } from 'zod';

/** One field-level problem, as returned in `rejected[].errors` and problem+json `errors`. */
export interface FieldError {
  path: string;
  message: string;
}

export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const partnerIdSchema = z
  .string()
  .regex(ID_PATTERN, 'must be 1–128 characters of A-Za-z0-9._:-')
  .meta({ description: 'Partner id: 1–128 characters of A-Za-z0-9._:-', example: 'P-00042' });

/** An unpaired UTF-16 surrogate (only a JSON \u escape can carry one): not text that UTF-8 stores verbatim. */
const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;

/** Text of min–max characters that is valid Unicode, so it is stored and archived exactly as sent. */
export const textSchema = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((s) => !UNPAIRED_SURROGATE.test(s), 'must be valid Unicode text (it holds an unpaired surrogate escape)');

export const recordIdSchema = textSchema(1, 128);

export const shortLabelSchema = textSchema(1, 40);

/**
 * A number DynamoDB stores as sent: the SDK refuses to write one beyond ±(2^53 − 1) (it would
 * lose precision) and DynamoDB one of magnitude under 1e-130; either would fail the whole batch.
 */
export const storableNumberSchema = z
  .number()
  .finite()
  .min(-Number.MAX_SAFE_INTEGER)
  .max(Number.MAX_SAFE_INTEGER)
  .refine((x) => x === 0 || Math.abs(x) >= 1e-130, 'must be 0 or at least 1e-130 in magnitude');

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

function isRealDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * Parses the two ISO 8601 forms the contract accepts ("2025-03-01" or a date-time with a
 * zone) into epoch milliseconds, or undefined. A date-time without a zone is refused
 * because it has no single UTC meaning.
 */
export function parseIsoTime(value: string): number | undefined {
  const date = DATE_RE.exec(value);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    return isRealDate(y, m, d) ? Date.UTC(y, m - 1, d) : undefined;
  }
  const dt = DATE_TIME_RE.exec(value);
  if (!dt) return undefined;
  const [y, m, d, hh, mm] = [Number(dt[1]), Number(dt[2]), Number(dt[3]), Number(dt[4]), Number(dt[5])];
  const ss = Number(dt[6] ?? 0);
  if (!isRealDate(y, m, d) || hh > 23 || mm > 59 || ss > 59) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** What an unreadable date or date-time is told. */
export const TIME_HINT = 'must be an ISO 8601 date or date-time with a time zone, e.g. 2025-03-01 or 2025-03-01T12:00:00Z';

/** A date field: stored as `YYYY-MM-DD` (UTC). */
export const isoDateSchema = z
  .string()
  .meta({ format: 'date', example: '2025-03-01' })
  .transform((value, ctx) => {
    const ms = parseIsoTime(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: TIME_HINT });
      return z.NEVER;
    }
    return new Date(ms).toISOString().slice(0, 10);
  });

/** A date-time field: stored as `YYYY-MM-DDTHH:mm:ss.sssZ` so that stored strings sort by time. */
export const isoDateTimeSchema = z
  .string()
  .meta({ format: 'date-time', example: '2025-03-01T12:00:00Z' })
  .transform((value, ctx) => {
    const ms = parseIsoTime(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: TIME_HINT });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });

function describeType(expected: string): string {
  if (expected === 'number') return 'must be a number';
  if (expected === 'int') return 'must be an integer';
  if (expected === 'string') return 'must be a string';
  if (expected === 'object') return 'must be an object';
  if (expected === 'array') return 'must be an array';
  if (expected === 'boolean') return 'must be true or false';
  if (expected === 'null') return 'must be null';
  return `must be ${expected}`;
}

function unitOf(origin: string | undefined): string {
  if (origin === 'string') return ' characters';
  if (origin === 'array' || origin === 'set') return ' items';
  return '';
}

/** Turns zod issues into `{path, message}` pairs that name the field and the rule. */
export function toFieldErrors(error: z.ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push({ path: path ? `${path}.${key}` : key, message: 'is not a known field' });
        }
        continue;
      case 'invalid_type': {
        // zod keeps `input` on an issue only when parsing with reportInput; otherwise its message says what it received.
        const missing = 'input' in issue ? issue.input === undefined : / received undefined$/.test(issue.message);
        out.push({ path, message: missing ? 'is required' : describeType(String(issue.expected)) });
        continue;
      }
      case 'invalid_union': {
        out.push({ path, message: issue.message || 'has an invalid value' });
        continue;
      }
      case 'too_small': {
        const origin = issue.origin as string | undefined;
        const min = Number(issue.minimum);
        const message =
          origin === 'string' && min === 1
            ? 'must not be empty'
            : `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${min}${unitOf(origin)}`;
        out.push({ path, message });
        continue;
      }
      case 'too_big': {
        const origin = issue.origin as string | undefined;
        out.push({
          path,
          message: `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${Number(issue.maximum)}${unitOf(origin)}`,
        });
        continue;
      }
      case 'invalid_value':
        out.push({ path, message: `must be one of: ${issue.values.map((v) => String(v)).join(', ')}` });
        continue;
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function parseWith<T>(schema: z.ZodType<T>, input: unknown): ParseResult<T> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: [{ path: '', message: 'must be a JSON object' }] };
  }
  const result = schema.safeParse(input, { reportInput: true });
  return result.success ? { ok: true, value: result.data } : { ok: false, errors: toFieldErrors(result.error) };
}
