import { useId, useState, type FormEvent } from 'react';
import { ApiFailure, api, prepare, routes } from '../api';
import { useAgentEvents } from '../events';
import { formatDate, formatWhen, theirText } from '../format';
import { CASE_FIELDS, caseStateText, defaultSupporter, detailText, roleLabel, serviceError } from '../things';
import type { ServiceCaseView, ThingView } from '../types';
import { useResource } from '../useResource';
import { kindLabel } from './AccountIds';
import { FormField } from './ThingFields';
import { Badge, Button, ErrorNote, LiveNote, Loading, Section } from './ui';

/*
 * A thing's service cases (docs/protocol/service.md, decision 0024): each a thread with the company
 * that supports the thing, open / answered / resolved, marked a warranty claim by her agent while a
 * warranty is in force. She opens one with only the details she ticks (and, if she wants, one of the
 * identifiers the company knows her by), writes in it and marks it resolved; the company's answers
 * arrive live (service.case_updated). A refusal is said in words and what she typed stays.
 */

const caseCompany = (c: ServiceCaseView): string => (c.companyName === null ? `Company ${c.relationshipId.slice(0, 8)}` : theirText(c.companyName));

function failureText(caught: unknown, company: string | undefined): string | undefined {
  if (caught instanceof ApiFailure) return caught.code === 'vault.locked' ? undefined : serviceError(caught, company);
  return caught instanceof Error ? caught.message : String(caught);
}

/** One case: its thread, a reply box and Mark resolved (none once resolved). */
function CaseView({ item, onChanged }: { item: ServiceCaseView; onChanged: () => void }) {
  const id = useId();
  const company = caseCompany(item);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState<'reply' | 'resolve' | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);
  const shared = CASE_FIELDS.filter((f) => detailText(item.shared, f.field) !== undefined);

  const send = async (kind: 'reply' | 'resolve') => {
    setError(undefined);
    setNote(undefined);
    if (kind === 'reply' && text.trim() === '') {
      setError('Write your reply first.');
      return;
    }
    setBusy(kind);
    try {
      if (kind === 'reply') await api(routes.replyCase, { id: item.id }, { text });
      else await api(routes.resolveCase, { id: item.id }, text.trim() ? { text } : {});
      setText('');
      setNote(kind === 'reply' ? `Sent to ${company}.` : `Marked resolved; ${company} was told.`);
      onChanged();
    } catch (caught) {
      setError(failureText(caught, company));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <div className="case-view" id={`case-${item.id}`}>
      <p className="hint">
        {shared.length > 0 ? `Shared with ${company}: ${shared.map((f) => `${f.label.toLowerCase().replace(/^gtin/i, 'GTIN')} ${detailText(item.shared, f.field)}`).join(', ')}.` : `No details of the thing were shared with ${company}.`}
        {item.identifier ? ` With your ${kindLabel(item.identifier.kind).toLowerCase()} ${item.identifier.value}.` : ''}
      </p>
      <ol className="thread case-thread" aria-label={`Messages with ${company}`}>
        {item.thread.map((entry) => {
          const mine = entry.author === 'her';
          return (
            <li key={entry.messageId} className={`msg ${mine ? 'msg-out' : 'msg-in'}`} data-testid="case-entry">
              <div className="msg-bubble">
                <p className="msg-meta">
                  <span className="msg-who">{mine ? 'You' : company}</span>
                  <span aria-hidden="true"> · </span>
                  <time dateTime={new Date(entry.at).toISOString()}>{formatWhen(entry.at)}</time>
                  {entry.kind === 'resolve' ? (
                    <>
                      <span aria-hidden="true"> · </span>
                      <span className="msg-status">marked it resolved</span>
                    </>
                  ) : null}
                </p>
                {entry.text !== null ? <p className="msg-text">{mine ? entry.text : theirText(entry.text)}</p> : <p className="msg-text msg-other">(resolved without a word)</p>}
              </div>
            </li>
          );
        })}
      </ol>
      {item.state === 'resolved' ? (
        <p className="muted">This case is resolved: nothing more can be added to it.</p>
      ) : (
        <form
          className="thing-subform"
          noValidate
          aria-label={`Reply to ${company}`}
          onSubmit={(event) => {
            event.preventDefault();
            void send('reply');
          }}
        >
          <FormField id={`${id}-reply`} label="Your reply" error={undefined}>
            <textarea id={`${id}-reply`} rows={3} maxLength={8000} value={text} onChange={(event) => setText(event.target.value)} />
          </FormField>
          <div className="button-row">
            <Button type="submit" variant="primary" busy={busy === 'reply'} busyLabel="Sending…" disabled={busy !== undefined}>
              Send reply
            </Button>
            <Button busy={busy === 'resolve'} busyLabel="Resolving…" disabled={busy !== undefined} onClick={() => void send('resolve')}>
              Mark resolved
            </Button>
          </div>
          <p className="hint">Mark resolved closes the case for both of you; what you typed above goes with it as a last word.</p>
        </form>
      )}
      <ErrorNote message={error} />
      <LiveNote>{note}</LiveNote>
    </div>
  );
}

/** The form to open a case. */
function OpenCaseForm({ thing, onOpened }: { thing: ThingView; onOpened: (opened: ServiceCaseView) => void }) {
  const id = useId();
  const relationships = useResource(prepare(routes.relationships));
  const states = new Map((relationships.data?.relationships ?? []).map((r) => [r.id, r.state]));
  const fallback = defaultSupporter(thing, (rel) => states.get(rel) === 'active');
  // Each linked company once, with its parts.
  const linked = [...new Set(thing.links.map((l) => l.relationshipId))].map((rel) => {
    const links = thing.links.filter((l) => l.relationshipId === rel);
    return { relationshipId: rel, name: links[0]?.companyName === null || links[0] === undefined ? `Company ${rel.slice(0, 8)}` : theirText(links[0].companyName), roles: links.map((l) => roleLabel(l.role).toLowerCase()).join(', ') };
  });
  const [withCompany, setWithCompany] = useState('');
  const [text, setText] = useState('');
  const [share, setShare] = useState<string[]>([]);
  const [identifier, setIdentifier] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const target = withCompany || fallback?.relationshipId;
  const targetName = linked.find((l) => l.relationshipId === target)?.name;
  const ids = useResource(target ? prepare(routes.accountIds, { relationship: target }) : null);
  const available = CASE_FIELDS.filter((f) => detailText(thing, f.field) !== undefined);
  const inWarranty = thing.warranty === 'active' || thing.warranty === 'ending';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    if (text.trim() === '') {
      setError('Say what is wrong first. Nothing was sent.');
      return;
    }
    setBusy(true);
    try {
      const { case: opened } = await api(routes.openCase, { id: thing.id }, { text, ...(withCompany ? { with: withCompany } : {}), ...(share.length > 0 ? { share } : {}), ...(identifier ? { identifier } : {}) });
      setText('');
      setShare([]);
      setIdentifier('');
      onOpened(opened);
    } catch (caught) {
      // Her words, the company and the ticks stay as they were.
      setError(failureText(caught, targetName));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card thing-form case-form" noValidate aria-label="Open a service case" onSubmit={(event) => void submit(event)}>
      <h3 className="card-title">Open a service case</h3>
      <FormField id={`${id}-text`} label="What is wrong" error={undefined}>
        <textarea id={`${id}-text`} rows={4} maxLength={8000} value={text} onChange={(event) => setText(event.target.value)} />
      </FormField>
      <FormField id={`${id}-company`} label="Company" error={undefined}>
        <select
          id={`${id}-company`}
          value={withCompany}
          onChange={(event) => {
            setWithCompany(event.target.value);
            setIdentifier('');
          }}
        >
          <option value="">{fallback ? `Who supports it: ${linked.find((l) => l.relationshipId === fallback.relationshipId)?.name ?? 'its company'} (${roleLabel(fallback.role).toLowerCase()})` : 'Who supports it (no company linked yet)'}</option>
          {linked.map((l) => (
            <option key={l.relationshipId} value={l.relationshipId}>
              {l.name} ({l.roles}){states.get(l.relationshipId) === 'muted' ? ' (muted)' : ''}
            </option>
          ))}
        </select>
      </FormField>
      <fieldset className="form-group">
        <legend>Details to share</legend>
        {available.length === 0 ? <p className="muted">This thing has no details to share.</p> : null}
        <div className="choices choices-tight">
          {available.map((f) => (
            <div className="choice" key={f.field}>
              <input id={`${id}-share-${f.field}`} type="checkbox" checked={share.includes(f.field)} onChange={(event) => setShare((s) => (event.target.checked ? [...s, f.field] : s.filter((x) => x !== f.field)))} />
              <label htmlFor={`${id}-share-${f.field}`}>{f.label}</label>
              <span className="choice-note">{detailText(thing, f.field)}</span>
            </div>
          ))}
        </div>
        <p className="hint">Only what you tick goes to the company; never where it is or your notes.</p>
      </fieldset>
      {ids.data && ids.data.identifiers.length > 0 ? (
        <FormField id={`${id}-identifier`} label="Your number with them" optional error={undefined}>
          <select id={`${id}-identifier`} value={identifier} onChange={(event) => setIdentifier(event.target.value)}>
            <option value="">None</option>
            {ids.data.identifiers.map((i) => (
              <option key={i.id} value={i.id}>
                {kindLabel(i.kind)}: {theirText(i.value)}
                {i.label ? ` (${theirText(i.label)})` : ''}
              </option>
            ))}
          </select>
        </FormField>
      ) : null}
      <p className="hint">{inWarranty ? 'Its warranty is in force today: Kith marks the case as a warranty claim.' : 'No warranty of it is in force today: the case is not a warranty claim.'}</p>
      <ErrorNote message={error} />
      <div className="button-row">
        <Button type="submit" variant="primary" busy={busy} busyLabel="Opening…">
          Open the case
        </Button>
      </div>
    </form>
  );
}

/** The thing's service cases, newest first, and the form to open one. */
export function ThingCases({ thing }: { thing: ThingView }) {
  const { data, error, loading, reload } = useResource(prepare(routes.thingCases, { id: thing.id }));
  const [shown, setShown] = useState<string | undefined>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);
  useAgentEvents((event) => {
    if (event.type === 'service.case_updated' && event.thingId === thing.id) void reload();
  });
  const cases = [...(data?.cases ?? [])].reverse();

  return (
    <Section title="Service cases" id="cases">
      <p className="section-lead">Repairs, faults and warranty claims, each a conversation with the company that supports it.</p>
      <ErrorNote message={error?.message} />
      {loading && !data ? <Loading /> : null}
      {data && cases.length === 0 ? <p className="muted">No service case yet.</p> : null}
      {cases.length > 0 ? (
        <ul className="record-list" aria-label="Service cases">
          {cases.map((c) => {
            const company = caseCompany(c);
            const state = caseStateText(c.state, company);
            const open = shown === c.id;
            const first = c.thread[0]?.text ?? '';
            return (
              <li key={c.id} className="record" data-testid="service-case">
                <div className="record-head">
                  <span className="record-title">{first.length > 80 ? `${first.slice(0, 79)}…` : first}</span>
                  <Badge tone={state.tone}>{state.text}</Badge>
                  {c.warrantyClaim ? <Badge tone="info">Warranty claim</Badge> : null}
                </div>
                <p className="record-body muted">
                  With {company}, opened {formatDate(c.createdAt)}; {c.thread.length === 1 ? '1 message' : `${c.thread.length} messages`}.{' '}
                  <Button variant="ghost" className="btn-small" aria-expanded={open} aria-controls={`case-${c.id}`} onClick={() => setShown(open ? undefined : c.id)}>
                    {open ? 'Hide the case' : 'Show the case'}
                  </Button>
                </p>
                {open ? <CaseView item={c} onChanged={() => void reload()} /> : null}
              </li>
            );
          })}
        </ul>
      ) : null}
      <LiveNote>{note}</LiveNote>
      <OpenCaseForm
        thing={thing}
        onOpened={(opened) => {
          setNote(`Opened a case with ${caseCompany(opened)}${opened.warrantyClaim ? ', as a warranty claim' : ''}.`);
          setShown(opened.id);
          void reload();
        }}
      />
    </Section>
  );
}
