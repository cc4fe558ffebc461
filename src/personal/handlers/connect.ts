import { Connect } from '../../protocol/families/index.js';
import { parseSignedAgreement, type SignedAgreement } from '../../protocol/terms/agreementRecord.js';
import type { CheckedResponse } from '../../protocol/terms/negotiate.js';
import { answered, personalHandler } from './types.js';

/** Her proffer (from the request she sent) and the company's answer to it, checked. */
interface CheckedConnectTerms {
  mine: SignedAgreement;
  answer: CheckedResponse;
}

/**
 * Kith connect 1.0, her side: the company's response names it and her customer number, and answers
 * the terms her request proffered. It only ever arrives on her own connect (personal/relationshipCommands.ts).
 */
export const connectHandlers = [
  personalHandler({
    definition: Connect.response,
    async verify(received, { terms }, inReplyTo): Promise<CheckedConnectTerms | undefined> {
      const proffer = answered(inReplyTo, Connect.request)?.body.terms;
      if (proffer === undefined) return undefined;
      const mine = parseSignedAgreement(proffer.agreement);
      // Checked before anything is stored, like the rest of the response.
      return { mine, answer: await terms.checkConnectAnswer(mine, received.message.body.terms) };
    },
    apply({ vault, relationship, now, context }, received, checked) {
      vault.relationships.update(relationship.id, { vendorName: received.message.body.vendor.name, customerRef: received.message.body.customer_ref });
      // The customer number is the first thing the company knows her by: kept as its list 0, the
      // signed response its proof, until its first account/identifiers list (docs/protocol/account.md).
      vault.accountIds.replaceCompanyList(relationship.id, 0, [{ kind: 'customer_number', value: received.message.body.customer_ref, issuedAt: new Date(now).toISOString() }], { messageId: received.message.id, jws: received.signedJws }, now);
      if (relationship.state === 'pending') vault.relationships.setState(relationship.id, 'active', now);
      if (checked) context.terms.recordAnswer(relationship.id, checked.mine, checked.answer);
    },
    // A counter is judged by her rule now: accepted if at least as protective, else it waits for her.
    async after(relationship, { terms }, checked) {
      if (checked?.answer.decision === 'countered') await terms.settle(relationship);
    },
  }),
];
