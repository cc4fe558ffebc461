#!/usr/bin/env node
/**
 * `npm start`, `npm test` and `npm run bench` build first; after `npm ci` (whose `prepare` already
 * built) that second build is wasted time. This builds only when the inputs changed since the last
 * build: a SHA-256 over every input file's path and bytes, kept in dist/.build-inputs. `npm run
 * build` always builds.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(root, 'dist', '.build-inputs');
const INPUTS = ['src', 'bench', 'test/support/postgres.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

function* files(path) {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) yield* files(join(path, entry));
  } else yield path;
}

const hash = createHash('sha256');
for (const input of INPUTS) {
  for (const file of files(join(root, input))) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
}
const inputs = hash.digest('hex');

if (existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === inputs) process.exit(0);
const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
writeFileSync(STAMP, `${inputs}\n`);
