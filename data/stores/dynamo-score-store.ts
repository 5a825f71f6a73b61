import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError, ValidationError } from '../errors';
import { batchGetAll, batchWriteAll, readAllPages, type Item } from './dynamo-pages';
import type { ChurnRiskFilter, RunRecord, ScoreRecord, ScoreStore, ShardRecorded } from './score-store';
import { isConditionalCheckFailed, storeCall } from './store-errors';

/** Runs live in the scores table under a partition no partner id can have ('#' is not allowed in ids). */
const RUNS_PARTITION = '#runs';

/** Sorts by churn probability, highest first: the index reads rankKey ascending. */
export const rankKey = (probability: number, partnerId: string): string => `${(1 - probability).toFixed(8)}#${partnerId}`;

const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A byRun page's LastEvaluatedKey: the table's and the index's keys, all non-empty strings (DynamoDB refuses an empty key), of the cursor's run. */
const isRunKey = (key: unknown, runId: string): key is Item =>
  !!key && typeof key === 'object' && Object.keys(key).sort().join() === 'partnerId,rankKey,runId,scoreKey' && Object.values(key).every((v) => typeof v === 'string' && v !== '') && (key as Item).runId === runId;
function decodeCursor(cursor: string): { runId: string; key: Item } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { runId?: unknown; key?: unknown };
    // A tampered key would reach DynamoDB and come back as a 503 (retry): refuse it here as a 400.
    if (typeof parsed.runId === 'string' && isRunKey(parsed.key, parsed.runId)) return parsed as { runId: string; key: Item };
  } catch {
    // fall through
  }
  throw new ValidationError('cursor is not one this API returned.', [{ path: 'query.cursor', message: 'is not a cursor from a previous page' }]);
}

const toRun = ({ partnerId: _p, scoreKey: _k, ...run }: Item): RunRecord => run as unknown as RunRecord;

/** Runs an update whose condition may fail: undefined when it did, its new attributes when it did not. */
async function conditionalUpdate(ddb: DynamoDBDocumentClient, input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<Item | undefined> {
  try {
    const out = await storeCall('DynamoDB', () => ddb.send(new UpdateCommand({ ...input, ReturnValues: 'ALL_NEW' })));
    return out.Attributes ?? {};
  } catch (error) {
    if (error instanceof StoreUnavailableError && isConditionalCheckFailed(error.cause)) return undefined;
    throw error;
  }
}

const toScore = ({ scoreKey: _k, rankKey: _r, ...rest }: Item): ScoreRecord => rest as unknown as ScoreRecord;

export class DynamoScoreStore implements ScoreStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putRun(run: RunRecord): Promise<void> {
    await storeCall('DynamoDB', () => this.ddb.send(new PutCommand({ TableName: this.table, Item: { partnerId: RUNS_PARTITION, scoreKey: run.asOf, ...run } })));
  }

  async listRuns(): Promise<RunRecord[]> {
    const items = await readAllPages(this.ddb, {
      kind: 'query',
      TableName: this.table,
      KeyConditionExpression: 'partnerId = :p',
      ExpressionAttributeValues: { ':p': RUNS_PARTITION },
      ScanIndexForward: false,
      ConsistentRead: true,
    });
    return items.map(toRun);
  }

  /**
   * No transactions: the shard's entry is one key of the run item's shardScored map (written
   * again with the same value when a shard is retried), and completion is a conditional
   * running → complete that only one caller can win. Both are conditioned on the attempt's
   * startedAt, so a shard of an earlier attempt cannot count towards a restarted run.
   */
  async recordShard(run: { asOf: string; startedAt: string }, shard: number, scored: number, now: string): Promise<ShardRecorded> {
    const Key = { partnerId: RUNS_PARTITION, scoreKey: run.asOf };
    const recorded = await conditionalUpdate(this.ddb, {
      TableName: this.table,
      Key,
      UpdateExpression: 'SET #m.#k = :n',
      ConditionExpression: 'startedAt = :s AND attribute_exists(#m)',
      ExpressionAttributeNames: { '#m': 'shardScored', '#k': String(shard) },
      ExpressionAttributeValues: { ':n': scored, ':s': run.startedAt },
    });
    if (!recorded) return { outcome: 'superseded' };
    const after = toRun(recorded);
    const done = Object.entries(after.shardScored ?? {}).filter(([k]) => Number(k) < (after.shards ?? 1));
    if (after.status !== 'running' || done.length < (after.shards ?? 1)) return { outcome: 'recorded', run: after };
    const total = done.reduce((sum, [, n]) => sum + n, 0);
    const completed = await conditionalUpdate(this.ddb, {
      TableName: this.table,
      Key,
      UpdateExpression: 'SET #st = :complete, completedAt = :at, scored = :total',
      ConditionExpression: '#st = :running AND startedAt = :s',
      ExpressionAttributeNames: { '#st': 'status' },
      ExpressionAttributeValues: { ':complete': 'complete', ':running': 'running', ':at': now, ':total': total, ':s': run.startedAt },
    });
    return completed ? { outcome: 'completed', run: toRun(completed) } : { outcome: 'recorded', run: after };
  }

  private batchWrite(requests: Item[]): Promise<void> {
    return batchWriteAll(this.ddb, this.table, requests);
  }

  async putScores(scores: readonly ScoreRecord[]): Promise<void> {
    await this.batchWrite(scores.map((s) => ({ PutRequest: { Item: { ...s, scoreKey: s.asOf, rankKey: rankKey(s.churn.probability, s.partnerId) } } })));
  }

  async deleteRunScores(runId: string): Promise<number> {
    let deleted = 0;
    let start: Item | undefined;
    do {
      const out = await storeCall('DynamoDB', () =>
        this.ddb.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: 'byRun',
            KeyConditionExpression: 'runId = :r',
            ExpressionAttributeValues: { ':r': runId },
            ProjectionExpression: 'partnerId, scoreKey',
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      const keys = (out.Items ?? []).map((i) => ({ DeleteRequest: { Key: { partnerId: i.partnerId, scoreKey: i.scoreKey } } }));
      await this.batchWrite(keys);
      deleted += keys.length;
      start = out.LastEvaluatedKey;
    } while (start);
    return deleted;
  }

  async getScores(partnerIds: readonly string[], asOf: string): Promise<Map<string, ScoreRecord>> {
    const keys = [...new Set(partnerIds)].map((partnerId) => ({ partnerId, scoreKey: asOf }));
    const items = await batchGetAll(this.ddb, this.table, keys);
    return new Map(items.map((item) => [String(item.partnerId), toScore(item)]));
  }

  async partnerScores(partnerId: string, limit: number): Promise<ScoreRecord[]> {
    const out = await storeCall('DynamoDB', () =>
      this.ddb.send(new QueryCommand({ TableName: this.table, KeyConditionExpression: 'partnerId = :p', ExpressionAttributeValues: { ':p': partnerId }, ScanIndexForward: false, Limit: limit })),
    );
    return (out.Items ?? []).map(toScore);
  }

  async rankedPage(runId: string, filter: ChurnRiskFilter, limit: number, cursor?: string): Promise<{ items: ScoreRecord[]; nextCursor?: string }> {
    let start: Item | undefined;
    if (cursor) {
      const decoded = decodeCursor(cursor);
      if (decoded.runId !== runId) throw new ValidationError('cursor belongs to another run.', [{ path: 'query.cursor', message: 'belongs to another run' }]);
      start = decoded.key;
    }
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':r': runId };
    const filters: string[] = [];
    for (const field of ['tier', 'region', 'segment'] as const) {
      if (filter[field] === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = filter[field];
      filters.push(`#${field} = :${field}`);
    }
    // Probability floor as a key condition: the index is sorted by it, so the read stops there.
    const keyCondition = filter.minProbability !== undefined ? 'runId = :r AND rankKey <= :floor' : 'runId = :r';
    if (filter.minProbability !== undefined) values[':floor'] = `${(1 - filter.minProbability).toFixed(8)}#~`;
    const items: ScoreRecord[] = [];
    let lastKey: Item | undefined;
    do {
      const out = await storeCall('DynamoDB', () =>
        this.ddb.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: 'byRun',
            KeyConditionExpression: keyCondition,
            ...(filters.length > 0 ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
            Limit: limit - items.length,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      items.push(...(out.Items ?? []).map(toScore));
      lastKey = out.LastEvaluatedKey;
      start = lastKey;
    } while (lastKey && items.length < limit);
    return lastKey ? { items, nextCursor: encodeCursor({ runId, key: lastKey }) } : { items };
  }
}
