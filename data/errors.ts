import type { FieldError } from './schemas/common';

/**
 * The one base class of every error the service answers on purpose. `onError` turns it
 * into application/problem+json; anything that is not a ServiceError becomes a generic 500.
 */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly errors?: FieldError[],
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = new.target.name;
  }

  /** A stable problem type URI, derived from the title ("Not found" → ".../not-found"). */
  get type(): string {
    return `https://partner-scoring.dev/problems/${this.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  }
}

export class ValidationError extends ServiceError {
  constructor(detail: string, errors?: FieldError[]) {
    super(400, 'Invalid request', detail, errors);
  }
}

export class UnauthorizedError extends ServiceError {
  constructor(detail = 'A valid API key is required: send "Authorization: Bearer <key>".') {
    super(401, 'Unauthorized', detail);
  }
}

export class ForbiddenError extends ServiceError {
  constructor(detail = 'Your API key does not allow this.') {
    super(403, 'Forbidden', detail);
  }
}

export class NotFoundError extends ServiceError {
  constructor(detail = 'No such resource.') {
    super(404, 'Not found', detail);
  }
}

export class ConflictError extends ServiceError {
  constructor(detail: string) {
    super(409, 'Conflict', detail);
  }
}

export class PayloadTooLargeError extends ServiceError {
  constructor(detail: string) {
    super(413, 'Payload too large', detail);
  }
}

export class UnsupportedMediaTypeError extends ServiceError {
  constructor(detail: string) {
    super(415, 'Unsupported media type', detail);
  }
}

/** A store (DynamoDB, S3) failed or went away; nothing was reported as done that is not. Retry. */
export class StoreUnavailableError extends ServiceError {
  constructor(store: string, options?: { cause?: unknown }) {
    super(503, 'Service unavailable', `${store} is unavailable or throttling; nothing in this request was reported as stored that is not. Retry the same request.`, undefined, options);
  }
}
