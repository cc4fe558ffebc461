import { MessageError } from '../../core/errors.js';
import { withCategoriesWithdrawn, withEvent } from '../../protocol/consentRecord.js';
import { Consent } from '../../protocol/families/index.js';
import { answered, personalHandler } from './types.js';

/**
 * Kith consent 1.0, her side: the company's ack of her withdrawal (matched on thid). It no longer
 * holds the fields: her record of what it holds forgets them, and her copies of the consent records
 * that covered them record the withdrawal, as the company's copies now do.
 */
export const consentHandlers = [
  personalHandler({
    definition: Consent.withdrawAck,
    apply({ vault, relationship, now, inReplyTo }, received) {
      const withdrawal = answered(inReplyTo, Consent.withdraw);
      if (!withdrawal) return;
      const { fields } = withdrawal.body;
      const acked = received.message.body.fields;
      if (acked.length !== fields.length || !fields.every((f) => acked.includes(f))) {
        throw new MessageError('message.unexpected', 'The company acknowledged other fields than the ones withdrawn');
      }
      vault.disclosed.removeFields(relationship.id, fields);
      for (const consent of vault.consents.list(relationship.id)) {
        if (consent.state !== 'active') continue;
        const record = withCategoriesWithdrawn(consent.record, fields, now, 'pii_principal');
        if (record) vault.consents.update(consent.id, record.state === 'withdrawn' ? 'withdrawn' : consent.state, record, now);
      }
    },
  }),
  personalHandler({
    definition: Consent.expired,
    // The retention she agreed to ended: the company deleted what it held under these records.
    apply({ vault, relationship, now }, received) {
      const ids = new Set(received.message.body.consent_records);
      const consents = vault.consents.list(relationship.id).filter((c) => ids.has(c.id));
      if (consents.length === 0) throw new MessageError('message.unexpected', 'No consent record of this relationship has that id');
      const gone = vault.disclosed.list(relationship.id).filter((d) => ids.has(d.consentRecordId)).map((d) => d.field);
      vault.disclosed.removeFields(relationship.id, gone);
      for (const consent of consents) {
        if (consent.state === 'active') vault.consents.update(consent.id, 'expired', withEvent(consent.record, 'expired', now, 'pii_controller'), now);
      }
    },
  }),
];
