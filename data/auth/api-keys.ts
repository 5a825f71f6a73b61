import { randomBytes, timingSafeEqual } from 'node:crypto';
import { NotFoundError, UnauthorizedError } from '../errors';
import type { CreateApiKey, ApiKeyView, Role } from '../schemas/api-key';
import type { ApiKeyRecord, ApiKeyStore } from '../stores/api-key-store';
import { sha256Hex } from '../util/hash';

/** Who is calling: the key's id (safe to log), role and, for partner keys, the partner. */
export interface Principal {
  keyId: string;
  role: Role;
  partnerId?: string;
}

/**
 * The id is derived from the hash so that a presented key is found with one consistent
 * GetItem; the full hash is then compared in constant time.
 */
export function keyIdOf(keyHash: string): string {
  return `key_${keyHash.slice(0, 20)}`;
}

export function newSecret(): string {
  return `psk_${randomBytes(32).toString('base64url')}`;
}

const principalOf = (record: ApiKeyRecord): Principal => ({ keyId: record.keyId, role: record.role, ...(record.partnerId ? { partnerId: record.partnerId } : {}) });

function toView(record: ApiKeyRecord): ApiKeyView {
  return {
    id: record.keyId,
    name: record.name,
    role: record.role,
    ...(record.partnerId ? { partnerId: record.partnerId } : {}),
    createdAt: record.createdAt,
    ...(record.revokedAt ? { revokedAt: record.revokedAt } : {}),
  };
}

export class ApiKeyService {
  constructor(
    private readonly store: ApiKeyStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The principal for a presented secret; 401 when it is unknown, revoked or malformed. */
  async authenticate(secret: string | undefined): Promise<Principal> {
    if (!secret || secret.length > 512) throw new UnauthorizedError();
    const hash = sha256Hex(secret);
    const record = await this.store.get(keyIdOf(hash));
    const stored = Buffer.from(record?.keyHash ?? '0'.repeat(64), 'hex');
    const presented = Buffer.from(hash, 'hex');
    const same = stored.length === presented.length && timingSafeEqual(stored, presented);
    if (!record || !same) throw new UnauthorizedError('Unknown API key.');
    if (record.revokedAt) throw new UnauthorizedError('This API key was revoked.');
    return principalOf(record);
  }

  /**
   * An active key by id, with its stored hash (dashboard sessions are signed with it, so a
   * session dies with its key); undefined when unknown or revoked. One consistent GetItem.
   */
  async activeKey(keyId: string): Promise<{ principal: Principal; keyHash: string } | undefined> {
    if (!/^key_[0-9a-f]{20}$/.test(keyId)) return undefined;
    const record = await this.store.get(keyId);
    if (!record || record.revokedAt) return undefined;
    return { principal: principalOf(record), keyHash: record.keyHash };
  }

  async create(input: CreateApiKey, secret: string = newSecret()): Promise<{ id: string; key: string; record: ApiKeyRecord }> {
    const keyHash = sha256Hex(secret);
    const record: ApiKeyRecord = {
      keyId: keyIdOf(keyHash),
      keyHash,
      name: input.name,
      role: input.role,
      ...(input.partnerId ? { partnerId: input.partnerId } : {}),
      createdAt: this.now().toISOString(),
    };
    await this.store.put(record);
    return { id: record.keyId, key: secret, record };
  }

  /** Makes sure an active admin key with exactly this secret exists (ADMIN_API_KEY bootstrap). */
  async ensureAdminKey(secret: string, name = 'bootstrap admin (ADMIN_API_KEY)'): Promise<string> {
    const keyHash = sha256Hex(secret);
    const existing = await this.store.get(keyIdOf(keyHash));
    if (existing && existing.role === 'admin' && !existing.revokedAt && existing.keyHash === keyHash) return existing.keyId;
    const { id } = await this.create({ name, role: 'admin' }, secret);
    return id;
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.store.list()).map(toView);
  }

  async revoke(keyId: string): Promise<void> {
    if (!(await this.store.revoke(keyId, this.now().toISOString()))) throw new NotFoundError(`No API key ${keyId}.`);
  }
}
