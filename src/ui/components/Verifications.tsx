import { useCallback, useEffect } from 'react';
import { api, prepare, routes } from '../api';
import { useAgentEvents } from '../events';
import { formatDate, theirText } from '../format';
import { Link } from '../router';
import type { VerificationView } from '../types';
import { useAction, useResource } from '../useResource';
import { Badge, Button, ErrorNote } from './ui';

/**
 * A company asks her to confirm she is the caller on the phone (caller-verification 1.0): the code
 * to compare with what its agent reads out, and Approve / Refuse. An expired one cannot be approved.
 */
/** `onAnswered` also runs when a pending one reaches its end, to load its new state. */
export function VerificationCard({ verification, onAnswered, showCompanyLink = true }: { verification: VerificationView; onAnswered: () => void; showCompanyLink?: boolean }) {
  const action = useAction();
  const company = verification.companyName === null ? 'A company' : theirText(verification.companyName);
  const answer = async (decision: 'approved' | 'refused') => {
    const done = await action.run(() => api(routes.answerVerification, { id: verification.id }, { decision }));
    if (done) onAnswered();
  };
  const pending = verification.state === 'pending';
  // When it ends while shown, load it again: the agent then says expired, and the buttons go.
  useEffect(() => {
    if (!pending) return;
    const untilEnd = verification.expiresAt - Date.now();
    // Past its end already (the agent's clock says so before its next answer) or too far ahead for a timer: nothing to wait for.
    if (untilEnd < 0 || untilEnd > 24 * 60 * 60_000) return;
    const timer = setTimeout(onAnswered, untilEnd + 1_000);
    return () => clearTimeout(timer);
  }, [pending, verification.expiresAt, onAnswered]);
  return (
    <li className="card verification-card" aria-label={`Caller verification from ${company}`}>
      <div className="card-head">
        <h2 className="card-title">
          {showCompanyLink ? <Link to={`/relationships/${encodeURIComponent(verification.relationshipId)}`}>{company}</Link> : company} is asking you to confirm it is you on the phone.
        </h2>
        <span className="muted small">{formatDate(verification.createdAt)}</span>
      </div>
      <p>
        Code: <strong className="verification-code" data-testid="verification-code">{verification.code}</strong>
      </p>
      <p className="hint">
        Asked by {theirText(verification.agent)}. Approve only if you are on a call with {company} right now and its agent reads you this same code.
      </p>
      {pending ? (
        <div className="button-row">
          <Button variant="primary" busy={action.busy} busyLabel="Sending…" onClick={() => void answer('approved')}>
            Approve
          </Button>
          <Button variant="secondary" disabled={action.busy} onClick={() => void answer('refused')}>
            Refuse
          </Button>
        </div>
      ) : (
        <p>
          <Badge tone={verification.state === 'approved' ? 'good' : verification.state === 'refused' ? 'bad' : 'warn'}>
            {verification.state === 'approved' ? 'Approved' : verification.state === 'refused' ? 'Refused' : 'Expired'}
          </Badge>{' '}
          {verification.state === 'expired' ? <span className="muted small">It can no longer be approved; ask for a new one if you are still on the call.</span> : null}
        </p>
      )}
      <ErrorNote message={action.error} />
    </li>
  );
}

/** The caller verifications of one relationship, or those waiting for her anywhere; reloaded as they arrive. */
export function Verifications({ relationship, pendingOnly = false, recent = 3 }: { relationship?: string; pendingOnly?: boolean; recent?: number }) {
  const { data, reload } = useResource(prepare(routes.verifications, { ...(pendingOnly ? { pending: '1' as const } : {}), ...(relationship === undefined ? {} : { relationship }) }));
  useAgentEvents((event) => {
    if (event.type.startsWith('verification.')) void reload();
  });
  // Newest first; answered and expired ones fade out after a few.
  const shown = (data?.verifications ?? []).filter((v, index) => v.state === 'pending' || index < recent);
  const refresh = useCallback(() => void reload(), [reload]);
  if (shown.length === 0) return null;
  return (
    <ul className="card-list" aria-label="Caller verifications">
      {shown.map((v) => (
        <VerificationCard key={v.id} verification={v} onAnswered={refresh} showCompanyLink={relationship === undefined} />
      ))}
    </ul>
  );
}
