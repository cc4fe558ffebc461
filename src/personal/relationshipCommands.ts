import { KithError, MessageError, RelationshipError } from '../core/errors.js';
import { newToken } from '../core/ids.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { createPeerIdentity, signingKeyOf } from '../protocol/agent/identity.js';
import { resolvePeer } from '../protocol/agent/peer.js';
import { postEnvelope } from '../protocol/agent/transport.js';
import { buildMessage, outgoing } from '../protocol/buildMessage.js';
import type { DidResolver } from '../protocol/did/types.js';
import type { EnvelopeEngine } from '../protocol/envelope/engine.js';
import { packMessage } from '../protocol/envelope/pack.js';
import { BasicMessage, Connect, Relationship, TrustPing } from '../protocol/families/index.js';
import { parseInvitation } from '../protocol/families/outOfBand.js';
import type { PersonalMessaging, SendOutcome } from './messaging.js';
import { findRelationship, requireLive } from './relationshipLookup.js';
import type { TermsFeature, TermsPreview } from './terms.js';
import { toMessageView, toRelationshipView, type MessageView, type ReceiptView, type RelationshipView } from './views.js';
import type { Vault } from './vault/vault.js';

export interface ConnectPreview {
  invitation: { id: string; from: string; goal: string | null };
  company: { did: string; endpoint: string | null };
  terms: TermsPreview;
}

/** What she does with her relationships as a whole: connect, talk, mute, cut off. */
export interface RelationshipCommands {
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
}

export interface RelationshipCommandsOptions {
  vault: Vault;
  messaging: PersonalMessaging;
  terms: TermsFeature;
  clock: Clock;
  logger: Logger;
  resolver: DidResolver;
  engine: EnvelopeEngine;
  /** Base URL companies push to; each relationship gets its own path `<base>/didcomm/<route>`. */
  inboundBaseUrl(): string;
  fetch?: typeof fetch | undefined;
}

/** The company's decision on her proffer, as the log names it, from the state of her proffer's record. */
function termsOutcome(state: string | undefined): string {
  return state === 'agreed' ? 'accepted' : (state ?? 'none');
}

export function createRelationshipCommands(options: RelationshipCommandsOptions): RelationshipCommands {
  const { vault, messaging, terms, clock, logger, resolver } = options;
  const transport = options.fetch ? { fetch: options.fetch } : {};
  const find = (reference: string) => findRelationship(vault, reference);

  return {
    async connect(text) {
      const invitation = parseInvitation(text);
      const company = await resolvePeer(resolver, invitation.from);
      if (!company.endpoint) throw new RelationshipError('invitation.invalid', 'The invitation’s DID has no DIDComm endpoint');
      const routeToken = newToken(16);
      const { identity } = createPeerIdentity(`${options.inboundBaseUrl().replace(/\/$/, '')}/didcomm/${routeToken}`);
      // Her default terms, if she set any, travel with the request as her signed proffer.
      const proffer = await terms.connectProffer(identity, invitation.from);
      const request = buildMessage(
        { type: Connect.request.type, from: identity.did, to: invitation.from, body: proffer ? { terms: { agreement: proffer } } : {}, pthid: invitation.id, returnRoute: 'all' },
        clock,
      );
      const packed = await packMessage({ message: request, signer: signingKeyOf(identity), recipients: [company.agreementKey], engine: options.engine });
      // Nothing is written before the company answered: a failed connect leaves no trace.
      const { reply } = await postEnvelope(company.endpoint, packed, transport);
      const received = reply ? await messaging.receive(reply, identity) : undefined;
      if (received && (received.message.type !== Connect.response.type || received.message.thid !== request.id)) {
        throw new MessageError('message.unexpected', 'The company did not answer with a connect response');
      }
      // The response's handler checks the company's answer to her terms before anything is stored.
      const response = received ? await messaging.check(received, request) : undefined;
      const { relationship, effect } = vault.transaction(() => {
        const record = vault.relationships.insert({
          myDid: identity.did,
          theirDid: invitation.from,
          vendorName: null,
          theirEndpoint: company.endpoint ?? null,
          routeToken,
          customerRef: null,
          invitationId: invitation.id,
          state: 'pending',
        });
        vault.keys.insert({ relationshipId: record.id, purpose: 'authentication', ...identity.signing });
        vault.keys.insert({ relationshipId: record.id, purpose: 'keyAgreement', ...identity.agreement });
        const applied = response ? messaging.apply(response, { expectedRelationshipId: record.id }) : undefined;
        return { relationship: vault.relationships.get(record.id) ?? record, effect: applied };
      });
      logger.info('relationship_connected', { relationship: relationship.id, state: relationship.state, terms: proffer ? termsOutcome(vault.agreements.get(proffer.record.id)?.state) : 'none' });
      if (response && effect) await messaging.finish(response, { ...effect, relationship });
      return toRelationshipView(vault.relationships.get(relationship.id) ?? relationship, vault);
    },

    async previewConnect(text) {
      const invitation = parseInvitation(text);
      const company = await resolvePeer(resolver, invitation.from);
      const goal = typeof invitation.body?.goal === 'string' ? invitation.body.goal : null;
      return {
        invitation: { id: invitation.id, from: invitation.from, goal },
        company: { did: invitation.from, endpoint: company.endpoint ?? null },
        terms: await terms.preview(company.endpoint, options.fetch),
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
      const body = BasicMessage.message.body.parse({ content });
      const message = messaging.build(relationship, outgoing(BasicMessage.message, body));
      const record = vault.messages.insert({ relationshipId: relationship.id, direction: 'out', status: 'queued', messageId: message.id, type: message.type, body, createdAt: clock.now() });
      const outcome = await messaging.sendOrQueue(relationship, message);
      if (outcome.status === 'sent') vault.messages.setStatus(record.id, 'sent');
      return outcome;
    },

    async ping(reference) {
      const relationship = find(reference);
      requireLive(relationship);
      const started = performance.now();
      await messaging.exchange(relationship, outgoing(TrustPing.ping, { response_requested: true }), {
        returnRoute: true,
        expects: [TrustPing.pingResponse],
        unexpectedReply: { code: 'message.unexpected', message: 'No ping response' },
      }).then((reply) => {
        if (!reply) throw new MessageError('message.unexpected', 'No ping response');
      });
      return { roundTripMs: Math.round(performance.now() - started) };
    },

    async mute(reference) {
      const relationship = find(reference);
      requireLive(relationship);
      vault.relationships.setState(relationship.id, 'muted', clock.now());
      await messaging.sendOrQueue(relationship, messaging.build(relationship, outgoing(Relationship.mute, {})));
      return toRelationshipView(find(relationship.id), vault);
    },

    async unmute(reference) {
      const relationship = find(reference);
      requireLive(relationship);
      vault.transaction(() => {
        vault.relationships.setState(relationship.id, 'active', clock.now());
        vault.messages.releaseHeld(relationship.id);
      });
      await messaging.sendOrQueue(relationship, messaging.build(relationship, outgoing(Relationship.unmute, {})));
      return toRelationshipView(find(relationship.id), vault);
    },

    async cutOff(reference) {
      const relationship = find(reference);
      requireLive(relationship);
      // The receipt's handler stores it, destroys her keys and withdraws her consents.
      const reply = await messaging.exchange(relationship, outgoing(Relationship.terminate, { erasure_requested: true }), {
        returnRoute: true,
        expects: [Relationship.erasureReceipt],
        unexpectedReply: { code: 'message.unexpected', message: 'The company did not return an erasure receipt' },
      });
      if (!reply) throw new MessageError('message.unexpected', 'The company did not return an erasure receipt');
      messaging.forget(relationship.id);
      const [receipt] = vault.receipts.list(relationship.id).slice(-1);
      if (!receipt) throw new KithError('internal', 'Receipt was not stored');
      logger.info('relationship_cut_off', { relationship: relationship.id });
      return { id: receipt.id, relationshipId: relationship.id, kind: receipt.kind, body: receipt.body, jws: receipt.jws, createdAt: receipt.createdAt };
    },

    receipts(reference) {
      const relationshipId = reference === undefined ? undefined : find(reference).id;
      return vault.receipts.list(relationshipId).map((r) => ({ id: r.id, relationshipId: r.relationshipId, kind: r.kind, body: r.body, jws: r.jws, createdAt: r.createdAt }));
    },
  };
}
