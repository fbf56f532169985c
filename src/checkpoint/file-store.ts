/** A checkpoint in a file, replaced atomically (write a temporary file, fsync, rename). */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckpointReadError, CheckpointWriteError } from './errors.js';
import { parseCheckpoint, serializeCheckpoint } from './record.js';
import type { CheckpointRecord, CheckpointStore, LoadResult } from './record.js';

export function createFileCheckpointStore(path: string): CheckpointStore {
  return {
    description: `file ${path}`,
    async load(): Promise<LoadResult> {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
        throw new CheckpointReadError(`cannot read checkpoint file ${path}`, { cause: err });
      }
      return parseCheckpoint(text);
    },
    async save(record: CheckpointRecord): Promise<void> {
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        await mkdir(dirname(path), { recursive: true });
        const fh = await open(tmp, 'w');
        try {
          await fh.writeFile(serializeCheckpoint(record), 'utf8');
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => undefined);
        throw new CheckpointWriteError(`cannot write checkpoint file ${path}`, { cause: err });
      }
    },
  };
}
