import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A directory written the way the kubelet writes a Secret volume: the data in a timestamped
 * directory, `..data` a symlink to it, each key a symlink through `..data`. `rotate` writes a new
 * directory and swaps `..data` atomically (symlink + rename), then removes the old one.
 */
export function secretVolume(files: Record<string, string>): { dir: string; path: (key: string) => string; rotate: (next: Record<string, string>) => void; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kes-secret-'));
  let generation = 0;
  let current = '';
  const writeGeneration = (data: Record<string, string>): string => {
    const name = `..2026_12_06_00_00_0${generation++}.${process.pid}`;
    mkdirSync(join(dir, name));
    for (const [key, value] of Object.entries(data)) writeFileSync(join(dir, name, key), value);
    return name;
  };
  current = writeGeneration(files);
  symlinkSync(current, join(dir, '..data'));
  for (const key of Object.keys(files)) symlinkSync(join('..data', key), join(dir, key));
  return {
    dir,
    path: (key) => join(dir, key),
    rotate: (next) => {
      const old = current;
      current = writeGeneration(next);
      symlinkSync(current, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, old), { recursive: true });
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
