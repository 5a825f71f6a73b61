import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../errors';
import { readAllPages } from './dynamo-pages';
import type { JobRecord, JobStore } from './job-store';
import { isConditionalCheckFailed, storeCall } from './store-errors';

export class DynamoJobStore implements JobStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(job: JobRecord): Promise<void> {
    await storeCall('DynamoDB', () => this.ddb.send(new PutCommand({ TableName: this.table, Item: job, ConditionExpression: 'attribute_not_exists(jobId)' })));
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const out = await storeCall('DynamoDB', () => this.ddb.send(new GetCommand({ TableName: this.table, Key: { jobId }, ConsistentRead: true })));
    return out.Item as JobRecord | undefined;
  }

  async start(jobId: string, at: string): Promise<boolean> {
    try {
      await storeCall('DynamoDB', () =>
        this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { jobId },
            UpdateExpression: 'SET #s = :running, startedAt = :at',
            ConditionExpression: '#s = :queued',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':running': 'running', ':queued': 'queued', ':at': at },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof StoreUnavailableError && isConditionalCheckFailed(error.cause)) return false;
      throw error;
    }
  }

  async listUnfinished(): Promise<JobRecord[]> {
    const items = await readAllPages(this.ddb, {
      kind: 'scan',
      TableName: this.table,
      ConsistentRead: true,
      FilterExpression: '#s IN (:q, :r)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':q': 'queued', ':r': 'running' },
    });
    return (items as unknown as JobRecord[]).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async progress(jobId: string, progress: string): Promise<void> {
    await storeCall('DynamoDB', () =>
      this.ddb.send(new UpdateCommand({ TableName: this.table, Key: { jobId }, UpdateExpression: 'SET progress = :p', ExpressionAttributeValues: { ':p': progress } })),
    );
  }

  async finish(jobId: string, outcome: { status: 'succeeded'; result: unknown } | { status: 'failed'; error: string }, at: string): Promise<void> {
    const detail = outcome.status === 'succeeded' ? { field: 'result', value: outcome.result } : { field: 'error', value: outcome.error };
    await storeCall('DynamoDB', () =>
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { jobId },
          UpdateExpression: `SET #s = :s, finishedAt = :at, #d = :d REMOVE progress`,
          ExpressionAttributeNames: { '#s': 'status', '#d': detail.field },
          ExpressionAttributeValues: { ':s': outcome.status, ':at': at, ':d': detail.value },
        }),
      ),
    );
  }
}
