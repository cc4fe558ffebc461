import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { tryParseJson } from '../core/json.js';

/** The person's home: `vault.db` (+ WAL), and `agent.json` while `kith serve` runs. */
export function defaultHome(): string {
  return process.env['KITH_HOME'] ?? join(process.env['HOME'] ?? '.', '.kith');
}

export function vaultPath(home: string): string {
  return join(resolve(home), 'vault.db');
}

/**
 * Which file this home's vault is (device and inode), or undefined when there is none. A copy of
 * the home has the same contents, random ids included, but another file: that is what tells a
 * running agent of the original home from this home's own (`agent.json` is copied along).
 */
export function vaultFileId(home: string): string | undefined {
  try {
    const stat = statSync(vaultPath(home), { bigint: true });
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}

/** What a running agent leaves for the CLI: where it listens and its token (file mode 0600). */
export const runningAgentSchema = z.object({ url: z.string(), port: z.number().int(), token: z.string(), pid: z.number().int() });
export type RunningAgentInfo = z.infer<typeof runningAgentSchema>;

/** `<home>/agent.json`: where a running agent says where it listens, with its token. */
export function runningAgentFile(home: string): string {
  return join(resolve(home), 'agent.json');
}

/**
 * Written to a new file (mode 0600 from its creation) that then replaces agent.json: writing over
 * an existing agent.json would keep that file's mode (a stale or copied one may be 0644) and let
 * the CLI read it half-written.
 */
export function writeRunningAgent(home: string, info: RunningAgentInfo): void {
  const file = runningAgentFile(home);
  const fresh = `${file}.${process.pid}.tmp`;
  rmSync(fresh, { force: true });
  writeFileSync(fresh, `${JSON.stringify(info)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(fresh, file);
}

export function removeRunningAgent(home: string): void {
  rmSync(runningAgentFile(home), { force: true });
}

export function readRunningAgent(home: string): RunningAgentInfo | undefined {
  if (!existsSync(runningAgentFile(home))) return undefined;
  const json = tryParseJson(readFileSync(runningAgentFile(home), 'utf8'));
  const parsed = json.ok ? runningAgentSchema.safeParse(json.value) : undefined;
  if (!parsed?.success) return undefined;
  try {
    process.kill(parsed.data.pid, 0);
  } catch {
    return undefined;
  }
  return parsed.data;
}
