/**
 * The configuration reference, `docs/configuration.md`, rendered from the catalogue (`npm run
 * docs` writes it; a test fails when the committed file is stale). Tables, accepted values, limits
 * and orderings come from `options.ts`; the prose around them is here. Not loaded by the CLI.
 */
import { COMMAND_GROUPS, DASHBOARDS_OUT, envName, flagName, OPTION_SPECS, PASSWORD_ENV, type OptionGroup, type OptionKind, type OptionSpec } from './options.js';
import { formatMs } from './parse.js';

const GROUP_TITLES: Readonly<Record<OptionGroup, string>> = {
  general: 'General',
  loki: 'Loki',
  transform: 'Lines and labels',
  kube: 'Kubernetes access',
  source: 'Which events, and where reading resumes',
  runtime: 'Serving, leader election and shutdown',
};

/** How a value of each kind is written (text on the command line and in `KES_` variables, or YAML). */
const KIND_FORMS: Readonly<Record<OptionKind, string>> = {
  string: 'text',
  path: 'a file path',
  url: 'an `http://` or `https://` URL without credentials (a trailing `/` is dropped)',
  duration: '`500ms`, `30s`, `5m`, `2h`, `6d`, or combined: `1h30m`',
  bytes: '`1048576`, `512KiB`, `1MiB`, `10MB` (`k`/`KB`, `M`/`MB`, `G`/`GB` are powers of 1000; `KiB`, `MiB`, `GiB` of 1024)',
  int: 'a whole number',
  bool: '`true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`); a flag alone (`--leader-elect`) is `true`',
  list: '`a,b,c` (blanks around items are dropped; empty is the empty list), or a YAML list',
  map: '`k=v,k2=v2` (values may hold `=`; keys may not repeat), or a YAML mapping',
  enum: 'one of the listed values',
  namespacedName: '`NAMESPACE/NAME`, e.g. `monitoring/kube-event-shipper`',
  initial: '`none`, `all`, or a maximum age such as `2h`',
  listen: '`HOST:PORT` or `:PORT`, e.g. `:8080`, `127.0.0.1:9090`, `[::1]:9000`',
};

const KIND_NAMES: Readonly<Record<OptionKind, string>> = {
  string: 'text',
  path: 'path',
  url: 'URL',
  duration: 'duration',
  bytes: 'size',
  int: 'count',
  bool: 'boolean',
  list: 'list',
  map: 'key=value pairs',
  enum: 'choice',
  namespacedName: 'namespace/name',
  initial: 'initial policy',
  listen: 'address',
};

/** Markdown table cell text: `<`, `>` and `|` would be read as HTML or as a column break. */
function cell(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|');
}

function code(text: string): string {
  return '`' + text + '`';
}

function bound(spec: OptionSpec, value: number): string {
  if (spec.kind === 'duration') return formatMs(value);
  if (spec.kind === 'bytes' && value >= 1024 && value % 1024 === 0) return `${value} (${value / 1024}KiB)`;
  return String(value);
}

/** What an option accepts: its kind with the catalogue's choices, bounds and orderings. */
function accepted(spec: OptionSpec): string {
  if (spec.choices) return spec.choices.map(code).join(', ');
  const parts = [KIND_NAMES[spec.kind]];
  if (spec.min !== undefined && spec.max !== undefined) parts.push(`${bound(spec, spec.min)} to ${bound(spec, spec.max)}`);
  else if (spec.min !== undefined) parts.push(`≥ ${bound(spec, spec.min)}`);
  if (spec.lessThan !== undefined) parts.push(`< ${code(flagName(spec.lessThan))}`);
  if (spec.atLeast !== undefined) parts.push(`≥ ${code(flagName(spec.atLeast))}`);
  return parts.join(', ');
}

function commandsOf(spec: OptionSpec): string {
  return Object.entries(COMMAND_GROUPS)
    .filter(([command, groups]) => (groups as readonly OptionGroup[]).includes(spec.group) && !(command === 'check' && spec.unusedByCheck === true))
    .map(([command]) => command)
    .join(', ');
}

function optionTable(group: OptionGroup): string[] {
  const rows = OPTION_SPECS.filter((spec) => spec.group === group).map((spec) => {
    const fallback = spec.default === undefined ? 'unset' : spec.default === '' ? '(none)' : code(spec.default);
    const notes = [
      ...(spec.checkDescription !== undefined ? [`\`check\`: ${spec.checkDescription}`] : []),
      ...(spec.orEnv !== undefined ? [`or, instead, the secret itself in \`${spec.orEnv}\``] : []),
      ...(spec.secret === 'values' ? ['the values are secrets: redacted in dumps, errors show only the names'] : []),
      ...(spec.secret === 'credentials' ? ['credentials in it are refused and never shown'] : []),
    ];
    const meaning = [spec.description, ...notes].join('; ');
    return `| ${code(flagName(spec.key))} | ${code(envName(spec.key))} | ${code(spec.key)} | ${fallback} | ${cell(accepted(spec))} | ${commandsOf(spec)} | ${cell(meaning)} |`;
  });
  return ['| flag | env | YAML key | default | accepts | commands | meaning |', '|---|---|---|---|---|---|---|', ...rows];
}

/** An example file; a test loads it, so it stays valid. */
export const EXAMPLE_CONFIG_FILE = `# /etc/kube-event-shipper/config.yaml
lokiUrl: https://loki.example.com
tenant: platform
lokiUsername: shipper            # password: KES_LOKI_PASSWORD or lokiPasswordFile
lokiPasswordFile: /var/run/secrets/loki/password
staticLabels:                    # merged over job: kube-event-shipper
  cluster: prod-eu-1
api: events.k8s.io/v1
excludeNamespaces: [kube-node-lease]
initial: 2h
checkpointConfigmap: monitoring/kube-event-shipper-checkpoint
leaderElect: true
lease: monitoring/kube-event-shipper
gracePeriod: 25s
`;

function orderingRules(): string[] {
  return OPTION_SPECS.flatMap((spec) => [
    ...(spec.lessThan !== undefined ? [`- ${code(flagName(spec.key))} < ${code(flagName(spec.lessThan))}`] : []),
    ...(spec.atLeast !== undefined ? [`- ${code(flagName(spec.key))} ≥ ${code(flagName(spec.atLeast))}`] : []),
  ]);
}

export function renderConfigurationReference(): string {
  const used = new Set<OptionKind>(OPTION_SPECS.map((spec) => spec.kind));
  const kinds = (Object.keys(KIND_FORMS) as OptionKind[]).filter((kind) => used.has(kind) && kind !== 'enum' && kind !== 'string');
  const groups = [...new Set(OPTION_SPECS.map((spec) => spec.group))];
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/options.ts by `npm run docs`: edit the catalogue there, not this file. -->',
    '',
    `Every option of \`run\`, \`replay\` and \`check\`, from the one catalogue (\`src/config/options.ts\`)`,
    'that also makes the flags, the `--help` text, the environment variables, the YAML keys and the',
    'validation. `kube-event-shipper <command> --help` lists the options of one command.',
    '',
    '## Where a value comes from',
    '',
    'The first that is set wins:',
    '',
    '1. a command-line flag: `--loki-url http://loki:3100`; booleans as `--leader-elect` or `--leader-elect=false`;',
    '2. an environment variable, `KES_` + the flag in upper snake case (`KES_LOKI_URL`); an empty value counts as unset;',
    '3. the YAML file given by `--config` (or `KES_CONFIG`), whose keys are the camelCase option names',
    '   (`lokiUrl`); lists and maps may be YAML lists and mappings or the flag\'s text; an unknown key is an error;',
    '4. the default.',
    '',
    'The result is validated once at start-up. A bad value stops the process with exit code 2 and one',
    'line naming the key as you wrote it (`--grace-period`, `KES_GRACE_PERIOD` or',
    '`gracePeriod in /etc/kes/config.yaml`), the value and what was expected.',
    '',
    '## How values are written',
    '',
    '| kind | written as |',
    '|---|---|',
    ...kinds.map((kind) => `| ${KIND_NAMES[kind]} | ${cell(KIND_FORMS[kind])} |`),
    '',
    'Durations, sizes and counts have minimums (in the tables below): zero or tiny values turn timers',
    'and retries into busy loops. A value out of range is refused like any bad value.',
    '',
    '## Options',
    '',
  ];
  for (const group of groups) {
    lines.push(`### ${GROUP_TITLES[group]}`, '', ...optionTable(group), '');
  }
  lines.push(
    '## Rules between options',
    '',
    ...orderingRules(),
    '- `--leader-elect` needs `--lease`.',
    '- At most one of `--checkpoint-file` and `--checkpoint-configmap`. Without either, in a cluster',
    '  (`KUBERNETES_SERVICE_HOST` set) the checkpoint is the ConfigMap',
    '  `<pod namespace>/kube-event-shipper-checkpoint`, the namespace from `POD_NAMESPACE`, else from the',
    '  service account; outside a cluster there is none, and a restart starts over by `--initial`.',
    '- `--loki-cert-file` and `--loki-key-file` go together.',
    `- \`--loki-username\` and a password (\`--loki-password-file\` or \`${PASSWORD_ENV}\`, not both) go together.`,
    '- Basic auth and `--loki-bearer-token-file` exclude each other.',
    '- `--labels` takes only event labels (`namespace`, `reason`, `type`, `kind`, `source`); `--static-labels`',
    "  must not reuse one of them, start with `__`, or push the label count over Loki's 15.",
    '',
    '## Secrets',
    '',
    'Secrets come only from files or the environment and never appear in logs, `--help` or `check`',
    `output: the Loki password from \`--loki-password-file\` or \`${PASSWORD_ENV}\` (environment only, no`,
    'flag or YAML key), a bearer token from `--loki-bearer-token-file`, TLS material from',
    '`--loki-ca-file`, `--loki-cert-file` and `--loki-key-file`; all are read at start-up, and read again',
    'when the files change. `--loki-headers` values are treated as secrets too (redacted in dumps).',
    'Configuration errors never echo one either: a `--loki-url` carrying credentials',
    '(`http://user:pass@loki`) is refused and shown as `http://<redacted>@loki`, and a bad',
    '`--loki-headers` is shown by its header names only.',
    '',
    '## Outside the catalogue',
    '',
    `- \`${PASSWORD_ENV}\`: the Loki password (see *Secrets*).`,
    `- \`dashboards ${DASHBOARDS_OUT.flag} DIR\` (env \`${DASHBOARDS_OUT.env}\`, default \`${DASHBOARDS_OUT.default}\`): where \`dashboards\` writes.`,
    '- `POD_NAME`, else `HOSTNAME`, else the host name, plus `_` and a random UUID: the Lease holder identity',
    '  when `--identity` is not set (unique per process, as client-go does).',
    '- `KUBECONFIG`, `~/.kube/config`, then the in-cluster service account: the kubeconfig when',
    '  `--kubeconfig` is not set.',
    '',
    '## Example file',
    '',
    '```yaml',
    ...EXAMPLE_CONFIG_FILE.trimEnd().split('\n'),
    '```',
    '',
  );
  return lines.join('\n');
}
