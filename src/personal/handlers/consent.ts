import { MessageError } from '../../core/errors.js';
import { withCategoriesWithdrawn } from '../../protocol/consentRecord.js';
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
];
