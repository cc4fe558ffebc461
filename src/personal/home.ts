import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { tryParseJson } from '../core/json.js';
import { writePrivateFile } from '../core/privateFiles.js';

/** The person's home: `vault.db` (+ WAL), and `agent.json` while `kith serve` runs. */
export function defaultHome(): string {
  return process.env['KITH_HOME'] ?? join(process.env['HOME'] ?? '.', '.kith');
}

export function vaultPath(home: string): string {
  return join(resolve(home), 'vault.db');
}

/** What a running agent leaves for the CLI: where it listens and its token (file mode 0600). */
export const runningAgentSchema = z.object({ url: z.string(), port: z.number().int(), token: z.string(), pid: z.number().int() });
export type RunningAgentInfo = z.infer<typeof runningAgentSchema>;

/** `<home>/agent.json`: where a running agent says where it listens, with its token. */
export function runningAgentFile(home: string): string {
  return join(resolve(home), 'agent.json');
}

export function writeRunningAgent(home: string, info: RunningAgentInfo): void {
  // It holds the API token: 0600 even if an older file was looser.
  writePrivateFile(runningAgentFile(home), `${JSON.stringify(info)}\n`);
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
