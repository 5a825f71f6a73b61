import { BatchGetCommand, BatchWriteCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../errors';
import { backoffDelay, chunk, mapLimit, sleep } from '../util/async';
import { RECORD_ID_FIELD, type RecordKindName, type RecordStore, type StoredItem, type StoredVersion } from './record-store';
import { isConditionalCheckFailed, storeCall } from './store-errors';
import type { TableNames } from './tables';

export interface DynamoRecordStoreOptions {
  /** Batch requests in flight at once (per call). */
  concurrency?: number;
  /** Attempts at writing UnprocessedItems / reading UnprocessedKeys before giving up with a 503. */
  maxUnprocessedAttempts?: number;
}

type WriteRequest = { PutRequest: { Item: StoredItem } };

export class DynamoRecordStore implements RecordStore {
  private readonly concurrency: number;
  private readonly maxUnprocessedAttempts: number;

  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly tables: TableNames,
    options: DynamoRecordStoreOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.maxUnprocessedAttempts = options.maxUnprocessedAttempts ?? 8;
  }

  async getVersions(kind: RecordKindName, ids: readonly string[]): Promise<Map<string, StoredVersion>> {
    const idField = RECORD_ID_FIELD[kind];
    const table = this.tables[kind];
    const found = new Map<string, StoredVersion>();
    const unique = [...new Set(ids)];
    await mapLimit(chunk(unique, 100), this.concurrency, async (ids100) => {
      let keys: Record<string, unknown>[] = ids100.map((id) => ({ [idField]: id }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= this.maxUnprocessedAttempts) throw new StoreUnavailableError('DynamoDB (unprocessed keys)');
        if (attempt > 0) await sleep(backoffDelay(attempt));
        const out = await storeCall('DynamoDB', () =>
          this.ddb.send(
            new BatchGetCommand({
              RequestItems: {
                [table]: {
                  Keys: keys,
                  ConsistentRead: true,
                  ProjectionExpression: '#id, contentHash, updatedAt',
                  ExpressionAttributeNames: { '#id': idField },
                },
              },
            }),
          ),
        );
        for (const item of out.Responses?.[table] ?? []) {
          const version: StoredVersion = { contentHash: String(item.contentHash) };
          if (typeof item.updatedAt === 'string') version.updatedAt = item.updatedAt;
          found.set(String(item[idField]), version);
        }
        keys = (out.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    });
    return found;
  }

  async putAll(kind: RecordKindName, items: readonly StoredItem[]): Promise<void> {
    const table = this.tables[kind];
    await mapLimit(chunk(items, 25), this.concurrency, async (batch) => {
      let requests: WriteRequest[] = batch.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt >= this.maxUnprocessedAttempts) throw new StoreUnavailableError('DynamoDB (unprocessed items)');
        if (attempt > 0) await sleep(backoffDelay(attempt));
        const out = await storeCall('DynamoDB', () => this.ddb.send(new BatchWriteCommand({ RequestItems: { [table]: requests } })));
        requests = (out.UnprocessedItems?.[table] as WriteRequest[] | undefined) ?? [];
      }
    });
  }

  async putUnlessNewerStored(kind: RecordKindName, item: StoredItem): Promise<boolean> {
    const idField = RECORD_ID_FIELD[kind];
    const updatedAt = item.updatedAt;
    try {
      await storeCall('DynamoDB', () =>
        this.ddb.send(
          new PutCommand({
            TableName: this.tables[kind],
            Item: item,
            ...(typeof updatedAt === 'string'
              ? {
                  ConditionExpression: 'attribute_not_exists(#id) OR attribute_not_exists(updatedAt) OR updatedAt <= :u',
                  ExpressionAttributeNames: { '#id': idField },
                  ExpressionAttributeValues: { ':u': updatedAt },
                }
              : {}),
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof StoreUnavailableError && isConditionalCheckFailed(error.cause)) return false;
      throw error;
    }
  }

  async hasAny(kind: RecordKindName): Promise<boolean> {
    const out = await storeCall('DynamoDB', () => this.ddb.send(new ScanCommand({ TableName: this.tables[kind], Limit: 1, ProjectionExpression: '#id', ExpressionAttributeNames: { '#id': RECORD_ID_FIELD[kind] } })));
    return (out.Items?.length ?? 0) > 0;
  }
}
