import { MessageError } from '../../core/errors.js';
import { Terms } from '../../protocol/families/index.js';
import type { TermsAcceptBody, TermsDeclineBody, TermsProfferBody, TermsResponseBody } from '../../protocol/families/terms.js';
import { parseSignedAgreement, type SignedAgreement } from '../../protocol/terms/agreementRecord.js';
import type { CheckedRecord, CheckedResponse } from '../../protocol/terms/negotiate.js';
import { recordCompanyProffer } from '../terms.js';
import { answered, personalHandler } from './types.js';

/** Kith terms 1.0, her side: the company's proposals, its answers to her proffers, and its acks of her answers. */
export const termsHandlers = [
  // A change of terms the company proposes: recorded, then judged by her rule after the commit.
  personalHandler({
    definition: Terms.proffer,
    verify: (received, { terms }): Promise<CheckedRecord | undefined> => terms.checkCompanyProffer(received),
    apply({ vault, relationship }, _received, checked) {
      if (!checked) throw new MessageError('message.unexpected', 'Terms were not verified before they were applied');
      const entry = recordCompanyProffer(vault, relationship, checked);
      return { notify: { type: 'terms.updated', relationshipId: relationship.id, recordId: entry.id, state: entry.state, decide: true } };
    },
    // Her rule may answer the company: not on this request.
    async after(relationship, { terms }) {
      void terms.settle(relationship).catch(() => undefined);
    },
  }),

  // The company's answer to her proffer (matched on thid): her proffer and the answer become records.
  personalHandler({
    definition: Terms.response,
    async verify(received, { terms }, inReplyTo): Promise<{ mine: SignedAgreement; answer: CheckedResponse } | undefined> {
      const proffer = answered<TermsProfferBody>(inReplyTo, Terms.proffer);
      if (!proffer) return undefined;
      const mine = parseSignedAgreement(proffer.body.agreement);
      return { mine, answer: await terms.checkResponse(received.message.body, mine) };
    },
    apply({ relationship, context }, _received, checked) {
      if (!checked) return undefined;
      context.terms.recordAnswer(relationship.id, checked.mine, checked.answer);
      const { decision } = checked.answer;
      return { notify: { type: 'terms.updated', relationshipId: relationship.id, recordId: checked.mine.record.id, state: decision === 'accepted' ? 'agreed' : decision, decide: decision === 'countered' } };
    },
  }),

  // The company's ack of her answer to its counter or proffer (matched on thid): her answer is recorded.
  personalHandler({
    definition: Terms.ack,
    apply({ vault, relationship, inReplyTo }, received) {
      const answer = answered<TermsAcceptBody | TermsDeclineBody | TermsResponseBody>(inReplyTo, Terms.accept, Terms.decline, Terms.response);
      if (!answer || received.message.body.record_id !== answer.body.record_id) return undefined;
      const entry = vault.agreements.get(answer.body.record_id);
      if (!entry) return undefined;
      const yes = answer.type === Terms.accept.type || (answer.type === Terms.response.type && (answer.body as TermsResponseBody).decision === 'accepted');
      const isCounter = answer.type !== Terms.response.type;
      // Her own answer as it went out (a wire body): the agreement she countersigned, parsed once here.
      const both = yes ? parseSignedAgreement((answer.body as TermsAcceptBody).agreement) : undefined;
      const reason = 'reason' in answer.body && typeof answer.body.reason === 'string' ? answer.body.reason : null;
      if (yes) vault.agreements.supersedeCurrent(relationship.id);
      const state = yes ? 'agreed' : isCounter ? 'declined' : 'rejected';
      vault.agreements.update(entry.id, { state, ...(both ? { signed: both } : {}), reason });
      return { notify: { type: 'terms.updated', relationshipId: relationship.id, recordId: entry.id, state, decide: false } };
    },
  }),
];
