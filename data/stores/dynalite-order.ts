import { createHash } from 'node:crypto';

/**
 * The order in which a store returns a Scan segment, for a string partition key. A merge of
 * several scans relies on it; every item it reads is checked against it.
 */
export interface ScanOrder {
  /** Sort key of a partition key value: items of one partition are contiguous, partitions come in ascending key order. */
  key(hashValue: string): string;
  /** Whether a key belongs in segment `segment` of `segments`. */
  inSegment(key: string, segment: number, segments: number): boolean;
}

/**
 * dynalite 4's order (node_modules/dynalite/db/index.js createKey/createIndexKey/hashPrefix):
 * every table and every index is one LevelDB range keyed by
 * `md5('Outliers' + utf8(hash)).hex[0..6] / hex(utf8(hash)) / hex(range) / …`, so each
 * partition is contiguous, sorted by its sort key, and partitions are ordered by that prefix
 * then by the key's bytes — the same for the partners table and both GSIs. A Scan segment is
 * the hash-prefix range actions/scan.js computes: first three hex digits from
 * ceil(4096·s/S) to ceil(4096·(s+1)/S) − 1. Real DynamoDB orders otherwise; the merge's checks
 * catch that on the first item.
 */
export const dynaliteOrder: ScanOrder = {
  key(hashValue: string): string {
    const utf8 = Buffer.from(hashValue, 'utf8');
    const prefix = createHash('md5').update('Outliers').update(utf8).digest('hex').slice(0, 6);
    // The trailing '/' sorts below every hex digit, as in dynalite's key: "ab" before "abc".
    return `${prefix}/${utf8.toString('hex')}/`;
  },
  inSegment(key: string, segment: number, segments: number): boolean {
    if (segments <= 1) return true;
    const head = parseInt(key.slice(0, 3), 16);
    return head >= Math.ceil((4096 * segment) / segments) && head <= Math.ceil((4096 * (segment + 1)) / segments) - 1;
  },
};
