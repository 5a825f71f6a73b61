import type { Role } from '../schemas/api-key';

export interface ApiKeyRecord {
  keyId: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  keyHash: string;
  name: string;
  role: Role;
  partnerId?: string;
  createdAt: string;
  revokedAt?: string;
}

export interface ApiKeyStore {
  /** Strongly consistent, so a revocation is seen by the very next request. */
  get(keyId: string): Promise<ApiKeyRecord | undefined>;
  put(record: ApiKeyRecord): Promise<void>;
  /** Marks the key revoked; false when no such key exists. */
  revoke(keyId: string, at: string): Promise<boolean>;
  list(): Promise<ApiKeyRecord[]>;
}
