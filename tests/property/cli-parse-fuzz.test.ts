import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../data/errors';
import type { RawRecord } from '../../data/ingest/ingest-batch';
import { recordsOf } from '../../data/ingest/ingest-stream';
import { ingestFile } from '../../functions/cli/ingest-file';
import { startTestStack, type TestStack } from '../helpers/test-stack';
import { eventArb, freshIds, junkLineArb, partnerArb, textArb } from './arbitraries';

/*
 * The CLI's file readers (NDJSON, CSV, JSON) under hostile files, and `ingestFile` over the real
 * stores: whatever the bytes and however the stream is chunked (mid-character included), every
 * non-blank line or CSV row becomes exactly one record, in order, either a value or a parse
 * error that names its line; valid records in the file are stored; the reader never throws
 * except for a JSON file that is not JSON (a clean ValidationError).
 */

const RUNS = Number(process.env.FC_RUNS ?? 25);

/** The bytes of a text, cut into chunks of random sizes (a multi-byte character may be split). */
const chunkedArb = (text: string): fc.Arbitrary<Buffer[]> =>
  fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }).map((sizes) => {
    const bytes = Buffer.from(text, 'utf8');
    const chunks: Buffer[] = [];
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const size = sizes[i % sizes.length]!;
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    return chunks;
  });

async function collect(records: AsyncIterable<RawRecord>): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

/** RFC 4180: a cell with a quote, comma or line break is quoted, quotes doubled. */
const csvCell = (cell: string): string => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
const csvLine = (cells: readonly string[]): string => cells.map(csvCell).join(',');

const PARTNER_COLUMNS = ['partnerId', 'name', 'tier', 'region', 'segment', 'joinedAt', 'status', 'churnedAt', 'updatedAt'] as const;
/** CSV reads an all-blank cell as absent: text that is blank is not what a CSV can carry. */
const csvPartnerArb = partnerArb.filter((p) => [p.name, p.tier, p.region, p.segment].every((t) => t.trim() !== ''));

describe('CLI file readers and ingestFile under hostile files', () => {
  let stack: TestStack;
  let dir: string;
  let files = 0;

  beforeAll(async () => {
    stack = await startTestStack();
    dir = mkdtempSync(join(tmpdir(), 'cli-fuzz-'));
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const writeFile = (text: string, ext: string): string => {
    const file = join(dir, `f${++files}.${ext}`);
    writeFileSync(file, text);
    return file;
  };

  it('NDJSON: every non-blank line is one record, in order, however the bytes are chunked', async () => {
    const lineArb = fc.oneof(junkLineArb, eventArb.map((e) => JSON.stringify(e)), fc.constantFrom('', '  ', '\t'));
    const fileArb = fc.tuple(fc.array(lineArb, { maxLength: 30 }), fc.boolean(), fc.boolean()).chain(([lines, crlf, finalNewline]) => {
      const text = lines.join(crlf ? '\r\n' : '\n') + (finalNewline ? '\n' : '');
      return chunkedArb(text).map((chunks) => ({ lines, chunks }));
    });
    await fc.assert(
      fc.asyncProperty(fileArb, async ({ lines, chunks }) => {
        const records = await collect(recordsOf(Readable.from(chunks), 'ndjson', 'events'));
        const expected = lines.filter((l) => l.trim() !== '');
        expect(records.map((r) => r.raw)).toEqual(expected);
        records.forEach((r, i) => {
          expect(r.index).toBe(i);
          let parsed: { ok: boolean; value?: unknown } = { ok: false };
          try {
            parsed = { ok: true, value: JSON.parse(r.raw) };
          } catch {
            // not JSON
          }
          if (parsed.ok) expect(r.value).toEqual(parsed.value);
          else expect(r.parseError?.message).toMatch(/^line \d+ is not valid JSON/);
        });
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('CSV: any cells, quoted as RFC 4180 says, come back exactly, however the bytes are chunked', async () => {
    const cellArb = fc.oneof(textArb(0, 30), fc.constantFrom('"', '""', ',', '\n', '\r\n', '"a,b"', ' x ', '=1+1', '\u0000'));
    const fileArb = fc
      .tuple(fc.integer({ min: 2, max: 6 }), fc.array(fc.nat(), { maxLength: 15 }), fc.boolean())
      .chain(([columns, rowSeeds, crlf]) =>
        fc.tuple(fc.array(cellArb, { minLength: rowSeeds.length * columns, maxLength: rowSeeds.length * columns }), fc.constant(columns), fc.constant(crlf)),
      )
      .map(([cells, columns, crlf]) => {
        const header = Array.from({ length: columns }, (_, i) => `col${i}`);
        const rows: string[][] = [];
        for (let at = 0; at < cells.length; at += columns) rows.push(cells.slice(at, at + columns));
        return { header, rows, text: [header, ...rows].map(csvLine).join(crlf ? '\r\n' : '\n') };
      })
      .chain((file) => chunkedArb(file.text).map((chunks) => ({ ...file, chunks })));
    await fc.assert(
      fc.asyncProperty(fileArb, async ({ header, rows, chunks }) => {
        const records = await collect(recordsOf(Readable.from(chunks), 'csv', 'partners'));
        const kept = rows;
        expect(records.map((r) => r.parseError)).toEqual(kept.map(() => undefined));
        expect(records.map((r) => JSON.parse(r.raw) as Record<string, string>)).toEqual(kept.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i]!]))));
        records.forEach((r, i) => expect(r.index).toBe(i));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('CSV: junk never throws; every record is a row or an error naming its line', async () => {
    const junkArb = fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('"', '"unclosed', 'a,"b', '""",', ',,,', '\r', '\ufeff')), { maxLength: 20 }).map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(junkArb, async (text) => {
        const records = await collect(recordsOf(Readable.from([Buffer.from(text)]), 'csv', 'events'));
        records.forEach((r, i) => {
          expect(r.index).toBe(i);
          if (r.parseError) expect(r.parseError.message).toMatch(/^CSV line \d+ /);
          else expect(r.value).toEqual(expect.any(Object));
        });
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('JSON: a file that is not an array of records is a clean ValidationError', async () => {
    for (const text of ['', 'nul', '{"items": 3}', '"just a string"', `${'['.repeat(100_000)}${']'.repeat(100_000)}`.slice(0, 150_000)]) {
      await expect(collect(recordsOf(Readable.from([Buffer.from(text)]), 'json', 'events'))).rejects.toBeInstanceOf(ValidationError);
    }
    // A well-formed array whose items are nested too deeply: each one is rejected on its own.
    const deep = `[${'['.repeat(50_000)}${']'.repeat(50_000)}, {"a": 1}]`;
    const records = await collect(recordsOf(Readable.from([Buffer.from(deep)]), 'json', 'events'));
    expect(records).toHaveLength(2);
    expect(records[0]!.parseError?.message).toContain('nested too deeply');
  });

  it('ingestFile: valid rows of a hostile file are stored exactly, every other row is rejected, none is lost', async () => {
    const lineArb = fc.oneof(
      { weight: 3, arbitrary: csvPartnerArb.map((p) => ({ valid: p as Record<string, unknown> | undefined, cells: PARTNER_COLUMNS.map((c) => String((p as Record<string, unknown>)[c] ?? '')) })) },
      { weight: 1, arbitrary: fc.array(fc.oneof(textArb(0, 20), fc.constantFrom('', 'active', 'churned', '2024-01-01', 'not-a-date')), { minLength: 1, maxLength: 11 }).map((cells) => ({ valid: undefined, cells })) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(lineArb, { minLength: 1, maxLength: 20 }), fc.constantFrom('csv', 'ndjson'), async (rows, format) => {
        // Ids made unique now (fast-check replays inputs while it shrinks).
        const fresh = rows.map((r) => {
          if (!r.valid) return r;
          const valid = freshIds(r.valid);
          return { valid, cells: PARTNER_COLUMNS.map((c) => String(valid[c] ?? '')) };
        });
        const text =
          format === 'csv'
            ? [PARTNER_COLUMNS.join(','), ...fresh.map((r) => csvLine(r.cells))].join('\n')
            : fresh.map((r) => (r.valid ? JSON.stringify(r.valid) : JSON.stringify(r.cells))).join('\n');
        const file = writeFile(text, format);
        const summary = await ingestFile('partners', file, stack.deps, { batchSize: 7 });
        const parsed = await collect(recordsOf(Readable.from([Buffer.from(text)]), format, 'partners'));
        expect(summary.records).toBe(parsed.length);
        expect(summary.accepted + summary.unchanged + summary.rejected).toBe(summary.records);
        for (const r of fresh) {
          if (!r.valid) continue;
          const out = await stack.clients.ddb.send(new GetCommand({ TableName: stack.config.tables.partners, Key: { partnerId: r.valid.partnerId }, ConsistentRead: true }));
          expect(out.Item, `valid row not stored: ${JSON.stringify(r.valid)}`).toBeDefined();
          for (const field of ['name', 'tier', 'region', 'segment', 'joinedAt', 'status']) expect(out.Item![field]).toBe(r.valid[field]);
        }
      }),
      { numRuns: RUNS },
    );
  }, 180_000);
});
