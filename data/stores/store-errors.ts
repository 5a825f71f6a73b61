import { ServiceError, StoreUnavailableError } from '../errors';

/**
 * Runs one store call and turns any SDK or network failure into StoreUnavailableError (503),
 * so callers see one clean, retryable error instead of an SDK-specific one.
 */
export async function storeCall<T>(store: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    throw new StoreUnavailableError(store, { cause: error });
  }
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}
