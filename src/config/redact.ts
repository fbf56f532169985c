/**
 * What may appear of a value in an error or a dump: never a secret. Header values often carry
 * tokens, a URL may carry credentials, and the password, bearer token and TLS material are secrets.
 */
import type { Config } from './config.js';
import { OPTION_SPECS, type OptionSpec } from './options.js';
import { HEADER_NAME } from './parse.js';

const SECRET_PARTS: ReadonlyMap<string, NonNullable<OptionSpec['secret']>> = new Map(
  OPTION_SPECS.flatMap((spec) => (spec.secret !== undefined ? [[spec.key, spec.secret] as const] : [])),
);

/** A URL with its user info (user name and password) replaced, also when it does not parse. */
function redactUrl(text: string): string {
  return text.replace(/^((?:[a-zA-Z][a-zA-Z0-9+.-]*:)?\/\/)?[^/?#]*@/, '$1<redacted>@');
}

/** Header names only: values often carry tokens; an item without "=" may be a secret as a whole. */
function headerNames(value: unknown): string {
  const names =
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== '')
          .map((item) => {
            const name = item.indexOf('=') > 0 ? item.slice(0, item.indexOf('=')).trim() : undefined;
            if (name === undefined) return '<item without "=">';
            return HEADER_NAME.test(name) ? name : '<invalid name>';
          })
      : value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.keys(value)
        : ['<value>'];
  return `(header names: ${names.join(', ') || 'none'})`;
}

/** The value as it may appear in an error: never a secret. */
export function showValue(key: string, value: unknown): string {
  const secret = SECRET_PARTS.get(key);
  if (secret === 'values') return headerNames(value);
  if (secret === 'credentials' && typeof value === 'string') return show(redactUrl(value));
  return show(value);
}

export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

/** What start-up reads from the secret files and `KES_LOKI_PASSWORD`: not options, secrets whole. */
const SECRET_KEYS = ['lokiPassword', 'lokiBearerToken'] as const;

const redactValues = (map: object): Record<string, string> => Object.fromEntries(Object.keys(map).map((k) => [k, '<redacted>']));

/** A copy safe to print or log: secret values replaced, header values too (they often carry tokens). */
export function redactConfig(config: Config): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...config };
  for (const key of SECRET_KEYS) if (copy[key] !== undefined) copy[key] = '<redacted>';
  for (const [key, secret] of SECRET_PARTS) {
    const value = copy[key];
    if (secret === 'values' && value !== null && typeof value === 'object') copy[key] = redactValues(value);
  }
  copy['lokiTls'] = redactValues(config.lokiTls);
  return copy;
}
