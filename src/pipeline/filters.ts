/**
 * Client-side filters on type, reason, involved kind and namespace, run by the pipeline on what
 * the source delivers. Each filter is a list of
 * exact values or regular expressions; an empty list lets everything through.
 */
import type { FilterKind } from '../observe/metrics.js';
import { kindOf, namespaceOf, reasonOf, typeOf } from '../source/event-fields.js';
import type { RawEvent } from '../source/event-fields.js';

export type Matcher = string | RegExp;

export interface EventFilterOptions {
  readonly types?: readonly Matcher[];
  readonly reasons?: readonly Matcher[];
  readonly kinds?: readonly Matcher[];
  /** Namespaces to leave out (also sent to the server as a field selector). */
  readonly excludeNamespaces?: readonly string[];
}

/**
 * Parses `Warning,Normal` or `/^Failed/,BackOff` into matchers: `/…/` (optionally with flags,
 * e.g. `/oom/i`) is a regular expression, anything else an exact value.
 */
export function parseMatchers(text: string): Matcher[] {
  return toMatchers(text.split(','));
}

/**
 * The same for a list that is already split (the config's `--types`/`--reasons`/`--kinds`).
 * Throws SyntaxError for an invalid regular expression: the config layer turns it into E_CONFIG.
 */
export function toMatchers(items: readonly string[]): Matcher[] {
  return items
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^\/(.*)\/([dgimsuvy]*)$/.exec(s);
      // g and y would make test() stateful (lastIndex): leave them out.
      return m ? new RegExp(m[1]!, m[2]!.replace(/[gy]/g, '')) : s;
    });
}

function matches(value: string | undefined, matchers: readonly Matcher[] | undefined): boolean {
  if (!matchers || matchers.length === 0) return true;
  const v = value ?? '';
  return matchers.some((m) => (typeof m === 'string' ? m === v : m.test(v)));
}

/** Which filter leaves the event out, or undefined when it passes. */
export function filteredBy(e: RawEvent, options: EventFilterOptions): FilterKind | undefined {
  const ns = namespaceOf(e);
  if (ns !== undefined && options.excludeNamespaces?.includes(ns)) return 'namespace';
  if (!matches(typeOf(e), options.types)) return 'type';
  if (!matches(reasonOf(e), options.reasons)) return 'reason';
  if (!matches(kindOf(e), options.kinds)) return 'kind';
  return undefined;
}
