import type { ScanOrder } from './dynalite-order';
import { ShardOrderError } from './history-store';

type Keyed = object;

/** One partner of a merged shard with the raw items of its partition in the other two streams. */
export interface MergedPartner<P, I> {
  partner: P;
  events: I[];
  deals: I[];
}

export interface ShardStreams<P, I> {
  /** The segment's partners (one item per partner), pages in scan order. */
  partners: AsyncIterable<P[]>;
  /** The same segment of the events index (partition key partnerId), pages in scan order. */
  events: AsyncIterable<I[]>;
  /** The same segment of the deals index (partition key partnerId), pages in scan order. */
  deals: AsyncIterable<I[]>;
}

const partnerIdOf = (item: Keyed): unknown => (item as { partnerId?: unknown }).partnerId;

/**
 * A scan stream read one item at a time, every item checked as it arrives: its partition lies
 * in the segment, and partitions come in strictly ascending order (so each is contiguous, and
 * once passed never comes back). Memory: the current page.
 */
class CheckedStream<T extends Keyed> {
  private readonly pages: AsyncIterator<T[]>;
  private page: T[] = [];
  private index = 0;
  private ended = false;
  private lastId: string | undefined;
  private lastKey: string | undefined;
  /** The item under the cursor (undefined past the end) and its partition's order key. */
  head: T | undefined;
  headKey = '';

  constructor(
    private readonly name: string,
    pages: AsyncIterable<T[]>,
    private readonly order: ScanOrder,
    private readonly segment: number,
    private readonly segments: number,
    /** One item per partition (the partners table). */
    private readonly unique: boolean,
  ) {
    this.pages = pages[Symbol.asyncIterator]();
  }

  async advance(): Promise<void> {
    while (this.index >= this.page.length) {
      if (this.ended) {
        this.head = undefined;
        return;
      }
      const next = await this.pages.next();
      if (next.done) {
        this.ended = true;
        this.page = [];
        this.head = undefined;
        return;
      }
      this.page = next.value;
      this.index = 0;
    }
    const item = this.page[this.index++] as T;
    const id = partnerIdOf(item);
    if (typeof id !== 'string') throw new ShardOrderError(this.name, 'an item has no string partnerId');
    if (id === this.lastId) {
      if (this.unique) throw new ShardOrderError(this.name, `partner ${id} came twice`);
    } else {
      const key = this.order.key(id);
      if (!this.order.inSegment(key, this.segment, this.segments)) throw new ShardOrderError(this.name, `partner ${id} is outside segment ${this.segment} of ${this.segments}`);
      // Distinct partitions have distinct keys: anything but strictly ascending means the partitions are not contiguous or not in order.
      if (this.lastKey !== undefined && key <= this.lastKey) throw new ShardOrderError(this.name, `partner ${id} came after partner ${this.lastId}, out of order`);
      this.lastId = id;
      this.lastKey = key;
    }
    this.head = item;
    this.headKey = this.lastKey as string;
  }

  /** Moves past every item of partitions before `key`, then returns (if `keep`) the items of partition `key`. */
  async take(key: string, keep: boolean): Promise<T[]> {
    const out: T[] = [];
    while (this.head !== undefined && this.headKey < key) await this.advance();
    while (this.head !== undefined && this.headKey === key) {
      if (keep) out.push(this.head);
      await this.advance();
    }
    return out;
  }

  /** Reads (and checks) everything left. */
  async drain(): Promise<void> {
    while (this.head !== undefined) await this.advance();
  }
}

/**
 * Merge-joins one scan segment of the partners table with the same segment of the events and
 * deals indexes (all three partitioned by partnerId and returned in `order`), yielding pages of
 * up to `pageSize` partners with their items. Items of partners not in the partners stream are
 * skipped; partners with no items get empty lists. Memory: a page per stream plus the page
 * being built.
 *
 * Every item of every stream is checked against `order` (in the segment, partitions strictly
 * ascending), to the end of each stream: a violation throws ShardOrderError. Pages already
 * yielded may then be wrong, so the caller must redo the whole shard another way.
 */
export async function* mergeShard<P extends Keyed, I extends Keyed>(
  streams: ShardStreams<P, I>,
  order: ScanOrder,
  shard: { segment: number; segments: number },
  options: { pageSize: number; include?: (partner: P) => boolean },
): AsyncGenerator<MergedPartner<P, I>[]> {
  const stream = <T extends Keyed>(name: string, pages: AsyncIterable<T[]>, unique: boolean): CheckedStream<T> =>
    new CheckedStream(name, pages, order, shard.segment, shard.segments, unique);
  const partners = stream('partners', streams.partners, true);
  const events = stream('events', streams.events, false);
  const deals = stream('deals', streams.deals, false);
  await Promise.all([partners.advance(), events.advance(), deals.advance()]);
  let out: MergedPartner<P, I>[] = [];
  while (partners.head !== undefined) {
    const partner = partners.head;
    const key = partners.headKey;
    const keep = options.include ? options.include(partner) : true;
    const [partnerEvents, partnerDeals] = [await events.take(key, keep), await deals.take(key, keep)];
    if (keep) {
      out.push({ partner, events: partnerEvents, deals: partnerDeals });
      if (out.length >= options.pageSize) {
        yield out;
        out = [];
      }
    }
    await partners.advance();
  }
  if (out.length > 0) yield out;
  // The rest belongs to partners this segment does not hold; read it anyway, so that an item of
  // a partner already yielded, appearing out of order, is caught.
  await events.drain();
  await deals.drain();
}
