import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newToken } from '../core/ids.js';
import { readRunningAgent, vaultPath } from '../personal/home.js';
import { Vault } from '../personal/vault/vault.js';
import { initVendorHome } from '../vendor/home.js';

/**
 * `npm start`: a personal agent and three demo companies, each a real process on loopback with
 * SQLite, so a newcomer can try Kith at once. State persists in KITH_DEMO_HOME (default
 * ~/.kith-demo) between runs; Ctrl-C stops everything.
 */
const DEMO_VENDORS = [
  { slug: 'acme', name: 'Acme Outfitters', welcome: 'Welcome to Acme Outfitters! Ask us anything about your gear.' },
  { slug: 'northwind', name: 'Northwind Energy', welcome: 'Hello from Northwind Energy. Your meter readings will arrive here.' },
  { slug: 'bluebird', name: 'Bluebird Books', welcome: 'Bluebird Books here: we will tell you when your order ships.' },
] as const;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const demoHome = resolve(process.env['KITH_DEMO_HOME'] ?? join(homedir(), '.kith-demo'));
const basePort = Number(process.env['KITH_DEMO_BASE_PORT'] ?? 7400);
const children: ChildProcess[] = [];

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The demo vault's passphrase: KITH_PASSPHRASE, or one generated on first run and kept beside it (demo only). */
function demoPassphrase(): string {
  if (process.env['KITH_PASSPHRASE']) return process.env['KITH_PASSPHRASE'];
  const file = join(demoHome, 'demo-passphrase');
  if (!existsSync(file)) writeFileSync(file, `${newToken(18)}\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

function spawnServe(bin: string, args: string[], logName: string, env: NodeJS.ProcessEnv): ChildProcess {
  const logFile = openSync(join(demoHome, 'logs', logName), 'a');
  const child = spawn(process.execPath, [join(repoRoot, 'bin', bin), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', logFile, logFile] });
  children.push(child);
  child.once('exit', (code, signal) => {
    if (!stopping) log(`${logName.replace('.log', '')} exited (${signal ?? code}); see ${join(demoHome, 'logs', logName)}`);
  });
  return child;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

let stopping = false;
async function stopAll(code: number): Promise<never> {
  stopping = true;
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
        }),
    ),
  );
  process.exit(code);
}

async function main(): Promise<void> {
  mkdirSync(join(demoHome, 'logs'), { recursive: true, mode: 0o700 });
  const personalHome = join(demoHome, 'me');
  const passphrase = demoPassphrase();
  if (!Vault.exists(vaultPath(personalHome))) {
    mkdirSync(personalHome, { recursive: true, mode: 0o700 });
    Vault.create(vaultPath(personalHome), passphrase).close();
    log(`Created your demo vault in ${personalHome}`);
  }

  const vendorUrls: { name: string; url: string }[] = [];
  for (const [index, vendor] of DEMO_VENDORS.entries()) {
    const home = join(demoHome, vendor.slug);
    const port = basePort + 1 + index;
    if (!existsSync(join(home, 'config.json'))) {
      mkdirSync(home, { recursive: true, mode: 0o700 });
      const policyFile = join(home, 'policy.json');
      writeFileSync(policyFile, `${JSON.stringify({ version: 1, acceptConnections: true, welcomeMessage: vendor.welcome }, null, 2)}\n`);
      const created = await initVendorHome(home, { name: vendor.name, port, policyFile });
      await created.store.close();
    }
    spawnServe('kith-vendor.js', ['--home', home, 'serve', '--port', String(port)], `${vendor.slug}.log`, {});
    vendorUrls.push({ name: vendor.name, url: `http://127.0.0.1:${port}` });
  }
  spawnServe('kith.js', ['--home', personalHome, 'serve', '--port', String(basePort)], 'me.log', { KITH_PASSPHRASE: passphrase });

  for (const vendor of vendorUrls) await waitFor(`${vendor.name}`, async () => ((await fetch(`${vendor.url}/health`)).ok ? true : undefined));
  const agent = await waitFor('your agent', async () => readRunningAgent(personalHome));
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${agent.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${agent.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };

  // First run: connect to each demo company so there is something to look at.
  const { relationships } = await api<{ relationships: { company: string | null; state: string }[] }>('GET', '/api/relationships');
  for (const vendor of vendorUrls) {
    if (relationships.some((r) => r.company === vendor.name)) continue;
    const { url } = (await (await fetch(`${vendor.url}/invite`)).json()) as { url: string };
    await api('POST', '/api/connect', { invitation: url });
    log(`Connected to ${vendor.name} from a fresh pairwise DID`);
  }

  const cli = `npx kith --home ${personalHome}`;
  log('');
  log('Kith is running: your personal agent and three demo companies, each its own process.');
  log(`  Local API: ${agent.url}/api   (OpenAPI: ${agent.url}/api/openapi.json)`);
  log(`  API token: ${agent.token}`);
  for (const vendor of vendorUrls) log(`  ${vendor.name.padEnd(17)} ${vendor.url}`);
  log('');
  log('Try (another terminal; the CLI uses the running agent):');
  log(`  ${cli} relationships`);
  log(`  ${cli} messages acme`);
  log(`  ${cli} message acme "Hello from my own agent"`);
  log(`  ${cli} cutoff bluebird`);
  log(`Logs: ${join(demoHome, 'logs')}    Ctrl-C stops everything.`);
}

process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));
main().catch((error: unknown) => {
  process.stderr.write(`kith demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  void stopAll(1);
});
