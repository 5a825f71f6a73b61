import type { FieldError } from '../schemas/common';
import type { ObjectStore } from '../stores/object-store';
import type { RecordKindName } from '../stores/record-store';
import { sha256Hex } from '../util/hash';

/** A rejected record as kept for operators: the record as received, and why it was refused. */
export interface RejectEntry {
  index: number;
  id?: string;
  errors: FieldError[];
  record: string;
  /** The record is a CSV row (header → cell text), converted again on replay. */
  csvRow?: true;
  source: string;
  receivedAt: string;
}

const day = (at: Date): string => at.toISOString().slice(0, 10);

/**
 * Object keys are derived from content, so a retried request overwrites the object its
 * first attempt wrote instead of adding a second copy.
 */
function contentKey(prefix: string, kind: RecordKindName, at: Date, lines: readonly string[]): string {
  return `${prefix}/${kind}/${day(at)}/${sha256Hex(`${kind}\n${lines.join('\n')}`).slice(0, 40)}.ndjson`;
}

export async function archiveRaw(objects: ObjectStore, kind: RecordKindName, rawLines: readonly string[], at: Date): Promise<string> {
  const key = contentKey('raw', kind, at, rawLines);
  await objects.putText(key, `${rawLines.join('\n')}\n`);
  return key;
}

export async function archiveRejects(objects: ObjectStore, kind: RecordKindName, entries: readonly RejectEntry[], at: Date): Promise<string> {
  // The source is part of the identity: a replay that fails again is a new batch, not the original overwritten.
  const identity = entries.map((e) => JSON.stringify([e.record, e.errors, e.source]));
  const key = contentKey('rejects', kind, at, identity);
  await objects.putText(key, `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
  return key;
}

export function parseRejects(text: string): RejectEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RejectEntry);
}
