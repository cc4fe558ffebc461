import { useId, useState, type FormEvent } from 'react';
import { api, prepare, routes } from '../api';
import { useAgentEvents } from '../events';
import { plural } from '../format';
import { Link } from '../router';
import type { PersonaView } from '../types';
import { useAction, useResource, type Resource } from '../useResource';
import { ConfirmDialog } from './ConfirmDialog';
import { Badge, Button, ErrorNote, LiveNote, Section } from './ui';

/*
 * Her personas (her selves, src/personal/personas.ts) in the web app: each has its own profile
 * values, and each company knows her as one of them. The profile page switches between them and
 * manages them here; the relationship and connect pages choose one with PersonaSelect.
 */

/** Her personas, kept fresh: a change here, in another tab or from the CLI comes as persona.changed. */
export function usePersonas(): Resource<{ personas: PersonaView[] }> {
  const resource = useResource(prepare(routes.personas));
  useAgentEvents((event) => {
    if (event.type === 'persona.changed') void resource.reload();
  });
  return resource;
}

/** A persona's label in a sentence; a cut-off company's persona may have been removed since. */
export function personaName(label: string | null): string {
  return label ?? 'a removed persona';
}

/** Where the profile page shows one persona (kept in the URL, so a reload stays on it). */
export function personaProfilePath(id: string): string {
  return `/profile?persona=${encodeURIComponent(id)}`;
}

/** One link per persona at the top of the profile page; the shown one is marked current. */
export function PersonaSwitcher({ personas, current }: { personas: PersonaView[]; current: string | undefined }) {
  return (
    <nav className="tabs persona-tabs" aria-label="Personas">
      {personas.map((p) => (
        <Link key={p.id} to={personaProfilePath(p.id)} className={`tab${p.id === current ? ' is-current' : ''}`} aria-current={p.id === current ? 'page' : undefined}>
          {p.label}
          {p.isDefault ? <span className="tab-note">(default)</span> : null}
        </Link>
      ))}
    </nav>
  );
}

/** A labelled choice of persona (connect as…, move to…), the default marked. */
export function PersonaSelect({
  id,
  label,
  personas,
  value,
  onChange,
  hint,
  disabled,
}: {
  id: string;
  label: string;
  personas: PersonaView[];
  value: string;
  onChange: (id: string) => void;
  hint?: string;
  disabled?: boolean;
}) {
  return (
    <div className="field persona-choice">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} disabled={disabled} onChange={(event) => onChange(event.target.value)} aria-describedby={hint ? `${id}-hint` : undefined}>
        {personas.map((p) => (
          <option key={p.id} value={p.id}>
            {p.label}
            {p.isDefault ? ' (default)' : ''}
            {p.nameless ? ' (nameless)' : ''}
          </option>
        ))}
      </select>
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

function usage(p: PersonaView): string {
  const known = p.relationships === 0 ? 'No company knows you by it' : `${plural(p.relationships, 'company knows', 'companies know')} you by it`;
  return `${known} · ${p.fields === 0 ? 'no details' : plural(p.fields, 'detail')}`;
}

/** Renaming one persona, or making it nameless (or not), in place. */
function EditPersona({ persona, onDone, onCancel }: { persona: PersonaView; onDone: (view: PersonaView) => void; onCancel: () => void }) {
  const [label, setLabel] = useState(persona.label);
  const [nameless, setNameless] = useState(persona.nameless);
  const action = useAction();
  const id = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const patch = { ...(label.trim() === persona.label ? {} : { label: label.trim() }), ...(nameless === persona.nameless ? {} : { nameless }) };
    if (Object.keys(patch).length === 0) return onCancel();
    const done = await action.run(() => api(routes.updatePersona, { ref: persona.id }, patch));
    if (done) onDone(done.persona);
  };

  return (
    <form className="stack persona-edit" onSubmit={(event) => void submit(event)} aria-label={`Change ${persona.label}`} noValidate>
      <div className="field">
        <label htmlFor={`${id}-label`}>Name of this persona</label>
        <input id={`${id}-label`} type="text" maxLength={40} autoComplete="off" autoFocus value={label} onChange={(event) => setLabel(event.target.value)} />
      </div>
      <div className="choice">
        <input id={`${id}-nameless`} type="checkbox" checked={nameless} onChange={(event) => setNameless(event.target.checked)} />
        <label htmlFor={`${id}-nameless`}>Nameless: never holds a name</label>
      </div>
      <ErrorNote message={action.error} />
      <div className="button-row">
        <Button type="submit" variant="primary" busy={action.busy} busyLabel="Saving…">
          Save
        </Button>
        <Button variant="ghost" onClick={onCancel} disabled={action.busy}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

/**
 * "Your personas": each with its use, and adding, renaming, making the default and removing one.
 * Removing is the agent's to refuse (the default, or one a company still knows her by): its words
 * are shown in the dialog and nothing is lost.
 */
export function PersonasSection({
  personas,
  current,
  onChanged,
  onRemoved,
}: {
  personas: PersonaView[];
  current: string | undefined;
  onChanged: () => void;
  /** Instead of onChanged: the page may have to leave the removed persona first, then load. */
  onRemoved: (persona: PersonaView) => void;
}) {
  const [label, setLabel] = useState('');
  const [nameless, setNameless] = useState(false);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [removing, setRemoving] = useState<PersonaView | undefined>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);
  const [added, setAdded] = useState<PersonaView | undefined>(undefined);
  const adding = useAction();
  const acting = useAction();
  const removal = useAction();
  const id = useId();

  /** Back to the persona's first button once its form closes, as the profile rows do. */
  const closeEditor = (id: string) => {
    setEditing(undefined);
    window.setTimeout(() => document.getElementById(`persona-${id}`)?.querySelector<HTMLButtonElement>('button')?.focus(), 0);
  };

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setNote(undefined);
    setAdded(undefined);
    if (label.trim() === '') {
      adding.setError('Name the persona first, e.g. work.');
      return;
    }
    const done = await adding.run(() => api(routes.addPersona, { label: label.trim(), ...(nameless ? { nameless: true } : {}) }));
    if (!done) return;
    setLabel('');
    setNameless(false);
    setAdded(done.persona);
    onChanged();
  };

  const makeDefault = async (p: PersonaView) => {
    setNote(undefined);
    setAdded(undefined);
    const done = await acting.run(() => api(routes.setDefaultPersona, { persona: p.id }));
    if (!done) return;
    setNote(`New companies now know you as ${done.persona.label} unless you choose another when you connect.`);
    onChanged();
  };

  const remove = async () => {
    if (!removing) return;
    const done = await removal.run(() => api(routes.removePersona, { ref: removing.id }));
    if (!done) return;
    setRemoving(undefined);
    setAdded(undefined);
    setNote(`Removed ${done.persona.label} and its details.`);
    onRemoved(done.persona);
  };

  return (
    <Section title="Your personas" id="personas">
      <p className="section-lead">
        Each company knows you as one of your personas and gets only that persona’s details. Change a detail of one persona and only the companies that know you by it get the new value.
      </p>
      <ul className="card-list" aria-label="Personas">
        {personas.map((p) => (
          <li key={p.id} id={`persona-${p.id}`} className={`card persona-card${p.id === current ? ' is-current' : ''}`} data-testid="persona">
            <div className="card-head">
              <span className="persona-title">
                <strong>{p.label}</strong>
                {p.isDefault ? <Badge tone="info" title="Companies you connect to know you as this persona unless you choose another">default</Badge> : null}
                {p.nameless ? <Badge title="This persona never holds a name">nameless</Badge> : null}
              </span>
              {editing === p.id ? null : (
                <span className="button-row persona-actions">
                  {p.id === current ? null : (
                    <Link to={personaProfilePath(p.id)} className="btn btn-secondary btn-small">
                      Show details<span className="visually-hidden"> of {p.label}</span>
                    </Link>
                  )}
                  <Button variant="secondary" className="btn-small" disabled={acting.busy} onClick={() => setEditing(p.id)}>
                    Rename<span className="visually-hidden"> {p.label}</span>
                  </Button>
                  {p.isDefault ? null : (
                    <>
                      <Button variant="secondary" className="btn-small" busy={acting.busy} onClick={() => void makeDefault(p)}>
                        Make default<span className="visually-hidden"> ({p.label})</span>
                      </Button>
                      <Button variant="ghost" className="btn-small btn-remove" disabled={acting.busy} onClick={() => setRemoving(p)}>
                        Remove<span className="visually-hidden"> {p.label}</span>
                      </Button>
                    </>
                  )}
                </span>
              )}
            </div>
            <p className="muted small persona-usage">{usage(p)}</p>
            {editing === p.id ? (
              <EditPersona
                persona={p}
                onCancel={() => closeEditor(p.id)}
                onDone={(view) => {
                  closeEditor(p.id);
                  setNote(view.label === p.label ? `Saved ${view.label}.` : `Renamed ${p.label} to ${view.label}.`);
                  onChanged();
                }}
              />
            ) : null}
          </li>
        ))}
      </ul>
      <ErrorNote message={acting.error} />
      <LiveNote>
        {added ? (
          <>
            Added {added.label}. <Link to={personaProfilePath(added.id)}>Give it its details</Link>, then choose it when you connect to a company or move one to it.
          </>
        ) : (
          note
        )}
      </LiveNote>

      <form className="stack persona-add" onSubmit={(event) => void add(event)} aria-labelledby={`${id}-title`} noValidate>
        <h3 id={`${id}-title`}>Add a persona</h3>
        <div className="field">
          <label htmlFor={`${id}-label`}>Persona name</label>
          <input id={`${id}-label`} type="text" maxLength={40} autoComplete="off" value={label} onChange={(event) => setLabel(event.target.value)} aria-describedby={`${id}-hint`} />
          <p className="hint" id={`${id}-hint`}>
            For you only, e.g. work or shopping: companies never see it.
          </p>
        </div>
        <div className="choice">
          <input id={`${id}-nameless`} type="checkbox" checked={nameless} onChange={(event) => setNameless(event.target.checked)} />
          <label htmlFor={`${id}-nameless`}>Nameless: never holds a name</label>
        </div>
        <ErrorNote message={adding.error} />
        <div className="button-row">
          <Button type="submit" variant="secondary" busy={adding.busy} busyLabel="Adding…">
            Add persona
          </Button>
        </div>
      </form>

      <ConfirmDialog
        open={removing !== undefined}
        title={`Remove your ${removing?.label ?? ''} persona?`}
        confirmLabel="Remove"
        busyLabel="Removing…"
        danger
        busy={removal.busy}
        error={removal.error}
        onCancel={() => {
          setRemoving(undefined);
          removal.setError(undefined);
        }}
        onConfirm={() => void remove()}
      >
        <p>
          It is deleted from your vault{removing && removing.fields > 0 ? ` with its ${plural(removing.fields, 'detail')}` : ''}. Its past changes stay in your history.
        </p>
      </ConfirmDialog>
    </Section>
  );
}
