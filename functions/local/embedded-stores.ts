import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { closeDynaliteIterators } from './dynalite-iterators';

export interface S3EventPayload {
  Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string; size?: number } } }[];
}

export interface EmbeddedStores {
  dynamoEndpoint: string;
  s3Endpoint: string;
  /** Emits S3-style ObjectCreated records (s3rver has no bucket notifications). */
  onObjectEvent(listener: (event: S3EventPayload) => void): void;
  close(): Promise<void>;
}

/**
 * Starts dynalite and s3rver in this process on loopback ports. With a dataDir their data
 * lives on disk under it (dynamodb/, s3/) and survives restarts; without one, DynamoDB is in
 * memory and S3 uses a temporary directory (tests).
 */
export async function startEmbeddedStores(options: { dataDir?: string; s3Dir: string; bucket: string }): Promise<EmbeddedStores> {
  const dynamoDir = options.dataDir ? join(options.dataDir, 'dynamodb') : undefined;
  if (dynamoDir) mkdirSync(dynamoDir, { recursive: true });
  mkdirSync(options.s3Dir, { recursive: true });

  closeDynaliteIterators();
  const dynamo = dynalite({ ...(dynamoDir ? { path: dynamoDir } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    dynamo.once('error', reject);
    dynamo.listen(0, '127.0.0.1', () => resolve());
  });
  const dynamoPort = (dynamo.address() as AddressInfo).port;

  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: options.s3Dir,
    configureBuckets: [{ name: options.bucket, configs: [] }],
    allowMismatchedSignatures: true,
  });
  const s3Address = (await s3.run()) as AddressInfo;

  return {
    dynamoEndpoint: `http://127.0.0.1:${dynamoPort}`,
    s3Endpoint: `http://127.0.0.1:${s3Address.port}`,
    onObjectEvent: (listener) => {
      s3.on('event', listener);
    },
    close: async () => {
      await s3.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}
