import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Helpers for the multi-process end-to-end tests: the real CLIs (`bin/kith.js`, `bin/kith-vendor.js`)
 * run as child processes on loopback ports, driven only through their command lines and HTTP.
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export type Bin = 'kith' | 'kith-vendor';

const BIN_PATHS: Record<Bin, string> = {
  kith: join(REPO_ROOT, 'bin', 'kith.js'),
  'kith-vendor': join(REPO_ROOT, 'bin', 'kith-vendor.js'),
};

export const DEFAULT_BUILT_FILES = ['dist/src/cli/kith.js', 'dist/src/cli/kith-vendor.js'];

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

// ---------------------------------------------------------------------------------------------
// Build

/**
 * Runs `build` once when one of `files` is missing, under a lock directory `lockName` so that test
 * files running in parallel never build into the same dist/ at once (a lock older than 5 minutes
 * is left over from a killed run).
 */
export function buildOnceUnderLock(files: string[], lockName: string, build: () => void): void {
  const missing = () => files.filter((file) => !existsSync(join(REPO_ROOT, file)));
  if (missing().length === 0) return;
  const lock = join(REPO_ROOT, 'node_modules', lockName);
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for the build lock ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    if (missing().length === 0) return;
    build();
    const still = missing();
    if (still.length > 0) throw new Error(`Build finished but ${still.join(', ')} is missing`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Makes sure the compiled CLIs exist (`npm test` builds first; a bare `vitest run` may not have).
 * Builds with the repository's own tsc when one of `files` is missing.
 */
export function ensureBuilt(files: string[] = DEFAULT_BUILT_FILES): void {
  buildOnceUnderLock(files, '.kith-e2e-build.lock', () =>
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 170_000 }),
  );
}

// ---------------------------------------------------------------------------------------------
// Ports

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolvePort(port) : reject(new Error('No port assigned'))));
    });
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.unref();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** A base port such that base .. base+count-1 are all free. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = await freePort();
    if (base + count - 1 > 65535) continue;
    let all = true;
    for (let offset = 1; offset < count && all; offset += 1) all = await canBind(base + offset);
    if (all) return base;
  }
  throw new Error(`Found no ${count} consecutive free ports`);
}

/** Does something accept TCP connections on 127.0.0.1:port? */
export function isListening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (value: boolean) => {
      socket.destroy();
      done(value);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

// ---------------------------------------------------------------------------------------------
// Polling

/**
 * Polls `probe` until it returns something other than undefined. Thrown errors count as "not yet",
 * except one marked `fatal` (see `fatal()`), which ends the wait at once.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if ((error as { fatal?: unknown } | null)?.fatal === true) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: last error ${lastError.message}` : '';
      throw new Error(`Timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${what}${reason}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** An error that stops `waitFor` immediately (e.g. the process being waited for has exited). */
export function fatal(message: string): Error {
  return Object.assign(new Error(message), { fatal: true });
}

// ---------------------------------------------------------------------------------------------
// Environment

/** The parent's environment without any KITH_* setting, so a developer's shell cannot leak in. */
/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), typing `input`, for the prompts a
 * terminal gets; undefined when `script` is not installed.
 */
export async function runCliOnTerminal(bin: Bin, args: string[], input: string, options: RunCliOptions = {}): Promise<CliResult | undefined> {
  if (!existsSync('/usr/bin/script')) return undefined;
  const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN_PATHS[bin], ...(options.home ? ['--home', options.home] : []), ...args].map(quote).join(' ');
  return new Promise((resolvePromise, reject) => {
    const child = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], { cwd: REPO_ROOT, env: baseEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolvePromise({
        code,
        signal,
        stdout,
        stderr,
        json: <T,>() => JSON.parse(stdout) as T,
      }),
    );
    // Typed once the prompt is up.
    setTimeout(() => child.stdin.end(input), 1_500);
  });
}

export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KITH_') && value !== undefined) env[key] = value;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// One-shot CLI commands

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for `--json`); throws with the output when it is not JSON. */
  json<T = unknown>(): T;
}

export interface RunCliOptions {
  /** Added to the (KITH_*-free) parent environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Passed as `--home DIR` before the command. */
  home?: string;
  timeoutMs?: number;
}

function describe(bin: string, args: string[], result: { code: number | null; signal: string | null; stdout: string; stderr: string }): string {
  return `${bin} ${args.join(' ')} -> exit ${result.code ?? result.signal}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/** Runs one CLI command to completion (stdin closed, so secrets can only come from env). */
export function runCli(bin: Bin, args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  const fullArgs = [...(options.home ? ['--home', options.home] : []), ...args];
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [BIN_PATHS[bin], ...fullArgs], { cwd: REPO_ROOT, env: baseEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Timed out after ${timeoutMs} ms: ${describe(bin, fullArgs, { code: null, signal: 'timeout', stdout, stderr })}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const result: CliResult = {
        code,
        signal,
        stdout,
        stderr,
        json<T>(): T {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`stdout is not JSON: ${describe(bin, fullArgs, { code, signal, stdout, stderr })}`);
          }
        },
      };
      done(result);
    });
  });
}

/** Like runCli, but throws (with both outputs) unless the command exits 0. */
export async function runCliOk(bin: Bin, args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  const result = await runCli(bin, args, options);
  if (result.code !== 0) throw new Error(`Command failed: ${describe(bin, [...(options.home ? ['--home', options.home] : []), ...args], result)}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Long-running processes

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LoggedProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly stdoutFile: string;
  readonly stderrFile: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** The exit, once it happened. */
  exit(): ExitInfo | undefined;
  stdout(): string;
  stderr(): string;
  /** Sends a signal and waits (up to timeoutMs) for the exit; SIGKILLs and throws if it does not come. */
  signalAndWait(signal: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
}

const live = new Set<LoggedProcess>();

// Last resort: never leave children behind when the test worker goes away.
process.once('exit', () => {
  for (const proc of live) {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Spawns `node <script> ...args` with stdout and stderr going to `<logDir>/<name>.stdout.log` and
 * `.stderr.log` (appended: a restarted server keeps one log), and tracks it for `killAllStarted`.
 */
export function spawnLogged(script: string, args: string[], options: { name: string; logDir: string; env?: Record<string, string | undefined> }): LoggedProcess {
  mkdirSync(options.logDir, { recursive: true });
  const stdoutFile = join(options.logDir, `${options.name}.stdout.log`);
  const stderrFile = join(options.logDir, `${options.name}.stderr.log`);
  const out = openSync(stdoutFile, 'a');
  const err = openSync(stderrFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [script, ...args], { cwd: REPO_ROOT, env: baseEnv(options.env), stdio: ['ignore', out, err] });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  if (child.pid === undefined) throw new Error(`Could not spawn ${script}`);
  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((done) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(proc);
      done(exitInfo);
    });
    child.once('error', () => {
      exitInfo ??= { code: null, signal: null };
      live.delete(proc);
      done(exitInfo);
    });
  });
  const proc: LoggedProcess = {
    pid: child.pid,
    child,
    stdoutFile,
    stderrFile,
    exited,
    exit: () => exitInfo,
    stdout: () => readText(stdoutFile),
    stderr: () => readText(stderrFile),
    async signalAndWait(signal, timeoutMs = 10_000) {
      if (exitInfo) return exitInfo;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((done) => (timer = setTimeout(() => done('timeout'), timeoutMs)));
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`${options.name} (pid ${child.pid}) did not exit within ${timeoutMs} ms of ${signal}; killed.\n--- stderr ---\n${proc.stderr().slice(-4000)}`);
      }
      return outcome;
    },
  };
  live.add(proc);
  return proc;
}

/** SIGKILLs every process started by this module that is still running (for afterAll). */
export async function killAllStarted(): Promise<void> {
  await Promise.all(
    [...live].map(async (proc) => {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }),
  );
}

export interface RunningAgentFile {
  url: string;
  port: number;
  token: string;
  pid: number;
}

export interface ServerHandle {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly process: LoggedProcess;
  /** For `kith serve`: what it wrote to `<home>/agent.json`. */
  readonly agent: RunningAgentFile | undefined;
  /** SIGTERM, wait for the exit and require exit code 0 (a clean shutdown); idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit (a crash). */
  kill9(): Promise<void>;
}

export interface StartServerOptions {
  home: string;
  port: number;
  /** Directory for the stdout/stderr logs (the test's temp dir). */
  logDir: string;
  /** Log file base name; defaults to the home's last path segment. */
  name?: string;
  env?: Record<string, string | undefined>;
  startTimeoutMs?: number;
  /** Further `serve` options after `--port N` (e.g. `['--idle-lock', '0']`); none by default. */
  serveArgs?: string[];
}

function readAgentFile(home: string): RunningAgentFile | undefined {
  const text = readText(join(home, 'agent.json'));
  if (!text) return undefined;
  try {
    return JSON.parse(text) as RunningAgentFile;
  } catch {
    return undefined; // being written
  }
}

/**
 * Starts `kith serve` or `kith-vendor serve` for a home on a port and waits until it answers:
 * `/health` for a company agent; for the personal agent `<home>/agent.json` naming this very process and
 * `/api/status` accepting its token.
 */
export async function startServer(bin: Bin, options: StartServerOptions): Promise<ServerHandle> {
  const name = options.name ?? (options.home.split(/[\\/]/).filter(Boolean).pop() ?? bin);
  const proc = spawnLogged(BIN_PATHS[bin], ['--home', options.home, 'serve', '--port', String(options.port), ...(options.serveArgs ?? [])], { name, logDir: options.logDir, ...(options.env ? { env: options.env } : {}) });
  const url = `http://127.0.0.1:${options.port}`;
  const probe = async (): Promise<RunningAgentFile | true | undefined> => {
    const exit = proc.exit();
    if (exit) throw fatal(`${name} exited during start (${exit.code ?? exit.signal})\n--- stderr ---\n${proc.stderr().slice(-4000)}`);
    if (bin === 'kith-vendor') {
      const response = await fetch(`${url}/health`);
      return response.ok ? true : undefined;
    }
    const info = readAgentFile(options.home);
    if (!info || info.pid !== proc.pid || info.port !== options.port) return undefined;
    const response = await fetch(`${info.url}/api/status`, { headers: { authorization: `Bearer ${info.token}` } });
    return response.ok ? info : undefined;
  };
  let ready: RunningAgentFile | true;
  try {
    ready = await waitFor(`${name} to answer on ${url}`, probe, { timeoutMs: options.startTimeoutMs ?? 20_000, intervalMs: 50 });
  } catch (error) {
    if (!proc.exit()) await proc.signalAndWait('SIGKILL').catch(() => undefined);
    throw error;
  }
  const stop = async () => {
    const exit = proc.exit() ?? (await proc.signalAndWait('SIGTERM', 10_000));
    if (exit.code !== 0) throw new Error(`${name} did not shut down cleanly: exit ${exit.code ?? exit.signal}\n--- stderr ---\n${proc.stderr().slice(-4000)}`);
  };
  return {
    name,
    pid: proc.pid,
    port: options.port,
    url,
    process: proc,
    agent: ready === true ? undefined : ready,
    stop,
    async kill9() {
      await proc.signalAndWait('SIGKILL', 10_000);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Process table (Linux /proc; elsewhere these report nothing)

/** Direct children of a process, from /proc (empty where /proc is not available). */
export function childPidsOf(parent: number): number[] {
  if (!existsSync('/proc')) return [];
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readText(`/proc/${entry}/stat`);
    // pid (comm) state ppid ...: comm may hold spaces or parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === parent) children.push(Number(entry));
  }
  return children;
}

/** Is the pid a running (not zombie) process? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return existsSync('/proc') ? false : true;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
}
