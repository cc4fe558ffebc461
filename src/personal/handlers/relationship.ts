import { Relationship } from '../../protocol/families/index.js';
import { withEvent } from '../../protocol/consentRecord.js';
import { personalHandler } from './types.js';

/** Kith relationship 1.0, her side: the company's signed erasure receipt ends the relationship. */
export const relationshipHandlers = [
  personalHandler({
    definition: Relationship.erasureReceipt,
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
