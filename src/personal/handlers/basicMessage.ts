import type { ReceivedMessage } from '../../protocol/envelope/receive.js';
import { BasicMessage } from '../../protocol/families/index.js';
import { personalHandler, type PersonalTx } from './types.js';

/** Kept in her thread; while she has muted the company, held out of it without any notice until she unmutes. */
export function storeShown({ vault, relationship, now }: PersonalTx, received: ReceivedMessage<Record<string, unknown>>): void {
  vault.messages.insert({
    relationshipId: relationship.id,
    direction: 'in',
    status: relationship.state === 'muted' ? 'held' : 'shown',
    messageId: received.message.id,
    type: received.message.type,
    body: received.message.body,
    ...(received.message.thid ? { thid: received.message.thid } : {}),
    createdAt: now,
  });
}

/** BasicMessage 2.0: the company's text joins her thread. */
export const basicMessageHandlers = [personalHandler({ definition: BasicMessage.message, apply: storeShown })];
