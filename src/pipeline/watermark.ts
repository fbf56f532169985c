/**
 * The low-watermark of one stream: items are numbered in the order the source handed them over;
 * the position (resourceVersion) may advance past an item only once it has a final outcome. An
 * item that never gets one (dropped at shutdown or after the sink gave up retrying) holds the
 * watermark for good, so a restart resumes before it and ships it again.
 */
export interface Position {
  readonly resourceVersion: string;
  /** Wall time at which the source had reached this position. */
  readonly atMs: number;
}

/**
 * Items are kept as one done flag each (a byte), plus a position for those that carry one (list
 * ends, watch events): a 100k-event list waiting in the time sort holds 100 KB here, not an object
 * per item. Positions come in sequence order and pass in that order, so they wait in a queue of
 * plain values; a Position object is made only for the one the watermark stops at.
 */
export class Watermark {
  /** Done flags of the items from `base` on (slot i is item base + i); the first `head` are passed. */
  private done = new Uint8Array(1024);
  private length = 0;
  /** Sequence number of slot 0. */
  private base = 0;
  private head = 0;
  /** Items that carry a position, in sequence order, from `positionHead` on: their numbers, resourceVersions and times. */
  private positionSeqs: number[] = [];
  private positionVersions: string[] = [];
  private positionTimes: number[] = [];
  private positionHead = 0;
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
    return this.length - this.head;
  }

  /** Registers an item; returns its sequence number for `complete`. */
  begin(resourceVersion: string | undefined, atMs: number): number {
    if (this.length === this.done.length) {
      const grown = new Uint8Array(this.done.length * 2);
      grown.set(this.done);
      this.done = grown;
    }
    const seq = this.base + this.length;
    this.done[this.length++] = 0;
    if (resourceVersion !== undefined) {
      this.positionSeqs.push(seq);
      this.positionVersions.push(resourceVersion);
      this.positionTimes.push(atMs);
    }
    return seq;
  }

  /** A position marker (end of a list, a bookmark): done at once. */
  mark(resourceVersion: string, atMs: number): void {
    this.complete(this.begin(resourceVersion, atMs));
  }

  /** The item has its final outcome. */
  complete(seq: number): void {
    const i = seq - this.base;
    if (i < 0 || i >= this.length) return;
    this.done[i] = 1;
    this.advance();
  }

  private advance(): void {
    while (this.head < this.length && this.done[this.head] === 1) this.head += 1;
    // The last position among the items just passed becomes the committed one.
    const passed = this.base + this.head;
    let last = -1;
    while (this.positionHead < this.positionSeqs.length && this.positionSeqs[this.positionHead]! < passed) last = this.positionHead++;
    if (last >= 0) {
      this.committed = { resourceVersion: this.positionVersions[last]!, atMs: this.positionTimes[last]! };
      if (this.positionHead > 1024 && this.positionHead * 2 > this.positionSeqs.length) {
        this.positionSeqs = this.positionSeqs.slice(this.positionHead);
        this.positionVersions = this.positionVersions.slice(this.positionHead);
        this.positionTimes = this.positionTimes.slice(this.positionHead);
        this.positionHead = 0;
      }
    }
    // Drop passed slots now and then, not on every step.
    if (this.head > 1024 && this.head * 2 > this.length) {
      this.done.copyWithin(0, this.head, this.length);
      this.length -= this.head;
      this.base += this.head;
      this.head = 0;
      if (this.done.length > 4096 && this.length * 4 < this.done.length) this.done = this.done.slice(0, Math.max(1024, this.length * 2));
    }
  }
}
