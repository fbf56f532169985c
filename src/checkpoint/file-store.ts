/**
 * A checkpoint in a file, replaced atomically (write a temporary file, fsync, rename). Like the
 * ConfigMap store, a write is conditional: when the file no longer holds what this store last read
 * or wrote (another process sharing it, e.g. a new leader on the same host, wrote since), it is not
 * replaced (CheckpointConflictError) and the next save goes ahead from what is there now. The check
 * and the rename are not one atomic step: this narrows the window, it does not close it.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckpointConflictError, CheckpointReadError, CheckpointWriteError } from './errors.js';
import { parseCheckpoint, serializeCheckpoint } from './record.js';
import type { CheckpointRecord, CheckpointStore, LoadResult } from './record.js';

export function createFileCheckpointStore(path: string): CheckpointStore {
  /** The file's text as this store last read or wrote it; null: known to be missing; undefined: never looked. */
  let known: string | null | undefined;
  const current = async (): Promise<string | null> => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new CheckpointWriteError(`cannot read checkpoint file ${path} before replacing it`, { cause: err });
    }
  };
  return {
    description: `file ${path}`,
    async load(): Promise<LoadResult> {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          known = null;
          return { kind: 'missing' };
        }
        throw new CheckpointReadError(`cannot read checkpoint file ${path}`, { cause: err });
      }
      known = text;
      return parseCheckpoint(text);
    },
    async save(record: CheckpointRecord): Promise<void> {
      const text = serializeCheckpoint(record);
      if (known !== undefined) {
        const now = await current();
        // Gone (deleted by hand) is no conflict: writing it again overwrites nothing.
        if (now !== null && now !== known) {
          known = now;
          throw new CheckpointConflictError(`checkpoint file ${path} was changed by another writer since we read it; not overwritten`);
        }
      }
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        await mkdir(dirname(path), { recursive: true });
        const fh = await open(tmp, 'w');
        try {
          await fh.writeFile(text, 'utf8');
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, path);
        known = text;
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => undefined);
        throw new CheckpointWriteError(`cannot write checkpoint file ${path}`, { cause: err });
      }
    },
  };
}
