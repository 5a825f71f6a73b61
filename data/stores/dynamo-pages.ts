import {
  BatchGetCommand,
  BatchWriteCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../errors';
import { backoffDelay, chunk, mapLimit, sleep } from '../util/async';
import { storeCall } from './store-errors';

export type Item = Record<string, unknown>;

export interface BatchOptions {
  /** Batch requests in flight at once. */
  concurrency?: number;
  /** Attempts at the unprocessed part of a batch before giving up with a 503. */
  maxAttempts?: number;
}

/** Every item of a Query or Scan, following LastEvaluatedKey page by page. */
export async function readAllPages(ddb: DynamoDBDocumentClient, input: ({ kind: 'query' } & QueryCommandInput) | ({ kind: 'scan' } & ScanCommandInput)): Promise<Item[]> {
  const { kind, ...params } = input;
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = { ...params, ...(start ? { ExclusiveStartKey: start } : {}) };
    const out = await storeCall('DynamoDB', () => ddb.send(kind === 'query' ? new QueryCommand(page as QueryCommandInput) : new ScanCommand(page as ScanCommandInput)));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** A Scan (or one segment of it), page by page: memory holds one page. */
export async function* scanPages(ddb: DynamoDBDocumentClient, input: ScanCommandInput): AsyncGenerator<Item[]> {
  let start: Item | undefined;
  do {
    const page = { ...input, ...(start ? { ExclusiveStartKey: start } : {}) };
    const out = await storeCall('DynamoDB', () => ddb.send(new ScanCommand(page)));
    yield out.Items ?? [];
    start = out.LastEvaluatedKey;
  } while (start);
}

/**
 * Requests the next page as soon as the current one is handed over, so the store works on it
 * while the consumer works on this one: at most two pages held.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  for (;;) {
    const result = await next;
    if (result.done) return;
    next = iterator.next();
    // Its failure is thrown where it is awaited, at the next turn; not an unhandled rejection meanwhile.
    next.catch(() => undefined);
    yield result.value;
  }
}

/**
 * BatchWriteItem in batches of 25, retrying UnprocessedItems with backoff; resolves only
 * when every request is applied, or rejects with StoreUnavailableError.
 */
export async function batchWriteAll(ddb: DynamoDBDocumentClient, table: string, requests: readonly Item[], options: BatchOptions = {}): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 8;
  await mapLimit(chunk(requests, 25), options.concurrency ?? 4, async (batch) => {
    let pending: Item[] = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= maxAttempts) throw new StoreUnavailableError('DynamoDB (unprocessed items)');
      if (attempt > 0) await sleep(backoffDelay(attempt));
      const out = await storeCall('DynamoDB', () => ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } })));
      pending = (out.UnprocessedItems?.[table] as Item[] | undefined) ?? [];
    }
  });
}

/** BatchGetItem in batches of 100, retrying UnprocessedKeys with backoff; the items found, in no order. */
export async function batchGetAll(
  ddb: DynamoDBDocumentClient,
  table: string,
  keys: readonly Item[],
  options: BatchOptions & { consistent?: boolean; projection?: { expression: string; names: Record<string, string> } } = {},
): Promise<Item[]> {
  const maxAttempts = options.maxAttempts ?? 8;
  const found: Item[] = [];
  await mapLimit(chunk(keys, 100), options.concurrency ?? 4, async (batch) => {
    let pending: Item[] = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= maxAttempts) throw new StoreUnavailableError('DynamoDB (unprocessed keys)');
      if (attempt > 0) await sleep(backoffDelay(attempt));
      const out = await storeCall('DynamoDB', () =>
        ddb.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: pending,
                ...(options.consistent ? { ConsistentRead: true } : {}),
                ...(options.projection ? { ProjectionExpression: options.projection.expression, ExpressionAttributeNames: options.projection.names } : {}),
              },
            },
          }),
        ),
      );
      found.push(...(out.Responses?.[table] ?? []));
      pending = (out.UnprocessedKeys?.[table]?.Keys as Item[] | undefined) ?? [];
    }
  });
  return found;
}
