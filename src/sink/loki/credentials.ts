/**
 * Loki credentials that can change while the shipper runs: the bearer token, the basic-auth
 * password and the TLS files. A Kubernetes Secret volume rotates them by writing a new directory
 * and swapping the `..data` symlink, so the path stays and the file behind it changes. We watch
 * cheaply: `stat` follows the symlinks, and a different inode, size or time means "read it again";
 * only a different content changes what we send. Before retrying after a 401/403 the files are
 * read again whatever `stat` says (a rotation may keep the times).
 */
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';

/** Paths of the files the credentials came from; each one is watched for changes. */
export interface LokiSecretFiles {
  readonly bearerToken?: string;
  readonly password?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

type SecretName = keyof LokiSecretFiles;
const TLS_NAMES: readonly SecretName[] = ['ca', 'cert', 'key'];
/** Unforced checks run at most this often: a push stream does not stat files on every request. */
const CHECK_INTERVAL_MS = 1_000;

export interface CredentialValues {
  bearerToken?: string;
  password?: string;
  ca?: string | Uint8Array;
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
}

export interface LokiCredentials {
  /** The newest values read. */
  values(): Readonly<CredentialValues>;
  /** Bumps whenever a TLS file's content changed: the connection pool must be rebuilt. */
  tlsVersion(): number;
  /**
   * Looks at the files (unless looked at less than a second ago, when not forced) and reads again
   * those that changed; `force` reads every file. Returns the names whose content changed.
   */
  refresh(force: boolean): SecretName[];
}

interface Watched {
  readonly name: SecretName;
  readonly path: string;
  signature: string | undefined;
  /** Last read failure, logged once until the file reads again. */
  failing: boolean;
}

export function createLokiCredentials(initial: CredentialValues, files: LokiSecretFiles, clock: Clock, logger: Logger): LokiCredentials {
  const current: CredentialValues = { ...initial };
  let tlsVersion = 0;
  let checkedAt = Number.NEGATIVE_INFINITY;
  const watched: Watched[] = [];
  for (const name of Object.keys(files) as SecretName[]) {
    const path = files[name];
    if (path !== undefined) watched.push({ name, path, signature: signatureOf(path), failing: false });
  }

  return {
    values: () => current,
    tlsVersion: () => tlsVersion,
    refresh(force) {
      if (watched.length === 0) return [];
      const now = clock.now();
      if (!force && now - checkedAt < CHECK_INTERVAL_MS) return [];
      checkedAt = now;
      const changed: SecretName[] = [];
      for (const file of watched) {
        const signature = signatureOf(file.path);
        if (!force && signature === file.signature) continue;
        let text: string;
        try {
          text = secretText(readFileSync(file.path, 'utf8'));
        } catch (err) {
          // Mid-rotation a file can be missing for a moment: keep what we have and look again next time.
          if (!file.failing) logger.warn({ file: file.path, err: { message: (err as Error).message } }, 'cannot read a Loki credential file again; keeping the previous value');
          file.failing = true;
          continue;
        }
        file.failing = false;
        file.signature = signature;
        if (text === '' || text === current[file.name]) continue;
        current[file.name] = text;
        changed.push(file.name);
      }
      if (changed.some((name) => TLS_NAMES.includes(name))) tlsVersion += 1;
      if (changed.length > 0) logger.info({ changed }, 'Loki credentials changed on disk; using the new ones');
      return changed;
    },
  };
}

/** What the config module does with a secret file: one trailing newline is not part of the secret. */
function secretText(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/** Identity and times of the file the path resolves to (symlinks followed), or undefined when unreadable. */
function signatureOf(path: string): string | undefined {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}
