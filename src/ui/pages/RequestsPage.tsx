import { useId, useState } from 'react';
import { api, prepare, routes } from '../api';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Rules } from '../components/Rules';
import { Verifications } from '../components/Verifications';
import { Badge, Button, Empty, ErrorNote, LiveNote, Loading, PageHeader, Section } from '../components/ui';
import { useAgentEvents } from '../events';
import { fieldLabel, formatDate, formatDuration, LEGAL_BASIS, theirText } from '../format';
import { Link, useTitle } from '../router';
import type { RequestView } from '../types';
import { useAction, useResource } from '../useResource';

interface Choice {
  name: string;
  label: string;
  available: boolean;
  /** Claims come from a credential someone issued her; fields from her own profile. */
  credential: boolean;
}

function choicesOf(request: RequestView): Choice[] {
  return [
    ...request.fields.map((f) => ({ name: f.name, label: fieldLabel(f.name), available: f.available, credential: false })),
    ...request.credentials.flatMap((c) => c.claims.map((claim) => ({ name: claim, label: fieldLabel(claim), available: c.available, credential: true }))),
  ];
}

function RequestCard({ request, onAnswered }: { request: RequestView; onAnswered: (text: string) => void }) {
  const choices = choicesOf(request);
  const [checked, setChecked] = useState<Set<string>>(() => new Set(choices.filter((c) => c.available).map((c) => c.name)));
  const action = useAction();
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState('');
  const baseId = useId();
  const company = request.company === null ? 'The company' : theirText(request.company);

  const toggle = (name: string, on: boolean) =>
    setChecked((prev) => {
      const next = new Set(prev);
      if (on) next.add(name);
      else next.delete(name);
      return next;
    });

  const approve = async () => {
    const fields = choices.filter((c) => checked.has(c.name)).map((c) => c.name);
    if (fields.length === 0) {
      action.setError('Tick at least one field to share, or decline the request.');
      return;
    }
    const result = await action.run(() => api(routes.approve, { id: request.id }, { fields }));
    if (!result) return;
    onAnswered(`Shared ${result.fields.map(fieldLabel).join(', ') || fields.map(fieldLabel).join(', ')} with ${company}. Consent record ${result.consentRecordId} is kept by you both.`);
  };

  const decline = async () => {
    const result = await action.run(() => api(routes.decline, { id: request.id }, reason.trim() ? { reason: reason.trim() } : {}));
    if (!result) return;
    setDeclining(false);
    onAnswered(`Declined. ${company} was told; consent record ${result.consentRecordId} says “refused” on both sides.`);
  };

  const none = checked.size === 0;
  return (
    <li className="card request-card">
      <div className="card-head">
        <h2 className="card-title">
          <Link to={`/relationships/${encodeURIComponent(request.relationshipId)}`}>{company}</Link> asks for your data
        </h2>
        <span className="muted small">{formatDate(request.createdAt)}</span>
      </div>
      <dl className="facts facts-row">
        <div className="fact">
          <dt>Purpose</dt>
          <dd>{theirText(request.purpose)}</dd>
        </div>
        <div className="fact">
          <dt>Keeps it for</dt>
          <dd>{formatDuration(request.retention)}</dd>
        </div>
        <div className="fact">
          <dt>Legal basis</dt>
          <dd>{LEGAL_BASIS[request.legalBasis] ?? request.legalBasis}</dd>
        </div>
      </dl>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void approve();
        }}
      >
        <fieldset className="choices">
          <legend>Choose what to share</legend>
          {choices.map((c) => {
            const id = `${baseId}-${c.name}`;
            return (
              <div key={c.name} className={`choice${c.available ? '' : ' is-unavailable'}`}>
                <input id={id} type="checkbox" checked={checked.has(c.name)} disabled={!c.available || action.busy} onChange={(event) => toggle(c.name, event.target.checked)} aria-describedby={c.available && !c.credential ? undefined : `${id}-note`} />
                <label htmlFor={id}>{c.label}</label>
                {!c.available ? (
                  <span className="choice-note" id={`${id}-note`}>
                    {c.credential ? 'you hold no credential for it' : 'you have none'}
                    {!c.credential ? (
                      <>
                        {' · '}
                        <Link to="/profile">add it</Link>
                      </>
                    ) : null}
                  </span>
                ) : c.credential ? (
                  <span className="choice-note" id={`${id}-note`}>
                    from a credential
                  </span>
                ) : null}
              </div>
            );
          })}
        </fieldset>
        <p className="hint">Only what you tick is sent, signed by the identity Kith made for {company}. Nothing else leaves your vault.</p>
        <div className="button-row">
          <Button type="submit" variant="primary" busy={action.busy && !declining} busyLabel="Sharing…" disabled={none || (action.busy && declining)}>
            {none ? 'Share' : `Share ${checked.size === choices.length ? 'all' : `${checked.size} of ${choices.length}`}`}
          </Button>
          <Button variant="secondary" disabled={action.busy} onClick={() => setDeclining(true)}>
            Decline…
          </Button>
        </div>
        <ErrorNote message={declining ? undefined : action.error} />
      </form>
      <ConfirmDialog
        open={declining}
        title={`Decline ${company}’s request?`}
        confirmLabel="Decline"
        busyLabel="Declining…"
        busy={action.busy}
        error={declining ? action.error : undefined}
        onCancel={() => {
          setDeclining(false);
          action.setError(undefined);
        }}
        onConfirm={() => void decline()}
      >
        <p>{company} gets nothing, and both of you record that you refused.</p>
        <div className="field">
          <label htmlFor={`${baseId}-reason`}>Reason for {company} (optional)</label>
          <textarea id={`${baseId}-reason`} rows={3} maxLength={2000} value={reason} onChange={(event) => setReason(event.target.value)} />
        </div>
      </ConfirmDialog>
    </li>
  );
}

/** Pending disclosure requests, each answered field by field. */
export function RequestsPage() {
  useTitle('Requests');
  const pending = useResource(prepare(routes.requests));
  const answered = useResource(prepare(routes.requests, { all: '1' }));
  const [result, setResult] = useState<string | undefined>(undefined);
  useAgentEvents((event) => {
    if (event.type === 'disclosure.requested' || event.type === 'disclosure.answered') {
      void pending.reload();
      void answered.reload();
    }
  });

  const requests = pending.data?.requests ?? [];
  const past = (answered.data?.requests ?? []).filter((r) => r.state !== 'pending').slice(-10).reverse();

  return (
    <>
      <PageHeader title="Requests" subtitle="What companies ask you to share. You choose field by field; they get only what you tick." />
      <LiveNote>{result}</LiveNote>
      <Verifications pendingOnly />
      <ErrorNote message={pending.error?.message} />
      {pending.loading && !pending.data ? <Loading /> : null}
      {pending.data && requests.length === 0 ? <Empty title="Nothing waiting">When a company asks you for data, the request appears here at once.</Empty> : null}
      {requests.length > 0 ? (
        <ul className="card-list" aria-label="Requests waiting for you">
          {requests.map((r) => (
            <RequestCard
              key={r.id}
              request={r}
              onAnswered={(text) => {
                setResult(text);
                void pending.reload();
                void answered.reload();
              }}
            />
          ))}
        </ul>
      ) : null}
      {past.length > 0 ? (
        <Section title="Answered" id="answered">
          <ul className="record-list">
            {past.map((r) => (
              <li key={r.id} className="record">
                <div className="record-head">
                  <Badge tone={r.state === 'approved' ? 'good' : 'bad'}>{r.state === 'approved' ? 'Shared' : 'Declined'}</Badge>
                  <span className="record-title">
                    {r.company === null ? 'A company' : theirText(r.company)}: {(r.state === 'approved' ? (r.answeredFields ?? []) : r.fields.map((f) => f.name)).map(fieldLabel).join(', ')}
                  </span>
                </div>
                <p className="record-body">For: {theirText(r.purpose)}</p>
                {r.answeredBy ? (
                  <p className="record-body">
                    By your rule <code>{r.answeredBy.ruleId}</code>: {theirText(r.answeredBy.ruleText)}
                  </p>
                ) : null}
                <p className="record-foot">
                  {formatDate(r.createdAt)}
                  {r.consentRecordId ? (
                    <>
                      {' · record '}
                      <code title={r.consentRecordId}>{r.consentRecordId.slice(0, 8)}</code>
                    </>
                  ) : null}
                </p>
              </li>
            ))}
          </ul>
        </Section>
      ) : null}
      <Rules onChanged={setResult} />
    </>
  );
}
