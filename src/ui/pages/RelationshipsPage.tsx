import { Empty, ErrorNote, Loading, PageHeader } from '../components/ui';
import { StateBadge, TermsCell, companyName } from '../components/labels';
import { personaName } from '../components/Personas';
import { useAgentEvents } from '../events';
import { formatDate, plural } from '../format';
import { Link, useTitle } from '../router';
import type { RelationshipView } from '../types';
import { prepare, routes } from '../api';
import { useResource } from '../useResource';
import { useAgreementTitles } from '../useTerms';

function fieldsHeld(r: RelationshipView): number {
  return r.holds.filter((h) => h.category === 'field').length;
}

function Row({ r, titles, waiting }: { r: RelationshipView; titles: ReadonlyMap<string, string>; waiting: number }) {
  const fields = fieldsHeld(r);
  return (
    <li className={`rel-card${r.state === 'cut_off' ? ' is-ended' : ''}`}>
      <div className="rel-card-head">
        <h3 className="rel-card-title">
          <Link to={`/relationships/${encodeURIComponent(r.id)}`} className="stretched-link">
            {companyName(r)}
          </Link>
        </h3>
        <StateBadge state={r.state} />
      </div>
      <p className="rel-card-terms">
        <span className="rel-card-label">Terms</span>
        <TermsCell terms={r.terms} titles={titles} />
      </p>
      <p className="rel-card-terms">
        <span className="rel-card-label">{r.state === 'cut_off' ? 'Knew you as' : 'Knows you as'}</span>
        <span>{personaName(r.persona.label)}</span>
      </p>
      <dl className="rel-card-stats">
        <div>
          <dt>Customer number</dt>
          <dd>{r.customerRef ?? '—'}</dd>
        </div>
        <div>
          <dt>Holds</dt>
          <dd>{r.state === 'cut_off' ? 'erased' : fields === 0 ? 'no fields' : plural(fields, 'field')}</dd>
        </div>
        <div>
          <dt>Messages</dt>
          <dd>
            {r.messages}
            {r.queued > 0 ? <span className="rel-card-queued"> ({r.queued} queued)</span> : null}
          </dd>
        </div>
      </dl>
      {waiting > 0 ? (
        <p className="rel-card-waiting">
          <Link to="/requests">{waiting === 1 ? 'A request waits for your answer' : `${waiting} requests wait for your answer`}</Link>
        </p>
      ) : null}
      <p className="rel-card-since">Since {formatDate(r.createdAt)}</p>
    </li>
  );
}

/** Every company she has a relationship with, and what each holds. */
export function RelationshipsPage() {
  useTitle('Relationships');
  const { data, error, loading, reload } = useResource(prepare(routes.relationships));
  // Requests waiting for her, counted per relationship: each card says so.
  const pending = useResource(prepare(routes.requests));
  const waitingFor = new Map<string, number>();
  for (const request of pending.data?.requests ?? []) waitingFor.set(request.relationshipId, (waitingFor.get(request.relationshipId) ?? 0) + 1);
  const titles = useAgreementTitles();
  useAgentEvents((event) => {
    if (event.type === 'message.received' || event.type === 'terms.updated' || event.type === 'disclosure.answered' || event.type === 'profile.delivery' || event.type === 'persona.changed') void reload();
    if (event.type === 'disclosure.requested' || event.type === 'disclosure.answered') void pending.reload();
  });
  const relationships = data?.relationships ?? [];
  const live = relationships.filter((r) => r.state !== 'cut_off');
  const ended = relationships.filter((r) => r.state === 'cut_off');

  return (
    <>
      <PageHeader
        title="Relationships"
        subtitle="Every company you deal with through Kith, on your terms."
        actions={
          relationships.length > 0 ? (
            <Link to="/connect" className="btn btn-primary">
              Connect to a company
            </Link>
          ) : undefined
        }
      />
      <ErrorNote message={error?.message} />
      {loading && !data ? <Loading /> : null}
      {data && relationships.length === 0 ? (
        <Empty title="No relationships yet">
          <p>When a company shows you a Kith invitation, paste it on the Connect page. Kith makes a new, private identity for each company.</p>
          <Link to="/connect" className="btn btn-primary">
            Connect to a company
          </Link>
        </Empty>
      ) : null}
      {live.length > 0 ? (
        <section className="section section-first" aria-labelledby="current-title">
          <div className={`section-head${ended.length === 0 ? ' visually-hidden' : ''}`}>
            <h2 id="current-title">Current</h2>
          </div>
          <ul className="rel-grid">
            {live.map((r) => (
              <Row key={r.id} r={r} titles={titles} waiting={waitingFor.get(r.id) ?? 0} />
            ))}
          </ul>
        </section>
      ) : null}
      {ended.length > 0 ? (
        <section className="section" aria-labelledby="ended-title">
          <div className="section-head">
            <h2 id="ended-title">Ended</h2>
          </div>
          <ul className="rel-grid">
            {ended.map((r) => (
              <Row key={r.id} r={r} titles={titles} waiting={0} />
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}
