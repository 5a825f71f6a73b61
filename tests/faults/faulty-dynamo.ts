/**
 * A fault-injecting wrapper around the real DynamoDB document client: dynalite never throttles
 * and never leaves items unprocessed, so this does it, deterministically from a seed. The items
 * it lets through are really written to (or read from) the embedded store.
 *
 * - BatchWriteItem: a random part of the batch is written, the rest returned as UnprocessedItems.
 * - BatchGetItem: a random part of the keys is read, the rest returned as UnprocessedKeys.
 * - Once armed, one call (at a random position among the next ones) fails: throttled before it
 *   reaches the store, or (every other time) worse, applied and then lost on the way back (the
 *   client cannot tell whether it happened).
 */
import { ProvisionedThroughputExceededException, ThrottlingException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mulberry32 } from '../../data/generator/random';

export interface FaultPlan {
  /** Chance that a batch call leaves part of its work unprocessed. */
  unprocessedRate: number;
  counts: { calls: number; unprocessed: number; throttled: number; appliedThenLost: number };
  /** Fail one of the next `within` store calls. */
  arm(within: number): void;
  readonly armed: boolean;
}

const metadata = { httpStatusCode: 400, requestId: 'FAULT', attempts: 1, totalRetryDelay: 0 };

function throttle(rng: () => number): Error {
  return rng() < 0.5
    ? new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded.', $metadata: metadata })
    : new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: metadata });
}

function lostReply(): Error {
  return Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: {} });
}

/** Splits a list at a random point (never nothing processed when there is something to process). */
function split<T>(items: readonly T[], rng: () => number): [T[], T[]] {
  const cut = 1 + Math.floor(rng() * Math.max(1, items.length - 1));
  return [items.slice(0, cut), items.slice(cut)];
}

export function faultyDocumentClient(real: DynamoDBDocumentClient, seed: number, unprocessedRate = 0.3): { client: DynamoDBDocumentClient; plan: FaultPlan } {
  const rng = mulberry32(seed);
  let failAt: number | undefined;
  const counts = { calls: 0, unprocessed: 0, throttled: 0, appliedThenLost: 0 };
  const plan: FaultPlan = {
    unprocessedRate,
    counts,
    arm: (within) => {
      failAt = 1 + Math.floor(rng() * within);
    },
    get armed() {
      return failAt !== undefined;
    },
  };

  const send = async (command: unknown): Promise<unknown> => {
    counts.calls++;
    const faultable = command instanceof BatchWriteCommand || command instanceof BatchGetCommand || command instanceof PutCommand;
    if (faultable && failAt !== undefined && --failAt <= 0) {
      failAt = undefined;
      // Alternately, so that a run sees both kinds whatever the order of concurrent calls.
      if ((counts.throttled + counts.appliedThenLost) % 2 === 0) {
        counts.throttled++;
        throw throttle(rng);
      }
      counts.appliedThenLost++;
      await real.send(command as never);
      throw lostReply();
    }
    if (command instanceof BatchWriteCommand && rng() < plan.unprocessedRate) {
      const [table, requests] = Object.entries(command.input.RequestItems ?? {})[0] ?? ['', []];
      if (requests.length > 1) {
        counts.unprocessed++;
        const [now, later] = split(requests, rng);
        await real.send(new BatchWriteCommand({ RequestItems: { [table]: now } }));
        return { UnprocessedItems: { [table]: later }, $metadata: {} };
      }
    }
    if (command instanceof BatchGetCommand && rng() < plan.unprocessedRate) {
      const [table, request] = Object.entries(command.input.RequestItems ?? {})[0] ?? ['', { Keys: [] }];
      const keys = request.Keys ?? [];
      if (keys.length > 1) {
        counts.unprocessed++;
        const [now, later] = split(keys, rng);
        const out = await real.send(new BatchGetCommand({ RequestItems: { [table]: { ...request, Keys: now } } }));
        return { ...out, UnprocessedKeys: { [table]: { ...request, Keys: later } } };
      }
    }
    return real.send(command as never);
  };
  return { client: { send } as unknown as DynamoDBDocumentClient, plan };
}
