import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { App, type CfnElement } from 'aws-cdk-lib';
import { tableEnvVar, TABLE_KEYS } from '../../data/stores/tables';
import { LAMBDA_NAMES, QUEUE_NAMES, queueEnvVar, type LambdaName } from '../../functions/lambda-functions';
import { PartnerScoringStack } from '../../infra/partner-scoring-stack';

/** Shared by the real-bundling test and `npm run bench:bundle`: synthesize with bundling, find each function's bundle. */

export interface BundledApp {
  outdir: string;
  stack: PartnerScoringStack;
  /** The asset directory of each function: what is zipped and uploaded as its code. */
  assets: Record<LambdaName, string>;
}

/** One synth of the stack with real bundling (the local esbuild), into outdir. */
export function synthWithBundling(outdir: string): BundledApp {
  const app = new App({ outdir, builtinCloudFormationValidation: false });
  const stack = new PartnerScoringStack(app, 'PartnerScoring', { deletionProtection: true });
  app.synth();
  const template = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as { Resources: Record<string, { Properties: { Code?: { S3Key?: string } } }> };
  const assets = Object.fromEntries(
    LAMBDA_NAMES.map((name) => {
      const logicalId = stack.getLogicalId(stack.functions[name].fn.node.defaultChild as CfnElement);
      const key = template.Resources[logicalId]?.Properties.Code?.S3Key ?? '';
      return [name, join(outdir, `asset.${key.replace(/\.zip$/, '')}`)];
    }),
  ) as Record<LambdaName, string>;
  return { outdir, stack, assets };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * The size of the zip Lambda receives: each file deflated (level 9, what the CDK's asset zip
 * uses) plus the zip's per-file headers and the central directory.
 */
export function zippedSize(dir: string): { bytes: number; unzippedBytes: number; files: number } {
  let bytes = 22;
  let unzippedBytes = 0;
  const files = filesUnder(dir);
  for (const file of files) {
    const data = readFileSync(file);
    const name = Buffer.byteLength(relative(dir, file));
    unzippedBytes += data.length;
    bytes += 30 + name + Math.min(deflateRawSync(data, { level: 9 }).length, data.length) + 46 + name;
  }
  return { bytes, unzippedBytes, files: files.length };
}

/** What the CDK binds to the function, with made-up names: enough to load a bundle (nothing is called at load). */
export function bundleEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bundle-check',
    AWS_SECRET_ACCESS_KEY: 'bundle-check',
    LOG_LEVEL: 'info',
    // Node 20 here; Lambda runs Node.js 22, where the SDK has nothing to warn about.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    BUCKET_NAME: 'partner-scoring-data',
    ...Object.fromEntries(TABLE_KEYS.map((k) => [tableEnvVar(k), `PartnerScoring-${k}`])),
    ...Object.fromEntries(QUEUE_NAMES.map((q) => [queueEnvVar(q), `https://sqs.us-east-1.amazonaws.com/000000000000/${q}`])),
    ...extra,
  };
}
