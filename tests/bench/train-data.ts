/**
 * The training benchmark's data: a generated program turned into the partner histories the
 * history store would return (every record normalised by its zod schema as ingest stores it,
 * the latest version of each deal, events by occurredAt and deals by createdAt, partners by id),
 * written to an NDJSON file (one history a line) that each training child reads back.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { generateProgram, type PartnerTruth } from '../../data/generator';
import { dealSchema, type Deal } from '../../data/schemas/deal';
import { eventSchema, type PartnerEvent } from '../../data/schemas/event';
import { partnerSchema } from '../../data/schemas/partner';
import type { PartnerHistory } from '../../models/types';

export interface BenchProgram {
  histories: PartnerHistory[];
  truth: Map<string, PartnerTruth>;
  counts: { partners: number; events: number; dealVersions: number; deals: number; directDeals: number };
  seconds: { generate: number; normalise: number };
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Generates and normalises a program; histories sorted as loadAllHistories returns them. */
export function buildProgram(opts: { partners: number; seed: number; end: string; years: number }): BenchProgram {
  const t0 = performance.now();
  const program = generateProgram(opts);
  const t1 = performance.now();

  // The store holds one version of a deal: the latest by updatedAt (the generator's versions are sorted by it).
  const latest = new Map<string, (typeof program.deals)[number]>();
  for (const d of program.deals) {
    const seen = latest.get(d.dealId);
    if (!seen || seen.updatedAt <= d.updatedAt) latest.set(d.dealId, d);
  }
  const dealVersions = program.deals.length;
  program.deals.length = 0;

  const histories = new Map<string, PartnerHistory>();
  for (const p of program.partners) {
    const partner = partnerSchema.parse(p);
    histories.set(partner.partnerId, { partner, events: [], deals: [] });
  }
  program.partners.length = 0;
  let events = 0;
  for (const e of program.events) {
    const event: PartnerEvent = eventSchema.parse(e);
    const h = histories.get(event.partnerId);
    if (!h) throw new Error(`event ${event.eventId} of unknown partner ${event.partnerId}`);
    h.events.push(event);
    events += 1;
  }
  program.events.length = 0;
  let directDeals = 0;
  for (const d of latest.values()) {
    const deal: Deal = dealSchema.parse(d);
    if (deal.partnerId === null) {
      directDeals += 1;
      continue;
    }
    const h = histories.get(deal.partnerId);
    if (!h) throw new Error(`deal ${deal.dealId} of unknown partner ${deal.partnerId}`);
    h.deals.push(deal);
  }
  // The history store's orders (dynamo-history-store.ts): ties broken by id.
  const list = [...histories.values()].sort((a, b) => byString(a.partner.partnerId, b.partner.partnerId));
  for (const h of list) {
    h.events.sort((a, b) => byString(a.occurredAt, b.occurredAt) || byString(a.eventId, b.eventId));
    h.deals.sort((a, b) => byString(a.createdAt, b.createdAt) || byString(a.dealId, b.dealId));
  }
  const t2 = performance.now();
  return {
    histories: list,
    truth: new Map(program.truth.map((t) => [t.partnerId, t])),
    counts: { partners: list.length, events, dealVersions, deals: latest.size, directDeals },
    seconds: { generate: (t1 - t0) / 1000, normalise: (t2 - t1) / 1000 },
  };
}

/** One history a line. */
export async function writeHistories(file: string, histories: readonly PartnerHistory[]): Promise<void> {
  const out = createWriteStream(file);
  for (const h of histories) {
    if (!out.write(`${JSON.stringify(h)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export async function readHistories(file: string): Promise<PartnerHistory[]> {
  const out: PartnerHistory[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line.length > 0) out.push(JSON.parse(line) as PartnerHistory);
  return out;
}
