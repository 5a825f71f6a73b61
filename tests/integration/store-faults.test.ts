import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRecordStore } from '../../data/stores/dynamo-record-store';
import { startTestStack, type TestStack } from '../helpers/test-stack';

/**
 * dynalite never returns UnprocessedItems nor throttles, so these tests wrap the real client:
 * the writes really happen in the embedded store, only the faults are injected.
 */
type Fault = { unprocessedCalls: number; failCalls: number };

function faultyClient(ddb: DynamoDBDocumentClient, fault: Fault): DynamoDBDocumentClient {
  const send = async (command: unknown): Promise<unknown> => {
    if (command instanceof BatchWriteCommand) {
      if (fault.failCalls > 0) {
        fault.failCalls--;
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ProvisionedThroughputExceededException' });
      }
      if (fault.unprocessedCalls > 0) {
        fault.unprocessedCalls--;
        const [table, requests] = Object.entries(command.input.RequestItems ?? {})[0] ?? ['', []];
        const half = Math.ceil(requests.length / 2);
        await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: requests.slice(0, half) } }));
        return { UnprocessedItems: requests.length > half ? { [table]: requests.slice(half) } : {} };
      }
    }
    return ddb.send(command as never);
  };
  return { send } as unknown as DynamoDBDocumentClient;
}

const event = (i: number) => ({ eventId: `F-${i}`, partnerId: 'P-F', type: 'portal_login', occurredAt: '2025-01-01T00:00:00Z' });

describe('store faults', () => {
  let stack: TestStack;
  const fault: Fault = { unprocessedCalls: 0, failCalls: 0 };
  beforeAll(async () => {
    stack = await startTestStack((d) => ({
      records: new DynamoRecordStore(faultyClient(d.clients.ddb, fault), d.config.tables, { maxUnprocessedAttempts: 4 }),
    }));
  });
  afterAll(async () => stack.close());

  const countEvents = async (): Promise<number> => {
    const out = await stack.clients.ddb.send(new ScanCommand({ TableName: stack.config.tables.events, Select: 'COUNT', ConsistentRead: true }));
    return out.Count ?? 0;
  };

  it('retries UnprocessedItems with backoff until every record is stored', async () => {
    fault.unprocessedCalls = 3;
    const res = await stack.request('POST', '/v1/events', { key: stack.adminKey, body: Array.from({ length: 60 }, (_, i) => event(i)) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 60, unchanged: 0, rejected: [] });
    expect(fault.unprocessedCalls).toBe(0);
    expect(await countEvents()).toBe(60);
  });

  it('answers 503 problem+json when items stay unprocessed, and a retry completes exactly', async () => {
    fault.unprocessedCalls = 100;
    const body = Array.from({ length: 30 }, (_, i) => event(100 + i));
    const failed = await stack.request('POST', '/v1/events', { key: stack.adminKey, body });
    expect(failed.status).toBe(503);
    expect(failed.headers.get('content-type')).toContain('application/problem+json');
    expect((await failed.json()) as { status: number }).toMatchObject({ status: 503 });
    const partial = await countEvents();
    expect(partial).toBeLessThan(90);

    fault.unprocessedCalls = 0;
    const retried = await stack.request('POST', '/v1/events', { key: stack.adminKey, body });
    const result = (await retried.json()) as { accepted: number; unchanged: number };
    expect(retried.status).toBe(200);
    expect(result.accepted + result.unchanged).toBe(30);
    expect(await countEvents()).toBe(90);
    const again = await stack.request('POST', '/v1/events', { key: stack.adminKey, body });
    expect(await again.json()).toEqual({ accepted: 0, unchanged: 30, rejected: [] });
  });

  it('turns throttling that outlasts the retries into a clean 503', async () => {
    fault.failCalls = 1;
    const res = await stack.request('POST', '/v1/events', { key: stack.adminKey, body: [event(500)] });
    expect(res.status).toBe(503);
    const problem = (await res.json()) as { detail: string };
    expect(problem.detail).not.toContain('Rate of requests');
    fault.failCalls = 0;
    const retry = await stack.request('POST', '/v1/events', { key: stack.adminKey, body: [event(500)] });
    expect(await retry.json()).toEqual({ accepted: 1, unchanged: 0, rejected: [] });
  });
});
