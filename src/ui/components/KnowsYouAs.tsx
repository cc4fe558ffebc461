import { useEffect, useId, useState } from 'react';
import { api, prepare, routes } from '../api';
import { fieldLabel, formatFieldValue } from '../format';
import { Link } from '../router';
import type { ChangeView, RelationshipView } from '../types';
import { useAction, useResource } from '../useResource';
import { ConfirmDialog } from './ConfirmDialog';
import { DeliveryProgress } from './DeliveryProgress';
import { PersonaSelect, personaName, personaProfilePath, usePersonas } from './Personas';
import { Button, ErrorNote, LiveNote, Loading, Section } from './ui';

/**
 * Which of her personas a company knows her as, and moving it to another (PUT
 * /api/relationships/:ref/persona). Before the move it says what will happen to each field the
 * company holds: sent again with the new persona's value, or withdrawn (and erased by the company)
 * where the new persona has none; after it, the change's delivery.
 */
export function KnowsYouAs({ relationship, company, onMoved }: { relationship: RelationshipView; company: string; onMoved: () => void }) {
  const personas = usePersonas();
  const list = personas.data?.personas ?? [];
  const current = relationship.persona;
  const others = list.filter((p) => p.id !== current.id);
  const [target, setTarget] = useState('');
  const [confirm, setConfirm] = useState(false);
  const [change, setChange] = useState<ChangeView | undefined>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);
  const action = useAction();
  const id = useId();

  // The first other persona is preselected; a persona removed meanwhile is not kept.
  const choices = others.map((p) => p.id).join(' ');
  useEffect(() => {
    const ids = choices === '' ? [] : choices.split(' ');
    if (!ids.includes(target)) setTarget(ids[0] ?? '');
  }, [choices, target]);

  const chosen = others.find((p) => p.id === target);
  // What the new persona would send: read when she asks to move, not before.
  const destination = useResource(confirm && chosen ? prepare(routes.profile, { persona: chosen.id }) : null);
  const held = [...new Set(relationship.holds.filter((h) => h.category === 'field' && h.source === 'self' && h.field !== undefined).map((h) => h.field as string))].sort();
  const values = new Map((destination.data?.fields ?? []).map((f) => [f.field, f.value]));
  const sent = held.filter((f) => values.has(f));
  const withdrawn = held.filter((f) => !values.has(f));

  const move = async () => {
    if (!chosen) return;
    setNote(undefined);
    const done = await action.run(() => api(routes.setRelationshipPersona, { ref: relationship.id }, { persona: chosen.id }));
    if (!done) return;
    setConfirm(false);
    setChange(done.change ?? undefined);
    setNote(
      done.moved
        ? `${company} now knows you as ${chosen.label}${done.change ? '' : '. It holds none of your details, so nothing was sent'}.`
        : `${company} already knew you as ${chosen.label}.`,
    );
    onMoved();
  };

  return (
    <Section title={`Knows you as ${personaName(current.label)}`} id="persona">
      <p className="section-lead">
        {company} gets the details of your {personaName(current.label)} persona, and their changes. <Link to={personaProfilePath(current.id)}>See that persona’s details</Link>
      </p>
      {personas.data && others.length === 0 ? (
        <p className="muted">
          You have one persona. <Link to="/profile#personas">Add another</Link> to let companies know different selves of you, e.g. your work self.
        </p>
      ) : null}
      {others.length > 0 ? (
        <form
          className="persona-move"
          aria-label={`Move ${company} to another persona`}
          onSubmit={(event) => {
            event.preventDefault();
            action.setError(undefined);
            setConfirm(true);
          }}
        >
          <PersonaSelect id={`${id}-persona`} label="Move to persona" personas={others} value={target} onChange={setTarget} />
          <Button type="submit" variant="secondary" disabled={!chosen}>
            Move…
          </Button>
        </form>
      ) : null}
      <ErrorNote message={personas.error?.message} />
      <LiveNote>{note}</LiveNote>
      {change ? <DeliveryProgress initial={change} /> : null}

      <ConfirmDialog
        open={confirm}
        title={`Move ${company} to your ${chosen?.label ?? ''} persona?`}
        confirmLabel="Move"
        busyLabel="Moving…"
        busy={action.busy}
        error={action.error ?? destination.error?.message}
        onCancel={() => {
          setConfirm(false);
          action.setError(undefined);
        }}
        onConfirm={() => void move()}
      >
        {held.length === 0 ? (
          <p>
            {company} holds none of your details, so nothing is sent now. From then on, what you share with it comes from your {chosen?.label} persona.
          </p>
        ) : destination.loading || !destination.data ? (
          <Loading label="Reading that persona’s details…" />
        ) : (
          <>
            <p>
              From then on {company} gets your {chosen?.label} persona’s details and their changes, and no longer those of {personaName(current.label)}. What it holds now:
            </p>
            <ul>
              {sent.map((f) => (
                <li key={f}>
                  <strong>{fieldLabel(f)}</strong> is sent again with {chosen?.label}’s value: {formatFieldValue(f, values.get(f))}
                </li>
              ))}
              {withdrawn.map((f) => (
                <li key={f}>
                  <strong>{fieldLabel(f)}</strong>: {chosen?.label} has none, so your consent is withdrawn and {company} is asked to erase it
                </li>
              ))}
            </ul>
          </>
        )}
      </ConfirmDialog>
    </Section>
  );
}
