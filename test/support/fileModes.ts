import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file and directory under `dir`, depth first. */
export function everyPath(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? [path, ...everyPath(path)] : [path];
  });
}

/** The paths under `dir` (and `dir` itself) that others than the owner may read, write or enter, with their modes. */
export function looseModes(dir: string): string[] {
  return [dir, ...everyPath(dir)].filter((path) => (statSync(path).mode & 0o077) !== 0).map((path) => `${path} ${(statSync(path).mode & 0o777).toString(8)}`);
}
