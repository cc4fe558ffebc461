import { newId } from '../../core/ids.js';
import { Account } from '../../protocol/families/index.js';
import { companyHandler } from './types.js';

/**
 * Kith account 1.0, the company's side: her agent acknowledges the list of identifiers it holds.
 * Logged beside the lists in the relationship's message log (company/accountIdentifiers.ts reads
 * how far she acknowledged from there).
 */
export const accountHandlers = [
  companyHandler({
    definition: Account.ack,
    async apply({ store, relationship, now, context }, received) {
      await store.addMessage({ id: newId(), relationshipId: relationship.id, messageId: received.message.id, direction: 'in', type: received.message.type, body: received.message.body, createdAt: now });
      context.logger.info('account_identifiers_acknowledged', { relationship: relationship.id, sequence: received.message.body.sequence });
      return {};
    },
  }),
];
