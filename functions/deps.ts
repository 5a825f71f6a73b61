import { ApiKeyService } from '../data/auth/api-keys';
import { createAwsClients, type AwsClients } from '../data/stores/aws-clients';
import { DynamoApiKeyStore } from '../data/stores/dynamo-api-key-store';
import { DynamoRecordStore } from '../data/stores/dynamo-record-store';
import type { ObjectStore } from '../data/stores/object-store';
import type { RecordStore } from '../data/stores/record-store';
import { S3ObjectStore } from '../data/stores/s3-object-store';
import type { ServiceConfig } from './config';
import { createLogger, type Logger } from './logger';

/** Everything a handler needs, built once per process and passed in. */
export interface ServiceDeps {
  config: ServiceConfig;
  records: RecordStore;
  objects: ObjectStore;
  apiKeys: ApiKeyService;
  logger: Logger;
  clients: AwsClients;
}

export function createDeps(config: ServiceConfig, overrides: Partial<Omit<ServiceDeps, 'config'>> = {}): ServiceDeps {
  const clients =
    overrides.clients ??
    createAwsClients({
      region: config.region,
      ...(config.dynamoEndpoint ? { dynamoEndpoint: config.dynamoEndpoint } : {}),
      ...(config.s3Endpoint ? { s3Endpoint: config.s3Endpoint } : {}),
    });
  return {
    config,
    clients,
    records: overrides.records ?? new DynamoRecordStore(clients.ddb, config.tables),
    objects: overrides.objects ?? new S3ObjectStore(clients.s3, config.bucket),
    apiKeys: overrides.apiKeys ?? new ApiKeyService(new DynamoApiKeyStore(clients.ddb, config.tables.apiKeys)),
    logger: overrides.logger ?? createLogger(config.logLevel),
  };
}
