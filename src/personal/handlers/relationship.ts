import { MessageError } from '../../core/errors.js';
import { Relationship } from '../../protocol/families/index.js';
import { withEvent } from '../../protocol/consentRecord.js';
import { answered, personalHandler } from './types.js';

/** Kith relationship 1.0, her side: the company's signed erasure receipt ends the relationship. */
export const relationshipHandlers = [
  personalHandler({
    definition: Relationship.erasureReceipt,
    // A receipt answers her terminate, on her cut-off's exchange. Pushed unasked, it would destroy
    // her keys and her record of what she disclosed on the company's word alone (found by fuzzing).
    async verify(_received, _context, inReplyTo) {
      if (!answered(inReplyTo, Relationship.terminate)) throw new MessageError('message.unexpected', 'An erasure receipt answers her request to end the relationship, and she made none');
    },
    apply({ vault, relationship, now }, received) {
      vault.receipts.insert({ relationshipId: relationship.id, kind: 'erasure', jws: received.signedJws, body: received.message.body, createdAt: now });
      vault.keys.destroyForRelationship(relationship.id);
      vault.relationships.setState(relationship.id, 'cut_off', now);
      // The company erased what it held: her record of it goes, her consent records are withdrawn.
      vault.disclosed.removeForRelationship(relationship.id);
      for (const consent of vault.consents.list(relationship.id)) {
        if (consent.state === 'active' || consent.state === 'pending') {
          vault.consents.update(consent.id, 'withdrawn', withEvent(consent.record, 'withdrawn', now, 'pii_principal'), now);
        }
      }
      for (const delivery of vault.deliveries.pendingFor(relationship.id)) vault.deliveries.settle([delivery.id], 'skipped', 'relationship.cut_off');
    },
  }),
];
