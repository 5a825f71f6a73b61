import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

export interface AwsClientOptions {
  region: string;
  /** Set for the embedded stores; unset talks to real AWS with the default credential chain. */
  dynamoEndpoint?: string;
  s3Endpoint?: string;
  maxAttempts?: number;
}

export interface AwsClients {
  dynamo: DynamoDBClient;
  ddb: DynamoDBDocumentClient;
  s3: S3Client;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Creates the SDK clients once; every store takes them as arguments. */
export function createAwsClients(options: AwsClientOptions): AwsClients {
  const requestHandler = { connectionTimeout: 2_000, requestTimeout: 30_000 };
  const dynamo = new DynamoDBClient({
    region: options.region,
    maxAttempts: options.maxAttempts ?? 4,
    requestHandler,
    ...(options.dynamoEndpoint ? { endpoint: options.dynamoEndpoint, credentials: LOCAL_CREDENTIALS } : {}),
  });
  const ddb = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const s3 = new S3Client({
    region: options.region,
    maxAttempts: options.maxAttempts ?? 4,
    requestHandler,
    ...(options.s3Endpoint
      ? {
          endpoint: options.s3Endpoint,
          credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
          forcePathStyle: true,
          // s3rver corrupts streamed uploads when the SDK adds its default checksums.
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
  return { dynamo, ddb, s3 };
}

export function destroyAwsClients(clients: AwsClients): void {
  clients.ddb.destroy();
  clients.dynamo.destroy();
  clients.s3.destroy();
}
