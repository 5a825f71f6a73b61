import { join, resolve } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { LambdaName } from '../functions/lambda-functions';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

/**
 * The wasm backend's binaries, shipped next to the training bundle: Emscripten loads them from the
 * bundle's directory (__dirname). SIMD is what Node.js 22 runs; the plain one is the backend's own
 * fallback. The threaded build is left out: in Node the backend never uses threads.
 */
export const TFJS_WASM_FILES = ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm'];

/**
 * How every function is bundled: the local esbuild (no Docker), CommonJS for Node.js 22, minified
 * with names kept (error names reach job records and logs), the AWS SDK bundled at the versions
 * the code was tested with, ES module builds preferred.
 *
 * Only the training function ships TensorFlow.js. The others exclude two lazy imports they never
 * take: the local in-process runner's `import('./run-job')` (on Lambda, jobs go to SQS) and
 * run-job's `import('../../models/training-run')`; excluded, they would fail if ever reached,
 * instead of pulling tfjs into the API bundle.
 */
export function bundlingFor(options: { tensorflow: boolean }): BundlingOptions {
  return {
    format: OutputFormat.CJS,
    target: 'node22',
    minify: true,
    keepNames: true,
    sourceMap: false,
    bundleAwsSDK: true,
    logLevel: LogLevel.WARNING,
    // The ES module builds first (the AWS SDK ships both): esbuild can then drop what is unused and
    // hoist modules instead of wrapping each CommonJS one, which cuts the API's cold import by about
    // a quarter of its CPU time (npm run bench:bundle).
    mainFields: ['module', 'main'],
    externalModules: options.tensorflow ? [] : ['./run-job', '../../models/training-run'],
    ...(options.tensorflow
      ? {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (inputDir: string, outputDir: string) =>
              TFJS_WASM_FILES.map((file) => `cp "${join(inputDir, 'node_modules/@tensorflow/tfjs-backend-wasm/dist', file)}" "${join(outputDir, file)}"`),
          },
        }
      : {}),
  };
}

export interface ServiceFunctionProps {
  name: LambdaName;
  description: string;
  /** The handler file under functions/, exporting `handler`. */
  entry: string;
  memorySize: number;
  timeout: Duration;
  tensorflow?: boolean;
  environment?: Record<string, string>;
  logRetention?: RetentionDays;
}

/**
 * One Lambda function: Node.js 22 on ARM64, its own role (nothing but its log group until the
 * bind helpers add what the function declares) and its own log group with a retention.
 */
export class ServiceFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `${props.name} function: only what functions/lambda-functions.ts declares` });
    this.logGroup.grantWrite(this.role);
    this.fn = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: { LOG_LEVEL: 'info', ...props.environment },
      bundling: bundlingFor({ tensorflow: props.tensorflow ?? false }),
    });
  }
}
