import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors';
import { batchGetAll, batchWriteAll, readAllPages, type Item } from './dynamo-pages';
import type { ChurnRiskFilter, RunRecord, ScoreRecord, ScoreStore } from './score-store';
import { storeCall } from './store-errors';

/** Runs live in the scores table under a partition no partner id can have ('#' is not allowed in ids). */
const RUNS_PARTITION = '#runs';

/** Sorts by churn probability, highest first: the index reads rankKey ascending. */
export const rankKey = (probability: number, partnerId: string): string => `${(1 - probability).toFixed(8)}#${partnerId}`;

const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A byRun page's LastEvaluatedKey: the table's and the index's keys, all strings, of the cursor's run. */
const isRunKey = (key: unknown, runId: string): key is Item =>
  !!key && typeof key === 'object' && Object.keys(key).sort().join() === 'partnerId,rankKey,runId,scoreKey' && Object.values(key).every((v) => typeof v === 'string') && (key as Item).runId === runId;
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
    return items.map(({ partnerId: _p, scoreKey: _k, ...run }) => run as unknown as RunRecord);
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
