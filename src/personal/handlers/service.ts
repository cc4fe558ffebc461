import { ServiceError } from '../../core/errors.js';
import { outgoing } from '../../protocol/buildMessage.js';
import { Service } from '../../protocol/families/index.js';
import type { CaseState } from '../../protocol/families/service.js';
import type { Vault } from '../vault/vault.js';
import type { RelationshipRecord } from '../vault/relationshipRepo.js';
import type { ServiceCaseRecord } from '../vault/serviceCaseRepo.js';
import { personalHandler, type PersonalEffect } from './types.js';

/** Her case a company's message names: one of hers, on the relationship it came on. @throws ServiceError `service.unknown_case` */
function caseOf(vault: Vault, relationship: RelationshipRecord, caseId: string): ServiceCaseRecord {
  const record = vault.serviceCases.get(caseId);
  // Another relationship's case is as unknown as no case: a company never reaches into another's.
  if (!record || record.relationshipId !== relationship.id) throw new ServiceError('service.unknown_case', 'No such service case on this relationship');
  return record;
}

/** The company writes in her case (`answered`) or resolves it; acknowledged with the state. */
function companyWrites(vault: Vault, relationship: RelationshipRecord, now: number, messageId: string, caseId: string, text: string | undefined, kind: 'reply' | 'resolve'): PersonalEffect {
  const record = caseOf(vault, relationship, caseId);
  if (record.state === 'resolved') throw new ServiceError('service.case_resolved', 'The service case is resolved');
  const state: CaseState = kind === 'resolve' ? 'resolved' : 'answered';
  vault.serviceCases.append(record.id, { author: 'company', kind, text: text ?? null, messageId, at: now }, state);
  const reply = outgoing(Service.ack, { case_id: caseId, state });
  // Muted: kept without a notice, like the company's other messages.
  if (relationship.state !== 'active') return { reply };
  return { reply, notify: { type: 'service.case_updated', caseId, relationshipId: relationship.id, thingId: record.thingId, state, by: 'company' } };
}

/**
 * Kith service 1.0, her side (docs/protocol/service.md): the company writes in a case she opened,
 * or resolves it; it acknowledges what she sends. A message naming a case she did not open on this
 * relationship is `service.unknown_case`, one to a resolved case `service.case_resolved`: refused
 * whole, nothing stored.
 */
export const serviceHandlers = [
  personalHandler({
    definition: Service.caseReply,
    apply: ({ vault, relationship, now }, received) => companyWrites(vault, relationship, now, received.message.id, received.message.body.case_id, received.message.body.text, 'reply'),
  }),
  personalHandler({
    definition: Service.caseResolve,
    apply: ({ vault, relationship, now }, received) => companyWrites(vault, relationship, now, received.message.id, received.message.body.case_id, received.message.body.text, 'resolve'),
  }),
  personalHandler({
    definition: Service.ack,
    apply({ vault, relationship }, received) {
      // Her own message's ack (open, reply, resolve): the feature adds her message to the thread once it returns.
      caseOf(vault, relationship, received.message.body.case_id);
    },
  }),
];
