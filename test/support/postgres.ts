import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

// A private PostgreSQL cluster for one test run: started in a temp dir on a free port, trust auth
// on 127.0.0.1 only, and deleted afterwards. Durability is switched off because nothing survives it.

const execFileAsync = promisify(execFile);
const DATABASE = 'kith_test';
// KITH_TEST_PG_BINDIR replaces the default rather than adding to it, so a skip can be provoked on purpose.
const BIN_DIRS = [process.env['KITH_TEST_PG_BINDIR'] || '/usr/lib/postgresql/15/bin'];

export type ThrowawayPostgres =
  | {
      url: string;
      stop(): Promise<void>;
      /** Stops the cluster (fast shutdown: sessions are cut), waits `downMs`, starts it again on the same port. Absent for KITH_TEST_POSTGRES_URL. */
      restart?(downMs: number): Promise<void>;
    }
  | { skipped: string };

interface Binaries {
  initdb: string;
  pgCtl: string;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findBinaries(): Promise<Binaries | undefined> {
  for (const dir of BIN_DIRS) {
    const bin = { initdb: join(dir, 'initdb'), pgCtl: join(dir, 'pg_ctl') };
    if ((await isExecutable(bin.initdb)) && (await isExecutable(bin.pgCtl))) return bin;
  }
  return undefined;
}

async function postgresOwner(): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const uid = Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'stderr' in err && typeof err.stderr === 'string' && err.stderr) {
    return err.stderr.trim();
  }
  return err instanceof Error ? err.message : String(err);
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const given = process.env['KITH_TEST_POSTGRES_URL'];
  if (given !== undefined && given !== '') return { url: given, stop: async () => {} };

  const bin = await findBinaries();
  if (bin === undefined) {
    return { skipped: `no PostgreSQL 15 binaries (initdb, pg_ctl) in ${BIN_DIRS.join(', ')}` };
  }
  // initdb and postgres refuse to run as root, so as root everything runs as the postgres user.
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? await postgresOwner() : undefined;
  if (asRoot && owner === undefined) return { skipped: 'running as root but there is no postgres user to run the server as' };

  const dir = await mkdtemp(join(tmpdir(), 'kith-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  if (owner !== undefined) await chown(dir, owner.uid, owner.gid);
  // cwd = dir: the postgres user may not be allowed into the caller's working directory.
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? execFileAsync('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: dir, timeout: 120_000 })
      : execFileAsync(cmd, args, { cwd: dir, timeout: 120_000 });

  let started = false;
  const stop = async (): Promise<void> => {
    if (started) {
      started = false;
      await run(bin.pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await run(bin.initdb, ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const port = await startOnFreePort(run, bin, data, dir, log);
    started = true;
    await createDatabase(port);
    const restart = async (downMs: number): Promise<void> => {
      await run(bin.pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await run(bin.pgCtl, ['-D', data, '-l', log, '-o', serverOptions(port, dir), '-w', '-t', '60', 'start']);
    };
    return { url: `postgres://postgres@127.0.0.1:${port}/${DATABASE}`, stop, restart };
  } catch (err) {
    const serverLog = await readFile(log, 'utf8').catch(() => '');
    await stop();
    const tail = serverLog.trim().split('\n').slice(-5).join(' | ');
    return { skipped: `throwaway PostgreSQL failed to start: ${errorText(err)}${tail ? ` (server log: ${tail})` : ''}` };
  }
}

type Run = (cmd: string, args: string[]) => Promise<unknown>;

function serverOptions(port: number, dir: string): string {
  return [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'].join(' ');
}

/** The port is free when picked but may be taken before the server binds it, so a few tries. */
async function startOnFreePort(run: Run, bin: Binaries, data: string, dir: string, log: string): Promise<number> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const options = serverOptions(port, dir);
    try {
      await run(bin.pgCtl, ['-D', data, '-l', log, '-o', options, '-w', '-t', '60', 'start']);
      return port;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function createDatabase(port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query(`create database ${DATABASE}`);
  } finally {
    await client.end();
  }
}
