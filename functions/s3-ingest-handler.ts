import { lambdaDeps } from './lambda-deps';
import { handleS3Event, type S3ObjectCreatedEvent } from './s3-ingest';

export const handler = async (event: S3ObjectCreatedEvent): Promise<void> => void (await handleS3Event(lambdaDeps, event));
