import { createHash } from 'node:crypto';
import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError, ValidationError } from '../errors';
import { batchGetAll, batchWriteAll, readAllPages, type Item } from './dynamo-pages';
import type { ChurnRiskFilter, RunRecord, ScoreRecord, ScoreStore, ShardRecorded } from './score-store';
import { isConditionalCheckFailed, storeCall } from './store-errors';

/** Runs live in the scores table under a partition no partner id can have ('#' is not allowed in ids). */
const RUNS_PARTITION = '#runs';

/** Sorts by churn probability, highest first: the index reads rankKey ascending. */
export const rankKey = (probability: number, partnerId: string): string => `${(1 - probability).toFixed(8)}#${partnerId}`;

/**
 * The byRun index is write-sharded: a run's scores are spread over RUN_PARTS partition keys
 * (`runPart` = `<runId>#<p>`, p = runPartOf(partnerId)). One partition key takes 1,000 WRU/s;
 * with one key per run, at 1.5 WRU a score, a run was capped at ~670 partners/s whatever the
 * number of workers. 16 keys take 16,000 WRU/s ≈ 10,700 partners/s, above what the events
 * table's 40,000 RRU/s read quota lets a run score (~6,150 partners/s at 6.5 RRU a partner), so
 * the index is no longer the bottleneck; at 30 workers (6,000 partners/s) each key takes
 * 6,000 / 16 × 1.5 ≈ 560 WRU/s, 56 % of its ceiling (docs/scaling.md). The price is on the read
 * side: a churn-risk page is 16 Queries merged by rankKey instead of one.
 */
export const RUN_PARTS = 16;

/** A stable part for a partner: the same in every run and on every machine (the first byte of its id's SHA-256). */
export const runPartOf = (partnerId: string): number => createHash('sha256').update(partnerId).digest()[0]! % RUN_PARTS;
export const runPartKey = (runId: string, part: number): string => `${runId}#${part}`;

/**
 * The Limit of a part's first read for a page that needs `want` items: its share of the page
 * plus four standard deviations of how unevenly uniformly hashed partners spread over the
 * parts, never more than the page. Reading `want` from every part would read RUN_PARTS times
 * the page (16,000 items for a page of 1,000); a part that runs short is simply read again,
 * which the merge already does when a part's next item is still unknown.
 */
export const firstReadLimit = (want: number): number => Math.min(want, Math.ceil(want / RUN_PARTS + 4 * Math.sqrt(want / RUN_PARTS)) + 1);

/** A rankKey as rankKey() writes it: 1 − probability with 8 decimals, then the partner id. */
const RANK_KEY = /^(?:0\.\d{8}|1\.0{8})#([A-Za-z0-9._:-]{1,128})$/;
/** A score item's scoreKey (its run's asOf, a stored instant): short printable text, a valid key whatever it is. */
const SCORE_KEY = /^[\x21-\x7e]{1,64}$/;

/**
 * Where a ranked walk of a run stands: for each part whose stream is not exhausted, the rankKey
 * up to which it has been read (every item at or before it was returned or did not match the
 * filters; null: from its start). Parts absent are exhausted. scoreKey is the run's asOf, the
 * table key an index start key also needs.
 */
interface RankCursor {
  runId: string;
  key: { scoreKey?: string; parts: Record<string, string | null> };
}

const encodeCursor = (value: RankCursor): string => Buffer.from(JSON.stringify(value)).toString('base64url');

const sameKeys = (value: object, allowed: readonly string[], required: readonly string[]): boolean =>
  Object.keys(value).every((k) => allowed.includes(k)) && required.every((k) => k in value);

/** A cursor as rankedPage returns it, or undefined: anything else would reach DynamoDB and come back as a 503 (retry), not a 400. */
function parseCursor(cursor: string): RankCursor | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !sameKeys(parsed, ['runId', 'key'], ['runId', 'key'])) return undefined;
  const { runId, key } = parsed as { runId: unknown; key: unknown };
  if (typeof runId !== 'string' || runId === '' || !key || typeof key !== 'object' || Array.isArray(key) || !sameKeys(key, ['scoreKey', 'parts'], ['parts'])) return undefined;
  const { scoreKey, parts } = key as { scoreKey?: unknown; parts: unknown };
  if (scoreKey !== undefined && (typeof scoreKey !== 'string' || !SCORE_KEY.test(scoreKey))) return undefined;
  if (!parts || typeof parts !== 'object' || Array.isArray(parts)) return undefined;
  const entries = Object.entries(parts);
  if (entries.length === 0 || entries.length > RUN_PARTS) return undefined;
  for (const [part, at] of entries) {
    if (!/^(0|[1-9]\d?)$/.test(part) || Number(part) >= RUN_PARTS) return undefined;
    if (at === null) continue;
    // A position needs the run's asOf to become an ExclusiveStartKey, and must be in this part.
    if (typeof at !== 'string' || scoreKey === undefined) return undefined;
    const partnerId = RANK_KEY.exec(at)?.[1];
    if (partnerId === undefined || runPartOf(partnerId) !== Number(part)) return undefined;
  }
  return parsed as RankCursor;
}

function decodeCursor(cursor: string, runId: string): RankCursor {
  const parsed = parseCursor(cursor);
  if (!parsed) throw new ValidationError('cursor is not one this API returned.', [{ path: 'query.cursor', message: 'is not a cursor from a previous page' }]);
  if (parsed.runId !== runId) throw new ValidationError('cursor belongs to another run.', [{ path: 'query.cursor', message: 'belongs to another run' }]);
  return parsed;
}

/** One part of a run in a ranked walk: the matching items read and not yet returned, and where its reads stand. */
interface PartStream {
  part: number;
  /** Matching items read from the part, not yet returned, in rankKey order. */
  buffer: Item[];
  /** Every item of the part at or before this rankKey was returned or did not match (null: none yet). */
  returned: string | null;
  /** The part has been read up to here: the next Query starts after it (null: from the start). */
  readTo: string | null;
  /** Read at least once in this call. */
  read: boolean;
  /** The last Query had no LastEvaluatedKey: nothing after readTo. */
  exhausted: boolean;
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

const toScore = ({ scoreKey: _k, rankKey: _r, runPart: _p, ...rest }: Item): ScoreRecord => rest as unknown as ScoreRecord;

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
    await this.batchWrite(scores.map((s) => ({ PutRequest: { Item: { ...s, scoreKey: s.asOf, rankKey: rankKey(s.churn.probability, s.partnerId), runPart: runPartKey(s.runId, runPartOf(s.partnerId)) } } })));
  }

  /** Every part of the run, the parts at once (each is its own index key, so they do not compete for throughput). */
  async deleteRunScores(runId: string): Promise<number> {
    const counts = await settled(Array.from({ length: RUN_PARTS }, (_, part) => this.deletePart(runPartKey(runId, part))));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  private async deletePart(runPart: string): Promise<number> {
    let deleted = 0;
    let start: Item | undefined;
    do {
      const out = await storeCall('DynamoDB', () =>
        this.ddb.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: 'byRun',
            KeyConditionExpression: 'runPart = :r',
            ExpressionAttributeValues: { ':r': runPart },
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

  /**
   * A k-way merge of the run's parts by rankKey: the order of one index over the whole run
   * (highest probability first, ties by partner id). The parts are read at once, each first
   * with its share of the page (firstReadLimit); a part is read again, with Limit = what the
   * page still needs, only when an item of another part cannot be returned before it is known
   * that the part has nothing smaller (its read ran out, a filter left it empty, or a 1 MB page
   * ended it early). So a page is short only at the end.
   */
  async rankedPage(runId: string, filter: ChurnRiskFilter, limit: number, cursor?: string): Promise<{ items: ScoreRecord[]; nextCursor?: string }> {
    const pinned = cursor ? decodeCursor(cursor, runId) : undefined;
    let scoreKey = pinned?.key.scoreKey;
    const starts: [number, string | null][] = pinned ? Object.entries(pinned.key.parts).map(([p, at]) => [Number(p), at]) : Array.from({ length: RUN_PARTS }, (_, p) => [p, null]);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const filters: string[] = [];
    for (const field of ['tier', 'region', 'segment'] as const) {
      if (filter[field] === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = filter[field];
      filters.push(`#${field} = :${field}`);
    }
    // Probability floor as a key condition: the index is sorted by it, so each part's read stops there.
    const floor = filter.minProbability !== undefined ? `${(1 - filter.minProbability).toFixed(8)}#~` : undefined;
    if (floor !== undefined) values[':floor'] = floor;
    // A position past the floor (the floor raised between pages): nothing left there, and DynamoDB would refuse the start key.
    const streams: PartStream[] = starts.map(([part, at]) => ({ part, buffer: [], returned: at, readTo: at, read: false, exhausted: floor !== undefined && at !== null && at > floor }));

    const readPart = async (s: PartStream, want: number): Promise<void> => {
      const out = await storeCall('DynamoDB', () =>
        this.ddb.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: 'byRun',
            KeyConditionExpression: floor !== undefined ? 'runPart = :r AND rankKey <= :floor' : 'runPart = :r',
            ...(filters.length > 0 ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: { ...values, ':r': runPartKey(runId, s.part) },
            Limit: want,
            ...(s.readTo !== null ? { ExclusiveStartKey: this.startKey(runId, s.part, s.readTo, scoreKey!) } : {}),
          }),
        ),
      );
      const items = out.Items ?? [];
      s.buffer.push(...items);
      s.read = true;
      scoreKey ??= (items[0]?.scoreKey ?? out.LastEvaluatedKey?.scoreKey) as string | undefined;
      if (out.LastEvaluatedKey) s.readTo = String(out.LastEvaluatedKey.rankKey);
      else s.exhausted = true;
    };

    const page: Item[] = [];
    while (page.length < limit) {
      let next: PartStream | undefined;
      for (const s of streams) if (s.buffer.length > 0 && (!next || rankOf(s.buffer[0]!) < rankOf(next.buffer[0]!))) next = s;
      const head = next ? rankOf(next.buffer[0]!) : undefined;
      // Parts that might hold something before the smallest item in hand: read them (all at once) first.
      const behind = streams.filter((s) => s.buffer.length === 0 && !s.exhausted && (!s.read || head === undefined || (s.readTo ?? '') < head));
      if (behind.length > 0) {
        await settled(behind.map((s) => readPart(s, s.read ? limit - page.length : firstReadLimit(limit - page.length))));
        continue;
      }
      if (!next) break;
      const item = next.buffer.shift()!;
      page.push(item);
      next.returned = rankOf(item);
    }

    // Where each part stands: after the last item it returned, or, with nothing of it in hand, where its reads stopped.
    const open = streams.filter((s) => s.buffer.length > 0 || !s.exhausted);
    const items = page.map(toScore);
    if (open.length === 0) return { items };
    const parts = Object.fromEntries(open.map((s) => [String(s.part), s.buffer.length > 0 ? s.returned : s.readTo]));
    return { items, nextCursor: encodeCursor({ runId, key: { ...(scoreKey !== undefined ? { scoreKey } : {}), parts } }) };
  }

  /** An index start key from a position: the index's keys and the table's (partnerId is in the rankKey, scoreKey is the run's asOf). */
  private startKey(runId: string, part: number, at: string, scoreKey: string): Item {
    return { runPart: runPartKey(runId, part), rankKey: at, partnerId: at.slice(at.indexOf('#') + 1), scoreKey };
  }
}

const rankOf = (item: Item): string => String(item.rankKey);

/** Waits for every promise (none left running behind an error), then throws the first failure. */
async function settled<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
