import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, Context, S3Event, ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProgram } from '../../data/generator';
import type { RawRecord } from '../../data/ingest/ingest-batch';
import { ingestStream } from '../../data/ingest/ingest-stream';
import type { RecordKindName } from '../../data/stores/record-store';
import { tableEnvVar, TABLE_KEYS, type TableKey } from '../../data/stores/tables';
import { ConfigError } from '../../functions/config';
import { createSqsClient, SqsJobQueue } from '../../functions/jobs/job-queue';
import { shardCount } from '../../functions/jobs/scoring-jobs';
import { lambdaConfig, lambdaRuntime, type LambdaRuntime } from '../../functions/lambda-deps';
import { createLogger, withLogContext } from '../../functions/logger';
import { LAMBDA_FUNCTIONS, LAMBDA_NAMES, MAX_RECEIVES, queueEnvVar, type FunctionResources, type LambdaName } from '../../functions/lambda-functions';
import { startSqsEndpoint, sqsEvent, type SentMessage, type SqsEndpoint } from '../helpers/sqs-endpoint';
import { startTestStack, type TestStack } from '../helpers/test-stack';
import { httpApiEvent, s3Record } from '../helpers/aws-events';

/*
 * Each Lambda handler, imported as Lambda imports it (its module builds its deps from the
 * environment at load, with exactly the variables the CDK binds to that function), invoked
 * in-process with the event shape AWS sends, against the embedded DynamoDB and S3 and an SQS
 * endpoint: API Gateway v2 HTTP events, an S3 ObjectCreated event, SQS batches (training job,
 * scoring start, shards, one record failing) and an EventBridge scheduled event. Every AWS call
 * a handler makes is recorded and checked against what its function is bound to.
 */

const END = '2025-06-30';
const END_INSTANT = '2025-06-30T23:59:59.999Z';
const SHARDS = 3;

type ApiHandler = (event: APIGatewayProxyEventV2, context?: Context) => Promise<{ statusCode: number; headers?: Record<string, string | string[]>; body: string }>;
type SqsHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;
interface Handlers {
  api: ApiHandler;
  ingest: (event: S3Event, context?: Context) => Promise<unknown>;
  train: SqsHandler;
  scoring: SqsHandler;
  schedule: (event: ScheduledEvent, context?: Context) => Promise<{ jobId: string; asOf: string; reused: boolean }>;
}
const HANDLER_MODULES: Record<LambdaName, () => Promise<{ handler: unknown }>> = {
  api: () => import('../../functions/api-handler'),
  ingest: () => import('../../functions/s3-ingest-handler'),
  train: () => import('../../functions/train-handler'),
  scoring: () => import('../../functions/scoring-handler'),
  schedule: () => import('../../functions/schedule-handler'),
};

/** One AWS call a handler made: the IAM action it needs and what it touched. */
interface Call {
  fn: LambdaName;
  action: string;
  /** Table key, object key or queue name. */
  resource: string;
  index?: string;
}

function lambdaContext(name: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `PartnerScoring-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:PartnerScoring-${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: `req-${name}-${Math.random().toString(16).slice(2, 10)}`,
    logGroupName: `/aws/lambda/PartnerScoring-${name}`,
    logStreamName: '2025/06/30/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An S3 ObjectCreated notification; S3 URL-encodes the key, a space as '+'. */
function s3Event(bucket: string, key: string, size: number): S3Event {
  return { Records: [s3Record(bucket, key, 'ObjectCreated:Put', size)] };
}

function scheduledEvent(time: string): ScheduledEvent {
  return {
    version: '0',
    id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time,
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/PartnerScoring-NightlyScoring'],
    detail: {},
  };
}

async function* asRecords(values: readonly unknown[]): AsyncGenerator<RawRecord> {
  for (let index = 0; index < values.length; index++) yield { index, raw: JSON.stringify(values[index]), value: values[index] };
}

describe('Lambda handlers, in process, with AWS event shapes, against the embedded stores', () => {
  let stack: TestStack;
  let sqs: SqsEndpoint;
  const handlers = {} as Handlers;
  const runtimes = {} as Record<LambdaName, LambdaRuntime>;
  const calls: Call[] = [];
  const originalEnv = { ...process.env };
  let activePartners = 0;

  /** Exactly what the CDK binds to a function (infra/storage.ts, infra/job-queues.ts), pointed at the embedded stores. */
  function environmentOf(name: LambdaName): NodeJS.ProcessEnv {
    const spec: FunctionResources = LAMBDA_FUNCTIONS[name];
    const env: NodeJS.ProcessEnv = {
      AWS_REGION: 'us-east-1',
      DYNAMODB_ENDPOINT: stack.config.dynamoEndpoint,
      S3_ENDPOINT: stack.config.s3Endpoint,
      SQS_ENDPOINT: sqs.endpoint,
      // The API's request lines are checked below; the others log only what goes wrong.
      LOG_LEVEL: name === 'api' ? 'info' : 'warn',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    for (const key of Object.keys(spec.tables) as TableKey[]) env[tableEnvVar(key)] = stack.config.tables[key];
    if (spec.objects) env.BUCKET_NAME = stack.config.bucket;
    for (const queue of new Set([...(spec.sends ?? []), ...(spec.consumes ? [spec.consumes] : [])])) env[queueEnvVar(queue)] = sqs.queueUrl(queue);
    if (name === 'scoring') env.SCORING_SHARDS = String(SHARDS);
    return env;
  }

  const text = (body: unknown): string => (typeof body === 'string' ? body : new TextDecoder().decode(body as Uint8Array));

  /** Records each request a handler's SDK clients put on the wire: the IAM action it needs and its table, key or queue. */
  async function record(fn: LambdaName, runtime: LambdaRuntime): Promise<void> {
    const tableKeys = new Map(TABLE_KEYS.map((k) => [stack.config.tables[k], k] as const));
    const add = (client: { middlewareStack: { add: (mw: unknown, options: unknown) => void } }, parse: (request: { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string>; body?: unknown }) => Call[]): void => {
      client.middlewareStack.add(
        (next: (args: unknown) => Promise<unknown>) => async (args: { request: Parameters<typeof parse>[0] }) => {
          calls.push(...parse(args.request));
          return next(args);
        },
        { step: 'finalizeRequest', name: `record-${fn}-${Math.random()}` },
      );
    };
    add(runtime.deps.clients.dynamo as never, (request) => {
      const action = `dynamodb:${String(request.headers['x-amz-target']).split('.')[1]}`;
      const body = JSON.parse(text(request.body)) as { TableName?: string; IndexName?: string; RequestItems?: Record<string, unknown> };
      const names = body.TableName ? [body.TableName] : Object.keys(body.RequestItems ?? {});
      return names.map((name) => ({ fn, action, resource: tableKeys.get(name) ?? name, ...(body.IndexName ? { index: body.IndexName } : {}) }));
    });
    add(runtime.deps.clients.s3 as never, (request) => {
      const key = decodeURIComponent(request.path.replace(/^\/[^/]+\/?/, ''));
      const action = request.method === 'PUT' ? 's3:PutObject' : request.query?.['list-type'] ? 's3:ListBucket' : 's3:GetObject';
      return [{ fn, action, resource: action === 's3:ListBucket' ? String(request.query?.prefix ?? '') : key }];
    });
    const sqsClient = await (runtime.queue as unknown as { sqs: { get(): Promise<unknown> } }).sqs.get();
    add(sqsClient as never, (request) => {
      const op = String(request.headers['x-amz-target']).split('.')[1];
      const body = JSON.parse(text(request.body)) as { QueueUrl: string };
      return [{ fn, action: op === 'SendMessageBatch' ? 'sqs:SendMessage' : `sqs:${op}`, resource: body.QueueUrl.split('/').pop() ?? '' }];
    });
  }

  async function json<T>(response: { body: string }): Promise<T> {
    return JSON.parse(response.body) as T;
  }

  beforeAll(async () => {
    stack = await startTestStack();
    sqs = await startSqsEndpoint();
    const program = generateProgram({ partners: 150, seed: 5, end: END, years: 2, directDealsPerMonth: 0 });
    let kept = 0;
    const events = program.events.filter((e) => (e.type !== 'portal_login' && e.type !== 'content_view') || kept++ % 25 === 0);
    const lastVersion = new Map(program.deals.map((d) => [d.dealId, d]));
    const ingest = async (kind: RecordKindName, values: readonly unknown[]): Promise<void> => {
      const summary = await ingestStream(kind, asRecords(values), stack.deps, { source: 'test' });
      if (summary.accepted !== values.length) throw new Error(`${kind}: ${summary.accepted}/${values.length} accepted`);
    };
    await ingest('partners', program.partners);
    await ingest('events', events);
    await ingest('deals', program.deals.filter((d) => lastVersion.get(d.dealId) === d));
    activePartners = program.partners.filter((p) => p.joinedAt <= END && !(p.churnedAt && p.churnedAt <= END)).length;

    // Each handler module builds its deps at import, from the environment the CDK gives that function.
    for (const name of LAMBDA_NAMES) {
      process.env = { ...originalEnv, ...environmentOf(name) };
      (handlers as unknown as Record<LambdaName, unknown>)[name] = (await HANDLER_MODULES[name]()).handler;
      runtimes[name] = lambdaRuntime(name);
      await record(name, runtimes[name]);
    }
    process.env = originalEnv;
  }, 180_000);

  afterAll(async () => {
    process.env = originalEnv;
    await sqs?.close();
    await stack?.close();
  });

  it('a function requires exactly the variables it is bound to; an unbound table is named so any use fails naming it', () => {
    const env = environmentOf('schedule');
    expect(lambdaConfig('schedule', env).tables.jobs).toBe(stack.config.tables.jobs);
    expect(lambdaConfig('schedule', env).tables.partners).toBe('unbound.TABLE_PARTNERS');
    const { TABLE_JOBS: _jobs, SCORING_QUEUE_URL: _queue, ...missing } = env;
    expect(() => lambdaConfig('schedule', missing)).toThrow(ConfigError);
    expect(() => lambdaConfig('schedule', missing)).toThrow(/TABLE_JOBS, SCORING_QUEUE_URL/);
    const { BUCKET_NAME: _bucket, ...noBucket } = environmentOf('api');
    expect(() => lambdaConfig('api', noBucket)).toThrow(/BUCKET_NAME/);
  });

  it('API: an HTTP API v2 event runs the app; the response and each JSON log line carry the request id, never the key', async () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    let posted, read;
    const event = httpApiEvent('POST', '/v1/partners', { key: stack.adminKey, body: [{ partnerId: 'L-1', name: 'Lambda Partner', tier: 'gold', region: 'EMEA', segment: 'SMB', joinedAt: '2024-01-10', status: 'active' }] });
    try {
      posted = await handlers.api(event, lambdaContext('api'));
      read = await handlers.api(httpApiEvent('GET', '/health'), lambdaContext('api'));
    } finally {
      process.stdout.write = write;
    }
    expect(posted.statusCode).toBe(200);
    expect(await json(posted)).toEqual({ accepted: 1, unchanged: 0, rejected: [] });
    expect((await stack.deps.history.getPartners(['L-1'])).get('L-1')).toMatchObject({ name: 'Lambda Partner', tier: 'gold' });
    expect(read.statusCode).toBe(200);
    const gatewayId = event.requestContext.requestId.replace(/=/g, '');
    expect(posted.headers?.['x-request-id']).toBe(gatewayId);

    const logged = lines.flatMap((l) => l.split('\n')).filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const request = logged.find((l) => l.message === 'request' && l.path === '/v1/partners');
    expect(request).toMatchObject({ level: 'info', requestId: gatewayId, function: 'api', method: 'POST', status: 200 });
    expect(request?.awsRequestId).toMatch(/^req-api-/);
    expect(lines.join('')).not.toContain(stack.adminKey);
  });

  it('the local stack and the Lambda functions run the same app and the same handlers', async () => {
    // Same request, both entry points: the local stack's app (test stack) and the Lambda handler.
    const key = await stack.keyFor('ops');
    const local = await stack.request('GET', '/v1/partners/L-1/benchmarks', { key });
    const lambda = await handlers.api(httpApiEvent('GET', '/v1/partners/L-1/benchmarks', { key }), lambdaContext('api'));
    expect(lambda.statusCode).toBe(local.status);
    expect(JSON.parse(lambda.body)).toEqual(await local.json());
    const localDoc = await stack.request('GET', '/openapi.json');
    expect(JSON.parse((await handlers.api(httpApiEvent('GET', '/openapi.json'), lambdaContext('api'))).body)).toEqual(await localDoc.json());

    // And by construction: the local stack's entry and the Lambda handlers import the same app and S3 handler modules.
    const graph = async (entry: string): Promise<Set<string>> => {
      const out = await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' });
      return new Set(Object.keys(out.metafile.inputs));
    };
    const [localStack, api, ingest] = await Promise.all([graph('functions/local/start.ts'), graph('functions/api-handler.ts'), graph('functions/s3-ingest-handler.ts')]);
    for (const shared of ['functions/app/app.ts', 'functions/deps.ts']) {
      expect(localStack.has(shared)).toBe(true);
      expect(api.has(shared)).toBe(true);
    }
    expect(localStack.has('functions/s3-ingest.ts')).toBe(true);
    expect(ingest.has('functions/s3-ingest.ts')).toBe(true);
  });

  it('S3 ingest: an ObjectCreated event for files under incoming/ ingests each and writes its report', async () => {
    const key = 'incoming/partners/new partners 2025-06.csv';
    const csv = 'partnerId,name,tier,region,segment,joinedAt,status\nS3-1,From a file,silver,APAC,Enterprise,2025-01-02,active\nS3-2,,silver,APAC,Enterprise,2025-01-02,active\n';
    const eventsKey = 'incoming/events/2025-06.ndjson';
    const ndjson = `${JSON.stringify({ eventId: 'S3-E1', partnerId: 'S3-1', type: 'training_completed', occurredAt: '2025-02-01T09:00:00Z' })}\n`;
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: stack.config.bucket, Key: key, Body: csv }));
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: stack.config.bucket, Key: eventsKey, Body: ndjson }));
    const notification = s3Event(stack.config.bucket, key, csv.length);
    notification.Records.push(s3Event(stack.config.bucket, eventsKey, ndjson.length).Records[0]!);
    const reports = (await handlers.ingest(notification, lambdaContext('ingest'))) as { accepted: number; rejected: number }[];
    expect(reports).toEqual([
      expect.objectContaining({ key, kind: 'partners', format: 'csv', accepted: 1, rejected: 1 }),
      expect.objectContaining({ key: eventsKey, kind: 'events', format: 'ndjson', accepted: 1, rejected: 0 }),
    ]);
    expect(await stack.deps.history.partnerEvents('S3-1')).toEqual([expect.objectContaining({ eventId: 'S3-E1' })]);
    expect((await stack.deps.history.getPartners(['S3-1'])).get('S3-1')).toMatchObject({ name: 'From a file' });
    const report = JSON.parse((await stack.deps.objects.getText(`reports/${key}.summary.json`)) ?? '{}') as Record<string, unknown>;
    expect(report).toMatchObject({ key, accepted: 1, rejected: 1 });
  });

  it('training: the train route sends one message; the train handler runs that job to a champion', async () => {
    const queued = await handlers.api(httpApiEvent('POST', '/v1/models/churn/train', { key: stack.adminKey, body: { asOf: END } }), lambdaContext('api'));
    expect(queued.statusCode).toBe(202);
    const { jobId } = await json<{ jobId: string }>(queued);
    const messages = sqs.take('train');
    expect(messages.map((m) => JSON.parse(m.body))).toEqual([{ kind: 'train', jobId }]);
    expect((await stack.deps.jobs.get(jobId))?.status).toBe('queued');

    const answer = await handlers.train(sqsEvent(messages), lambdaContext('train'));
    expect(answer).toEqual({ batchItemFailures: [] });
    const job = await stack.deps.jobs.get(jobId);
    expect(job?.error).toBeUndefined();
    expect(job).toMatchObject({ status: 'succeeded', result: { model: 'churn', status: 'champion' } });
    expect((await stack.deps.models.list('churn')).map((v) => v.status)).toEqual(['champion']);
  }, 240_000);

  it('scoring: the route queues a start; the start fans out one message per shard; a batch with one bad record reports only it; the last shard finishes the job', async () => {
    const queued = await handlers.api(httpApiEvent('POST', '/v1/scoring/runs', { key: stack.adminKey, body: { asOf: END } }), lambdaContext('api'));
    expect(queued.statusCode).toBe(202);
    const { jobId } = await json<{ jobId: string }>(queued);
    const start = sqs.take('scoring');
    expect(start.map((m) => JSON.parse(m.body))).toEqual([{ kind: 'start', jobId }]);

    expect(await handlers.scoring(sqsEvent(start), lambdaContext('scoring'))).toEqual({ batchItemFailures: [] });
    const shards = sqs.take('scoring');
    const bodies = shards.map((m) => JSON.parse(m.body) as { kind: string; shard: number; plan: { shards: number; runId: string; jobId: string } });
    expect(bodies.map((b) => b.shard).sort()).toEqual([0, 1, 2]);
    expect(bodies.every((b) => b.kind === 'shard' && b.plan.shards === SHARDS && b.plan.jobId === jobId)).toBe(true);
    expect((await stack.deps.jobs.get(jobId))?.status).toBe('running');

    // One batch: the shards, and a record no handler can act on (a shard number past the plan's).
    const bad: SentMessage = { messageId: 'bad-1', queue: 'scoring', receiptHandle: 'rh-bad-1', body: JSON.stringify({ ...bodies[0], shard: 7 }) };
    const visibilityBefore = sqs.visibilityChanges.length;
    const answer = await handlers.scoring(sqsEvent([shards[0]!, bad, shards[1]!]), lambdaContext('scoring'));
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad-1' }] });
    // The failed record comes back after a short backoff, not the queue's whole visibility timeout.
    expect(sqs.visibilityChanges.slice(visibilityBefore)).toEqual([{ queue: 'scoring', receiptHandle: 'rh-bad-1', seconds: 30 }]);
    expect((await stack.deps.jobs.get(jobId))?.status).toBe('running');

    expect(await handlers.scoring(sqsEvent([shards[2]!]), lambdaContext('scoring'))).toEqual({ batchItemFailures: [] });
    const job = await stack.deps.jobs.get(jobId);
    // The generated program's active partners, and the two the tests above added (L-1 through the API, S3-1 from a file).
    const expected = activePartners + 2;
    expect(job).toMatchObject({ status: 'succeeded', result: { runId: bodies[0]!.plan.runId, asOf: END_INSTANT, scored: expected, shards: SHARDS } });

    // A shard delivered again after its run completed changes nothing and keeps the job succeeded.
    expect(await handlers.scoring(sqsEvent([shards[1]!], 2), lambdaContext('scoring'))).toEqual({ batchItemFailures: [] });
    expect((await stack.deps.jobs.get(jobId))?.status).toBe('succeeded');

    const ops = await stack.keyFor('ops');
    const list = await handlers.api(httpApiEvent('GET', '/v1/churn-risk', { key: ops, query: 'limit=500' }), lambdaContext('api'));
    expect(list.statusCode).toBe(200);
    expect((await json<{ items: unknown[] }>(list)).items).toHaveLength(expected);
  }, 180_000);

  it('API: the routes behind each of its grants answer through the handler', async () => {
    const call = async (method: string, path: string, options: Parameters<typeof httpApiEvent>[2] = {}) => handlers.api(httpApiEvent(method, path, { key: stack.adminKey, ...options }), lambdaContext('api'));
    const created = await call('POST', '/v1/api-keys', { body: { name: 'lambda test', role: 'integration' } });
    expect(created.statusCode).toBe(201);
    const { id } = await json<{ id: string }>(created);
    expect((await json<{ items: { id: string }[] }>(await call('GET', '/v1/api-keys'))).items.map((k) => k.id)).toContain(id);
    expect((await call('DELETE', `/v1/api-keys/${id}`)).statusCode).toBeLessThan(300);

    const event = { eventId: 'L-E1', partnerId: 'L-1', type: 'portal_login', occurredAt: '2025-06-01T10:00:00Z' };
    const deal = { dealId: 'L-D1', partnerId: 'L-1', partnerRole: 'sourced', amount: 1200, stage: 'open', createdAt: '2025-05-01T10:00:00Z', updatedAt: '2025-05-01T10:00:00Z' };
    expect(await json(await call('POST', '/v1/events', { body: [event, { ...event, eventId: 'L-E2', type: 'nope' }] }))).toMatchObject({ accepted: 1, rejected: [{ index: 1 }] });
    expect(await json(await call('POST', '/v1/deals', { body: [deal] }))).toMatchObject({ accepted: 1 });
    const rejects = await json<{ items: { id: string }[] }>(await call('GET', '/v1/rejects'));
    expect(rejects.items.length).toBeGreaterThan(0);
    expect((await call('GET', `/v1/rejects/${rejects.items[0]!.id}`)).statusCode).toBe(200);
    // A batch id that does not exist is a 404 (S3 says "no such key" only to a caller allowed to list).
    expect((await call('GET', '/v1/rejects/events.2025-01-01.0000000000000000000000000000000000000000')).statusCode).toBe(404);

    const versions = await json<{ model: string; version: string; status: string }[]>(await call('GET', '/v1/models'));
    const champion = versions.find((v) => v.model === 'churn' && v.status === 'champion')!;
    expect((await call('POST', `/v1/models/churn/versions/${champion.version}/promote`)).statusCode).toBe(200);
    expect((await call('POST', '/v1/score', { body: { partnerIds: ['L-1'], asOf: END } })).statusCode).toBe(200);
    expect((await call('GET', '/v1/partners/L-1/scores')).statusCode).toBe(200);
    expect((await call('GET', '/v1/metrics/program', { query: 'from=2025-01-01&to=2025-06-30' })).statusCode).toBe(200);
  });

  it('scoring: shards are sized from the partners table item count when no count is fixed', async () => {
    const deps = runtimes.scoring.deps;
    // dynalite reports ItemCount 0 (DynamoDB refreshes it about every six hours): one shard.
    expect(await shardCount({ ...deps, config: { ...deps.config, scoring: { partnersPerShard: 50, maxShards: 10 } } })).toBe(1);
    expect(await shardCount({ ...deps, config: { ...deps.config, scoring: { partnersPerShard: 50, maxShards: 10, shards: 4 } } })).toBe(4);
  });

  it('scoring: a shard failing on its last delivery marks its job failed, naming the dead-letter queue', async () => {
    // A planned run whose model version has gone from the registry: every delivery of its shard fails.
    const jobId = 'job_lambda-dlq';
    const asOf = '2025-05-31T23:59:59.999Z';
    const startedAt = new Date().toISOString();
    await stack.deps.jobs.create({ jobId, type: 'score', params: { asOf }, status: 'running', createdAt: startedAt, startedAt });
    const plan = { runId: 'run_20250531T235959999Z', asOf, shards: 2, models: { churn: 'no-such-version' }, jobId, startedAt };
    await stack.deps.scores.putRun({ runId: plan.runId, asOf, status: 'running', startedAt, models: plan.models, shards: 2, shardScored: {}, jobId });
    const message: SentMessage = { messageId: 'm-last', queue: 'scoring', receiptHandle: 'rh-last', body: JSON.stringify({ kind: 'shard', plan, shard: 1 }) };
    expect(await handlers.scoring(sqsEvent([message], MAX_RECEIVES - 1), lambdaContext('scoring'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-last' }] });
    expect((await stack.deps.jobs.get(jobId))?.status).toBe('running');
    expect(await handlers.scoring(sqsEvent([message], MAX_RECEIVES), lambdaContext('scoring'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-last' }] });
    const job = await stack.deps.jobs.get(jobId);
    expect(job?.status).toBe('failed');
    expect(job?.error).toMatch(/^shard 1 of 2 failed 4 times \(Model churn version no-such-version.*\); its message is in the scoring dead-letter queue: redrive it/);
  });

  it('training: a message delivered again for a job whose function died marks it failed; one for a job still running waits', async () => {
    const died = 'job_lambda-died';
    const startedLongAgo = new Date(Date.now() - 20 * 60_000).toISOString();
    await stack.deps.jobs.create({ jobId: died, type: 'train', params: { model: 'churn', asOf: END_INSTANT }, status: 'running', createdAt: startedLongAgo, startedAt: startedLongAgo });
    const redelivered: SentMessage = { messageId: 'm-died', queue: 'train', receiptHandle: 'rh-died', body: JSON.stringify({ kind: 'train', jobId: died }) };
    expect(await handlers.train(sqsEvent([redelivered], 2), lambdaContext('train'))).toEqual({ batchItemFailures: [] });
    expect(await stack.deps.jobs.get(died)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted: the training function stopped .*15-minute limit/) });

    const running = 'job_lambda-running';
    const justNow = new Date().toISOString();
    await stack.deps.jobs.create({ jobId: running, type: 'train', params: { model: 'churn', asOf: END_INSTANT }, status: 'running', createdAt: justNow, startedAt: justNow });
    const duplicate: SentMessage = { messageId: 'm-dup', queue: 'train', receiptHandle: 'rh-dup', body: JSON.stringify({ kind: 'train', jobId: running }) };
    const before = sqs.visibilityChanges.length;
    expect(await handlers.train(sqsEvent([duplicate], 2), lambdaContext('train'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-dup' }] });
    expect((await stack.deps.jobs.get(running))?.status).toBe('running');
    // Looked at again once the function that runs it has surely ended (15 minutes and a margin).
    const [change] = sqs.visibilityChanges.slice(before);
    expect(change?.seconds).toBeGreaterThan(15 * 60);
    expect(change?.seconds).toBeLessThanOrEqual(16 * 60);
  });

  it('schedule: a scheduled event queues one scoring run as of its time; the same event again reuses it', async () => {
    const event = scheduledEvent('2025-07-01T02:00:00Z');
    const first = await handlers.schedule(event, lambdaContext('schedule'));
    expect(first).toMatchObject({ asOf: '2025-07-01T02:00:00.000Z', reused: false });
    expect(await stack.deps.jobs.get(first.jobId)).toMatchObject({ type: 'score', status: 'queued', params: { asOf: '2025-07-01T02:00:00.000Z' }, requestedBy: 'schedule' });
    expect(sqs.take('scoring').map((m) => JSON.parse(m.body))).toEqual([{ kind: 'start', jobId: first.jobId }]);
    const again = await handlers.schedule(event, lambdaContext('schedule'));
    expect(again).toEqual({ ...first, reused: true });
    expect(sqs.take('scoring')).toEqual([]);
  });

  it('logs: the invocation context reaches every line, across awaits; secrets are redacted at any depth', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { function: 'test' }, (line) => lines.push(line));
    await withLogContext({ awsRequestId: 'req-1' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      logger.info('one', { headers: { authorization: 'Bearer psk_secret', accept: '*/*' }, params: { apiKey: 'psk_secret2', model: 'churn' } });
    });
    logger.info('two');
    const [one, two] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(one).toMatchObject({ level: 'info', message: 'one', function: 'test', awsRequestId: 'req-1', headers: { authorization: '[redacted]', accept: '*/*' }, params: { apiKey: '[redacted]', model: 'churn' } });
    expect(two).not.toHaveProperty('awsRequestId');
    expect(lines.join('')).not.toContain('psk_secret');
  });

  it('the SQS sender sends again only the entries SQS refused', async () => {
    const queue = new SqsJobQueue(createSqsClient({ region: 'us-east-1', endpoint: sqs.endpoint }), { scoring: sqs.queueUrl('scoring') });
    sqs.take('scoring');
    sqs.refuseNext(3);
    await queue.send('scoring', Array.from({ length: 12 }, (_, i) => ({ n: i })));
    expect(sqs.take('scoring').map((m) => (JSON.parse(m.body) as { n: number }).n).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('every AWS call each handler made is one its function is bound to (functions/lambda-functions.ts)', () => {
    // Against dynalite (an endpoint override) a scoring shard merges scans of its segment instead of
    // querying each partner (functions/deps.ts); on AWS it queries, so the function is not granted Scan there.
    const dynaliteOnly = (call: Call): boolean => call.fn === 'scoring' && call.action === 'dynamodb:Scan' && (call.resource === 'events' || call.resource === 'deals');
    expect(calls.some(dynaliteOnly)).toBe(true);
    const refused: string[] = [];
    for (const call of calls.filter((c) => !dynaliteOnly(c))) {
      const spec: FunctionResources = LAMBDA_FUNCTIONS[call.fn];
      const objects = spec.objects;
      const allowed = call.action.startsWith('dynamodb:')
        ? ((spec.tables as Record<string, readonly string[]>)[call.resource] ?? []).includes(call.action)
        : call.action === 's3:GetObject'
          ? (objects?.read ?? []).some((p) => call.resource.startsWith(p))
          : call.action === 's3:PutObject'
            ? (objects?.write ?? []).some((p) => call.resource.startsWith(p))
            : call.action === 's3:ListBucket'
              ? objects?.list === true
              : call.action === 'sqs:SendMessage'
                ? (spec.sends ?? []).includes(call.resource as never)
                : call.action === 'sqs:ChangeMessageVisibility' && spec.consumes === call.resource;
      if (!allowed) refused.push(`${call.fn}: ${call.action} on ${call.resource}${call.index ? ` (index ${call.index})` : ''}`);
    }
    expect([...new Set(refused)]).toEqual([]);
    // SHOW_UNUSED_GRANTS=1 lists the grants these tests never exercised (paths such as failures and fallbacks), to review when tightening them.
    if (process.env.SHOW_UNUSED_GRANTS) {
      const used = new Set(calls.map((c) => `${c.fn} ${c.action} ${c.resource}`));
      for (const name of LAMBDA_NAMES) {
        for (const [table, actions] of Object.entries(LAMBDA_FUNCTIONS[name].tables)) for (const a of actions as string[]) if (!used.has(`${name} ${a} ${table}`)) console.info(`not exercised: ${name} ${a} ${table}`);
      }
    }
    // Every function was exercised.
    expect(new Set(calls.map((c) => c.fn))).toEqual(new Set(LAMBDA_NAMES));
  });
});
