import { MessageError, RelationshipError } from '../core/errors.js';
import { newToken } from '../core/ids.js';
import type { Clock } from '../core/clock.js';
import { createPeerIdentity, signingKeyOf, type LocalIdentity } from '../protocol/agent/identity.js';
import { resolvePeer } from '../protocol/agent/peer.js';
import { postEnvelope } from '../protocol/agent/transport.js';
import { buildMessage } from '../protocol/buildMessage.js';
import type { DidResolver } from '../protocol/did/types.js';
import type { EnvelopeEngine } from '../protocol/envelope/engine.js';
import { packMessage } from '../protocol/envelope/pack.js';
import type { MessageDefinition } from '../protocol/families/registry.js';
import type { DidcommMessage } from '../protocol/message.js';
import type { CheckedMessage, PersonalMessaging } from './messaging.js';
import type { PersonalEffect } from './handlers/types.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';
import type { Vault } from './vault/vault.js';

export interface OpenerOptions {
  vault: Vault;
  messaging: PersonalMessaging;
  clock: Clock;
  resolver: DidResolver;
  engine: EnvelopeEngine;
  /** Base URL companies push to; each relationship gets its own path `<base>/didcomm/<route>`. */
  inboundBaseUrl(): string;
  fetch?: typeof fetch | undefined;
}

/** One relationship to open: whom, with which first message, and what may answer it. */
export interface Opening {
  companyDid: string;
  /** Known before the company answers (a directory's verified description), else null. */
  vendorName: string | null;
  invitationId: string | null;
  /** The persona (her self) the new relationship uses (docs/decisions/0022-personas.md). */
  persona: string;
  /** The first message's type and body, from her fresh pairwise identity (her terms are signed by it). */
  first(identity: LocalIdentity): Promise<{ type: string; body: Record<string, unknown>; pthid?: string; id?: string }>;
  /** The answers it may get on the same response; any other is refused and nothing is stored. */
  expects: readonly Pick<MessageDefinition, 'type'>[];
  /** What the company's silence (no answer on the response) means. */
  noAnswer: 'allowed' | 'refused';
  /** Inside the transaction that stores the relationship, before the answer is applied (records the answer's handler needs). */
  within?(relationship: RelationshipRecord): void;
}

export interface Opened {
  relationship: RelationshipRecord;
  sent: DidcommMessage;
  /** The answer's effect, once applied, for the caller's own follow-up. */
  answered: boolean;
}

/**
 * Opens a relationship from a fresh pairwise DID with a first message (connect's request, or an
 * intent cast to a company of her directory). Nothing is written before the company answered and
 * its answer passed its handler's checks: a failed opening leaves no trace.
 */
export type Opener = (opening: Opening) => Promise<Opened>;

export function createOpener(options: OpenerOptions): Opener {
  const { vault, messaging, clock, resolver } = options;
  const transport = options.fetch ? { fetch: options.fetch } : {};

  return async (opening) => {
    const company = await resolvePeer(resolver, opening.companyDid);
    if (!company.endpoint) throw new RelationshipError('invitation.invalid', 'The company’s DID has no DIDComm endpoint');
    const routeToken = newToken(16);
    const { identity } = createPeerIdentity(`${options.inboundBaseUrl().replace(/\/$/, '')}/didcomm/${routeToken}`);
    const first = await opening.first(identity);
    const request = buildMessage(
      { type: first.type, from: identity.did, to: opening.companyDid, body: first.body, ...(first.pthid ? { pthid: first.pthid } : {}), ...(first.id ? { id: first.id } : {}), returnRoute: 'all' },
      clock,
    );
    const packed = await packMessage({ message: request, signer: signingKeyOf(identity), recipients: [company.agreementKey], engine: options.engine });
    const { reply } = await postEnvelope(company.endpoint, packed, transport);
    const received = reply ? await messaging.receive(reply, identity) : undefined;
    if (!received && opening.noAnswer === 'refused') throw new MessageError('message.unexpected', 'The company did not answer');
    if (received && (!opening.expects.some((d) => d.type === received.message.type) || received.message.thid !== request.id)) {
      throw new MessageError('message.unexpected', `The company answered with ${received.message.type}, not ${opening.expects.map((d) => d.type).join(' or ')}`);
    }
    // The answer's handler checks it (and the company's answer to her terms) before anything is stored.
    const answer: CheckedMessage | undefined = received ? await messaging.check(received, request) : undefined;
    const { relationship, effect } = vault.transaction(() => {
      const record = vault.relationships.insert({
        myDid: identity.did,
        theirDid: opening.companyDid,
        vendorName: opening.vendorName,
        theirEndpoint: company.endpoint ?? null,
        routeToken,
        customerRef: null,
        invitationId: opening.invitationId,
        persona: opening.persona,
        state: 'pending',
      });
      vault.keys.insert({ relationshipId: record.id, purpose: 'authentication', ...identity.signing });
      vault.keys.insert({ relationshipId: record.id, purpose: 'keyAgreement', ...identity.agreement });
      opening.within?.(record);
      const applied: (PersonalEffect & { relationship: RelationshipRecord }) | undefined = answer ? messaging.apply(answer, { expectedRelationshipId: record.id }) : undefined;
      return { relationship: vault.relationships.get(record.id) ?? record, effect: applied };
    });
    if (answer && effect) await messaging.finish(answer, { ...effect, relationship });
    return { relationship: vault.relationships.get(relationship.id) ?? relationship, sent: request, answered: answer !== undefined };
  };
}
