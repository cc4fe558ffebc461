import { useId, useState, type FormEvent } from 'react';
import { api, prepare, routes } from '../api';
import { Link } from '../router';
import { ROLES, linkInputs, roleLabel } from '../things';
import type { LinkInput, ThingLinkView, ThingView } from '../types';
import { useAction, useResource } from '../useResource';
import { companyName } from './labels';
import { FormField } from './ThingFields';
import { Badge, Button, ErrorNote, LiveNote, Section } from './ui';
import { theirText } from '../format';

const linkName = (l: ThingLinkView): string => (l.companyName === null ? `Company ${l.relationshipId.slice(0, 8)}` : theirText(l.companyName));

/**
 * The companies behind a thing, each by its part (maker, seller, repairs, insurer) and linking to
 * its relationship page; she links one of her relationships, or removes a link. Nothing is sent to
 * the company: the link is hers.
 */
export function ThingCompanies({ thing, onChanged }: { thing: ThingView; onChanged: (thing: ThingView) => void }) {
  const id = useId();
  const relationships = useResource(prepare(routes.relationships));
  const action = useAction();
  const [relationship, setRelationship] = useState('');
  const [role, setRole] = useState<LinkInput['role']>('seller');
  const [note, setNote] = useState<string | undefined>(undefined);
  // A cut-off relationship has nobody on the other side any more.
  const choices = (relationships.data?.relationships ?? []).filter((r) => r.state !== 'cut_off');

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setNote(undefined);
    const chosen = relationship || choices[0]?.id;
    if (!chosen) return;
    if (thing.links.some((l) => l.relationshipId === chosen && l.role === role)) {
      action.setError('That company already has this part.');
      return;
    }
    // The links are replaced as a whole: hers as they are, and the new one.
    const done = await action.run(() => api(routes.editThing, { id: thing.id }, { links: [...linkInputs(thing), { relationship: chosen, role }] }));
    if (!done) return;
    const added = done.thing.links.find((l) => l.relationshipId === chosen && l.role === role);
    setNote(added ? `Linked ${linkName(added)} as ${roleLabel(role).toLowerCase()}.` : 'Linked.');
    onChanged(done.thing);
  };
  const remove = async (link: ThingLinkView) => {
    setNote(undefined);
    const done = await action.run(() => api(routes.editThing, { id: thing.id }, { links: linkInputs(thing).filter((l) => !(l.relationship === link.relationshipId && l.role === link.role)) }));
    if (!done) return;
    setNote(`Removed ${linkName(link)} (${roleLabel(link.role).toLowerCase()}).`);
    onChanged(done.thing);
  };

  return (
    <Section title="Companies" id="companies">
      <p className="section-lead">Which of your relationships made it, sold it, repairs it or insures it. Nothing is sent to them: this is your note.</p>
      {thing.links.length === 0 ? <p className="muted">No company linked yet.</p> : null}
      {thing.links.length > 0 ? (
        <ul className="record-list" aria-label="Linked companies">
          {thing.links.map((l) => (
            <li key={`${l.relationshipId} ${l.role}`} className="record" data-testid="thing-link">
              <div className="record-head">
                <Link to={`/relationships/${encodeURIComponent(l.relationshipId)}`} className="record-title">
                  {linkName(l)}
                </Link>
                <Badge tone="info">{roleLabel(l.role)}</Badge>
                <Button variant="ghost" className="btn-small" disabled={action.busy} onClick={() => void remove(l)}>
                  Remove<span className="visually-hidden"> {linkName(l)} as {roleLabel(l.role).toLowerCase()}</span>
                </Button>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      {relationships.data && choices.length === 0 ? (
        <p className="hint">
          You have no relationship to link. <Link to="/connect">Connect to a company</Link> first.
        </p>
      ) : null}
      {choices.length > 0 ? (
        <form className="button-row thing-subform" onSubmit={(event) => void add(event)} aria-label="Link a company" noValidate>
          <FormField id={`${id}-relationship`} label="Company" error={undefined}>
            <select id={`${id}-relationship`} value={relationship || choices[0]?.id} onChange={(event) => setRelationship(event.target.value)}>
              {choices.map((r) => (
                <option key={r.id} value={r.id}>
                  {companyName(r)}
                </option>
              ))}
            </select>
          </FormField>
          <FormField id={`${id}-role`} label="Its part" error={undefined}>
            <select id={`${id}-role`} value={role} onChange={(event) => setRole(event.target.value as LinkInput['role'])}>
              {ROLES.map(([r, text]) => (
                <option key={r} value={r}>
                  {text}
                </option>
              ))}
            </select>
          </FormField>
          <Button type="submit" busy={action.busy} busyLabel="Linking…">
            Link
          </Button>
        </form>
      ) : null}
      <ErrorNote message={action.error ?? relationships.error?.message} />
      <LiveNote>{note}</LiveNote>
    </Section>
  );
}
