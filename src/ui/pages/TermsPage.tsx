import { useState } from 'react';
import { api, prepare, routes } from '../api';
import { companyName, StateBadge, TermsCell } from '../components/labels';
import { ObligationList } from '../components/Obligations';
import { ProfferForm } from '../components/TermsPanel';
import { Badge, Button, ErrorNote, LiveNote, Loading, PageHeader, Section } from '../components/ui';
import { useAgentEvents } from '../events';
import { Link, useTitle } from '../router';
import { useAction, useResource } from '../useResource';
import { useRoster } from '../useTerms';

/** Her terms: the default she proffers on every connection, the roster in words, and per company. */
export function TermsPage() {
  useTitle('Terms');
  const { roster, agreements, error, reload } = useRoster();
  const relationships = useResource(prepare(routes.relationships));
  const action = useAction();
  const [pending, setPending] = useState<string | null | undefined>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);
  const titles = new Map([...agreements].map(([id, a]) => [id, a.title]));

  useAgentEvents((event) => {
    if (event.type === 'terms.updated') void relationships.reload();
  });

  const choose = async (agreement: string | null) => {
    setPending(agreement);
    setNote(undefined);
    const result = await action.run(() => api(routes.setDefaultTerms, { agreement }));
    setPending(undefined);
    if (!result) return;
    await reload();
    setNote(result.default ? `${agreements.get(result.default)?.title ?? result.default} is your default now: every new connection proffers it.` : 'No default terms: new connections proffer none.');
  };

  const current = roster?.default ?? null;
  const live = (relationships.data?.relationships ?? []).filter((r) => r.state !== 'cut_off');

  return (
    <>
      <PageHeader title="Terms" subtitle="Your terms, after IEEE 7012: you proffer them, companies accept, counter once, or reject. Kith never accepts weaker terms without asking you." />
      <ErrorNote message={error} />
      {!roster && !error ? <Loading /> : null}
      {roster ? (
        <Section title="Your default terms" id="default">
          <p className="section-lead">
            {current ? (
              <>
                Every new connection proffers <strong>{agreements.get(current)?.title ?? current}</strong>.
              </>
            ) : (
              'You have no default terms: new connections proffer none.'
            )}
          </p>
          <ErrorNote message={action.error} />
          <LiveNote>{note}</LiveNote>
          {roster.rosters.map((r) => (
            <div key={`${r.id}-${r.version}`} className="roster">
              <details className="roster-meta muted small disclosure">
                <summary>Where these agreements come from</summary>
                <p>
                  The roster <code className="wrap">{r.id}</code>, version {r.version}, signed by <code className="wrap">{r.publisher}</code>. Both you and the companies check that signature.
                </p>
              </details>
              <ul className="agreement-grid">
                {r.agreements.map((a) => {
                  const isDefault = current === a.id;
                  return (
                    <li key={a.id} className={`card agreement-card${isDefault ? ' is-selected' : ''}`}>
                      <div className="card-head">
                        <h3>{a.title}</h3>
                        {isDefault ? <Badge tone="good">Your default</Badge> : <span className="muted small">v{a.version}</span>}
                      </div>
                      <ObligationList obligations={a.obligations} />
                      <div className="card-foot">
                        {isDefault ? (
                          <Button variant="ghost" className="btn-small" onClick={() => void choose(null)} busy={action.busy && pending === null} busyLabel="Clearing…" disabled={action.busy}>
                            Stop using as default
                          </Button>
                        ) : (
                          <Button className="btn-small" onClick={() => void choose(a.id)} busy={action.busy && pending === a.id} busyLabel="Saving…" disabled={action.busy}>
                            Use as my default
                            <span className="visually-hidden"> ({a.title})</span>
                          </Button>
                        )}
                      </div>
                    </li>
                  );
                })}
              </ul>
            </div>
          ))}
        </Section>
      ) : null}

      <Section title="With each company" id="per-company">
        <ErrorNote message={relationships.error?.message} />
        {relationships.data && live.length === 0 ? (
          <p className="muted">
            No relationships yet. <Link to="/connect">Connect to a company</Link>: your default terms go with the request.
          </p>
        ) : null}
        {live.length > 0 ? (
          <ul className="card-list">
            {live.map((r) => (
              <li key={r.id} className="card company-terms">
                <div className="card-head">
                  <h3>
                    <Link to={`/relationships/${encodeURIComponent(r.id)}?tab=terms`}>{companyName(r)}</Link>
                  </h3>
                  <StateBadge state={r.state} />
                </div>
                <p>
                  In force: <TermsCell terms={r.terms} titles={titles} />
                </p>
                {r.terms.awaitingHer ? (
                  <p>
                    <Link to={`/relationships/${encodeURIComponent(r.id)}?tab=terms`}>Answer {companyName(r)}’s proposal</Link>
                  </p>
                ) : null}
                <ProfferForm relationship={r} compact onDone={() => void relationships.reload()} />
              </li>
            ))}
          </ul>
        ) : null}
      </Section>
    </>
  );
}
