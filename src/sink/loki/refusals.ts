/**
 * Reads a Loki 400 answer and works out which entries of the push it refused, and why, so the sink
 * drops exactly those and reports the rest delivered (Loki stored them: a 400 can be partial).
 *
 * Loki 3.x words its refusals in two ways (checked against v3.2.2 and recorded answers):
 *  - the ingester's out-of-order answer, for ONE stream: up to 10 lines
 *    `entry with timestamp <Go time> ignored, reason: '<why>',` then
 *    `user '<tenant>', total ignored: <N> out of <M> for stream: {labels}`. Entries of a stream are
 *    pushed sorted by time, and the window moves forward only, so the N refused are that stream's
 *    N oldest in the push.
 *  - the distributor's validation messages, grouped: `[<N> errors like: ]<message>` joined by "; ".
 *    They name the stream and the entry's time to the second (too old / too new), its line length
 *    (too long), or only the stream (label problems: every entry of it).
 * Streams are named with the labels Loki sees, including the `service_name` it adds itself.
 */
import type { LabelMap, LokiRefusalReason } from '../../core/entry.js';
import { parseLabelString } from './labels.js';

/** One entry of the push as sent: its position in the batch, time, line and metadata. */
export interface SentEntry {
  readonly index: number;
  readonly timestampNs: bigint;
  /** UTF-8 bytes of the line. */
  readonly lineBytes: number;
  /** Names and values of the structured metadata sent with it (0 when none). */
  readonly metadataCount: number;
  readonly metadataBytes: number;
}

/** One stream of the push as sent, entries in the order sent (by time). */
export interface SentStream {
  readonly labels: LabelMap;
  /** The label string as sent. */
  readonly labelString: string;
  readonly entries: readonly SentEntry[];
}

export interface RefusalReading {
  /** Batch index → reason, for every entry the answer names. */
  readonly refused: ReadonlyMap<number, LokiRefusalReason>;
  /** Messages in the answer that could not be tied to entries of this push. */
  readonly unmatched: number;
}

const NS_PER_SECOND = 1_000_000_000n;
const MESSAGE_START = /(?:^|; |\n)(?:(\d+) errors like: )?(?=entry for stream '|Max entry size '|max entry size '|stream '|Error parsing labels '|error parsing labels '|error at least one label pair)/g;
const OUT_OF_ORDER_TOTAL = /user '[^']*', total ignored: (\d+) out of \d+ for stream: /g;
const OUT_OF_ORDER_LINE = /^entry with timestamp .* ignored, reason: '(.*)',$/gm;

export function readRefusals(body: string, streams: readonly SentStream[]): RefusalReading {
  const refused = new Map<number, LokiRefusalReason>();
  let unmatched = 0;
  const byKey = new Map<string, SentStream>();
  for (const stream of streams) byKey.set(streamKey(stream.labels, stream.labels['service_name'] !== undefined), stream);
  const find = (labels: ReadonlyMap<string, string>): SentStream | undefined => {
    const own = new Map(labels);
    // Loki adds service_name; ours is kept only when we sent one.
    const exact = byKey.get(streamKey(Object.fromEntries(own), true));
    if (exact?.labels['service_name'] !== undefined) return exact;
    own.delete('service_name');
    return byKey.get(streamKey(Object.fromEntries(own), false));
  };
  const take = (candidates: readonly SentEntry[], count: number, reason: LokiRefusalReason): void => {
    let taken = 0;
    for (const entry of candidates) {
      if (taken >= count) break;
      if (refused.has(entry.index)) continue;
      refused.set(entry.index, reason);
      taken += 1;
    }
    if (taken === 0) unmatched += 1;
  };

  // The ingester's answer: one block per stream.
  const outOfOrderReason = /entry out of order|too far behind/.test(body) ? 'too_far_behind' : undefined;
  for (const match of body.matchAll(OUT_OF_ORDER_TOTAL)) {
    const start = (match.index ?? 0) + match[0].length;
    const parsed = parseLabelsAt(body, start);
    const stream = parsed === undefined ? undefined : find(parsed.labels);
    if (stream === undefined || outOfOrderReason === undefined) {
      unmatched += 1;
      continue;
    }
    take(stream.entries, Number(match[1]), outOfOrderReason);
  }
  const hadOutOfOrder = [...body.matchAll(OUT_OF_ORDER_LINE)].length > 0;

  // The distributor's validation messages.
  // The match ends where the message starts (the start itself is a lookahead).
  const starts = [...body.matchAll(MESSAGE_START)].map((m) => ({ at: (m.index ?? 0) + m[0].length, count: m[1] === undefined ? 1 : Number(m[1]) }));
  for (const { at, count } of starts) {
    const message = readValidationMessage(body, at);
    if (message === undefined) {
      unmatched += 1;
      continue;
    }
    if (message.kind === 'no_labels') {
      const stream = streams.find((s) => Object.keys(s.labels).length === 0);
      if (stream === undefined) unmatched += 1;
      else take(stream.entries, stream.entries.length, 'invalid_labels');
      continue;
    }
    const stream = message.rawLabels !== undefined ? streams.find((s) => s.labelString === message.rawLabels) : find(message.labels);
    if (stream === undefined) {
      unmatched += 1;
      continue;
    }
    switch (message.kind) {
      case 'stream':
        take(stream.entries, stream.entries.length, message.reason);
        break;
      case 'too_old':
        take(stream.entries.filter((e) => floorSeconds(e.timestampNs) === message.second), count, 'too_old');
        break;
      case 'too_new':
        take(stream.entries.filter((e) => floorSeconds(e.timestampNs) === message.second).reverse(), count, 'too_new');
        break;
      case 'line_too_long':
        take(stream.entries.filter((e) => e.lineBytes === message.length), count, 'line_too_long');
        break;
      case 'metadata':
        take(stream.entries.filter(message.matches), count, 'structured_metadata');
        break;
    }
  }
  if (starts.length === 0 && !hadOutOfOrder && refused.size === 0) unmatched += 1;
  return { refused, unmatched };
}

type ValidationMessage =
  | { kind: 'no_labels' }
  | { kind: 'stream'; labels: ReadonlyMap<string, string>; rawLabels?: string; reason: LokiRefusalReason }
  | { kind: 'too_old' | 'too_new'; labels: ReadonlyMap<string, string>; rawLabels?: undefined; second: bigint }
  | { kind: 'line_too_long'; labels: ReadonlyMap<string, string>; rawLabels?: undefined; length: number }
  | { kind: 'metadata'; labels: ReadonlyMap<string, string>; rawLabels?: undefined; matches: (e: SentEntry) => boolean };

function readValidationMessage(body: string, at: number): ValidationMessage | undefined {
  const rest = body.slice(at);
  if (rest.startsWith('error at least one label pair')) return { kind: 'no_labels' };
  const unparsable = /^[Ee]rror parsing labels '/.exec(rest);
  if (unparsable !== null) {
    // The label string as sent, up to the quote before " with error:".
    const end = rest.indexOf("' with error: ");
    if (end < 0) return undefined;
    return { kind: 'stream', labels: new Map(), rawLabels: rest.slice(unparsable[0].length, end), reason: 'invalid_labels' };
  }
  const prefix = /^(?:entry for stream '|stream '|[Mm]ax entry size '(\d+)' bytes exceeded for stream ')/.exec(rest);
  if (prefix === null) return undefined;
  const parsed = parseLabelsAt(body, at + prefix[0].length);
  if (parsed === undefined || body[parsed.end] !== "'") return undefined;
  const tail = body.slice(parsed.end + 1);
  const labels = parsed.labels;
  let m: RegExpExecArray | null;
  if ((m = /^ has timestamp too old: ([0-9TZ:.+-]+), oldest acceptable/.exec(tail)) !== null) return withSecond('too_old', labels, m[1]);
  if ((m = /^ has timestamp too new: ([0-9TZ:.+-]+)/.exec(tail)) !== null) return withSecond('too_new', labels, m[1]);
  if ((m = /^ while adding an entry with length '(\d+)' bytes/.exec(tail)) !== null) return { kind: 'line_too_long', labels, length: Number(m[1]) };
  if (/^ has \d+ label names; limit \d+/.test(tail)) return { kind: 'stream', labels, reason: 'too_many_labels' };
  if (/^ has (label name too long|label value too long|duplicate label name)/.test(tail)) return { kind: 'stream', labels, reason: 'invalid_labels' };
  if (/^ includes structured metadata, but this feature is disallowed/.test(tail)) return { kind: 'metadata', labels, matches: (e) => e.metadataCount > 0 };
  if ((m = /^ has structured metadata too large: '(\d+)' bytes/.exec(tail)) !== null) {
    const bytes = Number(m[1]);
    return { kind: 'metadata', labels, matches: (e) => e.metadataBytes === bytes };
  }
  if ((m = /^ has too many structured metadata labels: '(\d+)'/.exec(tail)) !== null) {
    const count = Number(m[1]);
    return { kind: 'metadata', labels, matches: (e) => e.metadataCount === count };
  }
  return undefined;
}

function withSecond(kind: 'too_old' | 'too_new', labels: ReadonlyMap<string, string>, text: string | undefined): ValidationMessage | undefined {
  const ms = Date.parse(text ?? '');
  if (Number.isNaN(ms)) return undefined;
  return { kind, labels, second: BigInt(Math.floor(ms / 1000)) };
}

function floorSeconds(ns: bigint): bigint {
  const s = ns / NS_PER_SECOND;
  return ns < 0n && ns % NS_PER_SECOND !== 0n ? s - 1n : s;
}

function parseLabelsAt(text: string, at: number): { labels: Map<string, string>; end: number } | undefined {
  try {
    return parseLabelString(text, at);
  } catch {
    return undefined;
  }
}

/** Order-independent identity of a label set; `service_name` kept only when asked. */
function streamKey(labels: LabelMap, keepServiceName: boolean): string {
  return JSON.stringify(
    Object.keys(labels)
      .filter((name) => keepServiceName || name !== 'service_name')
      .sort()
      .map((name) => [name, labels[name]]),
  );
}
