/**
 * Stores for the training benchmark, no AWS: the model registry in memory, and model artifacts
 * in a local directory (so that the benchmark process can load, with the real `loadModel`, the
 * version a training child process saved).
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { ModelStatus, ModelStore, ModelVersionRecord } from '../../data/stores/model-store';
import type { ObjectStore, ObjectSummary } from '../../data/stores/object-store';

export class MemoryModelStore implements ModelStore {
  private readonly records = new Map<string, ModelVersionRecord>();

  private static key(model: string, version: string): string {
    return `${model}\u0000${version}`;
  }

  async put(record: ModelVersionRecord): Promise<void> {
    this.records.set(MemoryModelStore.key(record.model, record.version), structuredClone(record));
  }

  async get(model: string, version: string): Promise<ModelVersionRecord | undefined> {
    const r = this.records.get(MemoryModelStore.key(model, version));
    return r ? structuredClone(r) : undefined;
  }

  async list(model?: string): Promise<ModelVersionRecord[]> {
    return [...this.records.values()]
      .filter((r) => model === undefined || r.model === model)
      .sort((a, b) => a.version.localeCompare(b.version))
      .map((r) => structuredClone(r));
  }

  async setStatus(model: string, version: string, status: ModelStatus, promotedAt?: string): Promise<void> {
    const r = this.records.get(MemoryModelStore.key(model, version));
    if (!r) throw new Error(`no version ${version} of ${model}`);
    r.status = status;
    if (promotedAt !== undefined) r.promotedAt = promotedAt;
  }
}

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Objects as files under `root` (keys are relative paths). */
export class DirObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  private path(key: string): string {
    if (key.split('/').some((part) => part === '..')) throw new Error(`bad key ${key}`);
    return join(this.root, key);
  }

  async putText(key: string, body: string): Promise<void> {
    await this.putBytes(key, Buffer.from(body, 'utf8'));
  }

  async getText(key: string): Promise<string | undefined> {
    const bytes = await this.getBytes(key);
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
  }

  async putBytes(key: string, body: Uint8Array): Promise<void> {
    const file = this.path(key);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, body);
  }

  async getBytes(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async getStream(key: string): Promise<Readable> {
    return createReadStream(this.path(key));
  }

  async list(prefix: string, options: { limit?: number; cursor?: string } = {}): Promise<{ items: ObjectSummary[]; nextCursor?: string }> {
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else keys.push(relative(this.root, full).split(sep).join('/'));
      }
    };
    await walk(this.root);
    const matching = keys.filter((k) => k.startsWith(prefix) && (options.cursor === undefined || k > options.cursor)).sort();
    const page = matching.slice(0, options.limit ?? 1000);
    const items = await Promise.all(
      page.map(async (key) => {
        const s = await stat(this.path(key));
        return { key, size: s.size, lastModified: s.mtime.toISOString() };
      }),
    );
    const last = page[page.length - 1];
    return matching.length > page.length && last !== undefined ? { items, nextCursor: last } : { items };
  }
}
