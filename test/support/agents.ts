/**
 * Stands up real agents for tests: one process, but real HTTP on loopback between them, a real
 * SQLite company store, a real (encrypted) personal vault, and loggers writing to files the tests
 * can read back. Every handle knows how to take its HTTP listener down and bring it back on the
 * same port (the port is part of the DIDs, so it must not change), and how to clean up after itself.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Hono } from 'hono';
import { afterEach, beforeEach } from 'vitest';
import type { AgentEvent } from '../../src/personal/events.js';
import type { Clock } from '../../src/core/clock.js';
import { newToken } from '../../src/core/ids.js';
import { listen, type Listening } from '../../src/core/listen.js';
import { createLogger, type Logger } from '../../src/core/log.js';
import { createRejectionLog, type RejectionLog } from '../../src/core/rejectionLog.js';
import { createPersonalAgent, type PersonalAgent } from '../../src/personal/createPersonalAgent.js';
import { createLocalApi } from '../../src/personal/http/localApi.js';
import type { RelationshipRecord } from '../../src/personal/vault/relationshipRepo.js';
import { Vault } from '../../src/personal/vault/vault.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { createPeerIdentity, type LocalIdentity } from '../../src/protocol/agent/identity.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/protocol/envelope/receive.js';
import { parsePolicy, type DisclosureAsk } from '../../src/company/config.js';
import { createCompanyAgent, type CompanyAgent } from '../../src/company/createCompanyAgent.js';
import type { Connector, DispatchTarget } from '../../src/company/connectors/index.js';
import type { RetryPolicy } from '../../src/core/retry.js';
import { tokensFileCredentials } from '../../src/company/adminTokens.js';
import { createCompanyApp } from '../../src/company/http/app.js';
import { createCompanyMetrics } from '../../src/company/metrics.js';
import { openSqliteCompanyStore } from '../../src/company/store/sqlite.js';
import { snapshotOf } from '../../src/company/store/testing.js';
import type { CompanyRelationship, CompanyStore } from '../../src/company/store/types.js';

export const LOOPBACK = '127.0.0.1';

/**
 * A logger that appends each line synchronously, so a test can read the file right after acting.
 * A line logged after the test's cleanup removed the directory (late work of an agent already torn
 * down) is dropped: throwing there escaped as an uncaught error into whatever ran next (the fuzz
 * bench counted it as a crash of the company admin API it was fuzzing at the time).
 */
export function fileLogger(path: string, component: string): Logger {
  writeFileSync(path, '');
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      try {
        appendFileSync(path, chunk);
      } catch (error) {
        if (!(error instanceof Error && 'code' in error && error.code === 'ENOENT')) throw error;
      }
      callback();
    },
  });
  return createLogger(stream, component);
}

/** A listener whose app can be set after the port is known, and that can go down and come back on the same port. */
interface Served {
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  setApp(app: Hono): void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Requests the test listeners are handling now, over all agents: work one agent started in another is over when this is 0. */
let inFlight = 0;
export function requestsInFlight(): number {
  return inFlight;
}

async function serve(): Promise<Served> {
  let inner: Hono | undefined;
  const outer = new Hono();
  outer.all('*', async (c) => {
    inFlight += 1;
    try {
      return await (inner ? inner.fetch(c.req.raw, c.env) : c.text('not ready', 503));
    } finally {
      inFlight -= 1;
    }
  });
  let listening: Listening | undefined = await listen(outer, 0, LOOPBACK);
  const port = listening.port;
  return {
    port,
    url: `http://${LOOPBACK}:${port}`,
    get running() {
      return listening !== undefined;
    },
    setApp(app) {
      inner = app;
    },
    async stop() {
      const current = listening;
      listening = undefined;
      await current?.close();
    },
    async start() {
      if (listening) return;
      listening = await listen(outer, port, LOOPBACK);
    },
  };
}

export interface CompanyOptions {
  name?: string;
  /** The policy file's content, checked by parsePolicy; default `{}`. */
  policy?: unknown;
  maxMessageBytes?: number;
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  /** Opens the company's store instead of the SQLite file at `dbPath` (e.g. a PostgreSQL schema); the handle closes it. */
  openStore?: () => Promise<CompanyStore>;
  /** Connectors instead of the policy's. */
  connectors?: (Connector | DispatchTarget)[];
  /** Serve /health, /ready and /metrics as `kith-vendor serve` does (role all), instead of /health alone. */
  ops?: boolean;
}

/** Each agent's rate-limited log of refused messages, on its file logger (a test flushes it as a stop would). */
export interface WithRejectionLog {
  rejectionLog: RejectionLog;
}

export interface CompanyHandle extends WithRejectionLog {
  name: string;
  agent: CompanyAgent;
  store: CompanyStore;
  /** The company's own DID and private keys (tests sign "as the company" with them). */
  identity: LocalIdentity;
  did: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `<url>/didcomm` */
  didcommUrl: string;
  port: number;
  adminToken: string;
  dir: string;
  dbPath: string;
  logPath: string;
  /** Every body that reached the company agent's `receive` from its HTTP endpoint, as sent. */
  inbound: string[];
  snapshot(): Promise<Record<string, unknown[]>>;
  /** Takes the HTTP listener down (the agent and store stay). */
  stop(): Promise<void>;
  /** Brings the listener back on the same port. */
  start(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startCompany(options: CompanyOptions = {}): Promise<CompanyHandle> {
  const name = options.name ?? 'Analytical Engines Ltd';
  const dir = mkdtempSync(join(tmpdir(), 'kith-company-'));
  const dbPath = join(dir, 'company.db');
  const logPath = join(dir, 'company.log');
  const logger = fileLogger(logPath, 'company');
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const served = await serve();
  const store = await (options.openStore ?? (() => openSqliteCompanyStore(dbPath)))();
  const { identity } = createPeerIdentity(`${served.url}/didcomm`);
  const agent = createCompanyAgent({
    name,
    publicUrl: served.url,
    store,
    identity,
    policy: parsePolicy(options.policy ?? {}),
    logger,
    maxMessageBytes,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.connectors ? { connectors: options.connectors } : {}),
  });
  const inbound: string[] = [];
  const recording: CompanyAgent = {
    ...agent,
    receive(packed) {
      inbound.push(typeof packed === 'string' ? packed : Buffer.from(packed).toString('utf8'));
      return agent.receive(packed);
    },
  };
  const adminToken = newToken();
  // Scoped tokens a test makes with createAdminToken(dir, ...) work at once, as on a real home.
  const ops = options.ops ? { role: 'all' as const, readiness: async () => ({ ready: true as const }), metrics: createCompanyMetrics(store, { role: 'all' }) } : undefined;
  const rejectionLog = createRejectionLog({ logger });
  served.setApp(createCompanyApp({ agent: recording, adminToken, scopedTokens: tokensFileCredentials(dir), maxMessageBytes, logger, rejectionLog, ...(ops ? { ops } : {}) }));
  let cleaned = false;
  return {
    name,
    agent,
    store,
    identity,
    did: identity.did,
    url: served.url,
    didcommUrl: `${served.url}/didcomm`,
    port: served.port,
    adminToken,
    dir,
    dbPath,
    logPath,
    inbound,
    rejectionLog,
    snapshot: () => snapshotOf(store),
    stop: () => served.stop(),
    start: () => served.start(),
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await served.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PersonalOptions {
  passphrase?: string;
  maxMessageBytes?: number;
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  /** Her agent's HTTP client for posts to companies (a test can lose a reply with it). */
  fetch?: typeof fetch;
  /** Companies a fan-out sends to at once (the agent's default unless given). */
  fanoutConcurrency?: number;
}

export interface PersonalHandle extends WithRejectionLog {
  agent: PersonalAgent;
  vault: Vault;
  vaultPath: string;
  passphrase: string;
  /** `http://127.0.0.1:<port>`: the local API under `/api`, DIDComm under `/didcomm/<route>`. */
  url: string;
  port: number;
  /** Bearer token of the local API. */
  token: string;
  dir: string;
  logPath: string;
  snapshot(): Record<string, unknown[]>;
  /** Her relationship record, decrypted from the vault. */
  record(relationshipId: string): RelationshipRecord;
  /** `<url>/didcomm/<routeToken>` of one relationship. */
  didcommUrl(relationshipId: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startPersonal(options: PersonalOptions = {}): Promise<PersonalHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'kith-personal-'));
  const vaultPath = join(dir, 'vault.db');
  const logPath = join(dir, 'personal.log');
  const logger = fileLogger(logPath, 'personal');
  const passphrase = options.passphrase ?? 'correct horse battery staple';
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const vault = Vault.create(vaultPath, passphrase, { kdf: { N: 2 ** 12 } });
  const served = await serve();
  const agent = createPersonalAgent({
    vault,
    inboundBaseUrl: () => served.url,
    logger,
    maxMessageBytes,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.fanoutConcurrency ? { fanoutConcurrency: options.fanoutConcurrency } : {}),
  });
  const token = newToken();
  const rejectionLog = createRejectionLog({ logger });
  served.setApp(createLocalApi({ agent, token, port: () => served.port, maxMessageBytes, logger, rejectionLog }));
  const record = (relationshipId: string): RelationshipRecord => {
    const found = vault.relationships.get(relationshipId);
    if (!found) throw new Error(`no relationship ${relationshipId} in the vault`);
    return found;
  };
  let cleaned = false;
  return {
    agent,
    vault,
    vaultPath,
    passphrase,
    url: served.url,
    port: served.port,
    token,
    dir,
    logPath,
    rejectionLog,
    snapshot: () => vault.snapshot(),
    record,
    didcommUrl: (relationshipId) => `${served.url}/didcomm/${record(relationshipId).routeToken}`,
    stop: () => served.stop(),
    start: () => served.start(),
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await served.stop();
      vault.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Link {
  /** Her side, as the agent shows it. */
  view: RelationshipView;
  /** Her side, as the vault stores it (route token, pairwise DID). */
  record: RelationshipRecord;
  /** The company's side. */
  companyRelationship: CompanyRelationship;
}

/** She connects to the company through its invitation URL, over HTTP (as `persona`, else her default persona). */
export async function connect(personal: PersonalHandle, company: CompanyHandle, options: { persona?: string } = {}): Promise<Link> {
  const view = await personal.agent.connect(company.agent.invitationUrl(), options);
  const companyRelationship = await company.store.findRelationshipByDid(view.myDid);
  if (!companyRelationship) throw new Error('the company has no relationship for her new DID');
  return { view, record: personal.record(view.id), companyRelationship };
}

/** Her pairwise identity for one relationship, private keys included, read from the vault. */
/** Her local id of the disclosure request a company sent under `companyRequestId` (the id its admin API shows). */
export function herRequestFor(personal: PersonalHandle, companyRequestId: string): string {
  const found = personal.vault.disclosureRequests.list().find((r) => r.requestId === companyRequestId);
  if (!found) throw new Error(`she has no request ${companyRequestId}`);
  return found.id;
}

/**
 * The company asks her for what `ask` names and she answers (approving all of it, or declining),
 * as a person would in her app. @returns the consent record id of her answer
 */
export async function answerAsk(personal: PersonalHandle, company: CompanyHandle, link: Link, ask: DisclosureAsk, answer: 'approve' | 'decline' = 'approve'): Promise<string> {
  const sent = await company.agent.requestDisclosure(link.companyRelationship.id, ask);
  const id = herRequestFor(personal, sent.request.id);
  return (await (answer === 'approve' ? personal.agent.disclosure.approve(id) : personal.agent.disclosure.decline(id))).consentRecordId;
}

export function herIdentity(personal: PersonalHandle, relationshipId: string): LocalIdentity {
  const record = personal.record(relationshipId);
  const keys = personal.vault.keys.listForRelationship(relationshipId);
  const signing = keys.find((k) => k.purpose === 'authentication');
  const agreement = keys.find((k) => k.purpose === 'keyAgreement');
  if (!signing || !agreement) throw new Error('the relationship has no keys');
  return {
    did: record.myDid,
    signing: { kid: signing.kid, privateJwk: signing.privateJwk, publicJwk: signing.publicJwk },
    agreement: { kid: agreement.kid, privateJwk: agreement.privateJwk, publicJwk: agreement.publicJwk },
  };
}

export interface Pair {
  company: CompanyHandle;
  personal: PersonalHandle;
  link: Link;
  cleanup(): Promise<void>;
}

/** A company and a personal agent, connected. */
export async function startPair(options: { company?: CompanyOptions; personal?: PersonalOptions } = {}): Promise<Pair> {
  const company = await startCompany(options.company);
  const personal = await startPersonal(options.personal);
  try {
    const link = await connect(personal, company);
    return {
      company,
      personal,
      link,
      async cleanup() {
        await personal.cleanup();
        await company.cleanup();
      },
    };
  } catch (error) {
    await personal.cleanup();
    await company.cleanup();
    throw error;
  }
}

export interface HttpResult {
  status: number;
  text: string;
  /** The parsed JSON body, or undefined when it is not JSON. */
  json: { error?: { code?: string; message?: string; details?: Record<string, unknown> } } & Record<string, unknown>;
}

/** POSTs raw bytes as a DIDComm envelope. */
export async function postEnvelopeRaw(url: string, body: string | Uint8Array): Promise<HttpResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/didcomm-encrypted+json' },
    body: typeof body === 'string' ? body : Buffer.from(body),
  });
  const text = await response.text();
  let json: HttpResult['json'] = {};
  try {
    json = JSON.parse(text) as HttpResult['json'];
  } catch {
    // not JSON: an envelope or empty
  }
  return { status: response.status, text, json };
}

/** An answer of a JSON API, as the suites read it. */
export interface JsonAnswer {
  status: number;
  json: Record<string, any>;
}

/**
 * Calls one agent's JSON API (her local API, or the company's admin API) with its token: a JSON
 * body when given, the status and the parsed answer back.
 */
export function jsonApi(baseUrl: () => string, token: () => string): (method: string, path: string, body?: unknown) => Promise<JsonAnswer> {
  return async (method, path, body) => {
    const response = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as JsonAnswer['json'] };
  };
}

/** What {@link usePairEachTest} keeps for the test that runs. */
export interface PairEachTest {
  pair: Pair;
  /** Her agent's events since the test began. */
  events: AgentEvent[];
  /** Companies the test started beside the pair's: cleaned up with it. */
  others: CompanyHandle[];
}

/**
 * A pair started before each test and cleaned up after it (with any company the test added to
 * `others`), her events recorded. Read the fields in a `beforeEach` of your own, as the suites do.
 */
export function usePairEachTest(options: { company?: CompanyOptions; personal?: PersonalOptions } = {}): PairEachTest {
  const current = {} as PairEachTest;
  beforeEach(async () => {
    current.pair = await startPair(options);
    current.events = [];
    current.others = [];
    current.pair.personal.agent.events.on((event) => current.events.push(event));
  });
  afterEach(async () => {
    for (const other of current.others ?? []) await other.cleanup();
    await current.pair?.cleanup();
  });
  return current;
}
