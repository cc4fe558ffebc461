import { useId, useRef, useState } from 'react';
import { ApiFailure, api, errorMessage, prepare, routes } from '../api';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ThingCompanies } from '../components/ThingCompanies';
import { ThingContracts } from '../components/ThingContracts';
import { ThingDocuments } from '../components/ThingDocuments';
import { ProblemSummary, ThingFieldsEditor, draftProblems } from '../components/ThingFields';
import { RecallBanner } from '../components/ThingRecalls';
import { ThingService } from '../components/ThingService';
import { Badge, Button, ErrorNote, LiveNote, Loading, PageHeader, Section } from '../components/ui';
import { useAgentEvents } from '../events';
import { formatDate, formatIsoDate } from '../format';
import { Link, navigate, useTitle } from '../router';
import { announceThingsChanged, THING_FIELD_LABEL, WARRANTY_STATE, draftOf, patchOf, serverFieldErrors, type ThingDraft, type ThingDraftErrors, type ThingDraftField } from '../things';
import type { ThingView } from '../types';
import { useAction, useResource } from '../useResource';

const SHOWN: readonly ThingDraftField[] = ['brand', 'model', 'serialNumber', 'gtin', 'mpn', 'purchaseDate', 'amount', 'seller', 'location', 'notes'];

function fieldValue(thing: ThingView, field: ThingDraftField): string | undefined {
  switch (field) {
    case 'amount':
      return thing.price ? `${thing.price.amount} ${thing.price.currency}` : undefined;
    case 'currency':
      return undefined;
    case 'purchaseDate':
      return thing.purchaseDate ? formatIsoDate(thing.purchaseDate) : undefined;
    default:
      return thing[field];
  }
}

/** Its fields, shown, and as a form once she presses Edit. */
function Details({ thing, onSaved }: { thing: ThingView; onSaved: () => void }) {
  const id = useId();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<ThingDraft>(() => draftOf(thing));
  const [errors, setErrors] = useState<ThingDraftErrors>({});
  const [note, setNote] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const summaryRef = useRef<HTMLDivElement>(null);

  const set = (field: ThingDraftField, value: string) => {
    setDraft((d) => ({ ...d, [field]: value }));
    if (errors[field]) setErrors((e) => ({ ...e, [field]: undefined }));
  };
  const save = async () => {
    setNote(undefined);
    setFailure(undefined);
    const { errors: found, patch } = patchOf(thing, draft);
    setErrors(found);
    if (!patch) {
      summaryRef.current?.focus();
      return;
    }
    if (Object.keys(patch).length === 0) {
      setEditing(false);
      setNote('Nothing changed.');
      return;
    }
    setBusy(true);
    try {
      await api(routes.editThing, { id: thing.id }, patch);
      setEditing(false);
      setNote('Saved.');
      onSaved();
    } catch (caught) {
      if (caught instanceof ApiFailure && caught.code === 'vault.locked') return;
      const fromServer = caught instanceof ApiFailure ? serverFieldErrors(caught) : {};
      if (Object.keys(fromServer).length > 0) setErrors(fromServer);
      else setFailure(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section
      title="Details"
      id="details"
      actions={
        editing ? undefined : (
          <Button
            className="btn-small"
            onClick={() => {
              setDraft(draftOf(thing));
              setErrors({});
              setNote(undefined);
              setEditing(true);
            }}
          >
            Edit details
          </Button>
        )
      }
    >
      {editing ? (
        <form
          className="card thing-form"
          noValidate
          aria-label="Edit the details"
          onSubmit={(event) => {
            event.preventDefault();
            void save();
          }}
        >
          <ThingFieldsEditor id={id} draft={draft} errors={errors} onChange={set} />
          <ProblemSummary ref={summaryRef} problems={draftProblems(errors)} nothing="Nothing was saved." />
          <ErrorNote message={failure} />
          <div className="button-row">
            <Button type="submit" variant="primary" busy={busy} busyLabel="Saving…">
              Save changes
            </Button>
            <Button variant="ghost" disabled={busy} onClick={() => setEditing(false)}>
              Cancel
            </Button>
          </div>
        </form>
      ) : (
        <dl className="facts">
          {SHOWN.map((field) => {
            const value = fieldValue(thing, field);
            return (
              <div className="fact" key={field}>
                <dt>{THING_FIELD_LABEL[field]}</dt>
                <dd className={field === 'notes' ? 'thing-notes' : undefined}>{value ?? <span className="muted">—</span>}</dd>
              </div>
            );
          })}
          <div className="fact">
            <dt>Added</dt>
            <dd>{formatDate(thing.createdAt)}</dd>
          </div>
        </dl>
      )}
      <LiveNote>{note}</LiveNote>
    </Section>
  );
}

/** One thing: its recalls first, its details (editable), contracts, documents, companies, proof of purchase, registrations and service cases. */
export function ThingPage({ id }: { id: string }) {
  const { data, error, loading, reload } = useResource(prepare(routes.thing, { id }));
  const removal = useAction();
  const [confirm, setConfirm] = useState(false);
  const thing = data?.thing;
  useTitle(thing ? thing.name : 'Thing');
  useAgentEvents((event) => {
    if (event.type === 'thing.warranty_ending' && event.thingId === thing?.id) void reload();
    // A recall of it comes first on the page.
    if (event.type === 'thing.recall' && thing && event.thingIds.includes(thing.id)) void reload();
  });

  const remove = async () => {
    if (!thing) return;
    if (!(await removal.run(() => api(routes.removeThing, { id: thing.id })))) return;
    setConfirm(false);
    announceThingsChanged();
    navigate('/things');
  };

  const back = (
    <p className="back-link">
      <Link to="/things">← All things</Link>
    </p>
  );
  if (!thing) {
    return (
      <>
        {back}
        <PageHeader title="Thing" />
        <ErrorNote message={error?.message} />
        {loading ? <Loading /> : null}
      </>
    );
  }
  const state = WARRANTY_STATE[thing.warranty];
  const changed = () => void reload();

  return (
    <>
      {back}
      <PageHeader
        title={thing.name}
        badge={<Badge tone={state.tone}>{`Warranty: ${state.text.toLowerCase()}`}</Badge>}
        subtitle={[thing.brand, thing.model].filter(Boolean).join(' ') || undefined}
        actions={
          <Button variant="danger" onClick={() => setConfirm(true)}>
            Remove…
          </Button>
        }
      />
      <RecallBanner things={[thing]} showThing={false} />
      <ErrorNote message={error?.message} />
      <Details thing={thing} onSaved={changed} />
      <ThingContracts thing={thing} onChanged={changed} />
      <ThingDocuments thing={thing} onChanged={changed} />
      <ThingCompanies thing={thing} onChanged={changed} />
      <ThingService thing={thing} onChanged={changed} />
      <ConfirmDialog
        open={confirm}
        title={`Remove ${thing.name}?`}
        confirmLabel="Remove it"
        busyLabel="Removing…"
        danger
        busy={removal.busy}
        error={removal.error}
        onCancel={() => {
          setConfirm(false);
          removal.setError(undefined);
        }}
        onConfirm={() => void remove()}
      >
        <p>
          It goes from your vault with its documents, its contracts and its links to companies. Nothing is sent to the companies.
        </p>
        <p>This cannot be undone: a copy stays only in exports you made before.</p>
      </ConfirmDialog>
    </>
  );
}
