import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord, ApiKeyStore } from './api-key-store';
import { isConditionalCheckFailed, storeCall } from './store-errors';
import { StoreUnavailableError } from '../errors';
import { readAllPages } from './dynamo-pages';

export class DynamoApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(keyId: string): Promise<ApiKeyRecord | undefined> {
    const out = await storeCall('DynamoDB', () => this.ddb.send(new GetCommand({ TableName: this.table, Key: { keyId }, ConsistentRead: true })));
    return out.Item as ApiKeyRecord | undefined;
  }

  async put(record: ApiKeyRecord): Promise<void> {
    await storeCall('DynamoDB', () => this.ddb.send(new PutCommand({ TableName: this.table, Item: record })));
  }

  async revoke(keyId: string, at: string): Promise<boolean> {
    try {
      await storeCall('DynamoDB', () =>
        this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { keyId },
            UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
            ConditionExpression: 'attribute_exists(keyId)',
            ExpressionAttributeValues: { ':at': at },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof StoreUnavailableError && isConditionalCheckFailed(error.cause)) return false;
      throw error;
    }
  }

  async list(): Promise<ApiKeyRecord[]> {
    const items = (await readAllPages(this.ddb, { kind: 'scan', TableName: this.table, ConsistentRead: true })) as unknown as ApiKeyRecord[];
    return items.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.keyId.localeCompare(b.keyId));
  }
}
