/**
 * Why its own module: a list comes in key order, its times spread over hours; holding each stream's
 * listed entries until the list ends and then shipping them oldest first is one job.
 */
import type { Logger } from 'pino';
import type { Entry } from '../core/entry.js';
import { DEFAULT_SORT_BUDGET_BYTES, orderSlackNs, TimeSorter } from './time-sorter.js';
import type { Watermark } from './watermark.js';

/** A draining list gives the event loop a turn this often (entries). */
const YIELD_EVERY = 250;

/** What a listed entry waiting in the time sort carries: its watermark slot and its event's count. */
export type ListedTag = { readonly seq: number; readonly uid: string; readonly count: number };

export interface ListedOrderOptions {
  /** Loki's out-of-order window per stream: how far the sort may leave entries unordered. */
  readonly outOfOrderWindowMs: number;
  /** Memory budget for sorting one list by time before it spills to disk (default 8 MiB). */
  readonly sortBudgetBytes: number | undefined;
  /** Where a list's sorted runs spill (default: the OS temp directory). */
  readonly sortDir: string | undefined;
}

/**
 * Ships one sorted entry: 'duplicate' if it was shipped before (its slot then completed), else
 * 'handed' once the sink took it (throws if the sink refused it).
 */
export type ShipListed = (entry: Entry, tag: ListedTag, wm: Watermark) => Promise<'duplicate' | 'handed'>;

/** Listed items, per stream, held until the list ends and then shipped in time order. */
export class ListedOrder {
  private readonly sorters = new Map<string, TimeSorter<ListedTag>>();
  private readonly draining = new Map<string, Promise<void>>();
  // Per stream, the list attempt whose items the sorter holds (its start) and their slots.
  private readonly listing = new Map<string, { readonly startedMs: number; readonly firstId: string; readonly first: number; last: number }>();

  constructor(
    private readonly options: ListedOrderOptions,
    private readonly log: Logger,
    private readonly shipOne: ShipListed,
    private readonly closing: () => boolean,
  ) {}

  /** The stream's finished list still shipping, if any: what comes after it waits for it. */
  drainingOf(stream: string): Promise<void> | undefined {
    return this.draining.get(stream);
  }

  /**
   * A listed entry joins its stream's sort. A list that failed part-way is listed again from the
   * start (a new attempt: a new start time, or its first item again): what the failed attempt left in the sorter is
   * dropped, not shipped twice or kept on disk on every retry, and its slots are passed (they
   * carry no position; the new attempt's items and its position come after them).
   */
  async add(stream: string, wm: Watermark, startedMs: number, entry: Entry, tag: ListedTag): Promise<void> {
    const sorter = this.sorterOf(stream);
    const attempt = this.listing.get(stream);
    if (attempt === undefined || attempt.startedMs !== startedMs || attempt.firstId === entry.occurrenceId) {
      if (attempt !== undefined && sorter.size > 0) {
        this.log.info({ stream, entries: sorter.size }, 'list started again; what the unfinished list left to sort is dropped');
        await sorter.clear();
        for (let seq = attempt.first; seq <= attempt.last; seq++) wm.complete(seq);
      }
      this.listing.set(stream, { startedMs, firstId: entry.occurrenceId, first: tag.seq, last: tag.seq });
    } else attempt.last = tag.seq;
    const spilling = sorter.add(entry, tag);
    if (spilling !== undefined) await spilling;
  }

  /**
   * The stream's list ended (its position came): its sorted entries start shipping, after any
   * earlier list of the stream. Returns that shipping, or undefined when nothing was held.
   */
  listEnded(stream: string, wm: Watermark): Promise<void> | undefined {
    const sorter = this.sorters.get(stream);
    this.listing.delete(stream);
    if (!sorter || sorter.size === 0) return undefined;
    const shipping: Promise<void> = (this.draining.get(stream) ?? Promise.resolve())
      .then(() => this.shipSorted(stream, wm, sorter))
      .finally(() => {
        if (this.draining.get(stream) === shipping) this.draining.delete(stream);
      });
    this.draining.set(stream, shipping);
    return shipping;
  }

  /** Waits for every list still shipping, then frees the sorters (and their spill files). */
  async dispose(): Promise<void> {
    await Promise.all(this.draining.values());
    await Promise.all([...this.sorters.values()].map((s) => s.dispose()));
  }

  private sorterOf(stream: string): TimeSorter<ListedTag> {
    let sorter = this.sorters.get(stream);
    if (!sorter) {
      sorter = new TimeSorter<ListedTag>({
        budgetBytes: this.options.sortBudgetBytes ?? DEFAULT_SORT_BUDGET_BYTES,
        orderSlackNs: orderSlackNs(this.options.outOfOrderWindowMs),
        ...(this.options.sortDir !== undefined ? { dir: this.options.sortDir } : {}),
      });
      this.sorters.set(stream, sorter);
    }
    return sorter;
  }

  /** Ships a finished list oldest first, so Loki's per-stream out-of-order window refuses nothing. */
  private async shipSorted(stream: string, wm: Watermark, sorter: TimeSorter<ListedTag>): Promise<void> {
    const entries = sorter.size;
    let duplicates = 0;
    let handed = 0;
    try {
      for await (const { entry, tag } of sorter.drain()) {
        if (this.closing()) break; // left without an outcome: the next run lists them again
        if ((await this.shipOne(entry, tag, wm)) === 'duplicate') {
          duplicates += 1;
          continue;
        }
        // Let the sink push while the list drains (as it did between list pages), rather than
        // queueing a whole large list first and sending it as one burst.
        if (++handed % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      // The list's position stays unconfirmed, so a restart lists again.
      if (!this.closing()) this.log.error({ err, stream }, 'shipping a listed batch in time order failed');
      return;
    }
    this.log.info({ stream, entries, duplicates, spilledRuns: sorter.spilledRuns, peakInMemory: sorter.peakInMemory }, 'list shipped in time order');
  }
}
