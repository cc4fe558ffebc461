import { useId, useState, type FormEvent } from 'react';
import { ApiFailure, api, prepare, routes } from '../api';
import { formatDate, theirText } from '../format';
import { Link } from '../router';
import { REGISTRATION_FIELDS, claimLabel, detailText, registrationShares, serviceError } from '../things';
import type { ThingView } from '../types';
import { useResource } from '../useResource';
import { companyName } from './labels';
import { ThingCases } from './ThingCases';
import { FormField } from './ThingFields';
import { Badge, Button, ErrorNote, LiveNote, Section } from './ui';

/*
 * The thing's side with the companies behind it (issue 13 items 2 and 3; docs/protocol/thing.md and
 * service.md): the seller's signed receipt kept as proof of purchase, her registrations with its
 * maker and the form to register it (only the fields she ticks, under a consent record), and its
 * service cases (ThingCases.tsx).
 */

const named = (name: string | null, relationshipId: string): string => (name === null ? `Company ${relationshipId.slice(0, 8)}` : theirText(name));

/** Who sold it, and whether the signed receipt is kept, said plainly. */
function ProofOfPurchase({ thing }: { thing: ThingView }) {
  const proof = thing.proofOfPurchase;
  return (
    <Section title="Proof of purchase" id="proof">
      {proof ? (
        <div className="card proof-card" data-testid="proof-of-purchase">
          <p className="proof-title">
            <Badge tone="good">Signed receipt kept</Badge> Sold by{' '}
            <Link to={`/relationships/${encodeURIComponent(proof.relationshipId)}`}>{named(proof.companyName, proof.relationshipId)}</Link>
          </p>
          <p className="record-body">
            {named(proof.companyName, proof.relationshipId)} signed the receipt for this sale, and Kith checked the signature when it arrived on {formatDate(proof.receivedAt)}. It is kept in your vault exactly as signed: anyone (a repair shop, an insurer) can check it again against {named(proof.companyName, proof.relationshipId)}’s public key. It goes with your exports.
          </p>
        </div>
      ) : (
        <p className="muted">No signed receipt from a seller: you added this thing yourself. A receipt you keep as a file is under Documents.</p>
      )}
    </Section>
  );
}

/** Her registrations with makers, and the form to register it with one. */
function Registrations({ thing, onChanged }: { thing: ThingView; onChanged: (thing: ThingView) => void }) {
  const id = useId();
  const relationships = useResource(prepare(routes.relationships));
  const choices = (relationships.data?.relationships ?? []).filter((r) => r.state !== 'cut_off');
  // Its maker by default; else a company linked to it; else her first relationship.
  const preferred = thing.links.find((l) => l.role === 'maker') ?? thing.links[0];
  const [company, setCompany] = useState('');
  const chosen = company || (preferred && choices.some((r) => r.id === preferred.relationshipId) ? preferred.relationshipId : choices[0]?.id) || '';
  const chosenName = choices.find((r) => r.id === chosen);
  const available = REGISTRATION_FIELDS.filter((f) => thing[f.field] !== undefined);
  const [ticked, setTicked] = useState<string[]>(() => available.filter((f) => f.claim === 'gtin' || f.claim === 'model').map((f) => f.claim));
  const [purpose, setPurpose] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);
  const shares = registrationShares(thing, ticked);
  const who = chosenName ? companyName(chosenName) : 'the company';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setNote(undefined);
    if (!chosen) return;
    if (shares.length === 0) {
      setError('Registering needs the thing’s GTIN or model, what a recall names: add one under Details first. Nothing was sent.');
      return;
    }
    setBusy(true);
    try {
      const { thing: updated } = await api(routes.registerThing, { id: thing.id }, { with: chosen, fields: ticked.length > 0 ? ticked : shares, ...(purpose.trim() ? { purpose: purpose.trim() } : {}) });
      const registration = updated.registrations.at(-1);
      setNote(`Registered with ${who}: it received ${(registration?.fields ?? shares).map(claimLabel).join(', ')}. Both of you keep a consent record of it.`);
      onChanged(updated);
    } catch (caught) {
      // What she ticked and typed stays as it was.
      if (!(caught instanceof ApiFailure && caught.code === 'vault.locked')) setError(caught instanceof ApiFailure ? serviceError(caught, who) : String(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Registrations" id="registrations">
      <p className="section-lead">Registering a thing with its maker tells it you own one: it can then reach you with recalls and safety notices about it, and nobody else can use that channel. You choose what it learns.</p>
      {thing.registrations.length === 0 ? <p className="muted">Not registered with any company.</p> : null}
      {thing.registrations.length > 0 ? (
        <ul className="record-list" aria-label="Registrations">
          {thing.registrations.map((r) => (
            <li key={`${r.relationshipId} ${r.at}`} className="record" data-testid="thing-registration">
              <div className="record-head">
                <span className="record-title">
                  Registered with <Link to={`/relationships/${encodeURIComponent(r.relationshipId)}`}>{named(r.companyName, r.relationshipId)}</Link>
                </span>
                <span className="muted">{formatDate(r.at)}</span>
              </div>
              <p className="record-body">Shared: {r.fields.map(claimLabel).join(', ')}. A consent record of it is kept on both sides.</p>
            </li>
          ))}
        </ul>
      ) : null}
      {relationships.data && choices.length === 0 ? (
        <p className="hint">
          You have no relationship to register it with. <Link to="/connect">Connect to its maker</Link> first.
        </p>
      ) : null}
      {choices.length > 0 ? (
        <form className="card thing-form register-form" noValidate aria-label="Register with its maker" onSubmit={(event) => void submit(event)}>
          <h3 className="card-title">Register with its maker</h3>
          <FormField id={`${id}-company`} label="Company" error={undefined}>
            <select id={`${id}-company`} value={chosen} onChange={(event) => setCompany(event.target.value)}>
              {choices.map((r) => (
                <option key={r.id} value={r.id}>
                  {companyName(r)}
                  {thing.links.some((l) => l.relationshipId === r.id && l.role === 'maker') ? ' (its maker)' : ''}
                  {r.state === 'muted' ? ' (muted)' : ''}
                </option>
              ))}
            </select>
          </FormField>
          <fieldset className="form-group">
            <legend>What to share</legend>
            {available.length === 0 ? <p className="muted">This thing has no details to share yet: add its model or GTIN under Details.</p> : null}
            <div className="choices choices-tight">
              {available.map((f) => (
                <div className="choice" key={f.claim}>
                  <input
                    id={`${id}-share-${f.claim}`}
                    type="checkbox"
                    checked={ticked.includes(f.claim)}
                    onChange={(event) => setTicked((t) => (event.target.checked ? [...t, f.claim] : t.filter((c) => c !== f.claim)))}
                  />
                  <label htmlFor={`${id}-share-${f.claim}`}>{f.label}</label>
                  <span className="choice-note">{detailText(thing, f.field)}</span>
                </div>
              ))}
            </div>
          </fieldset>
          <FormField id={`${id}-purpose`} label="Why" optional hint="Said in the consent record; by default “Product registration: warranty service and safety recalls”." error={undefined}>
            <input id={`${id}-purpose`} type="text" maxLength={500} value={purpose} aria-describedby={`${id}-purpose-hint`} onChange={(event) => setPurpose(event.target.value)} />
          </FormField>
          <p className="hint" data-testid="register-preview">
            {shares.length > 0 ? (
              <>
                {who} will receive {shares.map(claimLabel).join(', ')}
                {shares.some((c) => !ticked.includes(c)) ? ' (the GTIN or model is always sent: it is what a recall names)' : ''}, signed by you, and nothing else about this thing. Kith keeps a consent record of what you shared and why; {who} keeps the same record.
              </>
            ) : (
              <>Registering needs the thing’s GTIN or model: add one under Details first.</>
            )}
          </p>
          {thing.registrations.some((r) => r.relationshipId === chosen) ? <p className="hint">Already registered with {who}: registering again sends a new registration, with a consent record of its own.</p> : null}
          <ErrorNote message={error} />
          <div className="button-row">
            <Button type="submit" variant="primary" busy={busy} busyLabel="Registering…">
              Register
            </Button>
          </div>
          <LiveNote>{note}</LiveNote>
        </form>
      ) : null}
      <ErrorNote message={relationships.error?.message} />
    </Section>
  );
}

/** Proof of purchase, registrations and service cases of a thing. */
export function ThingService({ thing, onChanged }: { thing: ThingView; onChanged: (thing: ThingView) => void }) {
  return (
    <>
      <ProofOfPurchase thing={thing} />
      <Registrations thing={thing} onChanged={onChanged} />
      <ThingCases thing={thing} />
    </>
  );
}
