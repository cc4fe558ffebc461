/**
 * Security properties seen from outside, with real agents over real HTTP:
 * (a) nothing personal and no private key reaches her vault file (or its WAL) or any log;
 * (b) two companies pooling everything they received share no identifier of her;
 * (c) her local API is hers alone, while her DIDComm endpoint is open to verified messages; her
 *     browser session's cookie, which her browser shows to every other port of 127.0.0.1, is no
 *     use without the session key only her page holds.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Demand } from '../../src/protocol/families/intent.js';
import { systemClock } from '../../src/core/clock.js';
import { agreementKeyOf, signingKeyOf, type LocalIdentity } from '../../src/protocol/agent/identity.js';
import { resolvePeer } from '../../src/protocol/agent/peer.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { decodeMultikey } from '../../src/protocol/did/keysFromDocument.js';
import { createDidResolver } from '../../src/protocol/did/resolver.js';
import { fastEngine } from '../../src/protocol/envelope/fastEngine.js';
import { packMessage } from '../../src/protocol/envelope/pack.js';
import { receiveMessage } from '../../src/protocol/envelope/receive.js';
import { BasicMessage, createMessageRegistry } from '../../src/protocol/families/index.js';
import { AGREEMENT_RECORD_TYPE } from '../../src/protocol/terms/agreementRecord.js';
import { BUNDLED_ROSTER_PATH } from '../../src/protocol/terms/roster.js';
import { SESSION_KEY_HEADER } from '../../src/personal/http/apiContract.js';
import { sessionCookieName } from '../../src/personal/http/localApi.js';
import {
  connect,
  herIdentity,
  postEnvelopeRaw,
  startPersonal,
  startCompany,
  type Link,
  type PersonalHandle,
  type CompanyHandle,
} from '../support/agents.js';

const resolver = createDidResolver();

async function companyMessageTo(company: CompanyHandle, herDid: string, content: string): Promise<string> {
  const recipient = await resolvePeer(resolver, herDid);
  const message = buildMessage({ type: BasicMessage.message.type, from: company.did, to: herDid, body: { content } }, systemClock);
  return packMessage({ message, signer: signingKeyOf(company.identity), recipients: [recipient.agreementKey] });
}

function corruptTag(packed: string): string {
  const jwe = JSON.parse(packed) as { tag: string };
  const tag = Buffer.from(jwe.tag, 'base64url');
  tag[0] = (tag[0] ?? 0) ^ 0xff;
  return JSON.stringify({ ...jwe, tag: tag.toString('base64url') });
}

/** The did:peer:2 key elements (`z6LS…`, `z6Mk…`): a log could name a key without its DID prefix. */
function didKeyParts(did: string): string[] {
  return did
    .split('.')
    .slice(1)
    .filter((element) => element.startsWith('E') || element.startsWith('V'))
    .map((element) => element.slice(1));
}

describe('nothing personal and no private key reaches her vault file, its WAL or the logs', () => {
  const HER_TEXT = 'Ada Lovelace lives at 12 Analytical Way';
  const HER_SECOND_TEXT = 'Please send the Bernoulli tables to Ada at 12 Analytical Way';
  const COMPANY_TEXT = 'Dear Ada, your Difference Engine order 4471 ships on Tuesday';
  const WHILE_DOWN_TEXT = 'While you were away, Countess Lovelace, invoice 9932 arrived';
  const WHILE_MUTED_TEXT = 'A muted note for Ada about the Jacquard loom punch cards';
  const COMPANY_NAME = 'Babbage Difference Engines Plc';

  let company: CompanyHandle;
  let personal: PersonalHandle;
  let links: Link[];
  const privateDs: string[] = [];

  beforeAll(async () => {
    company = await startCompany({ name: COMPANY_NAME });
    personal = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    // Two relationships with the same company: one she cuts off, one she keeps.
    links = [await connect(personal, company), await connect(personal, company)];
    const [kept, ended] = links as [Link, Link];

    for (const link of links) {
      await personal.agent.sendMessage(link.view.id, HER_TEXT);
      await company.agent.sendMessage(link.companyRelationship.id, COMPANY_TEXT);
    }
    await personal.agent.sendMessage(kept.view.id, HER_SECOND_TEXT);

    // Refusals are logged too: give both agents something to refuse.
    expect((await postEnvelopeRaw(personal.didcommUrl(kept.view.id), corruptTag(await companyMessageTo(company, kept.record.myDid, COMPANY_TEXT)))).status).toBe(400);
    expect((await postEnvelopeRaw(company.didcommUrl, `${HER_TEXT} is not an envelope`)).status).toBe(400);

    // Her agent is down: the company's push fails and is retried, then she picks it up.
    await personal.stop();
    expect((await company.agent.sendMessage(kept.companyRelationship.id, WHILE_DOWN_TEXT)).delivered).toBe(false);
    await personal.start();
    expect((await personal.agent.pickup()).received).toBe(1);

    // Mute: the company holds its message; her pickup keeps it held; unmute shows it.
    await personal.agent.mute(kept.view.id);
    expect((await company.agent.sendMessage(kept.companyRelationship.id, WHILE_MUTED_TEXT)).delivered).toBe(false);
    await personal.agent.pickup();
    await personal.agent.unmute(kept.view.id);
    expect(personal.agent.messages(kept.view.id).map((m) => m.content)).toContain(WHILE_MUTED_TEXT);

    for (const key of personal.vault.keys.list()) privateDs.push(key.privateJwk.d);
    expect(privateDs).toHaveLength(4);
    await personal.agent.cutOff(ended.view.id);
  });

  afterAll(async () => {
    await personal?.cleanup();
    await company?.cleanup();
  });

  const vaultFiles = () => ['', '-wal', '-shm'].map((suffix) => `${personal.vaultPath}${suffix}`).filter((file) => existsSync(file));

  function personalNeedles(): string[] {
    return [
      HER_TEXT,
      HER_SECOND_TEXT,
      COMPANY_TEXT,
      WHILE_DOWN_TEXT,
      WHILE_MUTED_TEXT,
      'Ada Lovelace',
      '12 Analytical Way',
      ...privateDs,
      ...links.flatMap((link) => [link.record.myDid, ...didKeyParts(link.record.myDid), link.record.routeToken, link.companyRelationship.customerRef]),
    ];
  }

  /** Every needle found in the file as UTF-8 or UTF-16, and every private key found as raw bytes. */
  function leaksIn(file: string, needles: string[]): string[] {
    const bytes = readFileSync(file);
    const found = new Set<string>();
    for (const needle of needles) {
      for (const encoding of ['utf8', 'utf16le'] as const) {
        if (bytes.includes(Buffer.from(needle, encoding))) found.add(`${needle} (${encoding})`);
      }
    }
    for (const d of privateDs) if (bytes.includes(Buffer.from(d, 'base64url'))) found.add(`raw private key ${d.slice(0, 6)}…`);
    return [...found];
  }

  it('keeps the messages, her DIDs, route tokens, private keys and the company’s name out of the vault file and its WAL', () => {
    const files = vaultFiles();
    expect(files).toContain(personal.vaultPath);
    for (const file of files) expect({ file, leaks: leaksIn(file, [...personalNeedles(), COMPANY_NAME]) }).toEqual({ file, leaks: [] });
  });

  it('writes logs that name events but never the messages, her DIDs or her private keys', () => {
    const personalLog = readFileSync(personal.logPath, 'utf8');
    const companyLog = readFileSync(company.logPath, 'utf8');
    // The logs are not empty: connections, messages, refusals and retries were all logged.
    expect(personalLog).toContain('relationship_connected');
    expect(personalLog).toContain('relationship_cut_off');
    expect(companyLog).toContain('message_received');
    expect(companyLog).toContain('message_rejected');
    expect(companyLog).toContain('outbox_retry_scheduled');
    expect(leaksIn(personal.logPath, [...personalNeedles(), COMPANY_NAME])).toEqual([]);
    // The company may log its own name; nothing of hers.
    expect(leaksIn(company.logPath, personalNeedles())).toEqual([]);
  });

  it('still keeps all of it out of the vault file once the vault is closed and its WAL checkpointed', async () => {
    await personal.stop();
    personal.vault.close();
    const files = vaultFiles();
    expect(files).toContain(personal.vaultPath);
    for (const file of files) expect({ file, leaks: leaksIn(file, [...personalNeedles(), COMPANY_NAME]) }).toEqual({ file, leaks: [] });
  });
});

/** Protocol constants every DIDComm agent sends: shared by design, they say nothing about her. */
const PROTOCOL_NOISE = [/^https:\/\/didcomm\.org\//, /^https:\/\/kith\.invalid\//, /^application\//, /^https:\/\/www\.w3\.org\//, /^https:\/\/w3id\.org\//];
const ALGORITHMS = new Set(['ECDH-ES+A256KW', 'A256CBC-HS512', 'A256GCM', 'EdDSA', 'Ed25519', 'X25519', 'DIDCommMessaging']);
/**
 * The public roster's own words (agreement ids, purposes, text hashes) and the agreement record's
 * type: every proffer of the same agreement quotes them. What she proffers is shared by everyone
 * who proffers it, as the wording of an intent is.
 */
const ROSTER_CONSTANTS = new Set<string>([AGREEMENT_RECORD_TYPE]);
/**
 * A moment (an agreement's agreedAt): two casts in the same millisecond carry the same one. When
 * she acts is seen by every company anyway (a request arrives when it arrives); it names no one.
 */
const MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
collectStrings(JSON.parse(readFileSync(BUNDLED_ROSTER_PATH, 'utf8')), ROSTER_CONSTANTS);

function isProtocolNoise(value: string): boolean {
  return ALGORITHMS.has(value) || ROSTER_CONSTANTS.has(value) || MOMENT.test(value) || PROTOCOL_NOISE.some((pattern) => pattern.test(value));
}

/**
 * A base64url string that only encodes protocol constants, such as the protected header
 * `{"typ":"application/didcomm-signed+json","alg":"EdDSA"}` that every Kith JWS carries.
 */
function isEncodedConstant(value: string): boolean {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(value)) return false;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  const leaves: string[] = [];
  const walk = (node: unknown): void => {
    if (typeof node === 'string') leaves.push(node);
    else if (typeof node === 'object' && node !== null) for (const inner of Object.values(node)) walk(inner);
  };
  walk(decoded);
  return typeof decoded === 'object' && decoded !== null && leaves.every((leaf) => leaf.length < 16 || isProtocolNoise(leaf));
}

/**
 * Every string in `value`, recursively, plus the parts an analyst would split it into: JSON inside
 * strings, base64url that decodes to JSON (JWE/JWS headers and payloads), DID URLs split at `#`,
 * did:peer:2 split into its elements with keys decoded to their JWK `x` and services to their JSON,
 * and URLs split into origin and path segments.
 */
function collectStrings(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectStrings(item, out);
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) collectStrings(inner, out);
    return;
  }
  if (typeof value !== 'string' || out.has(value)) return;
  out.add(value);
  const text = value.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      collectStrings(JSON.parse(text) as unknown, out);
    } catch {
      // not JSON after all
    }
  }
  if (/^[A-Za-z0-9_-]{16,}$/.test(value)) {
    const decoded = Buffer.from(value, 'base64url').toString('utf8');
    if (decoded.startsWith('{')) {
      try {
        collectStrings(JSON.parse(decoded) as unknown, out);
      } catch {
        // random bytes that happened to start with "{"
      }
    }
  }
  if (value.includes('#')) for (const part of value.split('#')) collectStrings(part, out);
  if (value.startsWith('did:peer:2.')) {
    for (const element of value.slice('did:peer:2.'.length).split('.')) {
      out.add(element);
      const body = element.slice(1);
      out.add(body);
      const key = decodeMultikey(body);
      if (key) out.add(key.x);
      if (element.startsWith('S')) collectStrings(Buffer.from(body, 'base64url').toString('utf8'), out);
    }
  }
  if (/^https?:\/\//.test(value) && !isProtocolNoise(value)) {
    try {
      const url = new URL(value);
      out.add(url.origin);
      for (const segment of url.pathname.split('/')) if (segment) out.add(segment);
    } catch {
      // not a URL
    }
  }
}

const INTENT_DEMAND: Demand = { '@type': 'Demand', description: 'Waterproof trail shoes, size 39', category: 'clothing', priceSpecification: { maxPrice: '150', priceCurrency: 'EUR' } };
const INTENT_OUTCOME = 'Dry feet on winter hikes in the Alps';

describe('two companies pooling everything they received share no identifier of her', () => {
  let personal: PersonalHandle;
  let companies: [CompanyHandle, CompanyHandle];
  let links: [Link, Link];

  beforeAll(async () => {
    personal = await startPersonal();
    // Both answer intents for goods, so her directory finds them for an anonymous cast too.
    const answersGoods = { terms: { accept: ['intent-only-contact', 'service-only'] }, intents: { categories: ['goods' as const] } };
    companies = [await startCompany({ name: 'Northwind Energy', policy: answersGoods }), await startCompany({ name: 'Bluebird Books', policy: answersGoods })];
    links = [await connect(personal, companies[0]), await connect(personal, companies[1])];
    for (const [index, company] of companies.entries()) {
      const link = links[index]!;
      await personal.agent.sendMessage(link.view.id, `My meter reading for company ${index} is 0${index}4711`);
      await company.agent.sendMessage(link.companyRelationship.id, `Thanks, reading ${index} received`);
      await personal.agent.ping(link.view.id);
      await personal.agent.mute(link.view.id);
      await company.agent.sendMessage(link.companyRelationship.id, `Held note ${index}`);
      await personal.agent.unmute(link.view.id);
    }
    await personal.agent.pickup();
    // One intent cast to both: each gets its own intent id, message ids and signatures; only her wording is common.
    await personal.agent.intents.cast({ demand: INTENT_DEMAND, outcome: INTENT_OUTCOME, expiresAt: Date.now() + 86_400_000 });
    // And one cast anonymously to both, found in her directory: each from a fresh pairwise DID proffering her terms.
    for (const company of companies) await personal.agent.directory.add(company.url);
    const anonymous = await personal.agent.intents.cast({ demand: INTENT_DEMAND, outcome: INTENT_OUTCOME, expiresAt: Date.now() + 86_400_000, anonymous: true });
    expect(anonymous.recipients.map((r) => r.anonymous)).toEqual([true, true]);
  });

  afterAll(async () => {
    await personal?.cleanup();
    for (const company of companies ?? []) await company?.cleanup();
  });

  /** All a company holds: its store, plus every envelope it received, decrypted with its own key. */
  async function everythingHeldBy(company: CompanyHandle): Promise<Set<string>> {
    const out = new Set<string>();
    collectStrings(await company.snapshot(), out);
    expect(company.inbound.length).toBeGreaterThan(5);
    for (const packed of company.inbound) {
      collectStrings(packed, out);
      const received = await receiveMessage(packed, {
        maxBytes: 10 * 1024 * 1024,
        engine: fastEngine,
        resolver,
        registry: createMessageRegistry(),
        clock: systemClock,
        clockSkewMs: 24 * 60 * 60 * 1000,
        findRecipientKey: (kid) => (kid === company.identity.agreement.kid ? agreementKeyOf(company.identity) : undefined),
        hasSeen: () => false,
      });
      collectStrings(received.message, out);
      collectStrings(received.signedJws, out);
      out.add(received.signerKid);
    }
    return out;
  }

  function identifierLike(strings: Set<string>): Set<string> {
    // Both companies reach her agent at the same loopback address (`http://127.0.0.1:<port>`): in
    // this one-machine test that is the network address both necessarily connect to, as a real
    // deployment shares an IP or relay host; it is not an identifier Kith issued. Her endpoints
    // differ below it, by route token.
    const sharedNetworkAddress = personal.url;
    return new Set(
      [...strings].filter((s) => s.length >= 16 && s !== sharedNetworkAddress && !isProtocolNoise(s) && !isEncodedConstant(s)),
    );
  }

  it('gives each company its own DID, keys, route token and endpoint', () => {
    const [a, b] = links.map((link) => herIdentity(personal, link.view.id)) as [LocalIdentity, LocalIdentity];
    const [recordA, recordB] = links.map((link) => link.record);
    expect(a.did).not.toBe(b.did);
    expect(a.signing.kid).not.toBe(b.signing.kid);
    expect(a.agreement.kid).not.toBe(b.agreement.kid);
    expect(a.signing.publicJwk.x).not.toBe(b.signing.publicJwk.x);
    expect(a.agreement.publicJwk.x).not.toBe(b.agreement.publicJwk.x);
    expect(recordA!.routeToken).not.toBe(recordB!.routeToken);
    const endpoints = links.map((link) => {
      const strings = new Set<string>();
      collectStrings(link.record.myDid, strings);
      return [...strings].filter((s) => s.startsWith(`${personal.url}/didcomm/`));
    });
    expect(endpoints[0]).toEqual([`${personal.url}/didcomm/${recordA!.routeToken}`]);
    expect(endpoints[1]).toEqual([`${personal.url}/didcomm/${recordB!.routeToken}`]);
  });

  it('leaves no identifier-like string in common between what the two companies hold', async () => {
    const [heldA, heldB] = [identifierLike(await everythingHeldBy(companies[0])), identifierLike(await everythingHeldBy(companies[1]))];
    // The collections are rich: each holds her pairwise DID for it, its parts, and the route in it.
    const [a, b] = links.map((link) => herIdentity(personal, link.view.id)) as [LocalIdentity, LocalIdentity];
    for (const [held, mine, other, link] of [
      [heldA, a, b, links[0]],
      [heldB, b, a, links[1]],
    ] as const) {
      expect(held).toContain(mine.did);
      expect(held).toContain(mine.signing.kid);
      expect(held).toContain(mine.signing.publicJwk.x);
      expect(held).toContain(mine.agreement.publicJwk.x);
      expect(held).toContain(link.record.routeToken);
      expect(held).toContain(`${personal.url}/didcomm/${link.record.routeToken}`);
      expect(held).not.toContain(other.did);
      expect(held).not.toContain(other.signing.publicJwk.x);
      expect(held).not.toContain(other.agreement.publicJwk.x);
    }
    // Each holds both intents cast to it (over the relationship, and anonymously), under ids the other does not hold.
    const intentIds = await Promise.all(companies.map(async (company) => (await company.store.listReceivedIntents()).map((i) => i.id)));
    expect(intentIds.map((ids) => ids.length)).toEqual([2, 2]);
    for (const id of intentIds[0]!) {
      expect(heldA).toContain(id);
      expect(heldB).not.toContain(id);
    }
    // The anonymous casts came from DIDs of hers that neither company can tie to the other's, nor to her relationship with it.
    const anonymousDids = await Promise.all(companies.map(async (company, index) => (await company.store.listRelationships()).map((r) => r.theirDid).filter((did) => did !== links[index]!.record.myDid)));
    expect(anonymousDids.map((dids) => dids.length)).toEqual([1, 1]);
    expect(heldB).not.toContain(anonymousDids[0]![0]);
    expect(heldA).not.toContain(anonymousDids[1]![0]);
    // What is common is her wording, by design (docs/protocol/intent.md): nothing Kith issued.
    const [castA] = await companies[0].store.listReceivedIntents();
    const wording = new Set([INTENT_DEMAND.description, INTENT_OUTCOME, castA!.demand.validThrough]);
    const common = [...heldA].filter((s) => heldB.has(s) && !wording.has(s));
    expect(common).toEqual([]);
  });
});

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: { error?: { code?: string } } & Record<string, unknown>;
}

/** A raw node:http request, so the Host header can be anything. */
function rawRequest(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: RawResponse['body'] = {};
        try {
          body = JSON.parse(text) as RawResponse['body'];
        } catch {
          // empty or not JSON
        }
        resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

describe('her local API answers only her, while her DIDComm endpoint needs no token', () => {
  let company: CompanyHandle;
  let personal: PersonalHandle;
  let link: Link;
  let host: string;

  beforeAll(async () => {
    company = await startCompany();
    personal = await startPersonal();
    link = await connect(personal, company);
    host = `127.0.0.1:${personal.port}`;
  });
  afterAll(async () => {
    await personal?.cleanup();
    await company?.cleanup();
  });

  it('answers 401 api.unauthorized without the token', async () => {
    const response = await rawRequest(personal.port, '/api/status', { headers: { host } });
    expect([response.status, response.body.error?.code]).toEqual([401, 'api.unauthorized']);
  });

  it('answers 401 api.unauthorized to a wrong token', async () => {
    const response = await rawRequest(personal.port, '/api/relationships', { headers: { host, authorization: 'Bearer not-the-token' } });
    expect([response.status, response.body.error?.code]).toEqual([401, 'api.unauthorized']);
  });

  it('answers 403 api.forbidden_origin to a foreign Origin even with the right token', async () => {
    for (const origin of ['https://evil.example', 'http://127.0.0.1:1', `http://evil.example:${personal.port}`]) {
      const response = await rawRequest(personal.port, '/api/relationships', { headers: { host, origin, authorization: `Bearer ${personal.token}` } });
      expect({ origin, status: response.status, code: response.body.error?.code }).toEqual({ origin, status: 403, code: 'api.forbidden_origin' });
    }
  });

  it('answers 403 api.forbidden_host to a foreign Host (DNS rebinding) even with the right token', async () => {
    for (const foreignHost of ['evil.example', `evil.example:${personal.port}`, '127.0.0.1:1']) {
      const response = await rawRequest(personal.port, '/api/relationships', { headers: { host: foreignHost, authorization: `Bearer ${personal.token}` } });
      expect({ foreignHost, status: response.status, code: response.body.error?.code }).toEqual({ foreignHost, status: 403, code: 'api.forbidden_host' });
    }
  });

  it('answers 200 with the right token, Host and Origin', async () => {
    for (const allowed of [host, `localhost:${personal.port}`]) {
      const response = await rawRequest(personal.port, '/api/relationships', {
        headers: { host: allowed, origin: `http://${allowed}`, authorization: `Bearer ${personal.token}` },
      });
      expect(response.status).toBe(200);
      expect((response.body['relationships'] as { id: string }[]).map((r) => r.id)).toEqual([link.view.id]);
    }
  });

  it('a session cookie leaked to another local server and replayed with a forged Host and Origin gets 401 api.session_key_required: no message is sent', async () => {
    const origin = `http://${host}`;
    const signIn = await rawRequest(personal.port, '/api/session', {
      method: 'POST',
      headers: { host, origin, 'content-type': 'application/json' },
      body: JSON.stringify({ token: personal.token }),
    });
    expect(signIn.status).toBe(200);
    const name = sessionCookieName(personal.port);
    const cookie = (signIn.headers['set-cookie'] ?? []).map((line) => new RegExp(`^${name}=([^;]+)`).exec(line)?.[1]).find(Boolean);
    expect(cookie).toBeDefined();
    const sessionKey = signIn.body['sessionKey'] as string;
    // Her browser sends the cookie (not the key) to whatever listens on any port of 127.0.0.1.
    const leaked = { host, origin, cookie: `${name}=${cookie}`, 'content-type': 'application/json' };
    const before = personal.agent.messages(link.view.id).length;
    const vaultBefore = personal.snapshot();
    const post = (headers: Record<string, string>) =>
      rawRequest(personal.port, `/api/relationships/${link.view.id}/messages`, { method: 'POST', headers, body: JSON.stringify({ content: 'posted by a thief' }) });
    const replayed = await post(leaked);
    expect([replayed.status, replayed.body.error?.code]).toEqual([401, 'api.session_key_required']);
    expect(personal.agent.messages(link.view.id)).toHaveLength(before);
    expect(personal.snapshot()).toEqual(vaultBefore);
    // The cookie with her page's key is her: the same call goes through.
    const fromHerPage = await post({ ...leaked, [SESSION_KEY_HEADER]: sessionKey });
    expect(fromHerPage.status).toBe(201);
    expect(personal.agent.messages(link.view.id)).toHaveLength(before + 1);
  });

  it('accepts a verified company message on her DIDComm endpoint without any token', async () => {
    const packed = await companyMessageTo(company, link.record.myDid, 'no token needed for this');
    const response = await rawRequest(personal.port, `/didcomm/${link.record.routeToken}`, {
      method: 'POST',
      headers: { host, 'content-type': 'application/didcomm-encrypted+json' },
      body: packed,
    });
    expect(response.status).toBe(202);
    expect(personal.agent.messages(link.view.id).map((m) => m.content)).toContain('no token needed for this');
  });
});
