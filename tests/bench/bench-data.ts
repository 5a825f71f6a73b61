/**
 * Benchmark data: realistic engagement events (the shape the demo generator emits), as
 * NDJSON lines, request bodies, files, and as the DynamoDB items ingest stores for them.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { RECORD_KIND } from '../../data/ingest/record-kinds';
import { parseWith } from '../../data/schemas/common';
import type { EventInput, EventType } from '../../data/schemas/event';
import type { StoredItem } from '../../data/stores/record-store';
import { contentHash } from '../../data/util/hash';

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rough mix of a real program: daily logins and content views dominate. */
const TYPE_WEIGHTS: ReadonlyArray<[EventType, number]> = [
  ['portal_login', 0.42],
  ['content_view', 0.3],
  ['training_completed', 0.07],
  ['certification_earned', 0.02],
  ['co_sell_meeting', 0.05],
  ['marketing_campaign', 0.04],
  ['support_ticket', 0.05],
  ['qbr_attended', 0.02],
  ['nps_response', 0.03],
];

const DAY = 86_400_000;
const START = Date.UTC(2023, 0, 2);
const SPAN_DAYS = 2 * 365;

export interface EventGenOptions {
  /** Distinguishes runs so ids never collide with an earlier run's (and with each other across sets). */
  tag: string;
  seed?: number;
  partners?: number;
}

/**
 * Streams `count` events. Ids are `E-<tag>-<partner>-<n>`; times are business hours over two
 * years, whole seconds like the demo generator; quantity on logins and views; nps value 0–10.
 */
export function* generateEvents(count: number, options: EventGenOptions): Generator<EventInput> {
  const next = rng(options.seed ?? 42);
  const partners = options.partners ?? 2_000;
  const perPartner = new Uint32Array(partners);
  for (let i = 0; i < count; i++) {
    const p = Math.floor(next() * partners);
    const partnerId = `P-${String(p + 1).padStart(5, '0')}`;
    let r = next();
    let type: EventType = 'portal_login';
    for (const [t, w] of TYPE_WEIGHTS) {
      if (r < w) {
        type = t;
        break;
      }
      r -= w;
    }
    const ms = START + Math.floor(next() * SPAN_DAYS) * DAY + (8 * 3600 + Math.floor(next() * 10 * 3600)) * 1000;
    const event: EventInput = {
      eventId: `E-${options.tag}-${partnerId}-${(perPartner[p] = (perPartner[p] ?? 0) + 1)}`,
      partnerId,
      type,
      occurredAt: `${new Date(ms).toISOString().slice(0, 19)}Z`,
    };
    if (type === 'portal_login' || type === 'content_view') event.quantity = 1 + Math.floor(-Math.log(1 - next()) * 1.5);
    if (type === 'nps_response') event.value = Math.min(10, Math.max(0, Math.round(7 + 2.2 * (next() + next() + next() - 1.5) * 2)));
    if (type === 'co_sell_meeting' && next() < 0.5) event.value = Math.round(next() * 50_000);
    yield event;
  }
}

/** The item ingest stores for one NDJSON line: validated, normalized, with contentHash and ingestedAt. */
export function storedItem(line: string, ingestedAt: string): StoredItem {
  const kind = RECORD_KIND.events;
  const parsed = parseWith(kind.schema, JSON.parse(line));
  if (!parsed.ok) throw new Error(`generated an invalid event: ${line}: ${JSON.stringify(parsed.errors)}`);
  const item = kind.toItem(parsed.value);
  return { ...item, contentHash: contentHash(item), ingestedAt };
}

/**
 * The stored items of lines [from, to) of a generated set, in chunks of `size`: a baseline
 * writer holds one chunk at a time, so no path runs with a bigger heap than the others.
 */
export function* itemChunks(count: number, options: EventGenOptions, from: number, to: number, size: number): Generator<StoredItem[]> {
  const ingestedAt = new Date().toISOString();
  let i = 0;
  let chunk: StoredItem[] = [];
  for (const line of eventLines(count, options)) {
    if (i >= to) break;
    if (i++ < from) continue;
    chunk.push(storedItem(line, ingestedAt));
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** Every `step`-th stored item of a generated set, to check what each path stored. */
export function sampleItems(count: number, options: EventGenOptions, from: number, to: number, samples: number): StoredItem[] {
  const step = Math.max(1, Math.floor((to - from) / samples));
  const ingestedAt = new Date().toISOString();
  const out: StoredItem[] = [];
  let i = 0;
  for (const line of eventLines(count, options)) {
    if (i >= to) break;
    if (i >= from && (i - from) % step === 0) out.push(storedItem(line, ingestedAt));
    i++;
  }
  return out;
}

/** NDJSON request bodies of `size` lines each. */
export function ndjsonBodies(lines: Iterable<string>, size: number): string[] {
  const bodies: string[] = [];
  let pending: string[] = [];
  for (const line of lines) {
    pending.push(line);
    if (pending.length >= size) {
      bodies.push(`${pending.join('\n')}\n`);
      pending = [];
    }
  }
  if (pending.length > 0) bodies.push(`${pending.join('\n')}\n`);
  return bodies;
}

/** Writes lines (or generated events) to an NDJSON file with backpressure; returns its size in bytes. */
export async function writeNdjsonFile(path: string, lines: Iterable<string>): Promise<number> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = async (): Promise<void> => {
    const chunk = pending.join('');
    pending = [];
    pendingLength = 0;
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  };
  for (const line of lines) {
    pending.push(line, '\n');
    pendingLength += line.length + 1;
    if (pendingLength >= 1 << 20) await flush();
  }
  if (pendingLength > 0) await flush();
  out.end();
  await once(out, 'finish');
  return bytes;
}

export function* eventLines(count: number, options: EventGenOptions): Generator<string> {
  for (const event of generateEvents(count, options)) yield JSON.stringify(event);
}
