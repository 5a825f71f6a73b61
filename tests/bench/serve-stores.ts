/**
 * The embedded stores (dynalite on disk + s3rver) in a process of their own, for the serving
 * benchmark's `--stores child` layout: `node --import tsx tests/bench/serve-stores.ts DATA_DIR
 * BUCKET` prints one JSON line with the endpoints, then serves until stdin closes.
 */
import { join } from 'node:path';
import { startEmbeddedStores } from '../../functions/local/embedded-stores';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const [dataDir, bucket] = process.argv.slice(2);
  if (!dataDir || !bucket) throw new Error('usage: serve-stores.ts DATA_DIR BUCKET');
  const stores = await startEmbeddedStores({ dataDir, s3Dir: join(dataDir, 's3'), bucket });
  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    stores.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.stdin.on('end', close);
  process.stdin.on('close', close);
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ dynamoEndpoint: stores.dynamoEndpoint, s3Endpoint: stores.s3Endpoint })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`serve-stores failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
