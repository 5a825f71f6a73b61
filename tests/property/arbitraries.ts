/**
 * fast-check arbitraries for hostile input: records that are valid by construction (with
 * unicode, NoSQL-looking and otherwise awkward text where the contract allows any text), the
 * same records broken in one field, and junk. Ids of valid records are made unique for the
 * whole test run (freshIds), so what a test finds stored can be traced to the record that put it there.
 */
import fc from 'fast-check';
import type { RecordKindName } from '../../data/stores/record-store';

/** Strings that look like query or expression syntax to some store, template or shell. Stored verbatim, they must do nothing. */
export const EXPRESSION_LIKE = [
  '{"$gt": ""}',
  '{"$ne": null}',
  '$where: function() { return true }',
  'attribute_exists(partnerId)',
  'attribute_not_exists(#id) OR updatedAt <= :u',
  '#partnerId',
  ':v',
  'partnerId = :p OR 1=1',
  "' OR '1'='1",
  '"; DROP TABLE partners; --',
  'SET #a = :b REMOVE contentHash',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '${7*7}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  "=cmd|' /C calc'!A0",
  '@SUM(1+1)*cmd',
  '..%2f..%2fetc%2fpasswd',
  '../../etc/passwd',
  'null',
  'undefined',
  'NaN',
  'true',
  '1e309',
  '-0',
  'a\u0000b',
  '\u202eevil\u202c',
  '𝕏🧪👩‍👩‍👧',
  'ﷺ Ω ß ǅ İ',
  ' leading and trailing ',
  'line\nbreak\r\nand\ttab',
  '"quoted, with comma"',
] as const;

/** Text of min–max UTF-16 units that the schemas accept (valid Unicode), awkward where possible. */
export function textArb(min: number, max: number): fc.Arbitrary<string> {
  const fits = (s: string): boolean => s.length >= min && s.length <= max;
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: max }) },
      { weight: 2, arbitrary: fc.constantFrom(...EXPRESSION_LIKE) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength: max }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: max }) },
    )
    .filter(fits);
}

/**
 * Ids are generated with this slot at their end and made unique only when a batch is sent
 * (freshIds): fast-check replays parts of a failing input while it shrinks, and an id fixed at
 * generation would then meet its own earlier, different record.
 */
export const ID_SLOT = '.SLOT';
let uniqueCounter = 0;

/** Copies a record (own keys, even __proto__), giving every slotted id a suffix no other record has. */
export function freshIds<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const fresh = typeof v === 'string' && v.endsWith(ID_SLOT) ? `${v.slice(0, -ID_SLOT.length)}.u${process.pid}x${++uniqueCounter}` : v;
    Object.defineProperty(copy, k, { value: fresh, enumerable: true, writable: true, configurable: true });
  }
  return copy as T;
}

const dayMs = 86_400_000;
const DAY_2000 = Date.UTC(2000, 0, 1) / dayMs;
const DAY_2030 = Date.UTC(2030, 0, 1) / dayMs;

const dayArb = fc.integer({ min: DAY_2000, max: DAY_2030 });
const isoDay = (day: number): string => new Date(day * dayMs).toISOString().slice(0, 10);

/** A date-time in one of the accepted ISO 8601 spellings (Z, ±hh:mm, ±hhmm, fractions). */
const dateTimeArb = (minMs = DAY_2000 * dayMs, maxMs = DAY_2030 * dayMs): fc.Arbitrary<string> =>
  fc.tuple(fc.integer({ min: minMs, max: maxMs }), fc.constantFrom('Z', '+00:00', '+05:30', '-0800', '.123Z', '.5+01:00')).map(([ms, zone]) => {
    const base = new Date(ms).toISOString().slice(0, 19);
    if (zone === 'Z') return `${base}Z`;
    if (zone === '.123Z') return `${base}.123Z`;
    const m = /^(\.\d+)?([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    // Shift the wall-clock time by the offset so the instant stays within range.
    const offsetMin = (m[2] === '+' ? 1 : -1) * (Number(m[3]) * 60 + Number(m[4]));
    return `${new Date(ms + offsetMin * 60_000).toISOString().slice(0, 19)}${m[1] ?? ''}${zone.replace(/^\.\d+/, '')}`;
  });

/** Ids in the partner-id alphabet (made unique when sent). */
const partnerIdArb = fc.stringMatching(/^[A-Za-z0-9._:-]{1,24}$/).map((s) => `${s}${ID_SLOT}`);

/** A record id (eventId, dealId): any valid text (made unique when sent). */
const recordIdArb = textArb(1, 100).map((s) => `${s}${ID_SLOT}`);

/** A number DynamoDB stores exactly, never -0 (which JSON cannot tell from 0 anyway). */
const amountArb = fc.oneof(fc.integer({ min: 0, max: 10_000_000 }), fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true })).filter((x) => !Object.is(x, -0) && (x === 0 || x >= 1e-130));

export const partnerArb = fc
  .record({
    partnerId: partnerIdArb,
    name: textArb(1, 200),
    tier: textArb(1, 40),
    region: textArb(1, 40),
    segment: textArb(1, 40),
    joined: dayArb,
    churnedAfter: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }),
    updatedAt: fc.option(dateTimeArb(), { nil: undefined }),
  })
  .map(({ joined, churnedAfter, updatedAt, ...rest }) => ({
    ...rest,
    joinedAt: isoDay(joined),
    status: churnedAfter === undefined ? 'active' : 'churned',
    ...(churnedAfter === undefined ? {} : { churnedAt: isoDay(joined + churnedAfter) }),
    ...(updatedAt ? { updatedAt } : {}),
  }));

const EVENT_TYPES = ['portal_login', 'content_view', 'training_completed', 'certification_earned', 'co_sell_meeting', 'marketing_campaign', 'support_ticket', 'qbr_attended', 'nps_response'] as const;

export const eventArb = fc
  .record({
    eventId: recordIdArb,
    partnerId: partnerIdArb,
    type: fc.constantFrom(...EVENT_TYPES),
    occurredAt: dateTimeArb(),
    quantity: fc.option(amountArb, { nil: undefined }),
    npsValue: fc.integer({ min: 0, max: 10 }),
    otherValue: fc.option(fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.double({ min: -1e9, max: 1e9, noNaN: true }).filter((x) => !Object.is(x, -0) && (x === 0 || Math.abs(x) >= 1e-130))), { nil: undefined }),
  })
  .map(({ npsValue, otherValue, quantity, ...e }) => ({
    ...e,
    ...(quantity === undefined ? {} : { quantity }),
    ...(e.type === 'nps_response' ? { value: npsValue } : otherValue === undefined ? {} : { value: otherValue }),
  }));

export const dealArb = fc
  .record({
    dealId: recordIdArb,
    direct: fc.boolean(),
    partnerId: partnerIdArb,
    partnerRole: fc.constantFrom('sourced', 'influenced'),
    amount: amountArb,
    stage: fc.constantFrom('registered', 'open', 'won', 'lost'),
    created: fc.integer({ min: DAY_2000 * dayMs, max: DAY_2030 * dayMs }),
    closedAfter: fc.integer({ min: 0, max: 400 * dayMs }),
  })
  .map(({ direct, partnerId, partnerRole, created, closedAfter, ...d }) => {
    const createdAt = new Date(created).toISOString();
    const closed = d.stage === 'won' || d.stage === 'lost';
    const closedAt = new Date(created + closedAfter).toISOString();
    return {
      ...d,
      partnerId: direct ? null : partnerId,
      partnerRole: direct ? null : partnerRole,
      createdAt,
      ...(closed ? { closedAt } : {}),
      updatedAt: closed ? closedAt : createdAt,
    };
  });

export const VALID_RECORD: Record<RecordKindName, fc.Arbitrary<Record<string, unknown>>> = { partners: partnerArb, events: eventArb, deals: dealArb };

/**
 * A value nested `depth` levels deep (arrays and objects in turn). Kept as this marker so that
 * neither fast-check nor the test's own JSON.stringify has to walk it: jsonText writes it out.
 */
export class Deep {
  constructor(readonly depth: number) {}
}

/** Nesting the server's JSON.stringify surely walks; deeper, a record's raw text is not predicted. */
export const SHALLOW_ENOUGH = 500;

/** JSON text of a value, as JSON.stringify writes it, with Deep markers written out without recursion. */
export function jsonText(value: unknown, override?: (v: unknown) => string | undefined): string {
  const special = override?.(value);
  if (special !== undefined) return special;
  if (value instanceof Deep) {
    let open = '';
    let close = '';
    for (let i = 0; i < value.depth; i++) {
      open += i % 2 === 0 ? '[' : '{"k":';
      close = (i % 2 === 0 ? ']' : '}') + close;
    }
    return `${open}"x"${close}`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : jsonText(v, override))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts = Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v, override)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Whether the value holds a Deep marker too deep to predict how the server writes it back. */
export function holdsDeep(value: unknown): boolean {
  if (value instanceof Deep) return value.depth > SHALLOW_ENOUGH;
  if (Array.isArray(value)) return value.some(holdsDeep);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsDeep);
  return false;
}

/** A value that is wrong for any field: wrong type, out of range, oversized, invalid Unicode, deeply nested. */
export const hostileValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, false, 0, -1, 1e16, -1e16, 1e300, -1e300, 1e-200, 5e-324, Number.MAX_SAFE_INTEGER + 2, '', ' ', [], {}),
  fc.constantFrom(...EXPRESSION_LIKE),
  fc.integer({ min: 41, max: 20_000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom('\ud800', 'a\udfffb', '\udc00\ud800'),
  fc.integer({ min: 2, max: 20_000 }).map((d) => new Deep(d)),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', '$where', '#id', ':v', '', ' ', 'partnerId ', 'PARTNERID', 'contentHash', 'ingestedAt', 'cohortKey'];

/** Sets an own property, even one named __proto__ (JSON.parse on the server creates it the same way). */
function withOwn(record: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) Object.defineProperty(copy, k, { value: v, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

export type Mutation = { kind: 'drop'; field: string } | { kind: 'set'; field: string; value: unknown } | { kind: 'extra'; field: string; value: unknown } | { kind: 'replace'; value: unknown };

/** One valid record broken (or, by chance, left valid) in one way. */
export function mutatedArb(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<{ record: unknown; mutation: Mutation }> {
  return fc.tuple(valid, fc.nat(), fc.constantFrom('drop', 'set', 'set', 'set', 'extra', 'replace'), hostileValueArb, fc.constantFrom(...HOSTILE_KEYS)).map(([record, pick, how, value, extraKey]) => {
    const fields = Object.keys(record);
    const field = fields[pick % fields.length]!;
    if (how === 'drop') {
      const { [field]: _gone, ...rest } = record;
      return { record: rest, mutation: { kind: 'drop', field } };
    }
    if (how === 'set') return { record: withOwn(record, field, value), mutation: { kind: 'set', field, value } };
    if (how === 'extra') return { record: withOwn(record, extraKey, value), mutation: { kind: 'extra', field: extraKey, value } };
    return { record: value, mutation: { kind: 'replace', value } };
  });
}

/** A line that is not blank: JSON or not (an NDJSON body's junk). */
export const junkLineArb = fc
  .oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }), fc.json({ maxDepth: 2 }), fc.constantFrom('{', '[1,', '{"eventId": "x",}', 'NaN', "{'a': 1}", '{"a":1}{"b":2}'))
  .map((s) => s.replace(/[\r\n]/g, ' '))
  // A body's leading byte-order mark is dropped when it is decoded, which would change the first line.
  .filter((s) => s.trim() !== '' && !s.startsWith('\ufeff'));

export type Encoding = 'array' | 'items' | 'ndjson';

/** A short description of a generated value for counterexamples (deep values as Deep(n), long text cut). */
export function describeValue(value: unknown): string {
  const text = jsonText(value instanceof Deep ? `Deep(${value.depth})` : value, (v) => (v instanceof Deep ? `"Deep(${v.depth})"` : undefined));
  return text.length > 300 ? `${text.slice(0, 300)}…(${text.length} chars)` : text;
}
