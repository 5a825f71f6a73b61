import { NotFoundError } from '../data/errors';
import type { ModelStore, ModelVersionRecord } from '../data/stores/model-store';

/**
 * The champion of a model. Promotion writes the new champion before retiring the old one (no
 * transactions), so if a crash ever leaves two, the one promoted last is the champion.
 */
export async function currentChampion(store: ModelStore, model: string): Promise<ModelVersionRecord | undefined> {
  const champions = (await store.list(model)).filter((v) => v.status === 'champion');
  return champions.sort((a, b) => (b.promotedAt ?? b.createdAt).localeCompare(a.promotedAt ?? a.createdAt))[0];
}

/** Makes this version the champion and retires the previous one. Promoting the champion again changes nothing. */
export async function promoteVersion(store: ModelStore, model: string, version: string, at: string): Promise<ModelVersionRecord> {
  const target = await store.get(model, version);
  if (!target) throw new NotFoundError(`No version ${version} of model ${model}.`);
  if (target.status !== 'champion') await store.setStatus(model, version, 'champion', at);
  for (const other of await store.list(model)) {
    if (other.version !== version && other.status === 'champion') await store.setStatus(model, other.version, 'retired');
  }
  return (await store.get(model, version)) ?? target;
}

/** Version ids sort by creation time: `20261121-231500-a1b2`. */
export function newVersionId(at: Date, suffix: string): string {
  const t = at.toISOString().replace(/[-:]/g, '');
  return `${t.slice(0, 8)}-${t.slice(9, 15)}-${suffix}`;
}
