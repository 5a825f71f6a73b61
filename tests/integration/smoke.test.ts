import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/test-stack';

describe('smoke', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => stack.close());

  it('ingests a partner and reports it unchanged when re-sent', async () => {
    const partner = { partnerId: 'P-1', name: 'Acme', tier: 'gold', region: 'NA', segment: 'SMB', joinedAt: '2024-01-01', status: 'active' };
    const first = await stack.request('POST', '/v1/partners', { key: stack.adminKey, body: [partner] });
    expect(await first.json()).toEqual({ accepted: 1, unchanged: 0, rejected: [] });
    const second = await stack.request('POST', '/v1/partners', { key: stack.adminKey, body: { items: [partner] } });
    expect(await second.json()).toEqual({ accepted: 0, unchanged: 1, rejected: [] });
  });
});
