import { useId, useState, type FormEvent } from 'react';
import { api, routes } from '../api';
import { formatIsoDate } from '../format';
import { announceThingsChanged, CONTRACT_KIND, DURATION_UNITS, checkContractDraft, contractInputs, contractState, contractWhen, durationText, emptyContractDraft, type ContractDraft, type ContractDraftErrors, type DurationUnit } from '../things';
import type { ContractView, ThingView } from '../types';
import { useAction } from '../useResource';
import { FormField, controlProps } from './ThingFields';
import { Badge, Button, ErrorNote, LiveNote, Section } from './ui';

/** A thing's warranties and service contracts: each with its last day and status, a form to add one, Remove. */
export function ThingContracts({ thing, onChanged }: { thing: ThingView; onChanged: (thing: ThingView) => void }) {
  const id = useId();
  const action = useAction();
  const [draft, setDraft] = useState<ContractDraft>(() => emptyContractDraft(thing.purchaseDate ?? ''));
  const [errors, setErrors] = useState<ContractDraftErrors>({});
  const [note, setNote] = useState<string | undefined>(undefined);

  const set = <K extends keyof ContractDraft>(field: K, value: ContractDraft[K]) => {
    setDraft((d) => ({ ...d, [field]: value }));
    if (field in errors) setErrors((e) => ({ ...e, [field]: undefined }));
  };

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setNote(undefined);
    const checked = checkContractDraft(draft);
    setErrors(checked.errors);
    const contract = checked.contract;
    if (!contract) return;
    // The contracts are replaced as a whole: hers as they are (ids kept), and the new one.
    const done = await action.run(() => api(routes.editThing, { id: thing.id }, { contracts: [...contractInputs(thing), contract] }));
    if (!done) return;
    setDraft(emptyContractDraft(thing.purchaseDate ?? ''));
    const added = done.thing.contracts.at(-1);
    setNote(added ? `Added: ${CONTRACT_KIND[added.kind].toLowerCase()}, ${contractWhen(added)}.` : 'Added.');
    announceThingsChanged();
    onChanged(done.thing);
  };

  const remove = async (contract: ContractView) => {
    setNote(undefined);
    const done = await action.run(() => api(routes.editThing, { id: thing.id }, { contracts: contractInputs(thing).filter((c) => c.id !== contract.id) }));
    if (!done) return;
    setNote(`Removed the ${CONTRACT_KIND[contract.kind].toLowerCase()} ending on ${formatIsoDate(contract.end)}.`);
    announceThingsChanged();
    onChanged(done.thing);
  };

  return (
    <Section title="Warranties and service contracts" id="contracts">
      {thing.contracts.length === 0 ? <p className="muted">None recorded. Add the maker’s warranty, or a service contract, to be reminded before it ends.</p> : null}
      {thing.contracts.length > 0 ? (
        <ul className="record-list" aria-label="Contracts">
          {thing.contracts.map((c) => {
            const state = contractState(c);
            return (
              <li key={c.id} className="record" data-testid="thing-contract">
                <div className="record-head">
                  <span className="record-title">
                    {CONTRACT_KIND[c.kind]}
                    {c.provider ? ` from ${c.provider}` : ''}
                  </span>
                  <Badge tone={state.tone}>{state.text}</Badge>
                </div>
                <p className="record-body">
                  {durationText(c.duration)} from {formatIsoDate(c.start)}: {contractWhen(c)}.{c.scope ? ` Covers: ${c.scope}.` : ''}
                </p>
                <div className="record-foot">
                  <Button variant="ghost" className="btn-small" disabled={action.busy} onClick={() => void remove(c)}>
                    Remove<span className="visually-hidden"> the {CONTRACT_KIND[c.kind].toLowerCase()} ending on {formatIsoDate(c.end)}</span>
                  </Button>
                </div>
              </li>
            );
          })}
        </ul>
      ) : null}
      <form className="thing-subform" onSubmit={(event) => void add(event)} aria-label="Add a contract" noValidate>
        <div className="form-grid">
          <FormField id={`${id}-kind`} label="Kind" error={undefined}>
            <select id={`${id}-kind`} value={draft.kind} onChange={(event) => set('kind', event.target.value as ContractDraft['kind'])}>
              <option value="warranty">Warranty</option>
              <option value="service">Service contract</option>
            </select>
          </FormField>
          <FormField id={`${id}-start`} label="Starts on" error={errors.start}>
            <input {...controlProps(`${id}-start`, errors.start)} type="date" value={draft.start} onChange={(event) => set('start', event.target.value)} />
          </FormField>
          <FormField id={`${id}-length`} label="Length" error={errors.length}>
            <input {...controlProps(`${id}-length`, errors.length)} type="text" inputMode="numeric" maxLength={3} value={draft.length} onChange={(event) => set('length', event.target.value)} />
          </FormField>
          <FormField id={`${id}-unit`} label="Unit" error={undefined}>
            <select id={`${id}-unit`} value={draft.unit} onChange={(event) => set('unit', event.target.value as DurationUnit)}>
              {DURATION_UNITS.map(([unit, text]) => (
                <option key={unit} value={unit}>
                  {text}
                </option>
              ))}
            </select>
          </FormField>
        </div>
        <div className="form-grid">
          <FormField id={`${id}-provider`} label="Given by" optional error={errors.provider}>
            <input {...controlProps(`${id}-provider`, errors.provider)} type="text" maxLength={200} value={draft.provider} placeholder="The maker, the shop, an insurer" onChange={(event) => set('provider', event.target.value)} />
          </FormField>
          <FormField id={`${id}-scope`} label="Covers" optional error={errors.scope}>
            <input {...controlProps(`${id}-scope`, errors.scope)} type="text" maxLength={500} value={draft.scope} placeholder="Parts and labour" onChange={(event) => set('scope', event.target.value)} />
          </FormField>
        </div>
        <div className="button-row">
          <Button type="submit" busy={action.busy} busyLabel="Adding…">
            Add contract
          </Button>
        </div>
      </form>
      <ErrorNote message={action.error} />
      <LiveNote>{note}</LiveNote>
    </Section>
  );
}
