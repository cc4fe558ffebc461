import { MessageError } from '../../core/errors.js';
import { DataRights } from '../../protocol/families/index.js';
import { answered, personalHandler } from './types.js';

/**
 * Kith data-rights 1.0, her side: the company's answer to her request (matched on thid and on her
 * request id) is kept as she received it, signed: a receipt of kind `access`, exported with her vault.
 */
export const dataRightsHandlers = [
  personalHandler({
    definition: DataRights.response,
    apply({ vault, relationship, now, inReplyTo }, received) {
      const request = answered(inReplyTo, DataRights.request);
      if (!request) return;
      const { body } = received.message;
      if (body.request_id !== request.body.request_id || body.exercise !== request.body.exercise) {
        throw new MessageError('message.unexpected', 'The answer is not to this request');
      }
      vault.receipts.insert({ relationshipId: relationship.id, kind: 'access', jws: received.signedJws, body, createdAt: now });
    },
  }),
];
