import { AccountError } from '../../core/errors.js';
import { outgoing } from '../../protocol/buildMessage.js';
import { Account } from '../../protocol/families/index.js';
import { personalHandler } from './types.js';

/**
 * Kith account 1.0, her side: a company tells her what it knows her by. The list must name her
 * pairwise DID on this relationship; a newer list replaces the company's earlier one, kept with
 * the signed message as its proof; her own entries stay. Muted: kept without a notice, like the
 * company's messages (the list is about her, not an approach). Cut off: refused before this
 * handler (relationship.cut_off).
 */
export const accountHandlers = [
  personalHandler({
    definition: Account.identifiers,
    apply({ vault, relationship, now }, received) {
      const { body } = received.message;
      // A list for another relationship (or another person) is refused whole: storing it here
      // would file another relationship's numbers under this company.
      if (body.subject !== relationship.myDid) throw new AccountError('account.wrong_subject', 'The identifiers name another DID than hers on this relationship');
      const identifiers = body.identifiers.map((i) => ({ kind: i.kind, value: i.value, label: i.label, issuedAt: i.issued_at }));
      const stored = vault.accountIds.replaceCompanyList(relationship.id, body.sequence, identifiers, { messageId: received.message.id, jws: received.signedJws }, now);
      // What she holds now: this list, or a later one she had already.
      const reply = outgoing(Account.ack, { sequence: Math.max(body.sequence, vault.accountIds.companySequence(relationship.id) ?? 0) });
      if (!stored || relationship.state !== 'active') return { reply };
      return { reply, notify: { type: 'account.identifiers', relationshipId: relationship.id, sequence: body.sequence, count: identifiers.length } };
    },
  }),
];
