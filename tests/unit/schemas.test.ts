import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createApiKeySchema } from '../../data/schemas/api-key';
import { parseWith, type FieldError } from '../../data/schemas/common';
import { dealSchema } from '../../data/schemas/deal';
import { EVENT_TYPES, eventSchema } from '../../data/schemas/event';
import { partnerSchema } from '../../data/schemas/partner';

/** The value of a record that must parse. */
function valueOf<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = parseWith(schema, input);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(input)} to parse, got ${JSON.stringify(result.errors)}`);
  return result.value;
}

/** The errors of a record that must be refused. */
function errorsOf(schema: z.ZodType<unknown>, input: unknown): FieldError[] {
  const result = parseWith(schema, input);
  if (result.ok) throw new Error(`expected ${JSON.stringify(input)} to be refused, it parsed to ${JSON.stringify(result.value)}`);
  return result.errors;
}

/** Exactly one error, on exactly this path, whose message names the rule. */
function expectOnly(errors: FieldError[], path: string, rule: RegExp): void {
  expect(errors).toEqual([{ path, message: expect.stringMatching(rule) }]);
}

const TIME_RULE = /ISO 8601.*time zone/;

describe('partner schema', () => {
  const partner = { partnerId: 'P-1', name: 'Acme', tier: 'gold', region: 'NA', segment: 'SMB', joinedAt: '2024-01-15', status: 'active' };
  const churned = { ...partner, status: 'churned', churnedAt: '2025-02-01' };

  it('accepts a minimal active partner and a churned one, unchanged', () => {
    expect(valueOf(partnerSchema, partner)).toEqual(partner);
    expect(valueOf(partnerSchema, churned)).toEqual(churned);
  });

  it('partnerId: accepts every allowed character and exactly 128 characters', () => {
    expect(valueOf(partnerSchema, { ...partner, partnerId: 'aZ09._:-' }).partnerId).toBe('aZ09._:-');
    const max = 'p'.repeat(128);
    expect(valueOf(partnerSchema, { ...partner, partnerId: max }).partnerId).toBe(max);
  });

  it('partnerId: refuses 129 characters, naming the 128 limit', () => {
    expectOnly(errorsOf(partnerSchema, { ...partner, partnerId: 'p'.repeat(129) }), 'partnerId', /128/);
  });

  it.each([
    ['a space', 'P 1'],
    ['a slash', 'P/1'],
    ['a non-ASCII letter', 'Pé'],
    ['an empty string', ''],
    ['a hash', 'P#1'],
  ])('partnerId: refuses %s, naming the allowed characters', (_, partnerId) => {
    expectOnly(errorsOf(partnerSchema, { ...partner, partnerId }), 'partnerId', /A-Za-z0-9\._:-/);
  });

  it('partnerId: a missing one is required, a number is the wrong type', () => {
    const { partnerId: _omit, ...rest } = partner;
    expectOnly(errorsOf(partnerSchema, rest), 'partnerId', /required/);
    expectOnly(errorsOf(partnerSchema, { ...partner, partnerId: 42 }), 'partnerId', /must be a string/);
  });

  it('name: 1–200 characters', () => {
    expect(valueOf(partnerSchema, { ...partner, name: 'n'.repeat(200) }).name).toHaveLength(200);
    expectOnly(errorsOf(partnerSchema, { ...partner, name: 'n'.repeat(201) }), 'name', /at most 200 characters/);
    expectOnly(errorsOf(partnerSchema, { ...partner, name: '' }), 'name', /must not be empty/);
  });

  it.each(['tier', 'region', 'segment'] as const)('%s: 1–40 characters', (field) => {
    expect(valueOf(partnerSchema, { ...partner, [field]: 'x'.repeat(40) })[field]).toHaveLength(40);
    expectOnly(errorsOf(partnerSchema, { ...partner, [field]: 'x'.repeat(41) }), field, /at most 40 characters/);
    expectOnly(errorsOf(partnerSchema, { ...partner, [field]: '' }), field, /must not be empty/);
    const { [field]: _omit, ...rest } = partner;
    expectOnly(errorsOf(partnerSchema, rest), field, /required/);
  });

  it('joinedAt: a calendar date that does not exist (2025-02-30) is refused', () => {
    expectOnly(errorsOf(partnerSchema, { ...partner, joinedAt: '2025-02-30' }), 'joinedAt', TIME_RULE);
  });

  it('joinedAt: 29 February only in a leap year', () => {
    expect(valueOf(partnerSchema, { ...partner, joinedAt: '2024-02-29' }).joinedAt).toBe('2024-02-29');
    expectOnly(errorsOf(partnerSchema, { ...partner, joinedAt: '2025-02-29' }), 'joinedAt', TIME_RULE);
  });

  it.each([['2025-13-01'], ['2025-04-31'], ['2025-3-1'], ['01/03/2025'], ['yesterday'], ['']])('joinedAt: refuses %j', (joinedAt) => {
    expectOnly(errorsOf(partnerSchema, { ...partner, joinedAt }), 'joinedAt', TIME_RULE);
  });

  it('joinedAt: a date-time without a time zone is refused', () => {
    expectOnly(errorsOf(partnerSchema, { ...partner, joinedAt: '2024-01-15T10:00:00' }), 'joinedAt', TIME_RULE);
  });

  it('joinedAt: a date-time with a zone is stored as its UTC date, YYYY-MM-DD', () => {
    expect(valueOf(partnerSchema, { ...partner, joinedAt: '2024-01-15T22:30:00-05:00' }).joinedAt).toBe('2024-01-16');
    expect(valueOf(partnerSchema, { ...partner, joinedAt: '2024-01-15T00:30:00+02:00' }).joinedAt).toBe('2024-01-14');
  });

  it('joinedAt: a number is the wrong type', () => {
    expectOnly(errorsOf(partnerSchema, { ...partner, joinedAt: 20240115 }), 'joinedAt', /must be a string/);
  });

  it('status: only active or churned', () => {
    expectOnly(errorsOf(partnerSchema, { ...partner, status: 'paused' }), 'status', /must be one of: active, churned/);
    expectOnly(errorsOf(partnerSchema, { ...partner, status: 'ACTIVE' }), 'status', /must be one of: active, churned/);
  });

  it('churnedAt: required when status is churned', () => {
    expectOnly(errorsOf(partnerSchema, { ...partner, status: 'churned' }), 'churnedAt', /required when status is churned/);
  });

  it('churnedAt: refused on an active partner', () => {
    expectOnly(errorsOf(partnerSchema, { ...partner, churnedAt: '2025-02-01' }), 'churnedAt', /active/);
  });

  it('churnedAt: not before joinedAt, but the same day is allowed', () => {
    expectOnly(errorsOf(partnerSchema, { ...churned, churnedAt: '2024-01-14' }), 'churnedAt', /not be before joinedAt/);
    expect(valueOf(partnerSchema, { ...churned, churnedAt: '2024-01-15' }).churnedAt).toBe('2024-01-15');
  });

  it('churnedAt: compared after normalization to UTC dates', () => {
    // 2024-01-15T01:00+05:00 is 2024-01-14 in UTC: before joinedAt.
    expectOnly(errorsOf(partnerSchema, { ...churned, churnedAt: '2024-01-15T01:00:00+05:00' }), 'churnedAt', /not be before joinedAt/);
  });

  it('churnedAt: must be a real date', () => {
    expectOnly(errorsOf(partnerSchema, { ...churned, churnedAt: '2025-02-30' }), 'churnedAt', TIME_RULE);
  });

  it('updatedAt: optional; a date-time with an offset is stored in UTC with Z', () => {
    expect(valueOf(partnerSchema, partner).updatedAt).toBeUndefined();
    expect(valueOf(partnerSchema, { ...partner, updatedAt: '2025-03-01T12:00:00+02:00' }).updatedAt).toBe('2025-03-01T10:00:00.000Z');
  });

  it('updatedAt: a date-time without a zone is refused', () => {
    expectOnly(errorsOf(partnerSchema, { ...partner, updatedAt: '2025-03-01T12:00:00' }), 'updatedAt', TIME_RULE);
  });

  it('an unknown field is refused by name', () => {
    expectOnly(errorsOf(partnerSchema, { ...partner, revenue: 10 }), 'revenue', /not a known field/);
  });

  it('reports every failing field of one record, each by its own path', () => {
    const errors = errorsOf(partnerSchema, { ...partner, partnerId: 'bad id', name: '', tier: 't'.repeat(41), extra: true });
    expect(errors.map((e) => e.path).sort()).toEqual(['extra', 'name', 'partnerId', 'tier']);
  });

  it('a record that is not an object is refused as a whole', () => {
    for (const input of [null, [], 'P-1', 7]) {
      expectOnly(errorsOf(partnerSchema, input), '', /JSON object/);
    }
  });
});

describe('event schema', () => {
  const event = { eventId: 'E-1', partnerId: 'P-1', type: 'portal_login', occurredAt: '2025-03-01T12:00:00Z' };

  it('accepts every event type', () => {
    for (const type of EVENT_TYPES) {
      const input = type === 'nps_response' ? { ...event, type, value: 7 } : { ...event, type };
      expect(valueOf(eventSchema, input).type).toBe(type);
    }
    expect(EVENT_TYPES).toHaveLength(9);
  });

  it('type: anything else is refused, listing the allowed types', () => {
    const errors = errorsOf(eventSchema, { ...event, type: 'webinar' });
    expectOnly(errors, 'type', /must be one of: .*portal_login.*nps_response/);
    for (const type of EVENT_TYPES) expect(errors[0]?.message).toContain(type);
  });

  it('eventId: 1–128 characters', () => {
    expect(valueOf(eventSchema, { ...event, eventId: 'e'.repeat(128) }).eventId).toHaveLength(128);
    expectOnly(errorsOf(eventSchema, { ...event, eventId: 'e'.repeat(129) }), 'eventId', /at most 128 characters/);
    expectOnly(errorsOf(eventSchema, { ...event, eventId: '' }), 'eventId', /must not be empty/);
    const { eventId: _omit, ...rest } = event;
    expectOnly(errorsOf(eventSchema, rest), 'eventId', /required/);
  });

  it('partnerId: the partner id rule', () => {
    expectOnly(errorsOf(eventSchema, { ...event, partnerId: 'P 1' }), 'partnerId', /A-Za-z0-9\._:-/);
    expectOnly(errorsOf(eventSchema, { ...event, partnerId: 'p'.repeat(129) }), 'partnerId', /128/);
  });

  it('occurredAt: a date-time with a zone, stored in UTC with Z', () => {
    expect(valueOf(eventSchema, event).occurredAt).toBe('2025-03-01T12:00:00.000Z');
    expect(valueOf(eventSchema, { ...event, occurredAt: '2025-03-01T01:30:00+05:30' }).occurredAt).toBe('2025-02-28T20:00:00.000Z');
    expect(valueOf(eventSchema, { ...event, occurredAt: '2025-03-01T12:00:00.250-08:00' }).occurredAt).toBe('2025-03-01T20:00:00.250Z');
  });

  it('occurredAt: a date-time without a zone is refused', () => {
    expectOnly(errorsOf(eventSchema, { ...event, occurredAt: '2025-03-01T12:00:00' }), 'occurredAt', TIME_RULE);
  });

  it.each([['2025-02-30T12:00:00Z'], ['2025-03-01T24:00:00Z'], ['2025-03-01T12:60:00Z'], ['2025-03-01 12:00:00Z'], ['not a time']])('occurredAt: refuses %j', (occurredAt) => {
    expectOnly(errorsOf(eventSchema, { ...event, occurredAt }), 'occurredAt', TIME_RULE);
  });

  it('occurredAt: required', () => {
    const { occurredAt: _omit, ...rest } = event;
    expectOnly(errorsOf(eventSchema, rest), 'occurredAt', /required/);
  });

  it('quantity: defaults to 1, accepts 0 and fractions, refuses negatives and non-numbers', () => {
    expect(valueOf(eventSchema, event).quantity).toBe(1);
    expect(valueOf(eventSchema, { ...event, quantity: 0 }).quantity).toBe(0);
    expect(valueOf(eventSchema, { ...event, quantity: 2.5 }).quantity).toBe(2.5);
    expectOnly(errorsOf(eventSchema, { ...event, quantity: -1 }), 'quantity', /at least 0/);
    expectOnly(errorsOf(eventSchema, { ...event, quantity: '3' }), 'quantity', /must be a number/);
  });

  it('value: optional and any number for types other than nps_response', () => {
    expect(valueOf(eventSchema, event).value).toBeUndefined();
    expect(valueOf(eventSchema, { ...event, value: -3.25 }).value).toBe(-3.25);
    expectOnly(errorsOf(eventSchema, { ...event, value: 'high' }), 'value', /must be a number/);
  });

  it('value: required for nps_response', () => {
    expectOnly(errorsOf(eventSchema, { ...event, type: 'nps_response' }), 'value', /required for nps_response/);
  });

  it('value: an integer from 0 to 10 for nps_response', () => {
    expect(valueOf(eventSchema, { ...event, type: 'nps_response', value: 0 }).value).toBe(0);
    expect(valueOf(eventSchema, { ...event, type: 'nps_response', value: 10 }).value).toBe(10);
    for (const value of [11, -1, 7.5]) {
      expectOnly(errorsOf(eventSchema, { ...event, type: 'nps_response', value }), 'value', /integer from 0 to 10/);
    }
  });

  it('an unknown field is refused by name', () => {
    expectOnly(errorsOf(eventSchema, { ...event, channel: 'web' }), 'channel', /not a known field/);
  });
});

describe('deal schema', () => {
  const deal = {
    dealId: 'D-1',
    partnerId: 'P-1',
    partnerRole: 'sourced',
    amount: 1000,
    stage: 'open',
    createdAt: '2025-01-10T09:00:00Z',
    updatedAt: '2025-01-10T09:00:00Z',
  };
  const won = { ...deal, stage: 'won', closedAt: '2025-02-10T09:00:00Z' };

  it('accepts a partner deal, a direct deal and closed deals', () => {
    expect(valueOf(dealSchema, deal).partnerRole).toBe('sourced');
    expect(valueOf(dealSchema, { ...deal, partnerRole: 'influenced' }).partnerRole).toBe('influenced');
    const direct = valueOf(dealSchema, { ...deal, partnerId: null, partnerRole: null });
    expect([direct.partnerId, direct.partnerRole]).toEqual([null, null]);
    expect(valueOf(dealSchema, won).closedAt).toBe('2025-02-10T09:00:00.000Z');
    expect(valueOf(dealSchema, { ...won, stage: 'lost' }).stage).toBe('lost');
    expect(valueOf(dealSchema, { ...deal, stage: 'registered' }).stage).toBe('registered');
  });

  it('dealId: 1–128 characters', () => {
    expect(valueOf(dealSchema, { ...deal, dealId: 'd'.repeat(128) }).dealId).toHaveLength(128);
    expectOnly(errorsOf(dealSchema, { ...deal, dealId: 'd'.repeat(129) }), 'dealId', /at most 128 characters/);
    expectOnly(errorsOf(dealSchema, { ...deal, dealId: '' }), 'dealId', /must not be empty/);
  });

  it('partnerId: the partner id rule when set', () => {
    expectOnly(errorsOf(dealSchema, { ...deal, partnerId: 'P 1' }), 'partnerId', /A-Za-z0-9\._:-/);
  });

  it('partnerId: must be given, as null for a direct deal', () => {
    const { partnerId: _omit, ...rest } = deal;
    expectOnly(errorsOf(dealSchema, rest), 'partnerId', /required/);
  });

  it('partnerRole: refused on a direct deal (partnerId null)', () => {
    expectOnly(errorsOf(dealSchema, { ...deal, partnerId: null, partnerRole: 'sourced' }), 'partnerRole', /must be null for a direct deal/);
  });

  it('partnerRole: required (sourced or influenced) when partnerId is set', () => {
    expectOnly(errorsOf(dealSchema, { ...deal, partnerRole: null }), 'partnerRole', /sourced or influenced/);
  });

  it('partnerRole: only sourced or influenced', () => {
    expectOnly(errorsOf(dealSchema, { ...deal, partnerRole: 'resold' }), 'partnerRole', /must be one of: sourced, influenced/);
  });

  it('amount: a number ≥ 0', () => {
    expect(valueOf(dealSchema, { ...deal, amount: 0 }).amount).toBe(0);
    expect(valueOf(dealSchema, { ...deal, amount: 12.5 }).amount).toBe(12.5);
    expectOnly(errorsOf(dealSchema, { ...deal, amount: -0.01 }), 'amount', /at least 0/);
  });

  it('amount: a string is the wrong type, not a missing field', () => {
    expectOnly(errorsOf(dealSchema, { ...deal, amount: '1000' }), 'amount', /must be a number/);
    const { amount: _omit, ...rest } = deal;
    expectOnly(errorsOf(dealSchema, rest), 'amount', /required/);
  });

  it('stage: one of registered, open, won, lost', () => {
    expectOnly(errorsOf(dealSchema, { ...deal, stage: 'closed' }), 'stage', /must be one of: registered, open, won, lost/);
  });

  it.each(['won', 'lost'])('closedAt: required when stage is %s', (stage) => {
    expectOnly(errorsOf(dealSchema, { ...deal, stage }), 'closedAt', new RegExp(`required when stage is ${stage}`));
  });

  it('closedAt: not before createdAt; the same instant is allowed', () => {
    expectOnly(errorsOf(dealSchema, { ...won, closedAt: '2025-01-10T08:59:59Z' }), 'closedAt', /not be before createdAt/);
    expect(valueOf(dealSchema, { ...won, closedAt: '2025-01-10T09:00:00Z' }).closedAt).toBe('2025-01-10T09:00:00.000Z');
  });

  it('closedAt: compared in UTC, whatever offsets the two are written with', () => {
    // 10:00+02:00 is 08:00Z, an hour before createdAt 09:00Z, although "10:00" > "09:00" as text.
    expectOnly(errorsOf(dealSchema, { ...won, closedAt: '2025-01-10T10:00:00+02:00' }), 'closedAt', /not be before createdAt/);
    expect(valueOf(dealSchema, { ...won, closedAt: '2025-01-10T05:00:00-05:00' }).closedAt).toBe('2025-01-10T10:00:00.000Z');
  });

  it('createdAt and closedAt: a date-time without a zone is refused', () => {
    expectOnly(errorsOf(dealSchema, { ...deal, createdAt: '2025-01-10T09:00:00' }), 'createdAt', TIME_RULE);
    expectOnly(errorsOf(dealSchema, { ...won, closedAt: '2025-02-10T09:00:00' }), 'closedAt', TIME_RULE);
  });

  it('createdAt: a calendar date that does not exist is refused', () => {
    expectOnly(errorsOf(dealSchema, { ...deal, createdAt: '2025-02-30T09:00:00Z' }), 'createdAt', TIME_RULE);
  });

  it('updatedAt: required on deals', () => {
    const { updatedAt: _omit, ...rest } = deal;
    expectOnly(errorsOf(dealSchema, rest), 'updatedAt', /required/);
  });

  it('updatedAt: a date-time with an offset is stored in UTC with Z', () => {
    expect(valueOf(dealSchema, { ...deal, updatedAt: '2025-03-01T23:15:00-01:00' }).updatedAt).toBe('2025-03-02T00:15:00.000Z');
  });

  it('normalizes a date given for a date-time field to midnight UTC', () => {
    expect(valueOf(dealSchema, { ...deal, createdAt: '2025-01-10', updatedAt: '2025-01-11' })).toMatchObject({
      createdAt: '2025-01-10T00:00:00.000Z',
      updatedAt: '2025-01-11T00:00:00.000Z',
    });
  });

  it('an unknown field is refused by name', () => {
    expectOnly(errorsOf(dealSchema, { ...deal, currency: 'EUR' }), 'currency', /not a known field/);
  });
});

describe('create-api-key schema', () => {
  it('accepts each role, with partnerId only for partner', () => {
    expect(valueOf(createApiKeySchema, { name: 'ops', role: 'ops' })).toEqual({ name: 'ops', role: 'ops' });
    expect(valueOf(createApiKeySchema, { name: 'admin', role: 'admin' }).role).toBe('admin');
    expect(valueOf(createApiKeySchema, { name: 'crm', role: 'integration' }).role).toBe('integration');
    expect(valueOf(createApiKeySchema, { name: 'p', role: 'partner', partnerId: 'P-1' })).toEqual({ name: 'p', role: 'partner', partnerId: 'P-1' });
  });

  it('name: 1–100 characters', () => {
    expect(valueOf(createApiKeySchema, { name: 'n'.repeat(100), role: 'ops' }).name).toHaveLength(100);
    expectOnly(errorsOf(createApiKeySchema, { name: 'n'.repeat(101), role: 'ops' }), 'name', /at most 100 characters/);
    expectOnly(errorsOf(createApiKeySchema, { name: '', role: 'ops' }), 'name', /must not be empty/);
    expectOnly(errorsOf(createApiKeySchema, { role: 'ops' }), 'name', /required/);
  });

  it('role: one of admin, ops, integration, partner', () => {
    expectOnly(errorsOf(createApiKeySchema, { name: 'x', role: 'root' }), 'role', /must be one of: admin, ops, integration, partner/);
  });

  it('partnerId: required for role partner', () => {
    expectOnly(errorsOf(createApiKeySchema, { name: 'x', role: 'partner' }), 'partnerId', /required for role partner/);
  });

  it.each(['admin', 'ops', 'integration'])('partnerId: refused for role %s', (role) => {
    expectOnly(errorsOf(createApiKeySchema, { name: 'x', role, partnerId: 'P-1' }), 'partnerId', new RegExp(`absent for role ${role}`));
  });

  it('partnerId: the partner id rule', () => {
    expectOnly(errorsOf(createApiKeySchema, { name: 'x', role: 'partner', partnerId: 'P/1' }), 'partnerId', /A-Za-z0-9\._:-/);
  });

  it('an unknown field is refused by name', () => {
    expectOnly(errorsOf(createApiKeySchema, { name: 'x', role: 'ops', secret: 'abc' }), 'secret', /not a known field/);
  });
});
