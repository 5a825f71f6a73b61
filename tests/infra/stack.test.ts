import { App, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLES, TABLE_KEYS, tableEnvVar, type TableKey } from '../../data/stores/tables';
import { LAMBDA_FUNCTIONS, LAMBDA_NAMES, MAX_RECEIVES, SCORING_TIMEOUT_SECONDS, TRAINING_TIMEOUT_SECONDS, queueEnvVar, type FunctionResources, type LambdaName } from '../../functions/lambda-functions';
import { PartnerScoringStack } from '../../infra/partner-scoring-stack';

/*
 * The CDK app, synthesized once (bundling skipped: tests/infra/bundling.test.ts bundles for
 * real), asserted resource by resource: every table, the buckets, the API, each function with
 * its exact environment and IAM statements, queues, trigger, schedule and alarms; no wildcard
 * action; cdk-nag's AWS Solutions pack with zero findings, each acknowledgement with a reason.
 */

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

describe('the CDK stack', () => {
  let app: App;
  let stack: PartnerScoringStack;
  let unprotected: PartnerScoringStack;
  let template: Template;
  let resources: Resources;
  const id = (element: { node: { defaultChild?: unknown } }): string => stack.getLogicalId(element.node.defaultChild as CfnElement);
  const getAtt = (logicalId: string, attr = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attr] });
  const tableId = (key: TableKey): string => id(stack.storage.tables[key]);
  const bucketId = (): string => id(stack.storage.bucket);
  const fnId = (name: LambdaName): string => id(stack.functions[name].fn);

  beforeAll(() => {
    app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
    stack = new PartnerScoringStack(app, 'PartnerScoring', { deletionProtection: true, alarmEmail: 'ops@example.com' });
    unprotected = new PartnerScoringStack(app, 'PartnerScoringDev', { deletionProtection: false });
    app.synth();
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources as Resources;
  });

  it('declares every table of data/stores/tables.ts: keys, indexes, on demand, point-in-time recovery, KMS encryption, deletion protection', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', TABLE_KEYS.length);
    for (const key of TABLE_KEYS) {
      const def = TABLES[key];
      const attr = (a: { name: string; type: string }) => ({ AttributeName: a.name, AttributeType: a.type });
      const keySchema = [{ AttributeName: def.partitionKey.name, KeyType: 'HASH' }, ...('sortKey' in def ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' }] : [])];
      const table = resources[tableId(key)]!;
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties).toMatchObject({
        TableName: `PartnerScoring-${key}`,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: keySchema,
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [expect.objectContaining({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
      });
      expect(table.Properties.AttributeDefinitions).toEqual(
        expect.arrayContaining([attr(def.partitionKey), ...('sortKey' in def ? [attr(def.sortKey)] : []), ...def.indexes.flatMap((ix) => [attr(ix.partitionKey), ...(ix.sortKey ? [attr(ix.sortKey)] : [])])]),
      );
      expect(((table.Properties.GlobalSecondaryIndexes ?? []) as { IndexName: string; KeySchema: unknown; Projection: unknown }[]).map((g) => [g.IndexName, g.KeySchema, g.Projection])).toEqual(
        def.indexes.map((ix) => [ix.name, [{ AttributeName: ix.partitionKey.name, KeyType: 'HASH' }, ...(ix.sortKey ? [{ AttributeName: ix.sortKey.name, KeyType: 'RANGE' }] : [])], { ProjectionType: 'ALL' }]),
      );
    }
  });

  it('write-shards the scores byRun index: runPart (<runId>#<part>) and rankKey, every attribute projected', () => {
    const scores = resources[tableId('scores')]!.Properties;
    expect(scores.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'byRun',
        KeySchema: [
          { AttributeName: 'runPart', KeyType: 'HASH' },
          { AttributeName: 'rankKey', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(scores.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'runPart', AttributeType: 'S' },
        { AttributeName: 'rankKey', AttributeType: 'S' },
      ]),
    );
    // runId stays on the items, but no index is keyed on it any more (one key per run capped a run's writes).
    expect((scores.AttributeDefinitions as { AttributeName: string }[]).map((a) => a.AttributeName)).not.toContain('runId');
  });

  it('makes deletion protection configurable: off, the tables and buckets go with the stack', () => {
    const dev = Template.fromStack(unprotected).toJSON().Resources as Resources;
    const tables = Object.values(dev).filter((r) => r.Type === 'AWS::DynamoDB::GlobalTable');
    expect(tables).toHaveLength(TABLE_KEYS.length);
    for (const table of tables) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect((table.Properties.Replicas as { DeletionProtectionEnabled: boolean }[])[0]!.DeletionProtectionEnabled).toBe(false);
    }
    expect(Object.values(dev).filter((r) => r.Type === 'AWS::S3::Bucket').map((b) => b.DeletionPolicy)).toEqual(['Delete', 'Delete']);
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::S3::Bucket').map((b) => b.DeletionPolicy)).toEqual(['Retain', 'Retain']);
  });

  it('has one data bucket: public access blocked, encrypted, SSL only, access-logged, lifecycle rules for raw and rejects', () => {
    const bucket = resources[bucketId()]!.Properties;
    expect(bucket).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: id(stack.storage.accessLogs) }, LogFilePrefix: 'data-bucket/' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    const rules = (bucket.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Id: 'raw-archive', Prefix: 'raw/', Status: 'Enabled', Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }] }),
        expect.objectContaining({ Id: 'expire-rejects', Prefix: 'rejects/', ExpirationInDays: 180 }),
        expect.objectContaining({ Id: 'expire-incoming', Prefix: 'incoming/', ExpirationInDays: 180 }),
        expect.objectContaining({ Id: 'abort-incomplete-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
      ]),
    );
    for (const b of [stack.storage.bucket, stack.storage.accessLogs]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id(b) },
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
    // Access logs are delivered by bucket policy (no ACLs).
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id(stack.storage.accessLogs) },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Action: 's3:PutObject', Principal: { Service: 'logging.s3.amazonaws.com' } })]) },
    });
  });

  it('routes an HTTP API to the API function, with JSON access logs and stage throttling', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default', AuthorizationType: 'NONE' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: getAtt(fnId('api')) });
    const stage = Object.values(resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Stage')!.Properties;
    expect(stage).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } });
    const log = stage.AccessLogSettings as { DestinationArn: unknown; Format: string };
    expect(log.DestinationArn).toEqual(getAtt(id(stack.api.accessLogs)));
    expect(JSON.parse(log.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status', latencyMs: '$context.responseLatency' });
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', FunctionName: getAtt(fnId('api')), Principal: 'apigateway.amazonaws.com' });
  });

  it('runs each function on Node.js 22, ARM64, sized for its work, with its own log group', () => {
    const expected: Record<LambdaName, { MemorySize: number; Timeout: number }> = {
      api: { MemorySize: 1024, Timeout: 29 },
      ingest: { MemorySize: 1024, Timeout: 900 },
      train: { MemorySize: 3008, Timeout: TRAINING_TIMEOUT_SECONDS },
      scoring: { MemorySize: 1769, Timeout: SCORING_TIMEOUT_SECONDS },
      schedule: { MemorySize: 256, Timeout: 30 },
    };
    for (const name of LAMBDA_NAMES) {
      expect(resources[fnId(name)]!.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        ...expected[name],
        Role: getAtt(id(stack.functions[name].role)),
        LoggingConfig: { LogGroup: { Ref: id(stack.functions[name].logGroup) } },
      });
      expect(resources[id(stack.functions[name].logGroup)]!.Properties).toMatchObject({ RetentionInDays: 30 });
    }
    expect(TRAINING_TIMEOUT_SECONDS).toBe(900);
  });

  it('gives each function exactly the environment its bindings set: table names, bucket, queue URLs, and no secret', () => {
    for (const name of LAMBDA_NAMES) {
      const spec: FunctionResources = LAMBDA_FUNCTIONS[name];
      const env = (resources[fnId(name)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const expected: Record<string, unknown> = { LOG_LEVEL: 'info' };
      for (const key of Object.keys(spec.tables) as TableKey[]) expected[tableEnvVar(key)] = { Ref: tableId(key) };
      if (spec.objects) expected.BUCKET_NAME = { Ref: bucketId() };
      for (const queue of new Set([...(spec.sends ?? []), ...(spec.consumes ? [spec.consumes] : [])])) expected[queueEnvVar(queue)] = { Ref: id(stack.queues.queues[queue]) };
      if (name === 'scoring') expected.SCORING_PARTNERS_PER_SHARD = '2000';
      expect(env).toEqual(expected);
      // No secret: ADMIN_API_KEY is never set (keys live hashed in DynamoDB), and every value but two plain settings is a resource reference.
      expect(env.ADMIN_API_KEY).toBeUndefined();
      expect(Object.entries(env).filter(([k, v]) => typeof v === 'string' && k !== 'LOG_LEVEL' && k !== 'SCORING_PARTNERS_PER_SHARD')).toEqual([]);
    }
  });

  it('grants each function exactly the actions it declares, on exactly its tables, indexes, key prefixes and queues', () => {
    const bucketArn = getAtt(bucketId());
    for (const name of LAMBDA_NAMES) {
      const spec: FunctionResources = LAMBDA_FUNCTIONS[name];
      const policies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as unknown[]).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: id(stack.functions[name].role) })));
      const granted = policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.map((s) => ({ s })));
      const pairs = new Set(granted.flatMap(({ s }) => (expect(s.Effect).toBe('Allow'), actionsOf(s).flatMap((a) => resourcesOf(s).map((r) => `${a} ${JSON.stringify(r)}`)))));

      const expected = new Set<string>();
      const add = (actions: readonly string[], resource: unknown): void => actions.forEach((a) => expected.add(`${a} ${JSON.stringify(resource)}`));
      add(['logs:CreateLogStream', 'logs:PutLogEvents'], getAtt(id(stack.functions[name].logGroup)));
      for (const [key, actions] of Object.entries(spec.tables) as [TableKey, readonly string[]][]) {
        add(actions, getAtt(tableId(key)));
        const indexActions = actions.filter((a) => a === 'dynamodb:Query' || a === 'dynamodb:Scan');
        for (const ix of TABLES[key].indexes) add(indexActions, { 'Fn::Join': ['', [getAtt(tableId(key)), `/index/${ix.name}`]] });
      }
      for (const prefix of spec.objects?.read ?? []) add(['s3:GetObject'], { 'Fn::Join': ['', [bucketArn, `/${prefix}*`]] });
      for (const prefix of spec.objects?.write ?? []) add(['s3:PutObject'], { 'Fn::Join': ['', [bucketArn, `/${prefix}*`]] });
      if (spec.objects?.list) add(['s3:ListBucket'], bucketArn);
      for (const queue of spec.sends ?? []) add(['sqs:SendMessage'], getAtt(id(stack.queues.queues[queue])));
      if (spec.consumes) add(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], getAtt(id(stack.queues.queues[spec.consumes])));
      if (name === 'ingest') add(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], getAtt(id(stack.ingestFailures)));
      if (name === 'schedule') add(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], getAtt(id(stack.scheduleFailures)));
      expect([...pairs].sort()).toEqual([...expected].sort());
      // The role carries nothing else: no managed policy, no inline policy.
      expect(resources[id(stack.functions[name].role)]!.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('has no wildcard action in any IAM policy (resource policies use one only to deny non-SSL access)', () => {
    const wildcard = (s: Statement): boolean => actionsOf(s).some((a) => a.includes('*'));
    const identity = Object.values(resources).flatMap((r) =>
      r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy'
        ? (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement
        : r.Type === 'AWS::IAM::Role'
          ? ((r.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement)
          : [],
    );
    expect(identity.length).toBeGreaterThan(20);
    expect(identity.filter(wildcard)).toEqual([]);
    const resourcePolicies = Object.values(resources).flatMap((r) =>
      ['AWS::S3::BucketPolicy', 'AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy'].includes(r.Type) ? (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement : [],
    );
    for (const s of resourcePolicies.filter(wildcard)) expect(s).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });

  it('sends jobs through SQS queues with dead-letter queues; workers take one message at a time and report failures per message', () => {
    for (const [queue, fn, visibility, concurrency] of [
      ['train', 'train', TRAINING_TIMEOUT_SECONDS * 2, 2],
      // 30 scoring shards at once: the write-sharded byRun index no longer caps a run (docs/scaling.md).
      ['scoring', 'scoring', SCORING_TIMEOUT_SECONDS * 6, 30],
    ] as const) {
      expect(resources[id(stack.queues.queues[queue])]!.Properties).toMatchObject({
        VisibilityTimeout: visibility,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: getAtt(id(stack.queues.deadLetters[queue])), maxReceiveCount: MAX_RECEIVES },
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: fnId(fn) },
        EventSourceArn: getAtt(id(stack.queues.queues[queue])),
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: concurrency },
      });
    }
    for (const q of [...Object.values(stack.queues.queues), ...Object.values(stack.queues.deadLetters), stack.ingestFailures, stack.scheduleFailures]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id(q) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });

  it('ingests objects created under incoming/ with the ingest function (two retries, then a failure queue)', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: bucketId() },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [{ Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'incoming/' }] } }, LambdaFunctionArn: getAtt(fnId('ingest')) }],
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId('ingest') },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: getAtt(id(stack.ingestFailures)) } },
    });
  });

  it('starts a scoring run every night with an EventBridge schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: getAtt(fnId('schedule')),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: getAtt(id(stack.scheduleFailures)) },
        }),
      ],
    });
  });

  it('alarms on API 5xx, each function’s errors and throttles, and any dead letter, all to one SSL-only topic', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties);
    const topic = { Ref: id(stack.monitoring.topic) };
    expect(alarms).toHaveLength(1 + 2 * LAMBDA_NAMES.length + 4);
    for (const alarm of alarms) expect(alarm).toMatchObject({ AlarmActions: [topic], OKActions: [topic], ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    expect(alarms).toContainEqual(expect.objectContaining({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Threshold: 5, Statistic: 'Sum' }));
    for (const name of LAMBDA_NAMES) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarms).toContainEqual(expect.objectContaining({ Namespace: 'AWS/Lambda', MetricName: metric, Threshold: 1, Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(name) } }] }));
      }
    }
    for (const queue of [stack.queues.deadLetters.train, stack.queues.deadLetters.scoring, stack.ingestFailures, stack.scheduleFailures]) {
      expect(alarms).toContainEqual(
        expect.objectContaining({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Threshold: 1, Dimensions: [{ Name: 'QueueName', Value: getAtt(id(queue), 'QueueName') }] }),
      );
    }
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: topic });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
  });

  it('outputs what a deploy needs next: the API URL, the bucket and the table prefix', () => {
    template.hasOutput('ApiUrl', { Value: getAtt(id(stack.api.api), 'ApiEndpoint') });
    template.hasOutput('BucketName', { Value: { Ref: bucketId() } });
    template.hasOutput('TablePrefix', { Value: 'PartnerScoring' });
    template.hasOutput('AccessLogsBucketName', { Value: { Ref: id(stack.storage.accessLogs) } });
    template.hasOutput('AlarmTopicArn', { Value: { Ref: id(stack.monitoring.topic) } });
  });

  it('passes cdk-nag AwsSolutionsChecks with zero findings; every acknowledgement names a rule and gives a specific reason', () => {
    for (const s of [stack, unprotected]) {
      const report = new AwsSolutionsChecks().validateScope(s);
      expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    }
    const acknowledged: [string, string][] = [];
    for (const construct of stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) acknowledged.push(...Object.entries(entry.data as Record<string, string>));
      }
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [rule, reason] of acknowledged) {
      expect(rule).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(reason.length).toBeGreaterThan(80);
    }
    // The S3 grants acknowledged are exactly the prefixes the functions declare, nothing broader.
    const iam5 = [...new Set(acknowledged.map(([rule]) => rule).filter((r) => r.includes('IAM5')))];
    const prefixes = new Set(LAMBDA_NAMES.flatMap((n) => [...((LAMBDA_FUNCTIONS[n] as FunctionResources).objects?.read ?? []), ...((LAMBDA_FUNCTIONS[n] as FunctionResources).objects?.write ?? [])]));
    expect(iam5.map((r) => /\/([a-z/]+)\*\]$/.exec(r)?.[1]).sort()).toEqual([...prefixes].sort());
    expect(Stack.of(stack)).toBe(stack);
  });
});
