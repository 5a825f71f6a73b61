/**
 * The embedded stores (dynalite on LevelDB + s3rver) in a process of their own, for the
 * ingest benchmark: `node --import tsx tests/bench/store-server.ts DATA_DIR BUCKET`. Prints
 * one JSON line with the endpoints and pid, then serves until stdin closes or SIGTERM.
 */
import { join } from 'node:path';
import { startEmbeddedStores } from '../../functions/local/embedded-stores';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const [dataDir, bucket] = process.argv.slice(2);
  if (!dataDir || !bucket) throw new Error('usage: store-server.ts DATA_DIR BUCKET');
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
  process.on('SIGTERM', close);
  process.stdout.write(`${JSON.stringify({ pid: process.pid, dynamoEndpoint: stores.dynamoEndpoint, s3Endpoint: stores.s3Endpoint })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`store server failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
