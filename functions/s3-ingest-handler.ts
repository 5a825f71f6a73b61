import { lambdaDeps } from './lambda-deps';
import { lambdaHandler } from './lambda-events';
import { handleS3Event, type IncomingFileReport, type S3ObjectCreatedEvent } from './s3-ingest';

const deps = lambdaDeps('ingest');

/** S3 ObjectCreated under incoming/: a failure throws, so Lambda retries the file (ingest is idempotent). */
export const handler = lambdaHandler((event: S3ObjectCreatedEvent): Promise<IncomingFileReport[]> => handleS3Event(deps, event));
