/** The three kinds of records that are ingested. */
export const RECORD_KINDS = ['partners', 'events', 'deals'] as const;
export type RecordKindName = (typeof RECORD_KINDS)[number];

/** The attribute that identifies a record of each kind (the table's partition key). */
export const RECORD_ID_FIELD = { partners: 'partnerId', events: 'eventId', deals: 'dealId' } as const satisfies Record<RecordKindName, string>;

export type StoredItem = Record<string, unknown>;

/** What ingest needs to know about a stored record to decide new / changed / unchanged / stale. */
export interface StoredVersion {
  contentHash: string;
  updatedAt?: string;
}

/** Persistence of ingested records. DynamoDB implements it; tests may wrap it to inject faults. */
export interface RecordStore {
  /** Strongly consistent versions of the records with these ids (absent ids are missing from the map). */
  getVersions(kind: RecordKindName, ids: readonly string[]): Promise<Map<string, StoredVersion>>;
  /** Writes every item, retrying unprocessed ones; resolves only once all are stored. */
  putAll(kind: RecordKindName, items: readonly StoredItem[]): Promise<void>;
  /**
   * Writes the item unless the stored one carries a later `updatedAt` (a concurrent newer
   * update won). Returns false when it was not written for that reason.
   */
  putUnlessNewerStored(kind: RecordKindName, item: StoredItem): Promise<boolean>;
  /** Whether any record of this kind is stored. */
  hasAny(kind: RecordKindName): Promise<boolean>;
}
