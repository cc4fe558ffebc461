import { useId, useState, type FormEvent } from 'react';
import { api, prepare, routes } from '../api';
import { useAgentEvents } from '../events';
import { theirText } from '../format';
import type { AccountIdView } from '../types';
import { useAction, useResource } from '../useResource';
import { Badge, Button, ErrorNote, Section } from './ui';

const KINDS: readonly (readonly [AccountIdView['kind'], string])[] = [
  ['customer_number', 'Customer number'],
  ['account_login', 'Account login'],
  ['loyalty_number', 'Loyalty number'],
  ['membership_number', 'Membership number'],
  ['policy_number', 'Policy number'],
  ['contract_number', 'Contract number'],
  ['other', 'Other'],
];
export const kindLabel = (kind: AccountIdView['kind']): string => KINDS.find(([k]) => k === kind)?.[1] ?? kind;

/**
 * What a company knows her by (docs/protocol/account.md): the identifiers it sent, signed, and
 * the ones she noted herself, with a form to note one and Remove for hers.
 */
export function AccountIds({ relationship, company, canAdd }: { relationship: string; company: string; canAdd: boolean }) {
  const { data, error, reload } = useResource(prepare(routes.accountIds, { relationship }));
  useAgentEvents((event) => {
    if (event.type === 'account.identifiers' && event.relationshipId === relationship) void reload();
  });
  const action = useAction();
  const formId = useId();
  const [kind, setKind] = useState<AccountIdView['kind']>('customer_number');
  const [value, setValue] = useState('');
  const [label, setLabel] = useState('');
  const identifiers = data?.identifiers ?? [];

  const add = async (event: FormEvent) => {
    event.preventDefault();
    const done = await action.run(() => api(routes.addAccountId, { relationship, kind, value, ...(label.trim() === '' ? {} : { label }) }));
    if (done) {
      setValue('');
      setLabel('');
      void reload();
    }
  };
  const remove = async (id: string) => {
    if (await action.run(() => api(routes.removeAccountId, { id }))) void reload();
  };

  return (
    <Section title={`What ${company} knows you by`} id="account-ids">
      {identifiers.length === 0 ? <p className="muted">No identifiers yet.</p> : null}
      {identifiers.length > 0 ? (
        <ul className="card-list" aria-label="Identifiers">
          {identifiers.map((i) => (
            <li key={i.id} className="card" data-testid="account-id">
              <div className="card-head">
                <span>
                  {kindLabel(i.kind)}: <strong>{theirText(i.value)}</strong>
                  {i.label === null ? null : <span className="muted small"> ({theirText(i.label)})</span>}
                </span>
                {i.source === 'company' ? (
                  <Badge tone="good" title="Sent by the company in a message it signed; Kith keeps that message as proof">
                    From {company}, signed
                  </Badge>
                ) : (
                  <span>
                    <Badge title="You noted it yourself">Noted by you</Badge>{' '}
                    <Button variant="secondary" disabled={action.busy} onClick={() => void remove(i.id)}>
                      Remove
                    </Button>
                  </span>
                )}
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      {canAdd ? (
        <form className="button-row" onSubmit={(event) => void add(event)} aria-label="Note an identifier">
          <div className="field">
            <label htmlFor={`${formId}-kind`}>Kind</label>
            <select id={`${formId}-kind`} value={kind} onChange={(event) => setKind(event.target.value as AccountIdView['kind'])}>
              {KINDS.map(([k, text]) => (
                <option key={k} value={k}>
                  {text}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${formId}-value`}>Number or login</label>
            <input id={`${formId}-value`} type="text" maxLength={100} autoComplete="off" value={value} onChange={(event) => setValue(event.target.value)} required />
          </div>
          <div className="field">
            <label htmlFor={`${formId}-label`}>Label (optional)</label>
            <input id={`${formId}-label`} type="text" maxLength={100} autoComplete="off" value={label} onChange={(event) => setLabel(event.target.value)} />
          </div>
          <Button variant="secondary" type="submit" busy={action.busy} busyLabel="Adding…">
            Add
          </Button>
        </form>
      ) : null}
      <ErrorNote message={action.error ?? error?.message} />
    </Section>
  );
}
