import { loadConfig, type ServiceConfig } from './config';
import { createDeps, type ServiceDeps } from './deps';
import { createSqsClient, SqsJobQueue, type JobQueue } from './jobs/job-queue';
import { queueJobRunner } from './jobs/queue-runner';
import { LAMBDA_FUNCTIONS, type FunctionResources, type LambdaName } from './lambda-functions';
import { createLogger } from './logger';

export interface LambdaRuntime {
  deps: ServiceDeps;
  /** The SQS queues this function sends to (jobs, scoring shards) and whose messages it defers. */
  queue: JobQueue;
}

/** A function's config: exactly the tables, bucket and queues it is bound to must be in its environment. */
export function lambdaConfig(name: LambdaName, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const spec: FunctionResources = LAMBDA_FUNCTIONS[name];
  const queues = [...new Set([...(spec.sends ?? []), ...(spec.consumes ? [spec.consumes] : [])])];
  return loadConfig(env, { tables: Object.keys(spec.tables) as (keyof typeof spec.tables)[], bucket: spec.objects !== undefined, queues });
}

/** Jobs queued on Lambda go to SQS (train queue, scoring queue), never to this process. */
export function createLambdaRuntime(name: LambdaName, env: NodeJS.ProcessEnv = process.env): LambdaRuntime {
  const config = lambdaConfig(name, env);
  const queue = new SqsJobQueue(createSqsClient({ region: config.region, ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) }), config.queues ?? {});
  const deps: ServiceDeps = createDeps(config, { logger: createLogger(config.logLevel, { function: name }), jobRunner: queueJobRunner(() => deps, queue) });
  return { deps, queue };
}

const runtimes = new Map<LambdaName, LambdaRuntime>();

/** Built once per Lambda container, at cold start (handlers call it at module load); a bad environment fails there, loudly. */
export function lambdaRuntime(name: LambdaName): LambdaRuntime {
  let runtime = runtimes.get(name);
  if (!runtime) {
    runtime = createLambdaRuntime(name);
    runtimes.set(name, runtime);
  }
  return runtime;
}

export const lambdaDeps = (name: LambdaName): ServiceDeps => lambdaRuntime(name).deps;
