import { useId, useRef, useState } from 'react';
import { ApiFailure, api, errorMessage, prepare, routes } from '../api';
import { DocumentRefused, attachDocument } from '../components/ThingDocuments';
import { RecallBanner } from '../components/ThingRecalls';
import { ThingReceipts } from '../components/ThingReceipts';
import { DocumentPicker, ProblemSummary, ThingFieldsEditor, draftProblems } from '../components/ThingFields';
import { Badge, Button, Empty, ErrorNote, LiveNote, Loading, PageHeader, Section } from '../components/ui';
import { downloadBlob, today } from '../download';
import { useAgentEvents } from '../events';
import { formatIsoDate, plural } from '../format';
import { Link, useTitle } from '../router';
import { announceThingsChanged, CONTRACT_KIND, DUE_DAYS, WARRANTY_STATE, checkThingDraft, contractWhen, emptyThingDraft, serverFieldErrors, type ThingDraft, type ThingDraftErrors, type ThingDraftField } from '../things';
import type { ThingFieldsBody } from '../../personal/http/apiContract.js';
import type { AttachmentView, DueView, ThingView } from '../types';
import { useAction, useResource } from '../useResource';

// ---------------------------------------------------------------------------------------------
// The list

/** The warranty's last day that matters today: the one in force (or ending) that ends last, else the last one. */
function warrantyEnd(thing: ThingView): string | undefined {
  const warranties = thing.contracts.filter((c) => c.kind === 'warranty');
  const current = warranties.filter((c) => c.status === 'active' || c.status === 'ending');
  return (current.length > 0 ? current : warranties)
    .map((c) => c.end)
    .sort()
    .at(-1);
}

function ThingsTable({ things }: { things: ThingView[] }) {
  const captionId = useId();
  return (
    <div className="table-scroll" role="region" aria-labelledby={captionId} tabIndex={0}>
      <table className="table things-table">
        <caption id={captionId} className="visually-hidden">
          Your things, with their warranty today
        </caption>
        <thead>
          <tr>
            <th scope="col">Thing</th>
            <th scope="col">Where</th>
            <th scope="col">Bought</th>
            <th scope="col">Warranty</th>
            <th scope="col" className="num">
              Documents
            </th>
          </tr>
        </thead>
        <tbody>
          {things.map((t) => {
            const state = WARRANTY_STATE[t.warranty];
            const end = warrantyEnd(t);
            const made = [t.brand, t.model].filter(Boolean).join(' ');
            return (
              <tr key={t.id} data-testid="thing-row">
                <th scope="row">
                  <Link to={`/things/${encodeURIComponent(t.id)}`}>{t.name}</Link>
                  {t.recalls.length > 0 ? (
                    <>
                      {' '}
                      <Badge tone="bad">Recalled</Badge>
                    </>
                  ) : null}
                  {made ? <span className="cell-sub">{made}</span> : null}
                </th>
                <td>{t.location ?? <span className="muted">—</span>}</td>
                <td className="nowrap">{t.purchaseDate ? formatIsoDate(t.purchaseDate) : <span className="muted">—</span>}</td>
                <td>
                  <Badge tone={state.tone}>{state.text}</Badge>
                  {end ? <span className="cell-sub">{t.warranty === 'ended' ? 'ended' : 'until'} {formatIsoDate(end)}</span> : null}
                </td>
                <td className="num">{t.attachments.length}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// Due soon

function DueSoon({ due, error }: { due: DueView[] | undefined; error: string | undefined }) {
  return (
    <Section title="Due soon" id="due">
      <p className="section-lead">Warranties and service contracts ending in the next {DUE_DAYS} days. Kith reminds you 60, 30 and 7 days before.</p>
      <ErrorNote message={error} />
      {due && due.length === 0 ? <p className="muted">Nothing ends in the next {DUE_DAYS} days.</p> : null}
      {due && due.length > 0 ? (
        <ul className="record-list" aria-label="Ending soon, soonest first">
          {due.map((d) => (
            <li key={`${d.thingId} ${d.contract.id}`} className="record" data-testid="due-item">
              <div className="record-head">
                <span className="record-title">
                  <Link to={`/things/${encodeURIComponent(d.thingId)}`}>{d.thingName}</Link>: {CONTRACT_KIND[d.contract.kind].toLowerCase()}
                  {d.contract.provider ? ` from ${d.contract.provider}` : ''}
                </span>
                <Badge tone={d.contract.daysLeft <= 7 ? 'bad' : 'warn'}>{d.contract.daysLeft === 0 ? 'Ends today' : `${plural(d.contract.daysLeft, 'day')} left`}</Badge>
              </div>
              <p className="record-body">{contractWhen(d.contract)}.</p>
            </li>
          ))}
        </ul>
      ) : null}
    </Section>
  );
}

// ---------------------------------------------------------------------------------------------
// Inventory

function Inventory({ count }: { count: number }) {
  const action = useAction();
  const [note, setNote] = useState<string | undefined>(undefined);
  const get = async (format: 'csv' | 'html') => {
    setNote(undefined);
    // Fetched with the session key (a plain link could not send it), then offered as a file.
    const text = await action.run(() => api(routes.thingsInventory, { format }));
    if (text === undefined) return;
    const name = `inventory-${today()}.${format}`;
    downloadBlob(new Blob([text], { type: format === 'csv' ? 'text/csv' : 'text/html' }), name);
    setNote(format === 'csv' ? `Downloaded ${name}: one row per thing, for a spreadsheet.` : `Downloaded ${name}: open it in your browser and print it, with the photos and the totals.`);
  };
  return (
    <Section title="Inventory" id="inventory">
      <p className="section-lead">Everything you own in one list, for your insurer or a claim: as a spreadsheet (CSV), or as a page to print with the photos and the total paid per currency.</p>
      <div className="button-row">
        <Button onClick={() => void get('csv')} disabled={action.busy || count === 0}>
          Download the inventory (CSV)
        </Button>
        <Button onClick={() => void get('html')} disabled={action.busy || count === 0}>
          Download a printable page (HTML)
        </Button>
      </div>
      <ErrorNote message={action.error} />
      <LiveNote>{note}</LiveNote>
    </Section>
  );
}

// ---------------------------------------------------------------------------------------------
// Adding one

function NewThingForm({ onAdded }: { onAdded: (thing: ThingView) => void }) {
  const id = useId();
  const [draft, setDraft] = useState<ThingDraft>(emptyThingDraft);
  const [errors, setErrors] = useState<ThingDraftErrors>({});
  const [kind, setKind] = useState<AttachmentView['kind']>('photo');
  const [file, setFile] = useState<File | undefined>(undefined);
  const [fileError, setFileError] = useState<string | undefined>(undefined);
  const [inputKey, setInputKey] = useState(0);
  const [added, setAdded] = useState<ThingView | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const summaryRef = useRef<HTMLDivElement>(null);

  const set = (field: ThingDraftField, value: string) => {
    setDraft((d) => ({ ...d, [field]: value }));
    if (errors[field]) setErrors((e) => ({ ...e, [field]: undefined }));
  };

  /** Adds the thing, then its document; a refused document takes the thing back out. @returns the thing, or the error to show. */
  const addBoth = async (fields: ThingFieldsBody): Promise<ThingView> => {
    const { thing } = await api(routes.addThing, fields);
    if (!file) return thing;
    try {
      const attachment = await attachDocument(thing.id, kind, file);
      return { ...thing, attachments: [attachment] };
    } catch (refused) {
      // A thing and its document are added together or not at all: the API takes them in two
      // calls, so a refused document removes the thing again, and her draft stays as she typed it.
      const undone = await api(routes.removeThing, { id: thing.id }).then(
        () => true,
        () => false,
      );
      if (!undone) throw new Error(`${errorMessage(refused)} The thing itself was added, without the document: it is in the list.`);
      throw refused;
    }
  };

  const submit = async () => {
    setAdded(undefined);
    setFileError(undefined);
    setFailure(undefined);
    const checked = checkThingDraft(draft);
    setErrors(checked.errors);
    const fields = checked.fields;
    if (!fields) {
      summaryRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      const thing = await addBoth(fields);
      setAdded(thing);
      setDraft(emptyThingDraft());
      setFile(undefined);
      setInputKey((k) => k + 1);
      announceThingsChanged();
      onAdded(thing);
    } catch (caught) {
      if (caught instanceof DocumentRefused) setFileError(caught.message);
      else if (caught instanceof ApiFailure && caught.code === 'vault.locked') return;
      else if (caught instanceof ApiFailure && Object.keys(serverFieldErrors(caught)).length > 0) {
        setErrors(serverFieldErrors(caught));
        summaryRef.current?.focus();
      } else setFailure(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="card thing-form"
      noValidate
      aria-labelledby="new-thing-title"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <ThingFieldsEditor id={id} draft={draft} errors={errors} onChange={set} />
      <DocumentPicker
        id={`${id}-doc`}
        kind={kind}
        onKind={setKind}
        onFile={(f) => {
          setFile(f);
          setFileError(undefined);
        }}
        inputKey={inputKey}
        error={fileError}
      />
      <ProblemSummary ref={summaryRef} problems={draftProblems(errors)} nothing="Nothing was added." />
      <ErrorNote message={failure} />
      <div className="button-row">
        <Button type="submit" variant="primary" busy={busy} busyLabel="Adding…">
          Add thing
        </Button>
      </div>
      <LiveNote>
        {added ? (
          <p>
            Added {added.name}. <Link to={`/things/${encodeURIComponent(added.id)}`}>Open it</Link> to add its warranty and the companies behind it.
          </p>
        ) : undefined}
      </LiveNote>
    </form>
  );
}

// ---------------------------------------------------------------------------------------------

/** Her things: recalls first, receipts waiting for her, the list with each one's warranty, what ends soon, the inventory, and a new thing. */
export function ThingsPage() {
  useTitle('Things');
  const { data, error, loading, reload } = useResource(prepare(routes.things));
  const due = useResource(prepare(routes.thingsDue));
  const receipts = useResource(prepare(routes.thingReceipts));
  useAgentEvents((event) => {
    if (event.type === 'thing.warranty_ending') {
      void reload();
      void due.reload();
    }
    if (event.type === 'thing.receipt') void receipts.reload();
    if (event.type === 'thing.recall') void reload();
  });
  const things = data?.things ?? [];

  return (
    <>
      <PageHeader
        title="Things"
        subtitle="What you own, with its documents, its warranties and the companies behind it. All of it stays in your vault."
        actions={
          things.length > 0 ? (
            <a href="#new-thing" className="btn btn-primary">
              Add a thing
            </a>
          ) : undefined
        }
      />
      <RecallBanner things={things} showThing />
      <ThingReceipts
        receipts={receipts.data?.receipts}
        error={receipts.error?.message}
        onAnswered={() => {
          void receipts.reload();
          void reload();
        }}
      />
      <Section title="Your things" id="your-things" className="section-first">
        <ErrorNote message={error?.message} />
        {loading && !data ? <Loading /> : null}
        {data && things.length === 0 ? <Empty title="No things yet">Add the things you want to keep track of below: the fridge, the bike, the car. Kith keeps their receipts and reminds you before a warranty ends.</Empty> : null}
        {things.length > 0 ? <ThingsTable things={things} /> : null}
      </Section>
      <DueSoon due={due.data?.due} error={due.error?.message} />
      <Section title="Add a thing" id="new-thing">
        <NewThingForm
          onAdded={() => {
            void reload();
            void due.reload();
          }}
        />
      </Section>
      <Inventory count={things.length} />
    </>
  );
}
