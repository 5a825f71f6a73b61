import { ApiKeyService } from '../data/auth/api-keys';
import { createAwsClients, type AwsClients } from '../data/stores/aws-clients';
import { DynamoApiKeyStore } from '../data/stores/dynamo-api-key-store';
import { DynamoRecordStore } from '../data/stores/dynamo-record-store';
import { DynamoHistoryStore } from '../data/stores/dynamo-history-store';
import { DynamoJobStore } from '../data/stores/dynamo-job-store';
import { DynamoModelStore } from '../data/stores/dynamo-model-store';
import type { HistoryStore } from '../data/stores/history-store';
import type { JobStore } from '../data/stores/job-store';
import type { ModelStore } from '../data/stores/model-store';
import { DynamoScoreStore } from '../data/stores/dynamo-score-store';
import type { ScoreStore } from '../data/stores/score-store';
import { ModelCache } from '../models/artifact-store';
import { DEFAULT_BANDS } from '../models/risk-bands';
import type { Bands } from '../models/scoring';
import type { ObjectStore } from '../data/stores/object-store';
import type { RecordStore } from '../data/stores/record-store';
import { S3ObjectStore } from '../data/stores/s3-object-store';
import type { ServiceConfig } from './config';
import { inProcessJobRunner } from './jobs/in-process-runner';
import { createLogger, type Logger } from './logger';

/** Everything a handler needs, built once per process and passed in. */
export interface ServiceDeps {
  config: ServiceConfig;
  records: RecordStore;
  objects: ObjectStore;
  apiKeys: ApiKeyService;
  history: HistoryStore;
  jobs: JobStore;
  models: ModelStore;
  scores: ScoreStore;
  /** Loaded model versions, shared by every request of this process. */
  modelCache: ModelCache;
  bands: Bands;
  /** Starts a queued job somewhere that does not block requests (worker thread locally, another Lambda on AWS). */
  jobRunner: JobRunner;
  logger: Logger;
  clients: AwsClients;
}

export interface JobRunner {
  submit(jobId: string): Promise<void>;
}

export function createDeps(config: ServiceConfig, overrides: Partial<Omit<ServiceDeps, 'config'>> = {}): ServiceDeps {
  const clients =
    overrides.clients ??
    createAwsClients({
      region: config.region,
      ...(config.dynamoEndpoint ? { dynamoEndpoint: config.dynamoEndpoint } : {}),
      ...(config.s3Endpoint ? { s3Endpoint: config.s3Endpoint } : {}),
    });
  const objects = overrides.objects ?? new S3ObjectStore(clients.s3, config.bucket);
  const deps: ServiceDeps = {
    config,
    clients,
    records: overrides.records ?? new DynamoRecordStore(clients.ddb, config.tables),
    objects,
    apiKeys: overrides.apiKeys ?? new ApiKeyService(new DynamoApiKeyStore(clients.ddb, config.tables.apiKeys)),
    // Embedded dynalite (an endpoint override) scans in an order that lets a scoring shard merge three scans instead of two Queries a partner (docs/scoring.md); real DynamoDB: queries.
    history: overrides.history ?? new DynamoHistoryStore(clients.ddb, config.tables, { shardReads: config.dynamoEndpoint ? 'scan-merge' : 'query' }),
    jobs: overrides.jobs ?? new DynamoJobStore(clients.ddb, config.tables.jobs),
    models: overrides.models ?? new DynamoModelStore(clients.ddb, config.tables.models),
    scores: overrides.scores ?? new DynamoScoreStore(clients.ddb, config.tables.scores),
    modelCache: overrides.modelCache ?? new ModelCache(objects),
    bands: overrides.bands ?? config.bands ?? DEFAULT_BANDS,
    jobRunner: overrides.jobRunner ?? { submit: async () => undefined },
    logger: overrides.logger ?? createLogger(config.logLevel),
  };
  // By default a job runs in this process, after the request that queued it has been answered.
  if (!overrides.jobRunner) deps.jobRunner = inProcessJobRunner(() => deps);
  return deps;
}
