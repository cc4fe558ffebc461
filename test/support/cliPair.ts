/**
 * The set-up several CLI suites share: a company home (`kith-vendor init`, then `serve`) and her
 * home (`kith init`, then `serve`), started side by side as real processes, and her connected to
 * the company through its invitation with `kith connect`. Each suite then drives both CLIs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RelationshipView } from '../../src/personal/views.js';
import { freePort, killAllStarted, runCliOk, startServer, type ServerHandle } from './processes.js';

export interface CliPair {
  root: string;
  meHome: string;
  companyHome: string;
  me: ServerHandle;
  company: ServerHandle;
  /** Her side of the relationship `kith connect` opened. */
  relationship: RelationshipView;
  /** Stops both servers and every process started, and removes the homes. */
  stop(): Promise<void>;
}

export async function startConnectedCliPair(options: { prefix: string; companyName: string; passphrase: string }): Promise<CliPair> {
  const root = mkdtempSync(join(tmpdir(), options.prefix));
  const meHome = join(root, 'me');
  const companyHome = join(root, 'company');
  const logDir = join(root, 'logs');
  const env = { KITH_PASSPHRASE: options.passphrase };
  const [portCompany, portMe] = [await freePort(), await freePort()];
  const [company, me] = await Promise.all([
    (async () => {
      await runCliOk('kith-vendor', ['init', '--name', options.companyName, '--port', String(portCompany), '--json'], { home: companyHome });
      return startServer('kith-vendor', { home: companyHome, port: portCompany, logDir });
    })(),
    (async () => {
      await runCliOk('kith', ['init', '--json'], { home: meHome, env });
      return startServer('kith', { home: meHome, port: portMe, logDir, name: 'me', env });
    })(),
  ]);
  const invitation = (await runCliOk('kith-vendor', ['invite', '--json'], { home: companyHome })).json<{ url: string }>().url;
  const relationship = (await runCliOk('kith', ['connect', invitation, '--json'], { home: meHome, env })).json<RelationshipView>();
  return {
    root,
    meHome,
    companyHome,
    me,
    company,
    relationship,
    async stop() {
      await me.stop().catch(() => undefined);
      await company.stop().catch(() => undefined);
      await killAllStarted();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
