/**
 * The low-watermark of one stream: items are numbered in the order the source handed them over;
 * the position (resourceVersion) may advance past an item only once it has a final outcome. An
 * item that never gets one (dropped at shutdown or after the sink gave up retrying) holds the
 * watermark for good, so a restart resumes before it and ships it again.
 */
interface Slot {
  /** The stream position once this item is done; undefined for listed items. */
  readonly resourceVersion: string | undefined;
  /** Wall time the item was handed over. */
  readonly atMs: number;
  done: boolean;
}

export interface Position {
  readonly resourceVersion: string;
  /** Wall time at which the source had reached this position. */
  readonly atMs: number;
}

export class Watermark {
  private readonly slots: Slot[] = [];
  /** Sequence number of slots[0]. */
  private base = 0;
  /** Index in `slots` of the first item not yet passed. */
  private head = 0;
  private committed: Position | undefined;

  constructor(start: Position | undefined) {
    this.committed = start;
  }

  /** The position below which everything has an outcome. */
  get position(): Position | undefined {
    return this.committed;
  }

  /** Items handed over and not yet passed by the watermark. */
  get pending(): number {
    return this.slots.length - this.head;
  }

  /** Registers an item; returns its sequence number for `complete`. */
  begin(resourceVersion: string | undefined, atMs: number): number {
    this.slots.push({ resourceVersion, atMs, done: false });
    return this.base + this.slots.length - 1;
  }

  /** A position marker (end of a list, a bookmark): done at once. */
  mark(resourceVersion: string, atMs: number): void {
    this.complete(this.begin(resourceVersion, atMs));
  }

  /** The item has its final outcome. */
  complete(seq: number): void {
    const slot = this.slots[seq - this.base];
    if (!slot) return;
    slot.done = true;
    this.advance();
  }

  private advance(): void {
    while (this.head < this.slots.length && this.slots[this.head]!.done) {
      const s = this.slots[this.head]!;
      if (s.resourceVersion !== undefined) this.committed = { resourceVersion: s.resourceVersion, atMs: s.atMs };
      this.head += 1;
    }
    // Drop passed slots now and then, not on every step.
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots.splice(0, this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}
