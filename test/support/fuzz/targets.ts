/**
 * The fuzz targets: a connected company and personal agent (real SQLite store, real encrypted
 * vault, real HTTP between them), and for each surface a FuzzTarget that sends mutated cases to
 * it, in process through the Hono app's `app.request` (fast) or over a real socket:
 * the company's POST /didcomm and her POST /didcomm/<route>, each with mutated envelopes and with
 * mutated messages a real peer signed and encrypted; her local API; the company's admin API.
 */
import Database from 'better-sqlite3';
import type { Hono } from 'hono';
import { silentLogger } from '../../../src/core/log.js';
import { createCompanyApp } from '../../../src/company/http/app.js';
import { createLocalApi } from '../../../src/personal/http/localApi.js';
import { createPeerIdentity, signingKeyOf, type LocalIdentity } from '../../../src/protocol/agent/identity.js';
import { resolvePeer } from '../../../src/protocol/agent/peer.js';
import { createDidResolver } from '../../../src/protocol/did/resolver.js';
import { fastEngine } from '../../../src/protocol/envelope/fastEngine.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../../src/protocol/envelope/receive.js';
import { BasicMessage } from '../../../src/protocol/families/index.js';
import { COMPANY_DESCRIPTION_PATH } from '../../../src/protocol/intent/companyDescription.js';
import { connect, herIdentity, requestsInFlight, startPair, type Link, type Pair } from '../agents.js';
import { adminApiRoutes, apiCase, buildApiRequest, localApiRoutes, type ApiCase, type ApiRoute } from './apiRequests.js';
import { applyEnvelopeCase, envelopeCase, type EnvelopeCase } from './envelopeMutations.js';
import { buildMutatedMessage, messageCase, messageSeeds, type MessageCase, type MessageParties, type MessageSeed } from './messageMutations.js';
import { deepText } from './jsonMutations.js';
import type { FuzzTarget } from './runner.js';

const resolver = createDidResolver();
const MEDIA = { 'content-type': 'application/didcomm-encrypted+json' };

/** SQLite's data_version of a database file, read on a connection of our own: it moves with every commit of the agent's. */
function dataVersion(path: string): { read(): number; close(): void } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const statement = db.prepare('PRAGMA data_version').pluck();
  return { read: () => statement.get() as number, close: () => db.close() };
}

export interface FuzzWorld {
  pair: Pair;
  /** A second relationship of hers with the company, the one the local API's cut-off example ends. */
  spare: Link;
  companyApp: Hono;
  localApp: Hono;
  /** Her pairwise identity in the main relationship (she signs the company's inbound cases with it). */
  her: LocalIdentity;
  /** Commit counters of the company's store and her vault. */
  versions: { company(): number; her(): number };
  cleanup(): Promise<void>;
}

export async function startFuzzWorld(): Promise<FuzzWorld> {
  const pair = await startPair();
  try {
    const { company, personal } = pair;
    const spare = await connect(personal, company);
    // The same agents behind apps of their own, for in-process requests (no log file to fill).
    const companyApp = createCompanyApp({ agent: company.agent, adminToken: company.adminToken, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES, logger: silentLogger });
    const localApp = createLocalApi({ agent: personal.agent, token: personal.token, port: () => personal.port, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES, logger: silentLogger });
    const companyVersion = dataVersion(company.dbPath);
    const herVersion = dataVersion(personal.vaultPath);
    return {
      pair,
      spare,
      companyApp,
      localApp,
      her: herIdentity(personal, pair.link.view.id),
      versions: { company: companyVersion.read, her: herVersion.read },
      async cleanup() {
        // Work an accepted case started (a reply pushed, terms settled in the background) must end
        // before the homes go: it would log into a removed directory.
        const until = performance.now() + 5_000;
        let quietSince = performance.now();
        while (performance.now() < until && performance.now() - quietSince < 200) {
          await new Promise((done) => setTimeout(done, 20));
          if (requestsInFlight() !== 0) quietSince = performance.now();
        }
        companyVersion.close();
        herVersion.close();
        await pair.cleanup();
      },
    };
  } catch (error) {
    await pair.cleanup();
    throw error;
  }
}

export type Transport = 'app' | 'socket';

/** Sends a request to an app in process, or to its listener. */
function sender(app: Hono, baseUrl: string, transport: Transport): (path: string, init: RequestInit) => Promise<Response> {
  if (transport === 'app') return async (path, init) => app.request(path, init);
  return (path, init) => fetch(`${baseUrl}${path}`, init);
}

const bodyOf = (bytes: string | Uint8Array): string | Uint8Array => (typeof bytes === 'string' ? bytes : new Uint8Array(bytes));

/** One side's DIDComm endpoint, and the parties a message to it names. */
interface DidcommSide {
  name: string;
  path: string;
  post: (path: string, init: RequestInit) => Promise<Response>;
  peer: LocalIdentity;
  self: string;
  seeds: MessageSeed[];
  snapshot(): Promise<unknown>;
  version(): number;
}

/** Signs the plaintext (an object, or its text as is) with the peer's key and encrypts it to the agent, as packMessage does. */
async function seal(side: DidcommSide, message: Record<string, unknown> | string): Promise<string> {
  const recipient = await resolvePeer(resolver, side.self);
  const plaintext = Buffer.from(typeof message === 'string' ? message : JSON.stringify(message), 'utf8');
  const signed = await fastEngine.sign(plaintext, signingKeyOf(side.peer));
  return fastEngine.encrypt(Buffer.from(signed, 'utf8'), [recipient.agreementKey], { enc: 'A256CBC-HS512' });
}

/** The plaintext's text: its JSON, or with the body replaced by nesting too deep for any recursion. */
function plaintextOf(message: Record<string, unknown>, c: MessageCase): Record<string, unknown> | string {
  if (c.deepBody === undefined) return message;
  return JSON.stringify({ ...message, body: '__deep__' }).replace('"__deep__"', deepText(c.deepBody.depth, c.deepBody.kind));
}

/** A valid basicmessage from the peer, accepted: the liveness check after a run. */
async function aliveCheck(side: DidcommSide): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const message = { id: crypto.randomUUID(), type: BasicMessage.message.type, from: side.peer.did, to: [side.self], created_time: now, expires_time: now + 3600, body: { content: 'still there?' } };
  const response = await side.post(side.path, { method: 'POST', headers: MEDIA, body: await seal(side, message) });
  if (response.status !== 202 && response.status !== 200) throw new Error(`${side.name}: a valid message got ${response.status} ${await response.text()}`);
  await response.body?.cancel();
}

async function envelopeTarget(side: DidcommSide): Promise<FuzzTarget<EnvelopeCase>> {
  const now = Math.floor(Date.now() / 1000);
  // Valid envelopes to mutate: a basicmessage and each seed type, signed by the peer to the agent.
  const bases = await Promise.all(
    side.seeds.slice(0, 6).map((seed, i) =>
      seal(side, { id: crypto.randomUUID(), type: i === 0 ? BasicMessage.message.type : seed.type, from: side.peer.did, to: [side.self], created_time: now, expires_time: now + 24 * 3600, body: i === 0 ? { content: 'base' } : seed.body }),
    ),
  );
  const stranger = createPeerIdentity().identity;
  const kids = [side.peer.agreement.kid, stranger.agreement.kid, `${side.self}#key-2`, `${side.self}#key-1`];
  return {
    name: `${side.name} envelopes`,
    arbitrary: envelopeCase(kids),
    async prepare(c) {
      const body = bodyOf(applyEnvelopeCase(bases, c));
      return () => side.post(side.path, { method: 'POST', headers: MEDIA, body });
    },
    snapshot: side.snapshot,
    version: side.version,
    quiet: () => requestsInFlight() === 0,
    alive: () => aliveCheck(side),
  };
}

function messageTarget(side: DidcommSide): FuzzTarget<MessageCase> {
  const stranger = createPeerIdentity().identity.did;
  const parties: MessageParties = { from: side.peer.did, to: side.self, others: [stranger] };
  return {
    name: `${side.name} messages`,
    arbitrary: messageCase,
    async prepare(c) {
      const body = await seal(side, plaintextOf(buildMutatedMessage(side.seeds, parties, c, Math.floor(Date.now() / 1000)), c));
      return () => side.post(side.path, { method: 'POST', headers: MEDIA, body });
    },
    snapshot: side.snapshot,
    version: side.version,
    quiet: () => requestsInFlight() === 0,
    alive: () => aliveCheck(side),
  };
}

interface Store {
  snapshot(): Promise<unknown>;
  version(): number;
}

function apiTarget(name: string, apiRoutes: ApiRoute[], post: (path: string, init: RequestInit) => Promise<Response>, auth: Record<string, string>, store: Store, alivePath: string): FuzzTarget<ApiCase> {
  return {
    name,
    arbitrary: apiCase,
    version: store.version,
    async prepare(c) {
      const request = buildApiRequest(apiRoutes, c);
      return () => post(request.url, { method: request.method, headers: { ...request.headers, ...auth }, ...(request.body !== undefined ? { body: bodyOf(request.body) } : {}) });
    },
    snapshot: store.snapshot,
    quiet: () => requestsInFlight() === 0,
    async alive() {
      const response = await post(alivePath, { headers: auth });
      if (response.status !== 200) throw new Error(`${name}: GET ${alivePath} got ${response.status} ${await response.text()}`);
      await response.body?.cancel();
    },
  };
}

/** Every target, over `transport`. */
export async function fuzzTargets(world: FuzzWorld, transport: Transport): Promise<FuzzTarget<unknown>[]> {
  const { company, personal, link } = world.pair;
  const companyStore: Store = { snapshot: () => company.snapshot(), version: world.versions.company };
  const herStore: Store = { snapshot: async () => personal.snapshot(), version: world.versions.her };
  const companySide: DidcommSide = {
    name: `company POST /didcomm (${transport})`,
    path: '/didcomm',
    post: sender(world.companyApp, company.url, transport),
    peer: world.her,
    self: company.did,
    seeds: messageSeeds('vendor'),
    ...companyStore,
  };
  const herSide: DidcommSide = {
    name: `her POST /didcomm/<route> (${transport})`,
    path: `/didcomm/${link.record.routeToken}`,
    post: sender(world.localApp, personal.url, transport),
    peer: company.identity,
    self: link.record.myDid,
    seeds: messageSeeds('customer'),
    ...herStore,
  };
  const localRoutes = localApiRoutes({
    relationshipId: link.view.id,
    spareRelationshipId: world.spare.view.id,
    invitationUrl: company.agent.invitationUrl(),
    directoryUrl: `${company.url}${COMPANY_DESCRIPTION_PATH}`,
  });
  const adminRoutes = adminApiRoutes({ relationshipId: link.companyRelationship.id });
  // In process the Host header is ours to set (the local API checks it); over a socket fetch sets it.
  const herHost: Record<string, string> = transport === 'app' ? { host: `127.0.0.1:${personal.port}` } : {};
  const targets = [
    await envelopeTarget(companySide),
    messageTarget(companySide),
    await envelopeTarget(herSide),
    messageTarget(herSide),
    apiTarget(`her local API (${transport})`, localRoutes, sender(world.localApp, personal.url, transport), { authorization: `Bearer ${personal.token}`, ...herHost }, herStore, '/api/status'),
    apiTarget(`company admin API (${transport})`, adminRoutes, sender(world.companyApp, company.url, transport), { authorization: `Bearer ${company.adminToken}` }, companyStore, '/admin/relationships'),
  ];
  return targets as unknown as FuzzTarget<unknown>[];
}
