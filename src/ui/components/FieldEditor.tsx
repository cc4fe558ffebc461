import { useId, useState, type FormEvent } from 'react';
import { api, routes } from '../api';
import { ADDRESS_PARTS, FIELD_SPECS, fieldLabel, type AddressKey, theirText } from '../format';
import type { ChangeView, ProfileFieldName, ProfileFieldView } from '../types';
import { useAction } from '../useResource';
import { ConfirmDialog } from './ConfirmDialog';
import { Button, ErrorNote } from './ui';

type Draft = string | Partial<Record<AddressKey, string>>;

function initialDraft(field: ProfileFieldName, value: unknown): Draft {
  if (field === 'address') {
    const parts = (typeof value === 'object' && value !== null ? value : {}) as Partial<Record<string, unknown>>;
    return Object.fromEntries(ADDRESS_PARTS.map((p) => [p.key, typeof parts[p.key] === 'string' ? (parts[p.key] as string) : '']));
  }
  return typeof value === 'string' ? value : '';
}

/** The value to send: trimmed text, or the address parts that are filled in. */
function valueOf(draft: Draft): unknown {
  if (typeof draft === 'string') return draft.trim();
  return Object.fromEntries(Object.entries(draft).filter(([, v]) => typeof v === 'string' && v.trim() !== '').map(([k, v]) => [k, (v as string).trim()]));
}

function isEmpty(value: unknown): boolean {
  return typeof value === 'string' ? value === '' : typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

/** The companies a change goes to, as chips. */
function CompanyChips({ names }: { names: string[] }) {
  return (
    <ul className="chip-list">
      {names.map((n, i) => (
        <li key={`${n}-${i}`} className="chip">
          {n}
        </li>
      ))}
    </ul>
  );
}

/**
 * Edits one field of one persona (`persona`, her default when absent). Before she saves, it says who
 * will receive the new value (every company holding the field that knows her as that persona);
 * saving sends it to them all (the agent's fan-out).
 */
export function FieldEditor({
  field,
  view,
  persona,
  onSaved,
  onCancel,
}: {
  field: ProfileFieldName;
  view: ProfileFieldView | undefined;
  persona?: string | undefined;
  onSaved: (change: ChangeView | null) => void;
  onCancel: () => void;
}) {
  const spec = FIELD_SPECS[field];
  const [draft, setDraft] = useState<Draft>(() => initialDraft(field, view?.value));
  const action = useAction();
  const removal = useAction();
  const [confirmRemove, setConfirmRemove] = useState(false);
  const id = useId();
  const holders = view?.heldBy ?? [];
  const names = holders.map((h) => (h.company === null ? h.relationshipId.slice(0, 8) : theirText(h.company)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = valueOf(draft);
    if (isEmpty(value)) {
      action.setError(`Type your ${fieldLabel(field).toLowerCase()} first.`);
      return;
    }
    const result = await action.run(() => api(routes.setProfile, { fields: { [field]: value }, ...(persona === undefined ? {} : { persona }) }));
    if (result) onSaved(result.change);
  };

  const remove = async () => {
    const result = await removal.run(() => api(routes.removeProfileFields, { fields: [field], ...(persona === undefined ? {} : { persona }) }));
    if (result) {
      setConfirmRemove(false);
      onSaved(result.change);
    }
  };

  const textInput = (
    inputId: string,
    value: string,
    onChange: (v: string) => void,
    props: { type?: string; autoComplete?: string; autoFocus?: boolean; describedBy?: string } = {},
  ) => (
    <input
      id={inputId}
      type={props.type ?? 'text'}
      value={value}
      autoComplete={props.autoComplete}
      autoFocus={props.autoFocus}
      aria-describedby={props.describedBy}
      onChange={(event) => onChange(event.target.value)}
    />
  );

  return (
    <>
      <form className="field-editor" onSubmit={(event) => void submit(event)} noValidate>
        {typeof draft === 'string' ? (
          <div className="field">
            <label htmlFor={id}>{spec.label}</label>
            {spec.input === 'textarea' ? (
              <textarea id={id} rows={4} value={draft} autoFocus maxLength={4000} aria-describedby={`${id}-hint`} onChange={(event) => setDraft(event.target.value)} />
            ) : (
              textInput(id, draft, setDraft, { type: spec.input, autoComplete: spec.autocomplete, autoFocus: true, describedBy: `${id}-hint` })
            )}
            <p className="hint" id={`${id}-hint`}>
              {spec.hint}
            </p>
          </div>
        ) : (
          <fieldset className="address-fields">
            <legend>{spec.label}</legend>
            {ADDRESS_PARTS.map((part, i) => (
              <div key={part.key} className={`field field-${part.key}`}>
                <label htmlFor={`${id}-${part.key}`}>{part.label}</label>
                {textInput(`${id}-${part.key}`, draft[part.key] ?? '', (v) => setDraft({ ...draft, [part.key]: v }), { autoComplete: part.autocomplete, autoFocus: i === 0 })}
              </div>
            ))}
          </fieldset>
        )}
        <div className={`recipients${holders.length > 0 ? ' has-recipients' : ''}`} id={`${id}-recipients`}>
          {holders.length > 0 ? (
            <>
              <p>
                <strong>
                  Saving sends the new value to {holders.length === 1 ? 'the company that holds it' : `the ${holders.length} companies that hold it`}:
                </strong>
              </p>
              <CompanyChips names={names} />
            </>
          ) : (
            <p>No company holds your {spec.label.toLowerCase()}: saving changes it in your vault only.</p>
          )}
        </div>
        <ErrorNote message={action.error} />
        <div className="button-row">
          <Button type="submit" variant="primary" busy={action.busy} busyLabel="Saving…" aria-describedby={`${id}-recipients`}>
            {holders.length > 0 ? `Save and send to ${holders.length === 1 ? names[0] : `${holders.length} companies`}` : 'Save'}
          </Button>
          <Button variant="ghost" onClick={onCancel} disabled={action.busy}>
            Cancel
          </Button>
          {view ? (
            <Button variant="ghost" className="btn-remove" onClick={() => setConfirmRemove(true)} disabled={action.busy}>
              Remove from profile
            </Button>
          ) : null}
        </div>
      </form>
        <ConfirmDialog
          open={confirmRemove}
          title={`Remove your ${spec.label.toLowerCase()}?`}
          confirmLabel={holders.length > 0 ? 'Remove and ask them to erase it' : 'Remove'}
          busyLabel="Removing…"
          danger
          busy={removal.busy}
          error={removal.error}
          onCancel={() => {
            setConfirmRemove(false);
            removal.setError(undefined);
          }}
          onConfirm={() => void remove()}
        >
          {holders.length > 0 ? (
            <>
              <p>It goes from your profile, and {holders.length === 1 ? 'the company that holds it is' : `the ${holders.length} companies that hold it are`} asked to erase it; your consent for it is withdrawn:</p>
              <CompanyChips names={names} />
              <p className="muted">{holders.length === 1 ? 'It records' : 'Each records'} the withdrawal in the consent record you both keep. To share it again later, a company has to ask you again.</p>
            </>
          ) : (
            <p>It goes from your profile. No company holds it, so nothing is sent.</p>
          )}
        </ConfirmDialog>
    </>
  );
}
