import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readAllPages } from './dynamo-pages';
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
    const items = model
      ? await readAllPages(this.ddb, { kind: 'query', TableName: this.table, KeyConditionExpression: '#m = :m', ExpressionAttributeNames: { '#m': 'model' }, ExpressionAttributeValues: { ':m': model }, ConsistentRead: true })
      : await readAllPages(this.ddb, { kind: 'scan', TableName: this.table, ConsistentRead: true });
    return (items as unknown as ModelVersionRecord[]).sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version));
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
