import type { KeyObject } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.js';
import { KithError, MessageError, RelationshipError, TransportError } from '../core/errors.js';
import { newToken } from '../core/ids.js';
import { silentLogger, type Logger } from '../core/log.js';
import { createPeerIdentity, agreementKeyOf, signingKeyOf, type LocalIdentity } from '../protocol/agent/identity.js';
import { resolvePeer } from '../protocol/agent/peer.js';
import { isAlreadyDelivered, postEnvelope } from '../protocol/agent/transport.js';
import { buildMessage } from '../protocol/buildMessage.js';
import { createDidResolver } from '../protocol/did/resolver.js';
import { didOf, type DidResolver } from '../protocol/did/types.js';
import type { EnvelopeEngine, RecipientPrivateKey } from '../protocol/envelope/engine.js';
import { fastEngine } from '../protocol/envelope/fastEngine.js';
import { packMessage } from '../protocol/envelope/pack.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, receiveMessage, type ReceiveContext, type ReceivedMessage } from '../protocol/envelope/receive.js';
import { BasicMessage, Connect, Pickup, Relationship, TrustPing, createMessageRegistry } from '../protocol/families/index.js';
import { parseInvitation } from '../protocol/families/outOfBand.js';
import type { DidcommMessage } from '../protocol/message.js';
import { privateKeyObject } from '../protocol/keys.js';
import { nextAttemptDelay, DEFAULT_RETRY, type RetryPolicy } from '../core/retry.js';
import type { AgentCore, ExchangeOptions } from './core.js';
import { createCredentialsFeature, type CredentialsFeature } from './credentials.js';
import { createDisclosureFeature, type DisclosureFeature } from './disclosure/disclosure.js';
import { AgentEvents } from './events.js';
import { applyPersonalInbound } from './inbound.js';
import { createProfileFeature, type ProfileFeature } from './profile/fanout.js';
import { createTermsFeature, type TermsFeature, type TermsPreview } from './terms.js';
import { loadRosterSet, type RosterSet } from '../protocol/terms/rosterSet.js';
import { toMessageView, toRelationshipView, type MessageView, type ReceiptView, type RelationshipView } from './views.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';
import type { Vault } from './vault/vault.js';

export interface PersonalAgentOptions {
  vault: Vault;
  /** Base URL companies push to; each relationship gets its own path `<base>/didcomm/<route>`. A function, because the port may be known only once listening. */
  inboundBaseUrl: () => string;
  clock?: Clock;
  resolver?: DidResolver;
  engine?: EnvelopeEngine;
  maxMessageBytes?: number;
  clockSkewMs?: number;
  logger?: Logger;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
  /** How many companies a profile change is sent to at once. */
  fanoutConcurrency?: number;
  /** The terms rosters she knows; default the bundled roster (loaded on first use). */
  rosters?: RosterSet;
}

const DEFAULT_FANOUT_CONCURRENCY = 32;

export interface ConnectPreview {
  invitation: { id: string; from: string; goal: string | null };
  company: { did: string; endpoint: string | null };
  terms: TermsPreview;
}

export interface SendOutcome {
  messageId: string;
  status: 'sent' | 'queued';
}

/** The personal agent: her side of every relationship. HTTP lives in http/localApi.ts. */
export interface PersonalAgent {
  readonly vault: Vault;
  /** Progress and arrivals, for the UI (server-sent events) and the CLI's progress bar. */
  readonly events: AgentEvents;
  /** Requests from companies, her answers, and the consent records of both. */
  readonly disclosure: DisclosureFeature;
  /** Her terms: defaults, proffers, the company's answers, her rule for counters, the records. */
  readonly terms: TermsFeature;
  /** Her profile and the change-once-everywhere fan-out. */
  readonly profile: ProfileFeature;
  /** SD-JWT VCs others issued her. */
  readonly credentials: CredentialsFeature;
  /** Connects from a fresh pairwise DID; the company learns nothing else. */
  connect(invitation: string): Promise<RelationshipView>;
  /** What connecting would do (the company's DID and goal, the predicted answer to her terms); sends nothing. */
  previewConnect(invitation: string): Promise<ConnectPreview>;
  relationships(): RelationshipView[];
  /** By id, id prefix, or company name (case-insensitive). @throws RelationshipError `relationship.unknown` */
  relationship(reference: string): RelationshipView;
  messages(reference: string, options?: { includeHeld?: boolean }): MessageView[];
  sendMessage(reference: string, content: string): Promise<SendOutcome>;
  ping(reference: string): Promise<{ roundTripMs: number }>;
  mute(reference: string): Promise<RelationshipView>;
  unmute(reference: string): Promise<RelationshipView>;
  /** Terminates with an erasure request; keeps the signed receipt and destroys the pairwise keys. */
  cutOff(reference: string): Promise<ReceiptView>;
  receipts(reference?: string): ReceiptView[];
  /**
   * Fetches what companies queued while she was away (Message Pickup 3.0), one company after
   * another; an aborted `signal` stops it before the next company (the server's shutdown).
   */
  pickup(options?: { signal?: AbortSignal }): Promise<{ received: number; failed: number }>;
  /** Retries her queued outgoing messages that are due. */
  deliverOutbox(): Promise<number>;
  /** One message pushed to `<base>/didcomm/<route>`. */
  receivePushed(routeToken: string, packed: Uint8Array | string): Promise<{ reply: string | undefined }>;
}

const PICKUP_BATCH = 50;
const PICKUP_MAX_ROUNDS = 20;

/**
 * Rejections that judge the message itself (forged, malformed, expired, for a closed relationship):
 * fetching it again cannot change them, so it is confirmed and dropped. Anything else is ours.
 */
function isVerdictOnMessage(code: string): boolean {
  // did.not_found is the network failing to fetch a did:web document: worth another try.
  return code !== 'did.not_found' && /^(envelope|message|did|relationship)\./.test(code);
}

export function createPersonalAgent(options: PersonalAgentOptions): PersonalAgent {
  const { vault } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const engine = options.engine ?? fastEngine;
  const resolver = options.resolver ?? createDidResolver();
  const clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const transport = options.fetch ? { fetch: options.fetch } : {};
  const registry = createMessageRegistry();
  const keyObjects = new Map<string, KeyObject>();
  const events = new AgentEvents();

  function privateKeyFor(kid: string): KeyObject | undefined {
    const cached = keyObjects.get(kid);
    if (cached) return cached;
    const record = vault.keys.getByKid(kid);
    if (!record) return undefined;
    const key = privateKeyObject(record.privateJwk);
    keyObjects.set(kid, key);
    return key;
  }

  function receiveContext(extra?: LocalIdentity): ReceiveContext {
    return {
      maxBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      engine,
      resolver,
      registry,
      clock,
      clockSkewMs,
      findRecipientKey(kid): RecipientPrivateKey | undefined {
        if (extra && kid === extra.agreement.kid) return agreementKeyOf(extra);
        const key = privateKeyFor(kid);
        if (key) return { kid, privateKey: key };
        // Her keys for a cut-off relationship are gone; say so rather than "not for us".
        const relationship = vault.relationships.findByMyDid(didOf(kid));
        if (relationship?.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
        return undefined;
      },
      hasSeen: (id) => vault.seen.has(id),
    };
  }

  /**
   * Her identity per relationship, kept once built: decrypting two key rows and importing the keys
   * for every message cost more than signing it. A cut-off relationship's entry is dropped (its
   * keys are destroyed) and the lookup fails as before.
   */
  const identities = new Map<string, LocalIdentity>();
  function identityOf(relationship: RelationshipRecord): LocalIdentity {
    if (relationship.state === 'cut_off') {
      identities.delete(relationship.id);
    } else {
      const cached = identities.get(relationship.id);
      if (cached) return cached;
    }
    const identity = loadIdentity(relationship);
    if (relationship.state !== 'cut_off') identities.set(relationship.id, identity);
    return identity;
  }

  function loadIdentity(relationship: RelationshipRecord): LocalIdentity {
    const keys = vault.keys.listForRelationship(relationship.id);
    const signing = keys.find((k) => k.purpose === 'authentication');
    const agreement = keys.find((k) => k.purpose === 'keyAgreement');
    if (!signing || !agreement) throw new RelationshipError('relationship.cut_off', 'This relationship has no keys any more');
    return {
      did: relationship.myDid,
      signing: { kid: signing.kid, privateJwk: signing.privateJwk, publicJwk: signing.publicJwk },
      agreement: { kid: agreement.kid, privateJwk: agreement.privateJwk, publicJwk: agreement.publicJwk },
    };
  }

  function find(reference: string): RelationshipRecord {
    const all = vault.relationships.list();
    const exact = all.find((r) => r.id === reference);
    if (exact) return exact;
    const lower = reference.toLowerCase();
    const named = all.filter((r) => r.vendorName?.toLowerCase() === lower);
    // "acme" finds "Acme Outfitters": an id prefix or the start of the company's name.
    const matches = named.length > 0 ? named : all.filter((r) => r.id.startsWith(reference) || (lower.length > 0 && r.vendorName?.toLowerCase().startsWith(lower)));
    const live = matches.filter((r) => r.state !== 'cut_off');
    const chosen = matches.length === 1 ? matches[0] : live.length === 1 ? live[0] : undefined;
    if (!chosen) throw new RelationshipError('relationship.unknown', matches.length > 1 ? `"${reference}" matches several relationships` : `No relationship "${reference}"`);
    return chosen;
  }

  function requireLive(relationship: RelationshipRecord): void {
    if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
  }

  async function packFor(identity: LocalIdentity, theirDid: string, message: DidcommMessage): Promise<{ packed: string; endpoint: string }> {
    const peer = await resolvePeer(resolver, theirDid);
    if (!peer.endpoint) throw new TransportError('transport.unreachable', 'The company has no DIDComm endpoint');
    const packed = await packMessage({ message, signer: signingKeyOf(identity), recipients: [peer.agreementKey], engine });
    return { packed, endpoint: peer.endpoint };
  }

  /** Sends a message and, when the company answers on the same connection, receives and applies its reply. */
  async function exchange(
    relationship: RelationshipRecord,
    type: string,
    body: Record<string, unknown>,
    extras: ExchangeOptions = {},
  ): Promise<ReceivedMessage | undefined> {
    const identity = identityOf(relationship);
    const message = buildMessage(
      { type, from: identity.did, to: relationship.theirDid, body, ...(extras.returnRoute ? { returnRoute: 'all' as const } : {}), ...(extras.thid ? { thid: extras.thid } : {}), ...(extras.id ? { id: extras.id } : {}) },
      clock,
    );
    const { packed, endpoint } = await packFor(identity, relationship.theirDid, message);
    const { reply } = await postEnvelope(endpoint, packed, transport);
    if (!reply) return undefined;
    const received = await receiveMessage(reply, receiveContext());
    // A reply continues our thread: its thid is our message's thread (or the message itself).
    if ((received.message.thid ?? '') !== (message.thid ?? message.id)) throw new MessageError('message.unexpected', 'Reply belongs to another thread');
    await extras.before?.(received);
    const within = extras.within;
    applyPersonalInbound(received, vault, {
      now: clock.now(),
      clockSkewMs,
      expectedRelationshipId: relationship.id,
      ...(within ? { within: (r: RelationshipRecord) => within(received, r) } : {}),
    });
    return received;
  }

  async function processPushed(packed: Uint8Array | string, expectedRelationshipId?: string): Promise<{ reply: string | undefined; received: ReceivedMessage }> {
    const received = await receiveMessage(packed, receiveContext());
    const termsProffer = await terms.verifyInbound(received);
    const outcome = applyPersonalInbound(received, vault, {
      now: clock.now(),
      clockSkewMs,
      ...(expectedRelationshipId ? { expectedRelationshipId } : {}),
      ...(termsProffer ? { termsProffer } : {}),
    });
    logger.info('message_received', { type: received.message.type, relationship: outcome.relationship.id });
    if (outcome.notify) events.emit(outcome.notify);
    events.emit({ type: 'message.received', relationshipId: outcome.relationship.id, messageType: received.message.type });
    let reply: string | undefined;
    if (outcome.reply) {
      const identity = identityOf(outcome.relationship);
      // A problem report names the thread it is about (pthid); any other reply continues the thread.
      const thread = outcome.reply.aboutThread ? { pthid: received.message.thid ?? received.message.id } : { thid: received.message.id };
      const message = buildMessage({ type: outcome.reply.type, from: identity.did, to: received.senderDid, body: outcome.reply.body, ...thread }, clock);
      const target = await packFor(identity, received.senderDid, message);
      if (received.message.return_route === 'all') reply = target.packed;
      else void postEnvelope(target.endpoint, target.packed, transport).catch(() => undefined);
    }
    // A company proffer waits for her rule, which may answer the company: not on this request.
    if (termsProffer) void terms.settle(outcome.relationship).catch(() => undefined);
    return { reply, received };
  }

  async function pickupFrom(relationship: RelationshipRecord): Promise<{ received: number; failed: number }> {
    let received = 0;
    let failed = 0;
    let stalled = false;
    for (let round = 0; round < PICKUP_MAX_ROUNDS; round += 1) {
      const reply = await exchange(relationship, Pickup.deliveryRequest.type, { limit: PICKUP_BATCH, recipient_did: relationship.myDid }, { returnRoute: true });
      if (!reply || reply.message.type !== Pickup.delivery.type) break;
      const taken: string[] = [];
      for (const attachment of reply.message.attachments ?? []) {
        const id = attachment.id;
        if (!id) continue;
        try {
          await processPushed(JSON.stringify(attachment.data.json), relationship.id);
          received += 1;
        } catch (error) {
          const code = error instanceof KithError ? error.code : 'internal';
          // Already have it (it was pushed too): confirmed below so the company drops its copy.
          if (code !== 'message.replayed') {
            failed += 1;
            logger.warn('pickup_message_rejected', { relationship: relationship.id, code });
            // A failure of ours (vault, internal) may pass: leave the message with the company.
            if (!isVerdictOnMessage(code)) {
              stalled = true;
              continue;
            }
          }
        }
        taken.push(id);
      }
      if (taken.length === 0 || stalled) {
        if (taken.length > 0) await exchange(relationship, Pickup.messagesReceived.type, { message_id_list: taken });
        break;
      }
      await exchange(relationship, Pickup.messagesReceived.type, { message_id_list: taken });
    }
    return { received, failed };
  }

  async function sendOrQueue(relationship: RelationshipRecord, message: DidcommMessage): Promise<SendOutcome> {
    try {
      const { packed, endpoint } = await packFor(identityOf(relationship), relationship.theirDid, message);
      await postEnvelope(endpoint, packed, transport);
      return { messageId: message.id, status: 'sent' };
    } catch (error) {
      if (!(error instanceof TransportError && error.code === 'transport.unreachable')) throw error;
      vault.outbox.enqueue({ relationshipId: relationship.id, messageId: message.id, plaintext: message, nextAttemptAt: clock.now() + nextAttemptDelay(0, retry) });
      logger.info('message_queued', { relationship: relationship.id });
      return { messageId: message.id, status: 'queued' };
    }
  }

  function buildFrom(relationship: RelationshipRecord, type: string, body: Record<string, unknown>): DidcommMessage {
    return buildMessage({ type, from: relationship.myDid, to: relationship.theirDid, body }, clock);
  }

  const core: AgentCore = { vault, clock, logger, resolver, events, find, requireLive, identityOf, exchange };
  const disclosure = createDisclosureFeature(core);
  const profile = createProfileFeature(core, { retry, concurrency: options.fanoutConcurrency ?? DEFAULT_FANOUT_CONCURRENCY });
  const credentials = createCredentialsFeature(core);
  const terms = createTermsFeature(core, {
    pickup: (relationship) => pickupFrom(relationship),
    rosters: async () => options.rosters ?? loadRosterSet({ resolver }),
  });

  const agent: PersonalAgent = {
    vault,
    events,
    disclosure,
    profile,
    credentials,
    terms,

    async connect(text) {
      const invitation = parseInvitation(text);
      const vendor = await resolvePeer(resolver, invitation.from);
      if (!vendor.endpoint) throw new RelationshipError('invitation.invalid', 'The invitation’s DID has no DIDComm endpoint');
      const routeToken = newToken(16);
      const { identity } = createPeerIdentity(`${options.inboundBaseUrl().replace(/\/$/, '')}/didcomm/${routeToken}`);
      // Her default terms, if she set any, travel with the request as her signed proffer.
      const proffer = await terms.connectProffer(identity, invitation.from);
      const request = buildMessage(
        { type: Connect.request.type, from: identity.did, to: invitation.from, body: proffer ? { terms: { agreement: proffer } } : {}, pthid: invitation.id, returnRoute: 'all' },
        clock,
      );
      const packed = await packMessage({ message: request, signer: signingKeyOf(identity), recipients: [vendor.agreementKey], engine });
      // Nothing is written before the company answered: a failed connect leaves no trace.
      const { reply } = await postEnvelope(vendor.endpoint, packed, transport);
      const received = reply ? await receiveMessage(reply, receiveContext(identity)) : undefined;
      if (received && (received.message.type !== Connect.response.type || received.message.thid !== request.id)) {
        throw new MessageError('message.unexpected', 'The company did not answer with a connect response');
      }
      // The company's answer to her terms is checked before anything is stored, like the rest.
      const answer = received && proffer ? await terms.checkConnectAnswer(proffer, received.message.body['terms']) : undefined;
      const relationship = vault.transaction(() => {
        const record = vault.relationships.insert({
          myDid: identity.did,
          theirDid: invitation.from,
          vendorName: null,
          theirEndpoint: vendor.endpoint ?? null,
          routeToken,
          customerRef: null,
          invitationId: invitation.id,
          state: 'pending',
        });
        vault.keys.insert({ relationshipId: record.id, purpose: 'authentication', ...identity.signing });
        vault.keys.insert({ relationshipId: record.id, purpose: 'keyAgreement', ...identity.agreement });
        if (received) applyPersonalInbound(received, vault, { now: clock.now(), clockSkewMs, expectedRelationshipId: record.id });
        if (proffer && answer) terms.recordAnswer(record.id, proffer, answer);
        return vault.relationships.get(record.id) ?? record;
      });
      logger.info('relationship_connected', { relationship: relationship.id, state: relationship.state, terms: answer?.decision ?? 'none' });
      // A counter is judged by her rule now: accepted if at least as protective, else it waits for her.
      if (answer?.decision === 'countered') await terms.settle(relationship);
      return toRelationshipView(relationship, vault);
    },

    async previewConnect(text) {
      const invitation = parseInvitation(text);
      const vendor = await resolvePeer(resolver, invitation.from);
      const goal = typeof invitation.body?.goal === 'string' ? invitation.body.goal : null;
      return {
        invitation: { id: invitation.id, from: invitation.from, goal },
        company: { did: invitation.from, endpoint: vendor.endpoint ?? null },
        terms: await terms.preview(vendor.endpoint, options.fetch),
      };
    },

    relationships: () => vault.relationships.list().map((r) => toRelationshipView(r, vault)),
    relationship: (reference) => toRelationshipView(find(reference), vault),

    messages(reference, listOptions = {}) {
      const relationship = find(reference);
      return vault.messages.list(relationship.id, { includeHeld: listOptions.includeHeld ?? false }).map(toMessageView);
    },

    async sendMessage(reference, content) {
      const relationship = find(reference);
      requireLive(relationship);
      const body = BasicMessage.message.body.parse({ content }) as Record<string, unknown>;
      const message = buildFrom(relationship, BasicMessage.message.type, body);
      const record = vault.messages.insert({ relationshipId: relationship.id, direction: 'out', status: 'queued', messageId: message.id, type: message.type, body, createdAt: clock.now() });
      const outcome = await sendOrQueue(relationship, message);
      if (outcome.status === 'sent') vault.messages.setStatus(record.id, 'sent');
      return outcome;
    },

    async ping(reference) {
      const relationship = find(reference);
      requireLive(relationship);
      const started = performance.now();
      const reply = await exchange(relationship, TrustPing.ping.type, { response_requested: true }, { returnRoute: true });
      if (reply?.message.type !== TrustPing.pingResponse.type) throw new MessageError('message.unexpected', 'No ping response');
      return { roundTripMs: Math.round(performance.now() - started) };
    },

    async mute(reference) {
      const relationship = find(reference);
      requireLive(relationship);
      vault.relationships.setState(relationship.id, 'muted', clock.now());
      await sendOrQueue(relationship, buildFrom(relationship, Relationship.mute.type, {}));
      return toRelationshipView(find(relationship.id), vault);
    },

    async unmute(reference) {
      const relationship = find(reference);
      requireLive(relationship);
      vault.transaction(() => {
        vault.relationships.setState(relationship.id, 'active', clock.now());
        vault.messages.releaseHeld(relationship.id);
      });
      await sendOrQueue(relationship, buildFrom(relationship, Relationship.unmute.type, {}));
      return toRelationshipView(find(relationship.id), vault);
    },

    async cutOff(reference) {
      const relationship = find(reference);
      requireLive(relationship);
      const reply = await exchange(relationship, Relationship.terminate.type, { erasure_requested: true }, { returnRoute: true });
      if (reply?.message.type !== Relationship.erasureReceipt.type) {
        throw new MessageError('message.unexpected', 'The company did not return an erasure receipt');
      }
      keyObjects.clear();
      identities.delete(relationship.id);
      const [receipt] = vault.receipts.list(relationship.id).slice(-1);
      if (!receipt) throw new KithError('internal', 'Receipt was not stored');
      logger.info('relationship_cut_off', { relationship: relationship.id });
      return { id: receipt.id, relationshipId: relationship.id, kind: receipt.kind, body: receipt.body, jws: receipt.jws, createdAt: receipt.createdAt };
    },

    receipts(reference) {
      const relationshipId = reference === undefined ? undefined : find(reference).id;
      return vault.receipts.list(relationshipId).map((r) => ({ id: r.id, relationshipId: r.relationshipId, kind: r.kind, body: r.body, jws: r.jws, createdAt: r.createdAt }));
    },

    async pickup(pickupOptions = {}) {
      let received = 0;
      let failed = 0;
      for (const relationship of vault.relationships.list()) {
        if (pickupOptions.signal?.aborted) break;
        if (relationship.state !== 'active' && relationship.state !== 'muted') continue;
        try {
          const result = await pickupFrom(relationship);
          received += result.received;
          failed += result.failed;
        } catch (error) {
          logger.info('pickup_skipped', { relationship: relationship.id, code: error instanceof KithError ? error.code : 'internal' });
        }
      }
      return { received, failed };
    },

    async deliverOutbox() {
      let delivered = 0;
      for (const item of vault.outbox.due(clock.now(), 50)) {
        const relationship = vault.relationships.get(item.relationshipId);
        if (!relationship || relationship.state === 'cut_off') {
          vault.outbox.remove(item.id);
          continue;
        }
        try {
          const { packed, endpoint } = await packFor(identityOf(relationship), relationship.theirDid, item.plaintext as DidcommMessage);
          await postEnvelope(endpoint, packed, transport);
          delivered += 1;
        } catch (error) {
          if (!isAlreadyDelivered(error)) {
            vault.outbox.reschedule(item.id, clock.now() + nextAttemptDelay(item.attempts + 1, retry), item.attempts + 1);
            continue;
          }
        }
        vault.transaction(() => {
          vault.outbox.remove(item.id);
          const sent = vault.messages.findByMessageId(item.messageId);
          if (sent) vault.messages.setStatus(sent.id, 'sent');
        });
      }
      return delivered;
    },

    async receivePushed(routeToken, packed) {
      const relationship = vault.relationships.findByRouteToken(routeToken);
      if (!relationship) throw new RelationshipError('relationship.unknown', 'Unknown endpoint');
      const { reply } = await processPushed(packed, relationship.id);
      return { reply };
    },
  };
  return agent;
}
