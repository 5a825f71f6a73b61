import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ModelStatus, ModelStore, ModelVersionRecord } from './model-store';
import { storeCall } from './store-errors';

export class DynamoModelStore implements ModelStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(record: ModelVersionRecord): Promise<void> {
    await storeCall('DynamoDB', () => this.ddb.send(new PutCommand({ TableName: this.table, Item: record })));
  }

  async get(model: string, version: string): Promise<ModelVersionRecord | undefined> {
    const out = await storeCall('DynamoDB', () => this.ddb.send(new GetCommand({ TableName: this.table, Key: { model, version }, ConsistentRead: true })));
    return out.Item as ModelVersionRecord | undefined;
  }

  async list(model?: string): Promise<ModelVersionRecord[]> {
    const items: ModelVersionRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await storeCall('DynamoDB', () =>
        this.ddb.send(
          model
            ? new QueryCommand({ TableName: this.table, KeyConditionExpression: '#m = :m', ExpressionAttributeNames: { '#m': 'model' }, ExpressionAttributeValues: { ':m': model }, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) })
            : new ScanCommand({ TableName: this.table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
        ),
      );
      items.push(...((out.Items ?? []) as ModelVersionRecord[]));
      start = out.LastEvaluatedKey;
    } while (start);
    return items.sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version));
  }

  async setStatus(model: string, version: string, status: ModelStatus, promotedAt?: string): Promise<void> {
    await storeCall('DynamoDB', () =>
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { model, version },
          UpdateExpression: promotedAt ? 'SET #s = :s, promotedAt = :p' : 'SET #s = :s',
          ConditionExpression: 'attribute_exists(#m)',
          ExpressionAttributeNames: { '#s': 'status', '#m': 'model' },
          ExpressionAttributeValues: { ':s': status, ...(promotedAt ? { ':p': promotedAt } : {}) },
        }),
      ),
    );
  }
}
