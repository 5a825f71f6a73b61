import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import type { RecordKind } from './record-kinds';
import type { RawRecord } from './ingest-batch';

export type RecordFormat = 'json' | 'ndjson' | 'csv';

function ndjsonLine(line: string, index: number, lineNumber: number): RawRecord {
  try {
    return { index, raw: line, value: JSON.parse(line) as unknown };
  } catch (error) {
    return { index, raw: line, parseError: { path: '', message: `line ${lineNumber} is not valid JSON: ${(error as Error).message}` } };
  }
}

/** NDJSON text → records; blank lines are skipped, a line that is not JSON becomes a rejected record. */
export function recordsFromNdjson(text: string): RawRecord[] {
  const out: RawRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    if (line.trim() === '') continue;
    out.push(ndjsonLine(line, out.length, i + 1));
  }
  return out;
}

/** The first levels of a value, deeper ones elided: a record too deep to serialize is still kept recognisably. */
function clipped(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth === 0) return '…';
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => clipped(v, depth - 1));
  return Object.fromEntries(Object.entries(value).slice(0, 50).map(([k, v]) => [k, clipped(v, depth - 1)]));
}

function jsonRecord(value: unknown, index: number): RawRecord {
  try {
    return { index, raw: JSON.stringify(value) ?? 'null', value };
  } catch {
    // JSON.parse takes nesting JSON.stringify cannot walk back (RangeError): no record is nested like that.
    return { index, raw: JSON.stringify(clipped(value, 8)), parseError: { path: '', message: 'is nested too deeply to be a record' } };
  }
}

/** A JSON body: an array of records or `{"items": [...]}`; undefined when it is neither. */
export function recordsFromJsonValue(body: unknown): RawRecord[] | undefined {
  const items = Array.isArray(body) ? body : body !== null && typeof body === 'object' && Array.isArray((body as { items?: unknown }).items) ? (body as { items: unknown[] }).items : undefined;
  return items?.map((value, index) => jsonRecord(value, index));
}

/** Streams NDJSON records from a byte stream without holding the file in memory. */
export async function* ndjsonStream(stream: Readable): AsyncGenerator<RawRecord> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let index = 0;
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    yield ndjsonLine(line, index++, lineNumber);
  }
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** One CSV row (header → cell) as the JSON record it stands for: empty cells are absent, or null where the kind allows null. */
export function csvRowToRecord(row: Record<string, string>, kind: RecordKind): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [column, cell] of Object.entries(row)) {
    const text = cell.trim();
    if (text === '') {
      if (kind.nullableFields.includes(column)) record[column] = null;
      continue;
    }
    record[column] = kind.csvNumberFields.includes(column) && NUMERIC.test(text) ? Number(text) : cell;
  }
  for (const column of kind.nullableFields) if (!(column in record)) record[column] = null;
  return record;
}

/**
 * Streams CSV records (first row is the header). A row with the wrong number of cells or
 * broken quoting becomes a rejected record naming its line; the rest of the file goes on.
 */
export async function* csvStream(stream: Readable, kind: RecordKind): AsyncGenerator<RawRecord> {
  const parser = stream.pipe(
    parseCsv({ bom: true, skip_empty_lines: true, relax_column_count: true, skip_records_with_error: true, info: true }),
  );
  const skipped: { line: number; message: string; raw: string }[] = [];
  parser.on('skip', (error: Error & { lines?: number; raw?: string }) => {
    skipped.push({ line: error.lines ?? 0, message: error.message, raw: error.raw ?? '' });
  });
  let header: string[] | undefined;
  let index = 0;
  for await (const chunk of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    for (const skip of skipped.splice(0)) {
      yield { index: index++, raw: skip.raw, parseError: { path: '', message: `CSV line ${skip.line} could not be read: ${skip.message}` } };
    }
    const { record: cells, info } = chunk;
    if (!header) {
      header = cells.map((c) => c.trim());
      continue;
    }
    const row: Record<string, string> = {};
    header.forEach((column, i) => {
      row[column] = cells[i] ?? '';
    });
    const raw = JSON.stringify(row);
    if (cells.length !== header.length) {
      yield { index: index++, raw, parseError: { path: '', message: `CSV line ${info.lines} has ${cells.length} cells; the header has ${header.length}` } };
      continue;
    }
    yield { index: index++, raw, value: csvRowToRecord(row, kind), csvRow: true };
  }
  for (const skip of skipped.splice(0)) {
    yield { index: index++, raw: skip.raw, parseError: { path: '', message: `CSV line ${skip.line} could not be read: ${skip.message}` } };
  }
}

export function formatFromName(name: string): RecordFormat | undefined {
  const lower = name.toLowerCase().replace(/\.gz$/, '');
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  if (lower.endsWith('.json')) return 'json';
  return undefined;
}
