import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_NAMES, type LambdaName } from '../../functions/lambda-functions';
import { TFJS_WASM_FILES } from '../../infra/service-function';
import { httpApiEvent } from '../helpers/aws-events';
import { bundleEnvironment, synthWithBundling, zippedSize, type BundledApp } from './bundle-assets';

/*
 * The stack synthesized once with real bundling (the local esbuild, as `npm run synth` and a
 * deploy do), then each bundle loaded by a plain Node process the way Lambda loads it
 * (require index.js, call `handler`): catches a bundle that breaks (a missing module, code
 * that only works unbundled, the .wasm files not shipped).
 */

const run = promisify(execFile);

/** Loads a bundle in a fresh Node process with only the function's environment, runs `script` with `handler` in scope. */
async function inBundle(dir: string, script: string, env: NodeJS.ProcessEnv = bundleEnvironment()): Promise<string> {
  const code = `const { handler } = require(${JSON.stringify(join(dir, 'index.js'))}); (async () => { ${script} })().catch((e) => { console.error(e); process.exit(1); });`;
  const { stdout } = await run(process.execPath, ['-e', code], { env, timeout: 60_000, maxBuffer: 10 * 1024 * 1024 });
  return stdout;
}

/** Whether TensorFlow.js code was bundled: its kernel registry and the wasm backend's loader leave these names. */
const hasTensorflow = (source: string): boolean => /tfjs-backend-wasm|registerKernel|tfjs-core/.test(source);

describe('the Lambda bundles (real esbuild bundling)', () => {
  let outdir: string;
  let bundled: BundledApp;
  const source = {} as Record<LambdaName, string>;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'ps-cdk-'));
    bundled = synthWithBundling(outdir);
    for (const name of LAMBDA_NAMES) source[name] = readFileSync(join(bundled.assets[name], 'index.js'), 'utf8');
  }, 300_000);

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('bundles each function into one CommonJS index.js; only training ships TensorFlow.js and its .wasm files, never tfjs-node', () => {
    for (const name of LAMBDA_NAMES) {
      const files = readdirSync(bundled.assets[name]).sort();
      expect(files).toEqual(name === 'train' ? ['index.js', ...TFJS_WASM_FILES].sort() : ['index.js']);
      expect(source[name]).not.toMatch(/require\("@tensorflow\/tfjs-node"\)/);
      expect(hasTensorflow(source[name])).toBe(name === 'train');
    }
    for (const file of TFJS_WASM_FILES) expect(readFileSync(join(bundled.assets.train, file)).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
  });

  it('keeps the API bundle under 5 MB zipped', () => {
    expect(zippedSize(bundled.assets.api).bytes).toBeLessThan(5 * 1024 * 1024);
  });

  it('the bundled API answers an HTTP API event', async () => {
    const events = ['/health', '/openapi.json', '/v1/models'].map((path) => httpApiEvent('GET', path));
    const out = await inBundle(
      bundled.assets.api,
      `for (const event of ${JSON.stringify(events)}) {
        const path = event.rawPath;
        const r = await handler(event, { awsRequestId: 'cold' });
        console.log('STATUS ' + path + ' ' + r.statusCode);
      }`,
      bundleEnvironment({ LOG_LEVEL: 'warn' }),
    );
    expect(out).toContain('STATUS /health 200');
    expect(out).toContain('STATUS /openapi.json 200');
    // No key: refused by the app's own authentication, before any store is touched.
    expect(out).toContain('STATUS /v1/models 401');
  });

  it('the bundled training function starts TensorFlow.js on the wasm backend from the shipped .wasm files', async () => {
    // No store is reachable: the message fails (and is reported), after the backend started at cold start.
    const event = { Records: [{ messageId: 'm1', receiptHandle: 'rh1', body: JSON.stringify({ kind: 'train', jobId: 'job_x' }), attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:train', awsRegion: 'us-east-1' }] };
    const out = await inBundle(
      bundled.assets.train,
      `const r = await handler(${JSON.stringify(event)}, { awsRequestId: 'cold' }); console.log('RESULT ' + JSON.stringify(r));`,
      bundleEnvironment({ DYNAMODB_ENDPOINT: 'http://127.0.0.1:9', SQS_ENDPOINT: 'http://127.0.0.1:9' }),
    );
    const backend = out.split('\n').find((line) => line.includes('tfjs backend:'));
    expect(backend).toMatch(/"message":"tfjs backend: wasm/);
    expect(out).toContain('RESULT {"batchItemFailures":[{"itemIdentifier":"m1"}]}');
  }, 120_000);

  it('the other bundles load with only their function’s environment and export a handler', async () => {
    for (const name of ['ingest', 'scoring', 'schedule'] as const) {
      expect(existsSync(join(bundled.assets[name], 'index.js'))).toBe(true);
      expect(await inBundle(bundled.assets[name], `console.log('HANDLER ' + typeof handler);`)).toContain('HANDLER function');
    }
  });
});
