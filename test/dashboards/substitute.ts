/** Grafana template variables replaced by realistic values, so expressions can be parsed. */

export type Values = Readonly<Record<string, string>>;

/** What Grafana would put in for a multi-value selection (regex alternation) or a single value. */
export const LOKI_VALUES: Values = {
  job: 'kube-event-shipper',
  cluster: '(prod-eu|staging)',
  namespace: '(default|kube-system)',
  kind: 'Pod',
  reason: '.*',
  type: 'Warning',
  search: 'back-off',
  object: 'web-7d9f8',
  __interval: '1m',
  __rate_interval: '2m',
  __range: '6h',
  __auto: '1m',
};

export const PROMETHEUS_VALUES: Values = {
  cluster: '.*',
  namespace: 'kube-event-shipper',
  job: 'kube-event-shipper',
  instance: '(10.0.0.1:8080|10.0.0.2:8080)',
  __interval: '30s',
  __rate_interval: '2m',
  __range: '6h',
};

/** Replaces `${name}`, `${name:format}` and `$name` (longest names first). */
export function substitute(expr: string, values: Values): string {
  let out = expr.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}/g, (whole, name: string) => values[name] ?? whole);
  for (const name of Object.keys(values).sort((a, b) => b.length - a.length)) {
    out = out.replace(new RegExp(`\\$${name}(?![A-Za-z0-9_])`, 'g'), values[name] ?? '');
  }
  return out;
}
