import { MessageError, ThingError } from '../../core/errors.js';
import { Thing } from '../../protocol/families/index.js';
import { verifySignedReceipt } from '../../protocol/things/receipt.js';
import type { ThingRecord } from '../vault/thingRepo.js';
import { answered, personalHandler } from './types.js';

/**
 * Kith thing 1.0, her side (docs/protocol/thing.md). A seller's receipt is checked (signed by the
 * company of the relationship it came on, naming her pairwise DID) and kept pending until she
 * accepts or declines it (personal/things.ts). A register-ack must answer a registration of hers;
 * the registration is written by the command that sent it, once the ack is in. A recall is taken
 * only on a relationship where she registered a thing of that GTIN or model, and is kept on each
 * such thing. Cut off: refused before these handlers (relationship.cut_off).
 */
export const thingHandlers = [
  personalHandler({
    definition: Thing.receipt,
    verify: (received, context) => verifySignedReceipt(received.message.body.signed, received.senderDid, context.resolver),
    apply({ vault, relationship, now }, received, signed) {
      // A receipt naming another buyer is someone else's purchase: refused whole.
      if (signed.receipt.buyer !== relationship.myDid) throw new ThingError('thing.receipt_invalid', 'The receipt names another buyer than her DID on this relationship');
      // The same receipt sent again is kept once.
      if (vault.thingReceipts.findByReceiptId(relationship.id, signed.receipt.receipt_id)) return {};
      const record = vault.thingReceipts.insert({ relationshipId: relationship.id, signed, messageId: received.message.id, createdAt: now });
      // Muted: kept without a notice, like the company's other messages.
      if (relationship.state !== 'active') return {};
      return { notify: { type: 'thing.receipt', receiptId: record.id, relationshipId: relationship.id } };
    },
  }),

  personalHandler({
    definition: Thing.registerAck,
    apply({ inReplyTo }) {
      // Only as the answer to her own registration, on the exchange that sent it.
      if (answered(inReplyTo, Thing.register) === undefined) throw new MessageError('message.unexpected', 'A registration ack that answers no registration of hers');
      return {};
    },
  }),

  personalHandler({
    definition: Thing.recall,
    apply({ vault, relationship, now }, received) {
      const { body } = received.message;
      const matches = (thing: ThingRecord) =>
        thing.registrations.some((r) => r.relationshipId === relationship.id) && ((body.gtin !== undefined && thing.gtin === body.gtin) || (body.model !== undefined && thing.model === body.model));
      const things = vault.things
        .idsForRelationship(relationship.id)
        .map((id) => vault.things.get(id))
        .filter((t): t is ThingRecord => t !== undefined && matches(t));
      // A company she never registered this product with has no business sending her recalls.
      if (things.length === 0) throw new ThingError('thing.recall_unregistered', 'A recall for a product she never registered with this company');
      const recall = {
        relationshipId: relationship.id,
        recallId: body.recall_id,
        ...(body.gtin === undefined ? {} : { gtin: body.gtin }),
        ...(body.model === undefined ? {} : { model: body.model }),
        text: body.text,
        ...(body.url === undefined ? {} : { url: body.url }),
        issuedAt: body.issued_at,
        receivedAt: now,
      };
      const updated: string[] = [];
      for (const thing of things) {
        const recalls = thing.recalls ?? [];
        if (recalls.some((r) => r.relationshipId === relationship.id && r.recallId === body.recall_id)) continue;
        const { createdAt: _c, updatedAt: _u, ...rest } = thing;
        vault.things.update({ ...rest, recalls: [...recalls, recall].slice(-50) }, now);
        updated.push(thing.id);
      }
      if (updated.length === 0) return {};
      // Shown even on a muted relationship: a safety notice about her own things is not an approach.
      return { notify: { type: 'thing.recall', relationshipId: relationship.id, thingIds: updated } };
    },
  }),
];
