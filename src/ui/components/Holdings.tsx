import { fieldLabel, formatDate, formatDuration, formatFieldValue, CONSENT_STATE, LEGAL_BASIS, theirText } from '../format';
import { Link } from '../router';
import type { ConsentRecord, ConsentView, HeldItem, RelationshipView } from '../types';
import { prepare, routes } from '../api';
import { useResource } from '../useResource';
import { companyName } from './labels';
import { Badge, Empty, ErrorNote, Loading, Section, type Tone } from './ui';
import { useAgentEvents } from '../events';

const CONSENT_TONE: Record<string, Tone> = { active: 'good', pending: 'neutral', refused: 'bad', withdrawn: 'warn', expired: 'warn' };

function consentFields(c: ConsentView): { fields: string[]; purpose: string | undefined; retention: string | null | undefined; basis: string | undefined } {
  const record = c.record as Partial<ConsentRecord> | null;
  const processing = record?.processing?.[0];
  return { fields: processing?.pii_categories ?? [], purpose: processing?.purposes?.[0], retention: processing?.retention, basis: processing?.legal_basis };
}

function FieldsTable({ items }: { items: HeldItem[] }) {
  return (
    <table className="table stack-table">
      <caption className="visually-hidden">Fields the company holds, with the reason and how long it keeps them</caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Value it holds</th>
          <th scope="col">Why</th>
          <th scope="col">Kept for</th>
          <th scope="col">Since</th>
        </tr>
      </thead>
      <tbody>
        {items.map((h) => (
          <tr key={`${h.field ?? h.detail}-${h.consentRecordId ?? ''}`}>
            <th scope="row" data-label="Field">
              {fieldLabel(h.field ?? h.detail)}
              {h.source === 'credential' ? <span className="cell-sub">from a credential</span> : null}
            </th>
            <td data-label="Value it holds">
              <span className="value">{formatFieldValue(h.field ?? '', h.value) || '—'}</span>
              {typeof h.version === 'number' ? <span className="cell-sub">your profile version {h.version}</span> : null}
            </td>
            <td data-label="Why">{h.why}</td>
            <td data-label="Kept for" className="nowrap">
              {formatDuration(h.retention ?? null)}
            </td>
            <td data-label="Since" className="nowrap">
              {formatDate(h.since)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** What the company holds and why, its consent records, and what it asked for. */
export function Holdings({ relationship }: { relationship: RelationshipView }) {
  const company = companyName(relationship);
  const consents = useResource(prepare(routes.consents, { relationship: relationship.id }));
  const requests = useResource(prepare(routes.requests, { all: '1', relationship: relationship.id }));
  useAgentEvents((event) => {
    if ((event.type === 'disclosure.requested' || event.type === 'disclosure.answered') && event.relationshipId === relationship.id) {
      void consents.reload();
      void requests.reload();
    }
  });

  const fields = relationship.holds.filter((h) => h.category === 'field');
  const other = relationship.holds.filter((h) => h.category !== 'field');

  return (
    <>
      <Section title={`What ${company} holds`} id="holds">
        {relationship.state === 'cut_off' ? (
          <p>Nothing: {company} erased what it held when you cut it off. The signed receipt is above.</p>
        ) : (
          <>
            <ul className="plain-list held-basics">
              {other.map((h) => (
                <li key={h.category}>
                  <strong>{h.detail}</strong> <span className="muted">— {h.why}</span>
                </li>
              ))}
            </ul>
            {fields.length === 0 ? <p className="muted">No profile fields: you have not shared any with {company}.</p> : <FieldsTable items={fields} />}
          </>
        )}
      </Section>

      <Section title="Consent records" id="consents">
        <p className="section-lead">Both you and {company} keep the same record of each answer (ISO/IEC TS 27560).</p>
        <ErrorNote message={consents.error?.message} />
        {consents.loading && !consents.data ? <Loading /> : null}
        {consents.data && consents.data.consents.length === 0 ? <p className="muted">No consent records yet.</p> : null}
        {consents.data && consents.data.consents.length > 0 ? (
          <ul className="record-list">
            {consents.data.consents.map((c) => {
              const info = consentFields(c);
              return (
                <li key={c.id} className="record">
                  <div className="record-head">
                    <Badge tone={CONSENT_TONE[c.state] ?? 'neutral'}>{CONSENT_STATE[c.state] ?? c.state}</Badge>
                    <span className="record-title">{info.fields.length > 0 ? info.fields.map(fieldLabel).join(', ') : 'No fields'}</span>
                  </div>
                  <p className="record-body">
                    For: {info.purpose === undefined ? '—' : theirText(info.purpose)}
                    <br />
                    Kept for: {formatDuration(info.retention ?? null)}
                    {info.basis ? `; on the basis of ${LEGAL_BASIS[info.basis] ?? info.basis}` : ''}
                  </p>
                  <p className="record-foot">
                    {formatDate(c.createdAt)} · record <code title={c.id}>{c.id.slice(0, 8)}</code>
                  </p>
                </li>
              );
            })}
          </ul>
        ) : null}
      </Section>

      <Section title="What it asked for" id="disclosures">
        <ErrorNote message={requests.error?.message} />
        {requests.loading && !requests.data ? <Loading /> : null}
        {requests.data && requests.data.requests.length === 0 ? <Empty title={`${company} has not asked for anything.`} /> : null}
        {requests.data && requests.data.requests.length > 0 ? (
          <ul className="record-list">
            {requests.data.requests.map((r) => {
              const asked = [...r.fields.map((f) => f.name), ...r.credentials.flatMap((c) => c.claims)];
              return (
                <li key={r.id} className="record">
                  <div className="record-head">
                    <Badge tone={r.state === 'approved' ? 'good' : r.state === 'declined' ? 'bad' : 'info'}>{r.state === 'pending' ? 'Waiting for you' : r.state === 'approved' ? 'Approved' : 'Declined'}</Badge>
                    <span className="record-title">{asked.map(fieldLabel).join(', ')}</span>
                  </div>
                  <p className="record-body">For: {theirText(r.purpose)}</p>
                  {r.state === 'approved' && r.answeredFields ? <p className="record-body">You shared: {r.answeredFields.map(fieldLabel).join(', ')}</p> : null}
                  <p className="record-foot">
                    Asked {formatDate(r.createdAt)}
                    {r.state === 'pending' ? (
                      <>
                        {' · '}
                        <Link to="/requests">Answer it</Link>
                      </>
                    ) : null}
                  </p>
                </li>
              );
            })}
          </ul>
        ) : null}
      </Section>
    </>
  );
}
