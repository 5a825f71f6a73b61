import type { HistoryStore } from '../data/stores/history-store';
import type { Partner } from '../data/schemas/partner';
import { mapLimit } from '../data/util/async';
import type { PartnerHistory } from './types';

/** One partner's history up to `until`: two queries by partner and time range, never a scan. */
export async function loadHistory(store: HistoryStore, partner: Partner, until?: string): Promise<PartnerHistory> {
  const [events, deals] = await Promise.all([store.partnerEvents(partner.partnerId, until), store.partnerDeals(partner.partnerId, until)]);
  return { partner, events, deals };
}

/** Every partner's history, streamed page by page with bounded concurrency. */
export async function loadAllHistories(store: HistoryStore, until: string | undefined, options: { concurrency?: number; onProgress?: (loaded: number) => void } = {}): Promise<PartnerHistory[]> {
  const histories: PartnerHistory[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listPartners({ limit: 200, ...(cursor ? { cursor } : {}) });
    const loaded = await mapLimit(page.items, options.concurrency ?? 8, (p) => loadHistory(store, p, until));
    histories.push(...loaded);
    options.onProgress?.(histories.length);
    cursor = page.nextCursor;
  } while (cursor);
  return histories.sort((a, b) => a.partner.partnerId.localeCompare(b.partner.partnerId));
}
