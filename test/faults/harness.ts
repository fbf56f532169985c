/**
 * The process-level fault rig: the built CLI (`dist/cli/main.js run`) against the in-process fake
 * API server and fake Loki, a ledger of every occurrence the test created, and the verdict a user
 * would draw from what Loki stored: what is lost, what is stored twice, what nobody created.
 *
 * A shipper process must never exit unless the test ends it: every wait fails at once, with the
 * process's last log lines, when one does.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeKubeApiServer, type FakeKubeApiServerOptions } from '../fakes/kube-api-server.js';
import { coreEvent, newEvent, type EventApi, type KubeObject } from '../fakes/kube-events.js';
import { startFakeLoki, type FakeLoki, type FakeLokiOptions, type StoredEntry } from '../fakes/loki-receiver.js';
import { writeKubeconfig } from '../support/kube-env.js';
import { cleanEnv, observePort, startCli, type CliResult, type Spawned } from '../support/run-cli.js';
import { readMetrics, type MetricSamples } from '../support/metrics.js';
import { sleep } from '../support/wait.js';

/** Peak resident memory allowed to one shipper process (VmHWM). */
export const RSS_CAP_BYTES = 300 * 1024 * 1024;

/** `uid#count`: one occurrence, as the Event's uid and its cumulative count after it. */
export type OccurrenceKey = string;

export const occurrenceKey = (uid: string, count: number): OccurrenceKey => `${uid}#${count}`;

/** The occurrence an entry Loki stored stands for: event_uid and count from the line. */
export function occurrenceOf(entry: Pick<StoredEntry, 'line' | 'structuredMetadata'>): OccurrenceKey | undefined {
  const uid = entry.structuredMetadata['event_uid'] ?? /(?:^| )event_uid=(\S+)/.exec(entry.line)?.[1];
  const count = /(?:^| )count=(\d+)/.exec(entry.line)?.[1];
  return uid === undefined || count === undefined ? undefined : occurrenceKey(uid, Number(count));
}

/** ISO time `agoMs` before now, with microseconds for events.k8s.io objects. */
export function isoAgo(agoMs = 0, micro = false): string {
  const iso = new Date(Date.now() - agoMs).toISOString();
  return micro ? iso.replace(/Z$/, '417Z') : iso.replace(/\.\d+Z$/, 'Z');
}

export interface Verdict {
  readonly lost: OccurrenceKey[];
  /** Occurrences Loki holds as more than one distinct entry. */
  readonly duplicated: OccurrenceKey[];
  /** Entries Loki holds that no created occurrence explains. */
  readonly unexpected: string[];
  /** Expected drops Loki nevertheless holds. */
  readonly droppedButStored: OccurrenceKey[];
  readonly stored: number;
}

/** One spawned shipper process. */
export class ShipperProcess {
  /** Set when the test stops it (signal); any other exit is a failure. */
  stoppedByTest = false;
  exited: CliResult | undefined;
  readonly port: Promise<number>;

  constructor(readonly spawned: Spawned, readonly name: string) {
    void spawned.result.then((r) => {
      this.exited = r;
    });
    this.port = observePort(spawned);
    this.port.catch(() => undefined);
  }

  get pid(): number {
    const pid = this.spawned.child.pid;
    if (pid === undefined) throw new Error(`${this.name} has no pid`);
    return pid;
  }

  stderrTail(chars = 3000): string {
    return this.spawned.output().stderr.slice(-chars);
  }

  /** Peak resident set size of the node process so far (VmHWM), in bytes. */
  peakRssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    if (kb === undefined) throw new Error(`no VmHWM in /proc/${this.pid}/status`);
    return Number(kb) * 1024;
  }

  async get(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${await this.port}${path}`);
    return { status: res.status, body: await res.text() };
  }

  async metrics(): Promise<MetricSamples> {
    return readMetrics(`http://127.0.0.1:${await this.port}/metrics`);
  }

  /** The sum of a metric's samples whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return (await this.metrics()).sum(name, labels);
  }

  kill(signal: NodeJS.Signals): void {
    this.stoppedByTest = true;
    this.spawned.child.kill(signal);
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<CliResult> {
    if (this.exited) return this.exited;
    this.kill(signal);
    return this.spawned.result;
  }
}

export interface RigOptions {
  readonly kube?: FakeKubeApiServerOptions;
  readonly loki?: FakeLokiOptions;
  /** Which API the shipper reads (events are created in both shapes either way). */
  readonly api?: EventApi;
}

interface TrackedEvent {
  readonly key: string;
  readonly uid: string;
  readonly shape: 'core' | 'new';
  count: number;
}

/** Fakes, shipper processes and the ledger of one scenario. */
export class FaultRig {
  readonly env: Record<string, string>;
  readonly home: string;
  readonly checkpointFile: string;
  readonly processes: ShipperProcess[] = [];
  /** Every occurrence created, in order. */
  readonly created: OccurrenceKey[] = [];
  /** Occurrences the scenario expects to be dropped (with a counted reason). */
  readonly expectedDrops = new Set<OccurrenceKey>();
  private readonly events: TrackedEvent[] = [];
  /** Aborted by close(): ends a `drive` that a failed test left running. */
  private readonly closed = new AbortController();
  private serial = 0;
  /** Where the shipper is told the API server and Loki are (a gate in front of them, or they). */
  kubeUrl: string;
  lokiUrl: string;

  private constructor(
    readonly kube: FakeKubeApiServer,
    readonly loki: FakeLoki,
    readonly api: EventApi,
  ) {
    this.env = cleanEnv();
    this.home = this.env['HOME'] ?? '';
    this.checkpointFile = join(this.home, 'checkpoint.json');
    this.kubeUrl = kube.url;
    this.lokiUrl = loki.url;
  }

  static async start(options: RigOptions = {}): Promise<FaultRig> {
    const kube = await FakeKubeApiServer.start(options.kube);
    const loki = await startFakeLoki(options.loki);
    return new FaultRig(kube, loki, options.api ?? 'core/v1');
  }

  /** The flags every scenario's shipper gets; `extra` comes last, so it can override. */
  baseArgs(): string[] {
    return [
      'run',
      '--kubeconfig', writeKubeconfig(this.home, this.kubeUrl, this.kube.token),
      '--loki-url', this.lokiUrl,
      '--api', this.api,
      '--listen', '127.0.0.1:0',
      '--initial', 'all',
      '--checkpoint-file', this.checkpointFile,
      '--checkpoint-interval', '200ms',
      '--batch-max-wait', '50ms',
      '--loki-timeout', '2s',
      '--stall-timeout', '5s',
      '--grace-period', '5s',
    ];
  }

  /** Spawns the built CLI; resolves once its observe server listens. */
  async spawn(extra: readonly string[] = [], options: { env?: Record<string, string>; args?: readonly string[] } = {}): Promise<ShipperProcess> {
    const args = options.args ?? [...this.baseArgs(), ...extra];
    const proc = new ShipperProcess(startCli(args, { env: { ...this.env, ...options.env } }), `shipper-${this.processes.length + 1}`);
    this.processes.push(proc);
    await proc.port;
    return proc;
  }

  /**
   * Spawns a shipper and waits until it ships: a first list sees only each Event's newest state,
   * so a scenario bumps events only once the watch runs.
   */
  async spawnShipping(extra: readonly string[] = [], options: { env?: Record<string, string> } = {}): Promise<ShipperProcess> {
    const proc = await this.spawn(extra, options);
    this.create(4);
    await this.waitDelivered();
    return proc;
  }

  /** Fails if a shipper process ended without being told to. */
  assertAlive(): void {
    for (const p of this.processes) {
      if (p.exited && !p.stoppedByTest) {
        assert.fail(`${p.name} exited on its own (code ${String(p.exited.code)}, signal ${String(p.exited.signal)}):\n${p.stderrTail()}`);
      }
    }
  }

  // ------------------------------------------------------------------ events

  /** Creates `n` Events now, alternating core/v1 (count) and events.k8s.io/v1 (series) shapes. */
  create(n: number, options: { time?: () => string; message?: (i: number) => string; namespace?: string } = {}): KubeObject[] {
    const made: KubeObject[] = [];
    for (let i = 0; i < n; i++) {
      const shape = this.serial % 2 === 0 ? 'core' : 'new';
      this.serial += 1;
      const spec = {
        namespace: options.namespace ?? `ns-${this.serial % 3}`,
        objectName: `pod-${this.serial}`,
        time: options.time?.() ?? isoAgo(0, shape === 'new'),
        ...(options.message ? { message: options.message(i) } : {}),
      };
      const stored = this.kube.createEvent(shape === 'core' ? coreEvent(spec) : newEvent(spec));
      const uid = String((stored['metadata'] as { uid: string }).uid);
      this.events.push({ key: FakeKubeApiServer.keyOf(stored), uid, shape, count: 1 });
      this.created.push(occurrenceKey(uid, 1));
      made.push(stored);
    }
    return made;
  }

  /** One more occurrence of `n` existing Events (count bump or series bump, by shape), oldest first round-robin. */
  bump(n: number, options: { time?: string; pick?: (i: number) => number } = {}): void {
    if (this.events.length === 0) throw new Error('no events to bump');
    for (let i = 0; i < n; i++) {
      const e = this.events[options.pick?.(i) ?? (this.serial + i) % this.events.length]!;
      this.bumpEvent(e, options.time);
    }
    this.serial += n;
  }

  private bumpEvent(e: TrackedEvent, time: string | undefined): void {
    if (e.shape === 'core') this.kube.bumpCount(e.key, time ?? isoAgo());
    else this.kube.bumpSeries(e.key, time ?? isoAgo(0, true));
    e.count += 1;
    this.created.push(occurrenceKey(e.uid, e.count));
  }

  /** Bumps the Event with this uid once, its occurrence time `agoMs` in the past; returns the new occurrence. */
  bumpUid(uid: string, agoMs = 0): OccurrenceKey {
    const e = this.events.find((t) => t.uid === uid);
    if (!e) throw new Error(`no event ${uid}`);
    this.bumpEvent(e, isoAgo(agoMs, e.shape === 'new'));
    return occurrenceKey(e.uid, e.count);
  }

  /**
   * Creates and bumps (unless `bumps` is false) in a steady stream every `everyMs` until `signal`
   * aborts; returns once stopped.
   */
  async drive(signal: AbortSignal, everyMs = 100, bumps = true): Promise<void> {
    let i = 0;
    while (!signal.aborted && !this.closed.signal.aborted) {
      if (bumps && i % 3 === 2) this.bump(1);
      else this.create(1);
      i += 1;
      await sleep(everyMs);
    }
  }

  /** Drives events in the background (as `drive`); the returned function stops and waits for it. */
  driving(everyMs = 100, bumps = true): () => Promise<void> {
    const stop = new AbortController();
    const done = this.drive(stop.signal, everyMs, bumps);
    return async () => {
      stop.abort();
      await done;
    };
  }

  /** Creates and bumps events every `everyMs` for `ms`. */
  async driveFor(ms: number, everyMs = 50): Promise<void> {
    const stop = this.driving(everyMs);
    await sleep(ms);
    await stop();
  }

  /**
   * Compacts the fake's history past every resourceVersion a shipper has seen (a ConfigMap write
   * moves the revision on first), so its next watch from where it was gets a 410.
   */
  compactPastShipper(): void {
    this.kube.putObject('configmaps', { metadata: { namespace: 'kes', name: `revision-${this.kube.resourceVersion}` } });
    this.kube.compact();
  }

  // ------------------------------------------------------------------ what Loki stored

  /** Distinct entries Loki stored (same stream, time and line is one entry, as in Loki). */
  storedEntries(): StoredEntry[] {
    const seen = new Map<string, StoredEntry>();
    for (const e of this.loki.entries()) {
      const k = `${e.tenant ?? ''}\u0000${e.labels}\u0000${e.ts}\u0000${e.line}`;
      if (!seen.has(k)) seen.set(k, e);
    }
    return [...seen.values()];
  }

  verdict(): Verdict {
    const expected = new Set(this.created);
    const byOccurrence = new Map<OccurrenceKey, number>();
    const unexpected: string[] = [];
    const stored = this.storedEntries();
    for (const e of stored) {
      const k = occurrenceOf(e);
      if (k === undefined || !expected.has(k)) unexpected.push(k ?? e.line.slice(0, 200));
      else byOccurrence.set(k, (byOccurrence.get(k) ?? 0) + 1);
    }
    return {
      lost: this.created.filter((k) => !byOccurrence.has(k) && !this.expectedDrops.has(k)),
      duplicated: [...byOccurrence].filter(([, n]) => n > 1).map(([k]) => k),
      unexpected,
      droppedButStored: [...this.expectedDrops].filter((k) => byOccurrence.has(k)),
      stored: stored.length,
    };
  }

  /** Waits until Loki holds every created occurrence but the expected drops; fails early if a shipper exits. */
  async waitDelivered(timeoutMs = 20_000, what = 'every occurrence in Loki'): Promise<void> {
    await this.until(what, () => this.verdict().lost.length === 0, timeoutMs, () => {
      const v = this.verdict();
      const storedKeys = new Set(this.storedEntries().map((e) => occurrenceOf(e)));
      const later = (k: OccurrenceKey): string => {
        const [uid, count] = k.split('#');
        const newer = this.created.filter((c) => c.startsWith(`${uid}#`) && Number(c.split('#')[1]) > Number(count));
        return newer.length === 0 ? 'newest' : `superseded by ${newer.map((c) => `#${c.split('#')[1]}${storedKeys.has(c) ? ' (stored)' : ''}`).join(' ')}`;
      };
      return `${v.lost.length} of ${this.created.length} still missing, e.g. ${v.lost.slice(0, 5).map((k) => `${k} [${later(k)}]`).join(', ')}`;
    });
  }

  /** Polls `cond` every 50 ms until true; fails after `timeoutMs` or as soon as a shipper exits on its own. */
  async until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, detail?: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.assertAlive();
      if (await cond()) return;
      if (Date.now() > deadline) {
        const logs = this.processes.map((p) => `--- ${p.name}:\n${p.stderrTail(1500)}`).join('\n');
        assert.fail(`timed out after ${timeoutMs} ms waiting for: ${what}${detail ? ` (${detail()})` : ''}\n${logs}`);
      }
      await sleep(50);
    }
  }

  /**
   * The scenario's end: every occurrence delivered exactly once (but the expected drops), no
   * process exited on its own, each live process under the RSS cap. Leaves the processes running.
   */
  async assertClean(options: { timeoutMs?: number } = {}): Promise<void> {
    await this.waitDelivered(options.timeoutMs);
    // A short quiet time so a late duplicate would show.
    await sleep(300);
    this.assertAlive();
    const v = this.verdict();
    assert.deepEqual(v.lost, [], 'no occurrence lost');
    assert.deepEqual(v.duplicated, [], 'no occurrence stored twice');
    assert.deepEqual(v.unexpected, [], 'nothing stored that was not created');
    assert.deepEqual(v.droppedButStored, [], 'the expected drops are not in Loki');
    for (const p of this.processes) {
      if (p.exited) continue;
      const rss = p.peakRssBytes();
      assert.ok(rss < RSS_CAP_BYTES, `${p.name}: peak RSS ${Math.round(rss / 1048576)} MiB over the cap of ${RSS_CAP_BYTES / 1048576} MiB`);
    }
  }

  /** Kills every process still running and closes the fakes. */
  async close(): Promise<void> {
    this.closed.abort();
    await Promise.all(this.processes.map((p) => p.stop('SIGKILL')));
    await this.kube.close();
    await this.loki.close();
  }

  writeFile(name: string, content: string): string {
    const path = join(this.home, name);
    writeFileSync(path, content);
    return path;
  }
}
