import { useId, useState } from 'react';
import { api, prepare, routes } from '../api';
import { useAgentEvents } from '../events';
import { formatDate, shortName, TERMS_STATE } from '../format';
import type { AgreementView, RelationshipView } from '../types';
import { useAction, useResource } from '../useResource';
import { useRoster, type RosterAgreement } from '../useTerms';
import { ConfirmDialog } from './ConfirmDialog';
import { companyName } from './labels';
import { ObligationList } from './Obligations';
import { Badge, Button, ErrorNote, LiveNote, Loading, Section } from './ui';

function title(a: { agreementId: string; title: string | null }, agreements: ReadonlyMap<string, RosterAgreement>): string {
  return a.title ?? agreements.get(a.agreementId)?.title ?? shortName(a.agreementId);
}

/** What her last proffer led to, in words. */
export function profferOutcome(history: readonly AgreementView[], company: string, agreements: ReadonlyMap<string, RosterAgreement>): string {
  const mine = [...history].reverse().find((t) => t.proposedBy === 'person');
  if (!mine) return 'Done.';
  const name = title(mine, agreements);
  if (mine.state === 'agreed') return `${company} accepted ${name}. It is in force now.`;
  if (mine.state === 'rejected') return `${company} rejected ${name}${mine.reason ? `: “${mine.reason}”` : ''}. The terms before stay in force.`;
  if (mine.state === 'countered') {
    const counter = history.find((t) => t.proposedBy === 'company' && t.createdAt >= mine.createdAt);
    if (counter?.state === 'agreed') return `${company} countered with ${title(counter, agreements)}, which protects you at least as well; Kith accepted it for you.`;
    return `${company} countered with ${counter ? title(counter, agreements) : 'other terms'}. It waits for your answer below.`;
  }
  return `${name}: ${TERMS_STATE[mine.state] ?? mine.state}.`;
}

/** Proffer one of the roster's agreements to a company now (a change of terms). */
export function ProfferForm({ relationship, onDone, compact = false }: { relationship: RelationshipView; onDone: (history: AgreementView[]) => void; compact?: boolean }) {
  const { roster, agreements } = useRoster();
  const company = companyName(relationship);
  const [choice, setChoice] = useState('');
  const [result, setResult] = useState<string | undefined>(undefined);
  const action = useAction();
  const selectId = useId();
  const options = (roster?.rosters ?? []).flatMap((r) => r.agreements).filter((a) => a.id !== relationship.terms.agreementId);

  const submit = async () => {
    if (!choice) {
      action.setError('Choose the terms to propose.');
      return;
    }
    setResult(undefined);
    const answer = await action.run(() => api(routes.profferTerms, { ref: relationship.id }, { agreement: choice }));
    if (!answer) return;
    setResult(profferOutcome(answer.terms, company, agreements));
    onDone(answer.terms);
  };

  return (
    <form
      className={`proffer-form${compact ? ' is-compact' : ''}`}
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <div className="field field-inline">
        <label htmlFor={selectId}>{compact ? `Propose other terms to ${company}` : 'Terms to propose'}</label>
        <div className="inline-row">
          <select id={selectId} value={choice} onChange={(event) => setChoice(event.target.value)}>
            <option value="">Choose an agreement…</option>
            {options.map((a) => (
              <option key={a.id} value={a.id}>
                {a.title}
              </option>
            ))}
          </select>
          <Button type="submit" busy={action.busy} busyLabel="Asking…" disabled={relationship.state === 'cut_off'}>
            Propose
          </Button>
        </div>
      </div>
      <ErrorNote message={action.error} />
      <LiveNote tone={result?.includes('rejected') || result?.includes('waits') ? 'warn' : 'good'}>{result}</LiveNote>
    </form>
  );
}

/** Terms with one company: what is in force, what waits for her, the history, and a new proffer. */
export function TermsPanel({ relationship, onChanged }: { relationship: RelationshipView; onChanged: () => void }) {
  const company = companyName(relationship);
  const { agreements } = useRoster();
  const { data, error, loading, reload } = useResource(prepare(routes.terms, { ref: relationship.id }));
  const answer = useAction();
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [result, setResult] = useState<string | undefined>(undefined);
  const reasonId = useId();

  useAgentEvents((event) => {
    if (event.type === 'terms.updated' && event.relationshipId === relationship.id) {
      void reload();
      onChanged();
    }
  });

  const history = data?.terms ?? [];
  const current = history.find((t) => t.state === 'agreed');
  const waiting = history.filter((t) => t.awaitingHer);

  const accept = async () => {
    setResult(undefined);
    const done = await answer.run(() => api(routes.acceptTerms, { ref: relationship.id }));
    if (!done) return;
    setResult('Accepted. Those terms are in force now.');
    await reload();
    onChanged();
  };
  const reject = async () => {
    const done = await answer.run(() => api(routes.rejectTerms, { ref: relationship.id }, reason.trim() ? { reason: reason.trim() } : {}));
    if (!done) return;
    setRejecting(false);
    setReason('');
    setResult(`Declined. ${current ? 'The terms before stay in force.' : 'No terms are agreed with ' + company + '.'}`);
    await reload();
    onChanged();
  };

  return (
    <>
      <Section title="Terms in force" id="terms-now">
        <ErrorNote message={error?.message} />
        {loading && !data ? <Loading /> : null}
        {data && !current ? (
          <p>
            {waiting.length > 0
              ? `No terms are agreed with ${company} yet: its proposal waits for your answer below.`
              : relationship.terms.lastState === 'rejected'
                ? `No terms are agreed with ${company}: it rejected the terms you proffered.`
                : `No terms are agreed with ${company}.`}{' '}
            Until there are, it may ask you for data, but nothing binds how it uses it.
          </p>
        ) : null}
        {current ? (
          <div className="card agreement-card">
            <div className="card-head">
              <h3>{title(current, agreements)}</h3>
              <Badge tone="good">{current.outcome === 'countered-accepted' ? 'their counter, agreed' : 'agreed'}</Badge>
            </div>
            <p className="muted">Signed by you both · since {formatDate(current.updatedAt)}</p>
            {current.obligations ? <ObligationList obligations={current.obligations} /> : null}
          </div>
        ) : null}
      </Section>

      {waiting.length > 0 ? (
        <Section title="Waiting for your answer" id="terms-waiting" className="section-attention">
          {waiting.map((t) => (
            <div key={t.recordId} className="card card-attention">
              <h3>
                {company} {history.some((h) => h.proposedBy === 'person' && h.state === 'countered') ? 'countered with' : 'proposes'} {title(t, agreements)}
              </h3>
              {t.weaker.length > 0 ? (
                <p>
                  Compared with what you have or asked for, these terms protect you less on {t.weaker.length === 1 ? 'one point' : `${t.weaker.length} points`}, marked below. Kith did not accept them for you.
                </p>
              ) : (
                <p>These terms protect you at least as well on every point.</p>
              )}
              {t.obligations ? <ObligationList obligations={t.obligations} weaker={t.weaker} /> : null}
              <div className="button-row">
                <Button variant="primary" busy={answer.busy && !rejecting} busyLabel="Accepting…" onClick={() => void accept()}>
                  Accept these terms
                </Button>
                <Button variant="secondary" disabled={answer.busy} onClick={() => setRejecting(true)}>
                  Decline…
                </Button>
              </div>
            </div>
          ))}
          <ErrorNote message={rejecting ? undefined : answer.error} />
        </Section>
      ) : null}
      <LiveNote>{result}</LiveNote>

      {relationship.state !== 'cut_off' ? (
        <Section title="Change the terms" id="terms-change">
          <p className="section-lead">Propose another agreement from the roster. {company} answers at once: it accepts, counters once, or rejects; the terms in force stay until something new is agreed.</p>
          <ProfferForm
            relationship={relationship}
            onDone={() => {
              setResult(undefined);
              void reload();
              onChanged();
            }}
          />
        </Section>
      ) : null}

      <Section title="History" id="terms-history">
        {data && history.length === 0 ? <p className="muted">No terms were proffered or agreed with {company}.</p> : null}
        {history.length > 0 ? (
          <ol className="timeline">
            {history.map((t) => (
              <li key={t.recordId} className={`timeline-item is-${t.state}`}>
                <p className="timeline-title">
                  <strong>{title(t, agreements)}</strong> {t.proposedBy === 'person' ? 'proposed by you' : `proposed by ${company}`}
                </p>
                <p className="timeline-meta">
                  <Badge tone={t.state === 'agreed' ? 'good' : t.state === 'rejected' || t.state === 'declined' ? 'bad' : t.awaitingHer ? 'info' : 'neutral'}>
                    {t.awaitingHer ? 'waiting for you' : TERMS_STATE[t.state] ?? t.state}
                  </Badge>{' '}
                  {formatDate(t.createdAt)}
                  {t.reason ? ` · “${t.reason}”` : ''}
                </p>
              </li>
            ))}
          </ol>
        ) : null}
      </Section>

      <ConfirmDialog
        open={rejecting}
        title="Decline these terms?"
        confirmLabel="Decline"
        busyLabel="Declining…"
        busy={answer.busy}
        error={rejecting ? answer.error : undefined}
        onCancel={() => {
          setRejecting(false);
          answer.setError(undefined);
        }}
        onConfirm={() => void reject()}
      >
        <p>{company} will be told you decline. {current ? 'The terms in force stay as they are.' : 'No terms will be agreed.'}</p>
        <div className="field">
          <label htmlFor={reasonId}>Reason for {company} (optional)</label>
          <textarea id={reasonId} rows={3} maxLength={2000} value={reason} onChange={(event) => setReason(event.target.value)} />
        </div>
      </ConfirmDialog>
    </>
  );
}
