/**
 * The `checkpoint file` item of `check`: `run` must be able to write the checkpoint next to where
 * it lives (atomic replace: a temporary file in the same directory, then a rename) and read a
 * checkpoint already there. A corrupt or foreign file is a FAIL: `run` would ignore it and start
 * over as on a first start (`--initial`), silently skipping or re-shipping events.
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseCheckpoint } from '../../checkpoint/index.js';
import type { CheckVerdict } from './verdict.js';

const ITEM = 'checkpoint file';

function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

async function directoryProblem(dir: string): Promise<string | undefined> {
  try {
    if (!(await stat(dir)).isDirectory()) return `${dir} is not a directory`;
  } catch (err) {
    return errorCode(err) === 'ENOENT' ? `directory ${dir} does not exist` : `cannot use directory ${dir}: ${errorCode(err)}`;
  }
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    return `directory ${dir} is not writable: ${errorCode(err)}`;
  }
  return undefined;
}

export async function checkCheckpointFile(path: string): Promise<CheckVerdict> {
  const dir = dirname(path);
  const problem = await directoryProblem(dir);
  if (problem !== undefined) return { item: ITEM, status: 'FAIL', detail: `${path}: ${problem}` };
  let text: string;
  try {
    if (!(await stat(path)).isFile()) return { item: ITEM, status: 'FAIL', detail: `${path} is not a regular file` };
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') {
      return { item: ITEM, status: 'ok', detail: `${path}: none yet (a first start follows --initial); directory ${dir} writable` };
    }
    return { item: ITEM, status: 'FAIL', detail: `cannot read ${path}: ${errorCode(err)}` };
  }
  const loaded = parseCheckpoint(text);
  if (loaded.kind === 'invalid') {
    return { item: ITEM, status: 'FAIL', detail: `${path} is not a valid checkpoint (${loaded.reason}): run would ignore it and start as on a first start` };
  }
  if (loaded.kind === 'missing') {
    return { item: ITEM, status: 'ok', detail: `${path}: none yet (a first start follows --initial); directory ${dir} writable` };
  }
  const streams = Object.keys(loaded.record.resourceVersions).length;
  const at = new Date(loaded.record.positionTimeMs).toISOString();
  return { item: ITEM, status: 'ok', detail: `${path}: valid checkpoint of ${at} (${streams} stream${streams === 1 ? '' : 's'}); directory ${dir} writable` };
}
