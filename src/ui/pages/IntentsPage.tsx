import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { api, prepare, routes } from '../api';
import { companyName } from '../components/labels';
import { Badge, Button, Empty, ErrorNote, LiveNote, Loading, PageHeader, Section } from '../components/ui';
import { useAgentEvents } from '../events';
import { fieldLabel, formatDate, formatDateTime, formatFieldValue, plural } from '../format';
import {
  categoryLabel,
  checkDraft,
  DRAFT_ORDER,
  emptyDraft,
  entryShown,
  ENDS_IN,
  groupCategories,
  INTENT_STATE,
  priceRangeText,
  type DraftErrors,
  type DraftField,
  type EndsIn,
  type EntryShown,
  type IntentDraft,
} from '../intents';
import { Link, useTitle } from '../router';
import type { DirectoryEntryView, IntentCategory, IntentView, RelationshipView } from '../types';
import { useAction, useResource } from '../useResource';

// ---------------------------------------------------------------------------------------------
// Her intents

function IntentCard({ intent, categories }: { intent: IntentView; categories: readonly IntentCategory[] | undefined }) {
  const state = INTENT_STATE[intent.state] ?? { text: intent.state, tone: 'neutral' as const };
  const price = priceRangeText(intent.demand);
  const asked = intent.recipients.length;
  return (
    <li className="card intent-card">
      <div className="card-head">
        <h3 className="card-title intent-card-title">
          <Link to={`/intents/${encodeURIComponent(intent.id)}`}>{intent.demand.description}</Link>
        </h3>
        <Badge tone={state.tone}>{state.text}</Badge>
      </div>
      <dl className="facts facts-row intent-card-facts">
        <div className="fact">
          <dt>Category</dt>
          <dd>{categoryLabel(intent.demand.category, categories)}</dd>
        </div>
        {price ? (
          <div className="fact">
            <dt>Price</dt>
            <dd>{price}</dd>
          </div>
        ) : null}
        <div className="fact">
          <dt>Offers</dt>
          <dd>{intent.offers === 0 ? 'none yet' : plural(intent.offers, 'offer')}</dd>
        </div>
        <div className="fact">
          <dt>Sent to</dt>
          <dd>{plural(asked, 'company', 'companies')}</dd>
        </div>
        <div className="fact">
          <dt>{intent.state === 'open' ? 'Ends' : intent.state === 'expired' ? 'Ended' : 'Was to end'}</dt>
          <dd>{formatDateTime(intent.expiresAt)}</dd>
        </div>
      </dl>
      <p className="muted small intent-card-foot">Cast on {formatDate(intent.createdAt)}</p>
    </li>
  );
}

// ---------------------------------------------------------------------------------------------
// The new-intent form

/** Props of a form control: its id, and its error (aria-invalid, described by the error and hint). */
function control(id: string, field: DraftField, errors: DraftErrors, hint = false) {
  const described = [errors[field] ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return { id, 'aria-invalid': errors[field] ? true : undefined, ...(described ? { 'aria-describedby': described } : {}) };
}

function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p className="field-error" id={`${id}-error`}>
      {message}
    </p>
  );
}

function Field({ id, label, optional = false, hint, error, children, className = '' }: { id: string; label: string; optional?: boolean; hint?: ReactNode; error: string | undefined; children: ReactNode; className?: string }) {
  return (
    <div className={`field ${className}`}>
      <label htmlFor={id}>
        {label}
        {optional ? <span className="optional"> (optional)</span> : null}
      </label>
      {children}
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      <FieldError id={id} message={error} />
    </div>
  );
}

function CategoryControl({ id, value, onChange, errors, categories, failed }: { id: string; value: string; onChange: (value: string) => void; errors: DraftErrors; categories: readonly IntentCategory[] | undefined; failed: string | undefined }) {
  if (categories) {
    return (
      <Field id={id} label="Category" error={errors.category} hint="Companies answer the categories they serve; a broader one reaches more of them.">
        <select {...control(id, 'category', errors, true)} value={value} onChange={(event) => onChange(event.target.value)}>
          <option value="">Choose a category…</option>
          {groupCategories(categories).map((group) => (
            <optgroup key={group.id} label={group.label}>
              {group.options.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.label}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </Field>
    );
  }
  // Without the list (an agent that does not serve it yet), the id by hand.
  return (
    <Field id={id} label="Category" error={errors.category} hint={failed ? `The list of categories could not be loaded (${failed}). Type a category id, such as clothing, books or electronics.` : 'Loading the list of categories… You can type a category id, such as clothing.'}>
      <input {...control(id, 'category', errors, true)} type="text" value={value} autoCapitalize="off" autoCorrect="off" spellCheck={false} onChange={(event) => onChange(event.target.value)} />
    </Field>
  );
}

function NewIntentForm({ categories, categoriesError, onCast }: { categories: readonly IntentCategory[] | undefined; categoriesError: string | undefined; onCast: (intent: IntentView) => void }) {
  const profile = useResource(prepare(routes.profile));
  const relationships = useResource(prepare(routes.relationships));
  const live = (relationships.data?.relationships ?? []).filter((r) => r.state === 'active' || r.state === 'muted');
  const [draft, setDraft] = useState<IntentDraft>(() => emptyDraft());
  const [errors, setErrors] = useState<DraftErrors>({});
  const [result, setResult] = useState<{ intent: IntentView } | undefined>(undefined);
  const action = useAction();
  const id = useId();
  const toInitialised = useRef(false);
  const summaryRef = useRef<HTMLDivElement>(null);

  // Every live relationship is ticked at first.
  useEffect(() => {
    if (toInitialised.current || !relationships.data) return;
    toInitialised.current = true;
    setDraft((d) => ({ ...d, to: live.map((r) => r.id) }));
  }, [relationships.data]);

  const set = <K extends DraftField>(field: K, value: IntentDraft[K]) => {
    setDraft((d) => ({ ...d, [field]: value }));
    if (errors[field]) setErrors((e) => ({ ...e, [field]: undefined }));
  };
  const toggle = (field: 'to' | 'disclose', value: string, on: boolean) => {
    setDraft((d) => ({ ...d, [field]: on ? [...d[field], value] : d[field].filter((v) => v !== value) }));
    if (errors[field]) setErrors((e) => ({ ...e, [field]: undefined }));
  };

  const submit = async () => {
    setResult(undefined);
    action.setError(undefined);
    const checked = checkDraft(draft, Date.now());
    setErrors(checked.errors);
    if (!checked.body) {
      summaryRef.current?.focus();
      return;
    }
    const body = checked.body;
    const answer = await action.run(() => api(routes.castIntent, body));
    if (!answer) return;
    setResult(answer);
    setDraft((d) => ({ ...emptyDraft(d.to), endsIn: d.endsIn, currency: d.currency }));
    onCast(answer.intent);
  };

  const problems = DRAFT_ORDER.map((f) => errors[f]).filter((m): m is string => Boolean(m));
  const recipients = draft.to.length;
  const fields = profile.data?.fields ?? [];

  return (
    <form
      className="card intent-form"
      noValidate
      aria-labelledby="new-intent-title"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <Field id={`${id}-description`} label="What you want" error={errors.description} hint="In your words, as precisely as you like: companies see exactly this.">
        <textarea {...control(`${id}-description`, 'description', errors, true)} rows={3} maxLength={2000} value={draft.description} placeholder="Waterproof trail shoes, size 39" onChange={(event) => set('description', event.target.value)} />
      </Field>

      <CategoryControl id={`${id}-category`} value={draft.category} onChange={(value) => set('category', value)} errors={errors} categories={categories} failed={categoriesError} />

      <fieldset className="form-group">
        <legend>Price</legend>
        <div className="form-grid">
          <Field id={`${id}-max`} label="Max price" optional error={errors.maxPrice}>
            <input {...control(`${id}-max`, 'maxPrice', errors)} type="text" inputMode="decimal" autoComplete="off" value={draft.maxPrice} placeholder="150" onChange={(event) => set('maxPrice', event.target.value)} />
          </Field>
          <Field id={`${id}-min`} label="Min price" optional error={errors.minPrice}>
            <input {...control(`${id}-min`, 'minPrice', errors)} type="text" inputMode="decimal" autoComplete="off" value={draft.minPrice} onChange={(event) => set('minPrice', event.target.value)} />
          </Field>
          <Field id={`${id}-currency`} label="Currency" error={errors.currency}>
            <input {...control(`${id}-currency`, 'currency', errors)} type="text" maxLength={3} autoComplete="off" autoCapitalize="characters" spellCheck={false} className="code-input" value={draft.currency} onChange={(event) => set('currency', event.target.value.toUpperCase())} />
          </Field>
        </div>
        <div className="choice">
          <input id={`${id}-currency-only`} type="checkbox" checked={draft.currencyOnly} onChange={(event) => set('currencyOnly', event.target.checked)} />
          <label htmlFor={`${id}-currency-only`}>Only offers in this currency</label>
        </div>
      </fieldset>

      <div className="form-grid">
        <Field id={`${id}-quantity`} label="Quantity" optional error={errors.quantity}>
          <input {...control(`${id}-quantity`, 'quantity', errors)} type="text" inputMode="numeric" autoComplete="off" value={draft.quantity} placeholder="1" onChange={(event) => set('quantity', event.target.value)} />
        </Field>
        <Field id={`${id}-country`} label="Country" optional error={errors.country} hint="Where it goes: two letters, e.g. DE">
          <input {...control(`${id}-country`, 'country', errors, true)} type="text" maxLength={2} autoComplete="off" autoCapitalize="characters" spellCheck={false} className="code-input" value={draft.country} onChange={(event) => set('country', event.target.value.toUpperCase())} />
        </Field>
        <Field id={`${id}-postal`} label="Postal code" optional error={errors.postalCode}>
          <input {...control(`${id}-postal`, 'postalCode', errors)} type="text" maxLength={20} autoComplete="off" value={draft.postalCode} onChange={(event) => set('postalCode', event.target.value)} />
        </Field>
        <Field id={`${id}-wanted`} label="Wanted by" optional error={errors.wantedBy}>
          <input {...control(`${id}-wanted`, 'wantedBy', errors)} type="date" value={draft.wantedBy} onChange={(event) => set('wantedBy', event.target.value)} />
        </Field>
      </div>

      <Field id={`${id}-outcome`} label="The outcome you are after" optional error={errors.outcome} hint="Beyond the item itself, e.g. “dry feet on winter hikes”.">
        <textarea {...control(`${id}-outcome`, 'outcome', errors, true)} rows={2} maxLength={1000} value={draft.outcome} onChange={(event) => set('outcome', event.target.value)} />
      </Field>

      <Field id={`${id}-ends`} label="Ends in" error={errors.endsIn} hint="Companies can answer until then (rounded up to the hour).">
        <select {...control(`${id}-ends`, 'endsIn', errors, true)} value={draft.endsIn} onChange={(event) => set('endsIn', event.target.value as EndsIn)}>
          {ENDS_IN.map((e) => (
            <option key={e.id} value={e.id}>
              {e.label}
            </option>
          ))}
        </select>
      </Field>

      <fieldset className="form-group" aria-describedby={errors.to ? `${id}-to-error` : undefined}>
        <legend>Send to</legend>
        {relationships.loading && !relationships.data ? <Loading label="Loading your relationships…" /> : null}
        <ErrorNote message={relationships.error?.message} />
        {relationships.data && live.length === 0 ? (
          <p className="hint">
            You have no relationships yet. <Link to="/connect">Connect to a company</Link>, or ask the companies in your directory anonymously.
          </p>
        ) : null}
        {live.length > 0 ? (
          <div className="choices choices-tight">
            {live.map((r: RelationshipView) => (
              <div className="choice" key={r.id}>
                <input id={`${id}-to-${r.id}`} type="checkbox" checked={draft.to.includes(r.id)} onChange={(event) => toggle('to', r.id, event.target.checked)} />
                <label htmlFor={`${id}-to-${r.id}`}>{companyName(r)}</label>
                {r.state === 'muted' ? <span className="choice-note">muted</span> : null}
              </div>
            ))}
          </div>
        ) : null}
        <div className="choice">
          <input id={`${id}-anonymous`} type="checkbox" checked={draft.anonymous} onChange={(event) => set('anonymous', event.target.checked)} aria-describedby={`${id}-anonymous-hint`} />
          <label htmlFor={`${id}-anonymous`}>Also ask companies in my directory, anonymously</label>
        </div>
        <p className="hint" id={`${id}-anonymous-hint`}>
          Each of them gets it from a new identity made for it alone, with your terms; only those serving the category are asked.
        </p>
        <FieldError id={`${id}-to`} message={errors.to} />
      </fieldset>

      <fieldset className="form-group">
        <legend>Share up front</legend>
        <p className="hint">Nothing about you is shared by default: companies see only what you wrote above. Tick a field to send it with the intent.</p>
        {profile.data && fields.length === 0 ? (
          <p className="hint">
            Your profile is empty, so there is nothing to share. <Link to="/profile">Add to your profile</Link>
          </p>
        ) : null}
        {fields.length > 0 ? (
          <div className="choices choices-tight">
            {fields.map((f) => (
              <div className="choice" key={f.field}>
                <input id={`${id}-share-${f.field}`} type="checkbox" checked={draft.disclose.includes(f.field)} onChange={(event) => toggle('disclose', f.field, event.target.checked)} />
                <label htmlFor={`${id}-share-${f.field}`}>{fieldLabel(f.field)}</label>
                <span className="choice-note">{formatFieldValue(f.field, f.value)}</span>
              </div>
            ))}
          </div>
        ) : null}
      </fieldset>

      <div ref={summaryRef} tabIndex={-1} className="form-summary">
        {problems.length > 0 ? (
          <div className="note note-bad" role="alert">
            <span className="note-icon" aria-hidden="true">
              !
            </span>
            <div>
              <p>Nothing was sent. {problems.length === 1 ? 'One field needs' : `${problems.length} fields need`} a look:</p>
              <ul className="error-list">
                {problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </div>
          </div>
        ) : null}
      </div>
      <ErrorNote message={action.error} />
      <div className="button-row">
        <Button type="submit" variant="primary" busy={action.busy} busyLabel="Sending…">
          Send intent
        </Button>
        <span className="muted small">
          {draft.anonymous ? (recipients > 0 ? `To ${plural(recipients, 'company', 'companies')} and your directory` : 'To your directory') : `To ${plural(recipients, 'company', 'companies')}`}
        </span>
      </div>
      {action.busy ? <Loading label={`Sending your intent${recipients > 0 ? ` to ${plural(recipients, 'company', 'companies')}` : ''}… Offers made automatically come back with the answers: this can take a few seconds.`} /> : null}
      <LiveNote>
        {result ? (
          <p>
            Sent to {plural(result.intent.recipients.filter((r) => r.state !== 'failed').length, 'company', 'companies')}
            {result.intent.recipients.some((r) => r.state === 'failed') ? ` (${plural(result.intent.recipients.filter((r) => r.state === 'failed').length, 'company', 'companies')} could not be reached)` : ''}
            ; {result.intent.offers === 0 ? 'no offer yet' : `${plural(result.intent.offers, 'offer')} so far`}.{' '}
            <Link to={`/intents/${encodeURIComponent(result.intent.id)}`}>Compare the offers</Link>
          </p>
        ) : undefined}
      </LiveNote>
    </form>
  );
}

// ---------------------------------------------------------------------------------------------
// Her directory

function DirectorySection({ categories }: { categories: readonly IntentCategory[] | undefined }) {
  const directory = useResource(prepare(routes.directory));
  const [entries, setEntries] = useState<DirectoryEntryView[] | undefined>(undefined);
  const [url, setUrl] = useState('');
  const [note, setNote] = useState<string | undefined>(undefined);
  const adding = useAction();
  const refreshing = useAction();
  const removing = useAction();
  const [removingId, setRemovingId] = useState<string | undefined>(undefined);
  const inputId = useId();

  useEffect(() => {
    if (directory.data) setEntries(directory.data.entries);
  }, [directory.data]);

  const shown = (entries ?? []).map(entryShown);

  const add = async () => {
    setNote(undefined);
    const value = url.trim();
    if (!/^https?:\/\/\S+$/i.test(value)) {
      adding.setError('Company or directory URL: an http or https address, such as https://shop.example.');
      return;
    }
    const answer = await adding.run(() => api(routes.addDirectoryEntry, { url: value }));
    if (!answer) return;
    setUrl('');
    const added = entryShown(answer.entry);
    setNote(`Added ${added.companies.map((c) => c.name).join(', ') || added.url}, verified.`);
    await directory.reload();
  };

  const refresh = async () => {
    setNote(undefined);
    const answer = await refreshing.run(() => api(routes.refreshDirectory));
    if (!answer) return;
    setEntries(answer.entries);
    setNote('Every entry was fetched and verified again.');
  };

  const remove = async (entry: EntryShown) => {
    setNote(undefined);
    setRemovingId(entry.id);
    const answer = await removing.run(() => api(routes.removeDirectoryEntry, { id: entry.id }));
    setRemovingId(undefined);
    if (!answer) return;
    setEntries(answer.entries);
    setNote(`Removed ${entry.url}.`);
  };

  return (
    <Section
      title="Directory"
      id="directory"
      actions={
        shown.length > 0 ? (
          <Button className="btn-small" onClick={() => void refresh()} busy={refreshing.busy} busyLabel="Refreshing…">
            Refresh
          </Button>
        ) : undefined
      }
    >
      <p className="section-lead">Companies you have no relationship with, asked only when you tick “anonymously”. Each publishes a signed description of itself; Kith checks the signature before adding it.</p>
        <>
          <ErrorNote message={directory.error?.message} />
          <ErrorNote message={refreshing.error ?? removing.error} />
          <LiveNote>{note}</LiveNote>
          {directory.loading && !directory.data ? <Loading /> : null}
          {directory.data && shown.length === 0 ? <p className="muted">Your directory is empty.</p> : null}
          {shown.length > 0 ? (
            <ul className="record-list directory-list">
              {shown.map((e) => (
                <li key={e.id} className="record directory-entry">
                  <div className="record-head">
                    <span className="record-title">{e.companies.length > 0 ? e.companies.map((c) => c.name).join(', ') : e.url}</span>
                    <Badge>{e.kind === 'directory' ? 'Directory' : 'Company'}</Badge>
                    {e.problem ? <Badge tone="bad">Not verified</Badge> : null}
                  </div>
                  <p className="record-body">
                    <code className="wrap">{e.url}</code>
                  </p>
                  {e.companies.some((c) => c.categories.length > 0) ? (
                    <ul className="plain-list directory-companies">
                      {e.companies.map((c) => (
                        <li key={c.name}>
                          {e.companies.length > 1 ? <strong>{c.name}: </strong> : null}
                          {c.categories.length > 0 ? c.categories.map((id) => categoryLabel(id, categories)).join(', ') : 'no categories'}
                        </li>
                      ))}
                    </ul>
                  ) : null}
                  {e.problem ? <p className="record-body field-error">{e.problem}</p> : null}
                  <div className="record-foot directory-foot">
                    <span>{`Checked ${formatDateTime(e.checkedAt)}`}</span>
                    <Button variant="ghost" className="btn-small" onClick={() => void remove(e)} busy={removing.busy && removingId === e.id} busyLabel="Removing…" disabled={removing.busy}>
                      Remove<span className="visually-hidden"> {e.url}</span>
                    </Button>
                  </div>
                </li>
              ))}
            </ul>
          ) : null}
          <form
            className="directory-form"
            noValidate
            onSubmit={(event) => {
              event.preventDefault();
              void add();
            }}
          >
            <div className="field">
              <label htmlFor={inputId}>Company or directory URL</label>
              <div className="inline-row">
                <input
                  id={inputId}
                  type="url"
                  className="mono-input"
                  value={url}
                  spellCheck={false}
                  autoCapitalize="off"
                  autoCorrect="off"
                  placeholder="https://shop.example"
                  aria-invalid={adding.error ? true : undefined}
                  onChange={(event) => {
                    setUrl(event.target.value);
                    adding.setError(undefined);
                  }}
                />
                <Button type="submit" busy={adding.busy} busyLabel="Checking…">
                  Add
                </Button>
              </div>
            </div>
            <ErrorNote message={adding.error} />
          </form>
        </>
    </Section>
  );
}

// ---------------------------------------------------------------------------------------------

/** Her intents: what she asked companies for, the offers each drew, and a new one. */
export function IntentsPage() {
  useTitle('Intents');
  const { data, error, loading, reload } = useResource(prepare(routes.intents));
  const categories = useResource(prepare(routes.intentCategories));
  useAgentEvents((event) => {
    if (event.type === 'intent.offer') void reload();
  });
  const intents = [...(data?.intents ?? [])].reverse();
  const categoryList = categories.data?.categories;

  return (
    <>
      <PageHeader
        title="Intents"
        subtitle="Say what you want, and the companies you choose answer with signed offers you compare. They learn nothing else about you unless you choose to share it."
        actions={
          intents.length > 0 ? (
            <a href="#new-intent" className="btn btn-primary">
              New intent
            </a>
          ) : undefined
        }
      />
      <Section title="Your intents" id="your-intents" className="section-first">
        <ErrorNote message={error?.message} />
        {loading && !data ? <Loading /> : null}
        {data && intents.length === 0 ? <Empty title="No intents yet">Describe what you want below: a thing to buy or a service. Each company you ask answers with an offer, or not at all.</Empty> : null}
        {intents.length > 0 ? (
          <ul className="card-list" aria-label="Your intents, newest first">
            {intents.map((i) => (
              <IntentCard key={i.id} intent={i} categories={categoryList} />
            ))}
          </ul>
        ) : null}
      </Section>
      <Section title="New intent" id="new-intent">
        <NewIntentForm categories={categoryList} categoriesError={categories.error?.message} onCast={() => void reload()} />
      </Section>
      <DirectorySection categories={categoryList} />
    </>
  );
}
