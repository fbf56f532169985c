import type { LabelMap } from '../../core/entry.js';

const INVALID_NAME_CHARS = /[^a-zA-Z0-9_]/g;
const NEEDS_ESCAPE = /[\\"\n]/;

/** Makes a label name match `[a-zA-Z_][a-zA-Z0-9_]*`: other characters become `_`, a leading digit gets a `_` prefix. */
export function sanitizeLabelName(name: string): string {
  const replaced = name.replace(INVALID_NAME_CHARS, '_');
  return /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

/** Escapes a label value for a Prometheus-syntax label string: `\` → `\\`, `"` → `\"`, newline → `\n`. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * The stream's label string in Prometheus syntax, `{a="x", b="y"}`, as Loki expects it: names
 * sanitised and sorted, values escaped, empty values dropped. When two names sanitise to the same
 * one, the first in sorted order of the original names wins, so the result stays deterministic.
 */
export function formatLabels(labels: LabelMap): string {
  // The transform hands out one object per label set: most entries are answered by identity.
  const same = formattedByMap.get(labels);
  if (same !== undefined) return same;
  // Streams are few and repeat with every entry: the same map (in the same order) gives the same string.
  const key = JSON.stringify(labels);
  let result = formatted.get(key);
  if (result === undefined) {
    result = format(labels);
    if (formatted.size >= FORMATTED_CACHE_SIZE) formatted.clear();
    formatted.set(key, result);
  }
  formattedByMap.set(labels, result);
  return result;
}

/** Label strings already made, by the label map itself. */
const formattedByMap = new WeakMap<LabelMap, string>();

/** Label strings already made, by the label map's JSON; cleared when full (label sets are few). */
const formatted = new Map<string, string>();
const FORMATTED_CACHE_SIZE = 4096;

function format(labels: LabelMap): string {
  const pairs: [string, string][] = [];
  const seen = new Set<string>();
  for (const original of Object.keys(labels).sort()) {
    const value = labels[original];
    if (value === undefined || value === '' || original === '') continue;
    const name = sanitizeLabelName(original);
    if (seen.has(name)) continue;
    seen.add(name);
    pairs.push([name, value]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(', ')}}`;
}

const GO_SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\u0007', b: '\b', f: '\f', v: '\v' };

/**
 * Reads a label set `{a="x", b="y"}` starting at `at`, as Loki prints it in its answers (values
 * quoted like Go's strconv.Quote: `\"`, `\\`, `\n`, `\xNN`, `\uNNNN`…); also what we send. Returns the
 * labels and the index just after `}`. Throws on anything else.
 */
export function parseLabelString(text: string, at = 0): { labels: Map<string, string>; end: number } {
  const labels = new Map<string, string>();
  let i = at;
  const fail = (what: string): never => {
    throw new Error(`label string: ${what} at ${i}`);
  };
  const skipSpace = (): void => {
    while (text[i] === ' ') i++;
  };
  if (text[i++] !== '{') fail('expected {');
  skipSpace();
  if (text[i] === '}') return { labels, end: i + 1 };
  for (;;) {
    skipSpace();
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i, i + 1024))?.[0];
    if (name === undefined) return fail('expected a label name');
    i += name.length;
    if (text[i++] !== '=' || text[i++] !== '"') fail('expected ="');
    let value = '';
    for (;;) {
      const ch = text[i++];
      if (ch === undefined) return fail('unterminated value');
      if (ch === '"') break;
      if (ch !== '\\') {
        value += ch;
        continue;
      }
      const esc = text[i++] ?? '';
      const simple = GO_SIMPLE_ESCAPES[esc];
      if (simple !== undefined) {
        value += simple;
        continue;
      }
      const width = esc === 'x' ? 2 : esc === 'u' ? 4 : esc === 'U' ? 8 : 0;
      const hex = text.slice(i, i + width);
      if (width === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) fail('bad escape');
      value += String.fromCodePoint(Number.parseInt(hex, 16));
      i += width;
    }
    labels.set(name, value);
    skipSpace();
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i++] !== '}') fail('expected , or }');
    return { labels, end: i };
  }
}
