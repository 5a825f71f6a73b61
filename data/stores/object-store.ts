import type { Readable } from 'node:stream';

export interface ObjectSummary {
  key: string;
  size: number;
  lastModified: string;
}

/** Blob storage for the raw archive, rejects, incoming files and model artifacts. */
export interface ObjectStore {
  putText(key: string, body: string, contentType?: string): Promise<void>;
  getText(key: string): Promise<string | undefined>;
  putBytes(key: string, body: Uint8Array, contentType?: string): Promise<void>;
  getBytes(key: string): Promise<Uint8Array | undefined>;
  getStream(key: string): Promise<Readable>;
  /** One page of keys under a prefix, in key order. */
  list(prefix: string, options?: { limit?: number; cursor?: string }): Promise<{ items: ObjectSummary[]; nextCursor?: string }>;
}
