import { Validations, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { LAMBDA_FUNCTIONS, type FunctionResources, type LambdaName } from '../functions/lambda-functions';
import type { ServiceFunction } from './service-function';
import type { Storage } from './storage';

/**
 * Every cdk-nag (AwsSolutions) finding this app accepts, each on the construct it concerns and
 * with the reason it is accepted. Anything else fails `npm run synth`.
 */

/** Why a function needs each key prefix, in words an auditor can check against the code. */
const PREFIX_PURPOSE: Record<string, string> = {
  'raw/': 'the raw archive: every accepted record, under keys derived from a hash of its content (data/ingest/archive.ts)',
  'rejects/': 'rejected records with their reasons, under content-hash keys, listed and replayed through /v1/rejects (data/ingest/rejects.ts)',
  'models/': 'model artifacts, under models/<model>/<version>/ where the version is created by each training run (models/artifact-store.ts)',
  'incoming/': 'bulk files that operators put under incoming/<kind>/ with names of their choosing (functions/s3-ingest.ts)',
  'reports/incoming/': 'the summary written next to each ingested incoming file (functions/s3-ingest.ts)',
};

export function acknowledgeFunctionFindings(_stack: Stack, storage: Storage, functions: Record<LambdaName, ServiceFunction>): void {
  const bucketArn = storage.bucketArnToken();
  for (const [name, fn] of Object.entries(functions) as [LambdaName, ServiceFunction][]) {
    const objects: FunctionResources['objects'] = (LAMBDA_FUNCTIONS[name] as FunctionResources).objects;
    const prefixes = new Map<string, string[]>();
    for (const prefix of objects?.read ?? []) prefixes.set(prefix, [...(prefixes.get(prefix) ?? []), 's3:GetObject']);
    for (const prefix of objects?.write ?? []) prefixes.set(prefix, [...(prefixes.get(prefix) ?? []), 's3:PutObject']);
    for (const [prefix, actions] of prefixes) {
      const purpose = PREFIX_PURPOSE[prefix];
      if (!purpose) throw new Error(`no stated purpose for the ${prefix} prefix: add it to PREFIX_PURPOSE`);
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}*]`,
        reason: `The ${name} function may ${actions.join(' and ')} only under ${prefix}, which holds ${purpose}; object keys there are not known when the stack is deployed, so the resource is the prefix. No other action and no other prefix is granted.`,
      });
    }
    Validations.of(fn.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime this service is built, bundled (esbuild target node22) and tested for; it is a supported Lambda runtime. Moving to a newer runtime is a deliberate upgrade of the toolchain, not a deploy-time default.',
    });
  }
}

/** Queues that nag does not see as dead-letter queues, and CDK's own bucket-notification handler. */
export function acknowledgeCdkInternals(stack: Stack, failureQueues: readonly IConstruct[] = []): void {
  for (const queue of failureQueues) {
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: the on-failure destination of an asynchronously invoked function (and, for the schedule, the EventBridge target’s dead-letter queue). cdk-nag recognises only queues named in another queue’s redrive policy.',
    });
  }
  // aws-s3-notifications puts one handler function per stack (BucketNotificationsHandler<hash>) that sets the bucket's notification configuration at deploy time.
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('BucketNotificationsHandler')) continue;
    Validations.of(child).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'The role of CDK’s BucketNotificationsHandler, which runs only during deployment to set the incoming/ trigger on the data bucket; CDK attaches the AWS-managed basic execution policy (CloudWatch Logs only) and offers no way to replace it.',
    });
  }
}
