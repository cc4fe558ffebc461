import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, ensureBuilt, freePort, isAlive, runCliOk, waitFor } from '../support/processes.js';

/**
 * A server started with KITH_STOP_WITH_PARENT=1 (as `npm start` starts its four) stops by itself
 * when the process that started it dies outright (SIGKILL: no chance to stop its children), and
 * one started without it carries on: the demo's servers never outlive the demo.
 */

const root = mkdtempSync(join(tmpdir(), 'kith-e2e-stop-with-parent-'));
const pids: number[] = [];

afterAll(() => {
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** A parent that starts `kith-vendor serve` and prints the child's pid; the test then kills the parent. */
async function serveUnderParent(home: string, port: number, env: Record<string, string>): Promise<{ parent: ReturnType<typeof spawn>; child: number }> {
  const script = `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, [${JSON.stringify(join(REPO_ROOT, 'bin', 'kith-vendor.js'))}, '--home', ${JSON.stringify(home)}, 'serve', '--port', '${port}'], { stdio: 'ignore', env: { ...process.env, ...${JSON.stringify(env)} } });
    process.stdout.write(String(child.pid) + '\\n');
    setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const child = await new Promise<number>((resolvePid, reject) => {
    parent.stdout?.once('data', (chunk: Buffer) => resolvePid(Number(chunk.toString().trim())));
    parent.once('exit', () => reject(new Error('the parent exited before starting its child')));
  });
  pids.push(parent.pid!, child);
  await waitFor('the server to answer', async () => ((await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok ? true : undefined), { timeoutMs: 30_000 });
  return { parent, child };
}

describe('a server whose launcher dies outright', () => {
  it('stops by itself with KITH_STOP_WITH_PARENT=1, and carries on without it', { timeout: 90_000 }, async () => {
    ensureBuilt();
    const watched = { home: join(root, 'watched'), port: await freePort() };
    const plain = { home: join(root, 'plain'), port: await freePort() };
    for (const c of [watched, plain]) await runCliOk('kith-vendor', ['init', '--name', 'Orphan Co', '--port', String(c.port), '--json'], { home: c.home });

    // Not started by npx either (npx vitest would pass npm_command=exec on, which asks for the same watch).
    const notByNpm = { npm_command: '', npm_lifecycle_event: '' };
    const a = await serveUnderParent(watched.home, watched.port, { ...notByNpm, KITH_STOP_WITH_PARENT: '1' });
    const b = await serveUnderParent(plain.home, plain.port, notByNpm);
    a.parent.kill('SIGKILL');
    b.parent.kill('SIGKILL');
    await waitFor('the watched server to stop', () => (isAlive(a.child) ? undefined : true), { timeoutMs: 15_000 });
    // The same wait again: the server without the flag is still there, and still answers.
    await new Promise((resolveWait) => setTimeout(resolveWait, 2_500));
    expect(isAlive(b.child)).toBe(true);
    expect((await fetch(`http://127.0.0.1:${plain.port}/health`)).ok).toBe(true);
  });
});
