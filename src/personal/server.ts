import { existsSync, renameSync, rmSync } from 'node:fs';
import { systemClock } from '../core/clock.js';
import { VaultError } from '../core/errors.js';
import { newToken } from '../core/ids.js';
import { checkOwnEndpoint, newInstanceId } from '../core/endpointCheck.js';
import { httpLimitsSchema, type HttpLimitsInput } from '../core/httpLimits.js';
import { listen } from '../core/listen.js';
import type { Logger } from '../core/log.js';
import { createRejectionLog } from '../core/rejectionLog.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/envelope/receive.js';
import { lockedError, type AgentAccess } from './agentAccess.js';
import { createPersonalAgent, type PersonalAgent } from './createPersonalAgent.js';
import { checkServePort, publishedOrigins } from './endpoint.js';
import { removeRunningAgent, vaultFileId, vaultPath, writeRunningAgent } from './home.js';
import { attachmentBodyBytes, createLocalApi } from './http/localApi.js';
import { defaultUiDir } from './http/webApp.js';
import { importVault, openExport } from './vault/export.js';
import { Vault } from './vault/vault.js';
import { DEFAULT_ATTACHMENT_LIMITS } from './vault/attachmentRepo.js';
import { checkVaultReadable } from './vault/startupCheck.js';

/** The files of one SQLite vault (WAL mode). */
const VAULT_FILES = ['', '-wal', '-shm'] as const;

export interface PersonalServerOptions {
  home: string;
  /** Her vault, already opened with her passphrase; without it the agent starts locked. */
  vault?: Vault;
  port: number;
  logger: Logger;
  maxMessageBytes?: number;
  /** How often to fetch what companies queued (ms). */
  pickupIntervalMs?: number;
  /** How often her things' contracts are checked for reminders (default: hourly). */
  thingReminderIntervalMs?: number;
  /** How often to retry her queued messages (ms). */
  outboxIntervalMs?: number;
  /** How often to look for profile updates that are due (ms); a change starts its fan-out at once. */
  profileIntervalMs?: number;
  /** Lock after this long without her using the API or the web app (ms); 0 never. Default 15 minutes. */
  idleLockMs?: number;
  /** The built web app (dist/ui); default: the one next to this build. */
  uiDir?: string;
  /** Where her passphrase is, said on the lock screen (the demo's file); none by default. */
  passphraseHint?: string;
  /**
   * Refuse a port her relationships' DIDs do not publish (at start, or at unlock when started
   * locked), and after listening require her endpoint to answer as this process. Default true.
   */
  endpointCheck?: boolean;
  /** Her server's deadlines, sizes and budgets; default PERSONAL_HTTP_LIMITS. Tests shorten them. */
  limits?: HttpLimitsInput;
}

/**
 * Her server listens on loopback for one person, so one "peer" address is her browser, her CLI and
 * any company on the same machine at once (the demo): a per-address budget roomier than a company's,
 * the deadlines and sizes the same (docs/deploy.md "Limits").
 */
export const PERSONAL_HTTP_LIMITS: HttpLimitsInput = { perPeer: { requestsPerSecond: 200, requestBurst: 1_000 } };

export const DEFAULT_IDLE_LOCK_MS = 15 * 60_000;
/** Her vault's setting for the idle lock, in minutes (0: never). */
const IDLE_LOCK_SETTING = 'agent.idleLockMinutes';

export interface RunningPersonalAgent {
  access: AgentAccess;
  url: string;
  port: number;
  token: string;
  /** Opens the web app: the token travels in the fragment, is exchanged for a cookie and leaves the URL. */
  loginUrl: string;
  stop(): Promise<void>;
}

interface Unlocked {
  agent: PersonalAgent;
  deliverProfile(): void;
  stop(): Promise<void>;
}

/**
 * The agent's background work while unlocked: pickup, her outbox, the profile fan-out. Stopping
 * waits for the work in flight, then closes the vault.
 */
function startAgent(vault: Vault, options: PersonalServerOptions, port: () => number): Unlocked {
  const { logger } = options;
  const agent = createPersonalAgent({ vault, inboundBaseUrl: () => `http://127.0.0.1:${port()}`, logger, maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES });
  // An approval that was waiting for its ack when she last locked (or the agent stopped) is hers to answer again.
  const reopened = agent.disclosure.reopenUnacknowledged();
  if (reopened > 0) logger.info('disclosure_reopened', { requests: reopened });
  let stopping = false;
  // The fan-out runs apart from pickup and outbox so a slow company cannot hold up either.
  let delivering: Promise<void> | undefined;
  let again = false;
  const deliverProfile = (): void => {
    if (stopping) return;
    if (delivering) {
      again = true;
      return;
    }
    delivering = (async () => {
      do {
        again = false;
        await agent.profile.deliver().catch((error: unknown) => logger.warn('profile_delivery_failed', { reason: error instanceof Error ? error.name : 'unknown' }));
      } while (again && !stopping);
    })().finally(() => {
      delivering = undefined;
    });
  };
  let inFlight: Promise<unknown> = Promise.resolve();
  const run = (what: string, work: () => Promise<unknown>) => {
    if (stopping) return;
    inFlight = inFlight.then(work).catch((error: unknown) => logger.warn(`${what}_failed`, { reason: error instanceof Error ? error.name : 'unknown' }));
  };
  // A pickup goes company by company; stopping must not wait for every remaining one.
  const stopped = new AbortController();
  const pickup = () => run('pickup', () => agent.pickup({ signal: stopped.signal }));
  const outbox = () =>
    run('outbox', async () => {
      await agent.deliverOutbox();
      vault.seen.prune(systemClock.now());
    });
  // Her intents past their end (a minute late at most: nothing waits on it to the second).
  const expireIntents = () => run('intent_expiry', async () => agent.intents.expireDue());
  // Warranties and service contracts ending soon: an event per contract and threshold, once
  // (remembered in the vault), so checking hourly costs a read of her things and nothing else.
  const remindThings = () => run('thing_reminders', async () => agent.things.remind());
  // Coming back online (or unlocked): fetch what waited, then send what she wrote meanwhile.
  pickup();
  outbox();
  deliverProfile();
  expireIntents();
  remindThings();
  const timers = [
    setInterval(pickup, options.pickupIntervalMs ?? 30_000),
    setInterval(outbox, options.outboxIntervalMs ?? 2_000),
    setInterval(deliverProfile, options.profileIntervalMs ?? 1_000),
    setInterval(expireIntents, 60_000),
    setInterval(remindThings, options.thingReminderIntervalMs ?? 3_600_000),
  ];
  for (const timer of timers) timer.unref();
  return {
    agent,
    deliverProfile,
    async stop() {
      stopping = true;
      stopped.abort();
      for (const timer of timers) clearInterval(timer);
      await inFlight;
      await delivering;
      vault.close();
    },
  };
}

/**
 * `kith serve`: the web app, the local API and the DIDComm endpoint on 127.0.0.1, a fresh token
 * each start (left in `<home>/agent.json`, mode 0600, for the CLI), background pickup and outbox
 * retries while unlocked, and a lock after idle time.
 */
export async function startPersonalServer(options: PersonalServerOptions): Promise<RunningPersonalAgent> {
  const { logger } = options;
  const token = newToken();
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  // Her own choice (Settings, kept in her vault) wins over the server's default (--idle-lock).
  const defaultIdleLockMs = options.idleLockMs ?? DEFAULT_IDLE_LOCK_MS;
  const idleLockMs = (): number => {
    const chosen = unlocked?.agent.vault.settings.get(IDLE_LOCK_SETTING);
    return typeof chosen === 'number' && Number.isInteger(chosen) && chosen >= 0 ? chosen * 60_000 : defaultIdleLockMs;
  };
  let port = options.port;
  let unlocked: Unlocked | undefined;
  const checkEndpoint = options.endpointCheck !== false;
  /** True until her relationships were checked against the port: a locked start checks at the first unlock. */
  let portUnchecked = options.vault === undefined;
  const instance = newInstanceId();
  // The vault file it serves, for the CLI to tell this home's agent from another's (an import
  // makes a new file: it is taken again at each unlock).
  let vaultFile = vaultFileId(options.home);
  let idleTimer: NodeJS.Timeout | undefined;
  let closing = false;

  const access: AgentAccess = {
    lockable: true,
    current() {
      if (!unlocked) throw lockedError();
      return unlocked.agent;
    },
    locked: () => unlocked === undefined,
    async unlock(passphrase) {
      if (unlocked || closing) return;
      // A wrong passphrase throws here and changes nothing.
      const vault = Vault.open(vaultPath(options.home), passphrase);
      try {
        checkVaultReadable(vault); // an unreadable relationship or key refuses the unlock: it stays locked
        // Started locked, the port could not be checked against her relationships: it is, at the
        // first unlock. (An import's unlock is not refused: see importExport.)
        if (checkEndpoint && portUnchecked) checkServePort(vault, port);
        portUnchecked = false;
      } catch (error) {
        vault.close();
        throw error;
      }
      vaultFile = vaultFileId(options.home);
      unlocked = startAgent(vault, options, () => port);
      access.touch();
      logger.info('personal_agent_unlocked');
    },
    async lock() {
      const was = unlocked;
      unlocked = undefined;
      if (idleTimer) clearTimeout(idleTimer);
      if (!was) return;
      was.agent.events.emit({ type: 'agent.locked' });
      await was.stop();
      logger.info('personal_agent_locked');
    },
    async importExport(text, exportPassphrase, vaultPassphrase) {
      const agent = access.current();
      if (agent.relationships().length > 0 || agent.profile.profile().fields.length > 0) {
        throw new VaultError('vault.exists', 'Import works into an empty vault: export this one first, or import into a fresh home');
      }
      const document = await openExport(text, exportPassphrase); // an unreadable export stops here
      Vault.open(vaultPath(options.home), vaultPassphrase).close(); // so does a wrong passphrase
      await access.lock();
      const path = vaultPath(options.home);
      const aside = `${path}.before-import`;
      for (const suffix of VAULT_FILES) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
      try {
        importVault(path, vaultPassphrase, document).close();
      } catch (error) {
        for (const suffix of VAULT_FILES) {
          rmSync(path + suffix, { force: true });
          if (existsSync(aside + suffix)) renameSync(aside + suffix, path + suffix);
        }
        await access.unlock(vaultPassphrase);
        throw error;
      }
      for (const suffix of VAULT_FILES) rmSync(aside + suffix, { force: true });
      await access.unlock(vaultPassphrase);
      // Relationships made by another agent may publish another port: said (not refused, the
      // import is done), so she can serve on theirs.
      const elsewhere = [...publishedOrigins(access.current().vault)].filter(([origin]) => origin !== `http://127.0.0.1:${port}`);
      if (elsewhere.length > 0) logger.warn('imported_endpoint_mismatch', { port, relationships: elsewhere.reduce((n, [, count]) => n + count, 0), published: elsewhere.map(([origin]) => origin).join(' ') });
      logger.info('vault_imported', { relationships: document.relationships.length });
      return { relationships: document.relationships.length };
    },
    touch() {
      if (idleTimer) clearTimeout(idleTimer);
      const ms = idleLockMs();
      if (ms <= 0 || !unlocked) return;
      idleTimer = setTimeout(() => void access.lock(), ms);
      idleTimer.unref();
    },
    idleLockMinutes: () => Math.round(idleLockMs() / 60_000),
    setIdleLockMinutes(minutes) {
      access.current().vault.settings.set(IDLE_LOCK_SETTING, minutes);
      // The new time counts from now.
      access.touch();
      logger.info('idle_lock_set', { minutes });
    },
  };

  if (options.vault) {
    // A vault whose relationships or keys do not open would fail nearly every call: refuse to start.
    checkVaultReadable(options.vault);
    if (checkEndpoint) checkServePort(options.vault, options.port);
    unlocked = startAgent(options.vault, options, () => port);
    access.touch();
  }
  const rejectionLog = createRejectionLog({ logger });
  const app = createLocalApi({
    access,
    rejectionLog,
    token,
    port: () => port,
    maxMessageBytes,
    logger,
    uiDir: options.uiDir ?? defaultUiDir(),
    onProfileChanged: () => unlocked?.deliverProfile(),
    vaultFile: () => vaultFile,
    instance,
    exportFiles: true,
    ...(options.passphraseHint ? { passphraseHint: options.passphraseHint } : {}),
  });
  const limits = httpLimitsSchema.parse(options.limits ?? PERSONAL_HTTP_LIMITS);
  // The attach route takes a document as large as her vault allows (base64 in JSON), and names one
  // up to twice that size as too large itself (thing.attachment_too_large, which her web app says
  // in words); past that the listener refuses the body unread. Every other /api route keeps its
  // usual cap (localApi.ts, API_BODY_BYTES).
  const documentBody = attachmentBodyBytes((options.vault?.attachments.limits ?? DEFAULT_ATTACHMENT_LIMITS).maxFileBytes);
  const listening = await listen(app, options.port, '127.0.0.1', { ...limits, maxBodyBytes: Math.max(limits.maxBodyBytes, maxMessageBytes, 2 * documentBody) });
  port = listening.port;
  const url = `http://127.0.0.1:${port}`;
  if (checkEndpoint) {
    // Her DIDs publish http://127.0.0.1:<port>/didcomm/<route>: that must be this very process.
    try {
      await checkOwnEndpoint({ published: url, instance, fix: 'Stop whatever else answers there, or serve on another port.' });
    } catch (error) {
      await unlocked?.stop();
      await listening.close();
      throw error;
    }
  }
  writeRunningAgent(options.home, { url, port, token, pid: process.pid });
  logger.info('personal_agent_started', { port, locked: unlocked === undefined });

  return {
    access,
    url,
    port,
    token,
    loginUrl: `${url}/login#token=${token}`,
    async stop() {
      closing = true;
      await access.lock();
      await listening.close();
      rejectionLog.flush(); // the refusals left out of the log are counted before it ends
      removeRunningAgent(options.home);
      logger.info('personal_agent_stopped');
    },
  };
}
