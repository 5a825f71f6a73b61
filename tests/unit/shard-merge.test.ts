import { describe, expect, it } from 'vitest';
import { dynaliteOrder, type ScanOrder } from '../../data/stores/dynalite-order';
import { ShardOrderError } from '../../data/stores/history-store';
import { mergeShard, type MergedPartner } from '../../data/stores/shard-merge';

/*
 * The merge-join of one scan segment's three streams, on hand-built streams: exact when the
 * streams are in the order the store claims, and a ShardOrderError (never a wrong answer) on
 * every way they can fail to be.
 */

type Row = { partnerId: string; id: string };

/** A readable order for hand-built cases: the key is the id; segment s of S holds ids whose first letter code mod S is s. */
const letters: ScanOrder = {
  key: (id) => `${id}/`,
  inSegment: (key, segment, segments) => key.charCodeAt(0) % segments === segment,
};

async function* pages<T>(items: readonly T[], size: number): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

const partner = (partnerId: string): Row => ({ partnerId, id: partnerId });
const item = (partnerId: string, id: string): Row => ({ partnerId, id });

async function collect(
  streams: { partners: Row[]; events: Row[]; deals: Row[] },
  options: { order?: ScanOrder; segment?: number; segments?: number; pageSize?: number; streamPage?: number; include?: (p: Row) => boolean } = {},
): Promise<MergedPartner<Row, Row>[][]> {
  const out: MergedPartner<Row, Row>[][] = [];
  const size = options.streamPage ?? 2;
  for await (const page of mergeShard(
    { partners: pages(streams.partners, size), events: pages(streams.events, size), deals: pages(streams.deals, size) },
    options.order ?? letters,
    { segment: options.segment ?? 0, segments: options.segments ?? 1 },
    { pageSize: options.pageSize ?? 100, ...(options.include ? { include: options.include } : {}) },
  )) {
    out.push(page);
  }
  return out;
}

const summary = (result: MergedPartner<Row, Row>[][]): Record<string, { events: string[]; deals: string[] }> =>
  Object.fromEntries(result.flat().map((m) => [m.partner.partnerId, { events: m.events.map((e) => e.id), deals: m.deals.map((d) => d.id) }]));

describe('mergeShard', () => {
  it('joins each partner with its items; partners without items get empty lists; items of unknown partners are skipped', async () => {
    const result = await collect({
      partners: ['b', 'd', 'f', 'h'].map(partner),
      events: [item('a', 'e0'), item('b', 'e1'), item('b', 'e2'), item('b', 'e3'), item('c', 'e4'), item('f', 'e5'), item('z', 'e6')],
      deals: [item('d', 'd1'), item('e', 'd2'), item('h', 'd3'), item('h', 'd4')],
    });
    expect(summary(result)).toEqual({
      b: { events: ['e1', 'e2', 'e3'], deals: [] },
      d: { events: [], deals: ['d1'] },
      f: { events: ['e5'], deals: [] },
      h: { events: [], deals: ['d3', 'd4'] },
    });
  });

  it('yields pages of pageSize included partners, skipping the items of excluded ones', async () => {
    const result = await collect(
      { partners: ['a', 'b', 'c', 'd', 'e'].map(partner), events: [item('a', 'e1'), item('b', 'e2'), item('c', 'e3'), item('e', 'e4')], deals: [] },
      { pageSize: 2, include: (p) => p.partnerId !== 'b' },
    );
    expect(result.map((page) => page.map((m) => m.partner.partnerId))).toEqual([['a', 'c'], ['d', 'e']]);
    expect(summary(result).e).toEqual({ events: ['e4'], deals: [] });
  });

  it('with streams in the order the store claims, is exact whatever the page sizes', async () => {
    const partners = ['a', 'c', 'e', 'g'].map(partner);
    const events = ['a', 'b', 'c', 'c', 'd', 'g', 'g', 'g', 'h'].map((p, i) => item(p, `e${i}`));
    const expected = summary(await collect({ partners, events, deals: [] }, { streamPage: 100 }));
    for (const streamPage of [1, 2, 3, 5]) expect(summary(await collect({ partners, events, deals: [] }, { streamPage }))).toEqual(expected);
  });

  it('throws ShardOrderError when a stream goes back to an earlier partner (a partition split in two)', async () => {
    const run = collect({ partners: ['a', 'c'].map(partner), events: [item('a', 'e1'), item('c', 'e2'), item('a', 'e3')], deals: [] });
    await expect(run).rejects.toBeInstanceOf(ShardOrderError);
    await expect(run).rejects.toThrow(/events stream: partner a came after partner c/);
  });

  it('checks the stream after the last partner too: a late item of a partner already yielded is caught', async () => {
    // Every partner is yielded before the bad item is read; the error still comes, before the merge ends.
    const seen: string[] = [];
    const merge = mergeShard(
      { partners: pages(['a', 'b'].map(partner), 10), events: pages([item('a', 'e1'), item('b', 'e2'), item('c', 'e3'), item('b', 'e4')], 10), deals: pages([], 1) },
      letters,
      { segment: 0, segments: 1 },
      { pageSize: 10 },
    );
    const run = (async () => {
      for await (const page of merge) seen.push(...page.map((m) => m.partner.partnerId));
    })();
    await expect(run).rejects.toThrow(/events stream: partner b came after partner c/);
    expect(seen).toEqual(['a', 'b']);
  });

  it('throws ShardOrderError on partners out of order, a partner twice, an item outside the segment, an item without partnerId', async () => {
    await expect(collect({ partners: ['b', 'a'].map(partner), events: [], deals: [] })).rejects.toThrow(/partners stream: partner a came after partner b/);
    await expect(collect({ partners: ['a', 'a'].map(partner), events: [], deals: [] })).rejects.toThrow(/partners stream: partner a came twice/);
    // 'a' is 97: segment 1 of 2; 'b' (98) is segment 0.
    await expect(collect({ partners: [partner('b')], events: [item('a', 'e1')], deals: [] }, { segment: 0, segments: 2 })).rejects.toThrow(/events stream: partner a is outside segment 0 of 2/);
    await expect(collect({ partners: [partner('b')], events: [], deals: [{ id: 'd1' } as unknown as Row] })).rejects.toThrow(/deals stream: an item has no string partnerId/);
  });
});

describe("dynalite's scan order", () => {
  it('puts every key in exactly one segment, for any segment count', () => {
    const keys = Array.from({ length: 500 }, (_, i) => dynaliteOrder.key(`P-${i}`));
    for (const segments of [1, 2, 3, 7, 13, 64, 4096]) {
      const misplaced = keys.filter((key) => Array.from({ length: segments }, (_, s) => s).filter((s) => dynaliteOrder.inSegment(key, s, segments)).length !== 1);
      expect(misplaced, `${segments} segments`).toEqual([]);
    }
  });

  it('orders partitions by hash prefix, then by the id’s bytes, a shorter id before its extensions', () => {
    const a = dynaliteOrder.key('P-1');
    expect(a).toMatch(/^[0-9a-f]{6}\/[0-9a-f]+\/$/);
    expect(a.slice(7)).toBe(`${Buffer.from('P-1').toString('hex')}/`);
    // Same prefix forced: the '/' terminator puts "ab" before "abc".
    const prefix = '000000/';
    expect(`${prefix}${Buffer.from('ab').toString('hex')}/` < `${prefix}${Buffer.from('abc').toString('hex')}/`).toBe(true);
  });
});
