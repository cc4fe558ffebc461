import { newId } from '../../core/ids.js';
import { BasicMessage } from '../../protocol/families/index.js';
import { companyHandler } from './types.js';

/** BasicMessage 2.0: her text joins the thread the company's people read. */
export const basicMessageHandlers = [
  companyHandler({
    definition: BasicMessage.message,
    async apply({ store, relationship, now }, received) {
      await store.addMessage({
        id: newId(),
        relationshipId: relationship.id,
        messageId: received.message.id,
        direction: 'in',
        type: received.message.type,
        body: received.message.body,
        createdAt: now,
      });
      return {};
    },
  }),
];
