/**
 * The command line: `run` (default), `replay <file|->`, `check`, `dashboards [--out DIR]`. Options
 * come from the one catalogue (`config/options.ts`); help lists each with its default and env twin.
 * Commander only collects flags; the config loader merges flags, env, file and defaults.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import type { Config } from '../config/index.js';
import { COMMAND_GROUPS, DASHBOARDS_OUT, envName, flagName, OPTION_SPECS, type ConfiguredCommand, type OptionGroup, type OptionSpec } from '../config/options.js';
import { ShipperError } from '../core/errors.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { packageVersion } from './version.js';

export interface CliIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What each command does once its configuration is valid; returns the exit code. */
export interface CommandHandlers {
  run(config: Config, io: CliIo): Promise<number>;
  replay(config: Config, source: string, io: CliIo): Promise<number>;
  check(config: Config, io: CliIo): Promise<number>;
  dashboards(outDir: string, io: CliIo): Promise<number>;
}

function helpText(spec: OptionSpec, command: ConfiguredCommand): string {
  const extra: string[] = [];
  if (spec.choices) extra.push(`choices: ${spec.choices.join(', ')}`);
  if (spec.default !== undefined) extra.push(`default: ${spec.default === '' ? 'none' : spec.default}`);
  extra.push(`env: ${envName(spec.key)}`);
  if (spec.orEnv !== undefined) extra.push(`or env ${spec.orEnv}`);
  const description = command === 'check' ? (spec.checkDescription ?? spec.description) : spec.description;
  return `${description} (${extra.join(', ')})`;
}

function addOptions(cmd: Command, command: ConfiguredCommand): Command {
  const groups: readonly OptionGroup[] = COMMAND_GROUPS[command];
  for (const spec of OPTION_SPECS) {
    if (!groups.includes(spec.group)) continue;
    const flags = spec.kind === 'bool' ? `${flagName(spec.key)} [bool]` : `${flagName(spec.key)} ${spec.placeholder ?? '<value>'}`;
    const option = new Option(flags, helpText(spec, command));
    cmd.addOption(command === 'check' && spec.unusedByCheck === true ? option.hideHelp() : option);
  }
  return cmd;
}

/** Levenshtein distance, for "did you mean" on a mistyped command. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The first operand names a command unless it is an option: with `run` as the default command a
 * typo (`chek`) would otherwise reach `run` and read as "too many arguments for 'run'".
 */
function unknownCommand(program: Command, argv: readonly string[]): string | undefined {
  const first = argv[2];
  if (first === undefined || first.startsWith('-')) return undefined;
  const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]).concat('help');
  if (names.includes(first)) return undefined;
  const near = names.filter((name) => editDistance(first, name) <= Math.max(1, Math.floor(name.length / 3)));
  return `unknown command '${first}'${near.length > 0 ? ` (Did you mean ${near.join(' or ')}?)` : ''}: expected one of ${names.filter((n) => n !== 'help').join(', ')}`;
}

/** The loader (zod, yaml) is imported only when a command runs: `--version` and `--help` need neither. */
async function loadFor(cmd: Command, io: CliIo): Promise<Config> {
  const { loadConfig } = await import('../config/load.js');
  return loadConfig({
    flags: cmd.opts(),
    env: io.env,
    readFile: (path) => readFileSync(path, 'utf8'),
    hostname: io.env['POD_NAME'] ?? io.env['HOSTNAME'] ?? hostname(),
  });
}

function buildProgram(io: CliIo, handlers: CommandHandlers, setExit: (code: number) => void): Command {
  const program = new Command('kube-event-shipper')
    .description('Ships Kubernetes Events into Grafana Loki. Without a command it runs `run`.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true);

  addOptions(
    program.command('run', { isDefault: true }).description('the default command: watch events and ship them (to stdout without --loki-url)'),
    'run',
  ).action(async (_opts, cmd: Command) => {
    setExit(await handlers.run(await loadFor(cmd, io), io));
  });

  addOptions(
    program
      .command('replay')
      .description('ship events from a file or stdin: kubectl get events -A -o json, Event JSON lines or watch-event JSON lines')
      .argument('<file|->', 'input file, or - for stdin'),
    'replay',
  ).action(async (source: string, _opts, cmd: Command) => {
    setExit(await handlers.replay(await loadFor(cmd, io), source, io));
  });

  addOptions(
    program.command('check').description('check the configuration, API server access and Loki; one verdict per line'),
    'check',
  ).action(async (_opts, cmd: Command) => {
    setExit(await handlers.check(await loadFor(cmd, io), io));
  });

  program
    .command('dashboards')
    .description('write the bundled Grafana dashboards')
    .addOption(new Option(`${DASHBOARDS_OUT.flag} <dir>`, `directory to write them to (default: ${DASHBOARDS_OUT.default}, env: ${DASHBOARDS_OUT.env})`))
    .action(async (opts: { out?: string }) => {
      setExit(await handlers.dashboards(opts.out ?? io.env[DASHBOARDS_OUT.env] ?? DASHBOARDS_OUT.default, io));
    });

  return program;
}

/** Parses `argv` (with node and script), runs the command, returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo, handlers: CommandHandlers): Promise<number> {
  let exitCode = EXIT_OK;
  const program = buildProgram(io, handlers, (code) => {
    exitCode = code;
  });
  const unknown = unknownCommand(program, argv);
  if (unknown !== undefined) {
    io.stderr.write(`kube-event-shipper: ${unknown}\n`);
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT_OK; // --help, --version
      io.stderr.write(`kube-event-shipper: ${err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof ShipperError && err.code === 'E_CONFIG') {
      io.stderr.write(`kube-event-shipper: ${err.message}\n`);
      return EXIT_USAGE;
    }
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    io.stderr.write(`kube-event-shipper: ${message}\n`);
    return EXIT_FAILURE;
  }
}
