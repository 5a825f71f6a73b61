import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../data/stores/aws-clients';
import { startEmbeddedStores, type EmbeddedStores } from '../../functions/local/embedded-stores';

/**
 * Every Query and Scan on the embedded DynamoDB must close its LevelDB iterator, whether it
 * reads to the end or stops at a Limit: an iterator left open stays registered with the
 * database (with its read-ahead values and, on disk, a pinned snapshot) until the process
 * ends — the leak bench:load found. Counted with the database's own resource registry.
 */
interface Resource {
  nextv?: unknown;
}
const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
const { AbstractLevel } = fromDynalite('abstract-level') as { AbstractLevel: { prototype: { attachResource(r: Resource): void; detachResource(r: Resource): void } } };

const open = new Set<Resource>();
const isIterator = (r: Resource): boolean => typeof r.nextv === 'function';

describe('embedded DynamoDB iterators', () => {
  let dataDir: string;
  let embedded: EmbeddedStores;
  let clients: AwsClients;
  const proto = AbstractLevel.prototype;
  const { attachResource, detachResource } = proto;

  beforeAll(async () => {
    proto.attachResource = function (r) {
      if (isIterator(r)) open.add(r);
      attachResource.call(this, r);
    };
    proto.detachResource = function (r) {
      open.delete(r);
      detachResource.call(this, r);
    };
    // On disk, as under `npm start` (classic-level); the tests' in-memory stores share the code path.
    dataDir = mkdtempSync(join(tmpdir(), 'ps-iter-'));
    embedded = await startEmbeddedStores({ dataDir, s3Dir: join(dataDir, 's3'), bucket: 'iter' });
    clients = createAwsClients({ region: 'us-east-1', dynamoEndpoint: embedded.dynamoEndpoint, s3Endpoint: embedded.s3Endpoint });
    await clients.dynamo.send(
      new CreateTableCommand({
        TableName: 'items',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'group', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [{ IndexName: 'byGroup', KeySchema: [{ AttributeName: 'group', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
      }),
    );
    const items = Array.from({ length: 25 }, (_, i) => ({ pk: 'p', sk: String(i).padStart(3, '0'), group: i % 2 ? 'odd' : 'even', payload: 'x'.repeat(200) }));
    await clients.ddb.send(new BatchWriteCommand({ RequestItems: { items: items.map((Item) => ({ PutRequest: { Item } })) } }));
  });

  afterAll(async () => {
    proto.attachResource = attachResource;
    proto.detachResource = detachResource;
    destroyAwsClients(clients);
    await embedded.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const settled = async (): Promise<number> => {
    // A stream closes its iterator asynchronously after the response is written.
    for (let i = 0; i < 50 && open.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    return open.size;
  };

  it.each([
    ['a Query cut short by its Limit', () => new QueryCommand({ TableName: 'items', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'p' }, Limit: 3 }), 3],
    ['a Query read to the end', () => new QueryCommand({ TableName: 'items', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'p' } }), 25],
    ['a Query on an index, cut short', () => new QueryCommand({ TableName: 'items', IndexName: 'byGroup', KeyConditionExpression: '#g = :g', ExpressionAttributeNames: { '#g': 'group' }, ExpressionAttributeValues: { ':g': 'odd' }, Limit: 2 }), 2],
    ['a Scan cut short by its Limit', () => new ScanCommand({ TableName: 'items', Limit: 5 }), 5],
    ['a Scan read to the end', () => new ScanCommand({ TableName: 'items' }), 25],
    ['a parallel-scan segment', () => new ScanCommand({ TableName: 'items', Segment: 1, TotalSegments: 4 }), undefined],
  ] as const)('%s closes its iterator', async (_name, command, expected) => {
    for (let i = 0; i < 20; i++) {
      const out = await clients.ddb.send(command());
      if (expected !== undefined) expect(out.Items).toHaveLength(expected);
    }
    expect(await settled()).toBe(0);
  });

  it('a paginated Scan returns every item once and leaves nothing open', async () => {
    const seen: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await clients.ddb.send(new ScanCommand({ TableName: 'items', Limit: 4, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const item of out.Items ?? []) seen.push(String(item.sk));
      start = out.LastEvaluatedKey;
    } while (start);
    expect(seen.sort()).toEqual(Array.from({ length: 25 }, (_, i) => String(i).padStart(3, '0')));
    expect(await settled()).toBe(0);
  });
});
