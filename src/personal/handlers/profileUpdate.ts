import { MessageError } from '../../core/errors.js';
import { ProfileUpdate } from '../../protocol/families/index.js';
import { inspectSdJwt } from '../../protocol/sdjwt/index.js';
import { answered, personalHandler } from './types.js';

/**
 * Kith profile-update 1.0, her side: the company's ack of the notice she sent (matched on thid)
 * settles her deliveries up to that version, and her record of what it holds takes the values the
 * notice carried.
 */
export const profileUpdateHandlers = [
  personalHandler({
    definition: ProfileUpdate.ack,
    async verify(_received, _context, inReplyTo): Promise<Record<string, unknown> | undefined> {
      const notice = answered(inReplyTo, ProfileUpdate.notice);
      return notice ? (await inspectSdJwt(notice.body.presentation.sd_jwt)).claims : undefined;
    },
    apply({ vault, relationship, now, inReplyTo }, received, sentValues) {
      const notice = answered(inReplyTo, ProfileUpdate.notice);
      if (!notice || !sentValues) return;
      const { version } = notice.body;
      if (received.message.body.version !== version) throw new MessageError('message.unexpected', 'The company did not acknowledge this version');
      vault.deliveries.ackUpTo(relationship.id, version, now);
      for (const field of notice.body.fields) {
        const held = vault.disclosed.get(relationship.id, field);
        if (held && held.version < version) vault.disclosed.upsert({ ...held, value: sentValues[field], version, updatedAt: now });
      }
    },
  }),
];
