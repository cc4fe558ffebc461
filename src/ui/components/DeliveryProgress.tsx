import { useCallback, useEffect, useState } from 'react';
import { api, ApiFailure, routes } from '../api';
import { useAgentEvents } from '../events';
import { deliveryErrorText, fieldLabel, plural, theirText } from '../format';
import type { ChangeView, DeliveryView } from '../types';
import { Badge, ErrorNote, type Tone } from './ui';

const POLL_FOR_MS = 60_000;

function deliveryState(d: DeliveryView, removal: boolean): { text: string; tone: Tone } {
  switch (d.state) {
    case 'acked':
      return { text: removal ? 'erased' : 'received', tone: 'good' };
    case 'failed':
      return { text: `refused${d.lastError ? ` (${deliveryErrorText(d.lastError)})` : ''}`, tone: 'bad' };
    case 'skipped':
      return { text: `skipped${d.lastError ? ` (${deliveryErrorText(d.lastError)})` : ''}`, tone: 'neutral' };
    default:
      return d.lastError ? { text: `retrying (${deliveryErrorText(d.lastError)})`, tone: 'warn' } : { text: 'sending…', tone: 'info' };
  }
}

/** A company moved to another persona: it is sent that persona's values, and erases what it has none of. */
function movedSummary(change: ChangeView): string {
  const moved = change.moved!;
  const company = moved.company === null ? moved.relationshipId.slice(0, 8) : theirText(moved.company);
  const persona = change.persona.label === null ? 'a persona since removed' : `your ${change.persona.label} persona`;
  const sent = change.fields.filter((f) => !change.removed.includes(f)).map(fieldLabel);
  const withdrawn = change.removed.map(fieldLabel);
  const values = sent.length > 0 ? `${persona}’s ${sent.join(', ')}` : undefined;
  const erase = withdrawn.length > 0 ? `erase your ${withdrawn.join(', ')}` : undefined;
  const what = [values, erase ? `the request to ${erase}` : undefined].filter(Boolean).join(' and ');
  if (!change.done) return `Sending ${company} ${what}…`;
  if (change.summary.failed > 0) return `${company} refused ${what}.`;
  const done = [values ? `has ${values}` : undefined, withdrawn.length > 0 ? `erased your ${withdrawn.join(', ')}` : undefined].filter(Boolean).join(' and ');
  return `Done: ${company} ${done}.`;
}

/**
 * Where one profile change got to, company by company, until every delivery is settled: updated
 * from the agent's profile.delivery events, and by polling every second in case events are late.
 */
export function DeliveryProgress({ initial }: { initial: ChangeView }) {
  const [change, setChange] = useState<ChangeView>(initial);
  const [error, setError] = useState<string | undefined>(undefined);
  const version = initial.version;

  const refresh = useCallback(async () => {
    try {
      const { change: next } = await api(routes.profileChange, { version });
      setChange(next);
      setError(undefined);
    } catch (caught) {
      if (!(caught instanceof ApiFailure && caught.code === 'vault.locked')) setError(caught instanceof Error ? caught.message : String(caught));
    }
  }, [version]);

  useEffect(() => setChange(initial), [initial]);

  // Polling is the fallback for late events, for the first minute only: every call counts as her
  // activity for the agent's idle lock, and a company that stays down must not keep the vault open.
  const [polling, setPolling] = useState(true);
  useEffect(() => {
    const stop = window.setTimeout(() => setPolling(false), POLL_FOR_MS);
    return () => window.clearTimeout(stop);
  }, [version]);
  useEffect(() => {
    if (change.done || !polling) return undefined;
    const timer = window.setInterval(() => void refresh(), 1_000);
    return () => window.clearInterval(timer);
  }, [change.done, polling, refresh]);

  useAgentEvents((event) => {
    if ((event.type === 'profile.delivery' && event.version >= version) || (event.type === 'profile.changed' && event.version === version)) void refresh();
  });

  const { total, acked, failed, skipped } = change.summary;
  const settled = acked + failed + skipped;
  const fields = change.fields.map(fieldLabel).join(', ');
  // A removal asks each holder to erase the field; its words say so, not "the new value".
  const removal = change.removed.length === change.fields.length;
  const yours = `your ${fields.toLowerCase()}`;

  if (total === 0) {
    return (
      <p className="progress-summary" role="status">
        {removal ? `Removed ${yours} (version ${change.version}). No company held it, so there is nothing to send.` : `Saved as version ${change.version}. No company holds ${fields}, so there is nothing to send.`}
      </p>
    );
  }

  const summary = change.moved
    ? movedSummary(change)
    : removal
      ? change.done
        ? failed > 0
          ? `Done: ${acked} of ${total} companies erased ${yours}; ${plural(failed, 'company', 'companies')} refused.`
          : `Done: every company that held ${yours} erased it (${acked} of ${total}).`
        : `Asking ${plural(total, 'company', 'companies')} to erase ${yours}: ${acked} of ${total} have.`
      : change.done
        ? failed > 0
          ? `Done: ${acked} of ${total} companies have the new ${fields}; ${plural(failed, 'company', 'companies')} refused it.`
          : `Done: every company that holds your ${fields} has the new value (${acked} of ${total}).`
        : `Sending version ${change.version}: ${acked} of ${total} companies have it.`;

  return (
    <div className="delivery">
      <div className="progress-head">
        <p className="progress-summary" role="status" aria-live="polite">
          {summary}
        </p>
        <progress max={total} value={settled} aria-label={`Delivery of version ${change.version}`}>
          {settled} of {total}
        </progress>
      </div>
      <ul className="delivery-list">
        {change.deliveries.map((d) => {
          const state = deliveryState(d, removal);
          return (
            <li key={d.relationshipId} className="delivery-row">
              <span className="delivery-company">{d.company === null ? d.relationshipId.slice(0, 8) : theirText(d.company)}</span>
              <span className="delivery-state">
                <Badge tone={state.tone}>{state.text}</Badge>
                {d.attempts > 1 ? <span className="muted small"> {plural(d.attempts, 'try', 'tries')}</span> : null}
              </span>
            </li>
          );
        })}
      </ul>
      <ErrorNote message={error} />
    </div>
  );
}
