import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NotFoundError } from '../errors';
import type { ObjectStore, ObjectSummary } from './object-store';
import { storeCall } from './store-errors';

const isMissing = (error: unknown): boolean => {
  const name = (error as { name?: string } | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound';
};

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async putText(key: string, body: string, contentType = 'application/x-ndjson'): Promise<void> {
    await storeCall('S3', () => this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType })));
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await storeCall('S3', async () => (out.Body ? await out.Body.transformToString('utf8') : ''));
    } catch (error) {
      if (isMissing(error)) return undefined;
      return storeCall('S3', () => Promise.reject(error));
    }
  }

  async putBytes(key: string, body: Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    await storeCall('S3', () => this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType })));
  }

  async getBytes(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await storeCall('S3', async () => (out.Body ? await out.Body.transformToByteArray() : new Uint8Array()));
    } catch (error) {
      if (isMissing(error)) return undefined;
      return storeCall('S3', () => Promise.reject(error));
    }
  }

  async getStream(key: string): Promise<Readable> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) return Readable.from([]);
      return out.Body instanceof Readable ? out.Body : Readable.fromWeb(out.Body.transformToWebStream() as never);
    } catch (error) {
      if (isMissing(error)) throw new NotFoundError(`No object ${key}.`);
      return storeCall('S3', () => Promise.reject(error));
    }
  }

  async list(prefix: string, options: { limit?: number; cursor?: string } = {}): Promise<{ items: ObjectSummary[]; nextCursor?: string }> {
    const out = await storeCall('S3', () =>
      this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: options.limit ?? 100,
          ...(options.cursor ? { ContinuationToken: options.cursor } : {}),
        }),
      ),
    );
    const items = (out.Contents ?? []).map((o) => ({
      key: o.Key ?? '',
      size: o.Size ?? 0,
      lastModified: (o.LastModified ?? new Date(0)).toISOString(),
    }));
    return out.IsTruncated && out.NextContinuationToken ? { items, nextCursor: out.NextContinuationToken } : { items };
  }
}
