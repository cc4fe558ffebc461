import { KithError, MessageError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { resolvePeer } from '../protocol/agent/peer.js';
import { outgoing } from '../protocol/buildMessage.js';
import type { DidResolver } from '../protocol/did/types.js';
import { BasicMessage, Connect, DataRights, Relationship, TrustPing } from '../protocol/families/index.js';
import { parseInvitation } from '../protocol/families/outOfBand.js';
import type { PersonalMessaging, SendOutcome } from './messaging.js';
import type { Opener } from './opening.js';
import { findRelationship, requireLive } from './relationshipLookup.js';
import type { PersonasFeature } from './personas.js';
import type { TermsFeature, TermsPreview } from './terms.js';
import { RelationshipListViews, toMessageView, toRelationshipView, type MessageView, type ReceiptView, type RelationshipView } from './views.js';
import type { Vault } from './vault/vault.js';

export interface ConnectPreview {
  invitation: { id: string; from: string; goal: string | null };
  company: { did: string; endpoint: string | null };
  terms: TermsPreview;
}

/** What she does with her relationships as a whole: connect, talk, mute, cut off. */
export interface RelationshipCommands {
  /**
   * Connects from a fresh pairwise DID; the company learns nothing else. The relationship uses the
   * persona named (by id or label), else her default persona. @throws PersonaError `persona.unknown`
   */
  connect(invitation: string, options?: { persona?: string | undefined }): Promise<RelationshipView>;
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
   * Asks the company what it holds on this relationship (data-rights 1.0, exercise access); its
   * signed answer is kept as a receipt of kind `access`.
   * @throws RelationshipError relationship.unknown / relationship.cut_off; TransportError; MessageError message.unexpected
   */
  requestAccess(reference: string): Promise<ReceiptView>;
}

export interface RelationshipCommandsOptions {
  vault: Vault;
  messaging: PersonalMessaging;
  terms: TermsFeature;
  personas: Pick<PersonasFeature, 'resolve'>;
  clock: Clock;
  logger: Logger;
  resolver: DidResolver;
  /** Opens a relationship from a fresh pairwise DID (personal/opening.ts). */
  open: Opener;
  fetch?: typeof fetch | undefined;
}

/** The company's decision on her proffer, as the log names it, from the state of her proffer's record. */
function termsOutcome(state: string | undefined): string {
  return state === 'agreed' ? 'accepted' : (state ?? 'none');
}

export function createRelationshipCommands(options: RelationshipCommandsOptions): RelationshipCommands {
  const { vault, messaging, terms, clock, logger, resolver } = options;
  const { open } = options;
  const find = (reference: string) => findRelationship(vault, reference);
  /** Her relationship list, kept between calls (views.ts). */
  const listViews = new RelationshipListViews(vault);

  return {
    async connect(text, connectOptions = {}) {
      const invitation = parseInvitation(text);
      // Checked before anything goes out: an unknown persona must not cost her a pairwise DID.
      const persona = options.personas.resolve(connectOptions.persona);
      let proffered: string | undefined;
      const { relationship } = await open({
        companyDid: invitation.from,
        vendorName: null,
        invitationId: invitation.id,
        persona: persona.id,
        expects: [Connect.response],
        noAnswer: 'allowed',
        async first(identity) {
          // Her default terms, if she set any, travel with the request as her signed proffer.
          const proffer = await terms.connectProffer(identity, invitation.from);
          proffered = proffer?.record.id;
          return { type: Connect.request.type, body: proffer ? { terms: { agreement: proffer } } : {}, pthid: invitation.id };
        },
      });
      logger.info('relationship_connected', { relationship: relationship.id, state: relationship.state, terms: proffered ? termsOutcome(vault.agreements.get(proffered)?.state) : 'none' });
      return toRelationshipView(relationship, vault);
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

    relationships: () => listViews.list(),
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
      let outcome: SendOutcome;
      try {
        outcome = await messaging.sendOrQueue(relationship, message);
      } catch (error) {
        // Refused (its clock far off ours, say): not delivered and not queued, so not in her thread.
        vault.messages.removeRefused(record.id);
        throw error;
      }
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

    async requestAccess(reference) {
      const relationship = find(reference);
      requireLive(relationship);
      // The answer's handler (personal/handlers/dataRights.ts) checks it answers this request and keeps it.
      const reply = await messaging.exchange(relationship, outgoing(DataRights.request, { request_id: newId(), exercise: 'access' }), {
        returnRoute: true,
        expects: [DataRights.response],
        unexpectedReply: { code: 'message.unexpected', message: 'The company did not answer the access request' },
      });
      if (!reply) throw new MessageError('message.unexpected', 'The company did not answer the access request');
      const [receipt] = vault.receipts.list(relationship.id).filter((r) => r.kind === 'access').slice(-1);
      if (!receipt) throw new KithError('internal', 'Access answer was not stored');
      logger.info('access_answered', { relationship: relationship.id, status: String((receipt.body as { status?: unknown }).status) });
      return { id: receipt.id, relationshipId: relationship.id, kind: receipt.kind, body: receipt.body, jws: receipt.jws, createdAt: receipt.createdAt };
    },

    receipts(reference) {
      const relationshipId = reference === undefined ? undefined : find(reference).id;
      return vault.receipts.list(relationshipId).map((r) => ({ id: r.id, relationshipId: r.relationshipId, kind: r.kind, body: r.body, jws: r.jws, createdAt: r.createdAt }));
    },
  };
}
