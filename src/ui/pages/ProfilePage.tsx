import { useState } from 'react';
import { prepare, request, routes } from '../api';
import { DeliveryProgress } from '../components/DeliveryProgress';
import { FieldEditor } from '../components/FieldEditor';
import { Badge, Button, ErrorNote, LiveNote, Loading, PageHeader, Section } from '../components/ui';
import { downloadBlob } from '../download';
import { useAgentEvents } from '../events';
import { FIELD_NAMES, FIELD_SPECS, fieldLabel, formatDateTime, formatFieldValue, isPreference, theirText } from '../format';
import { Link, useTitle } from '../router';
import type { ChangeView, ProfileFieldName, ProfileFieldView } from '../types';
import { useAction, useResource } from '../useResource';

function HeldBy({ view }: { view: ProfileFieldView }) {
  if (view.heldBy.length === 0) return <span className="muted">No company holds it</span>;
  return (
    <span className="held-by">
      <span className="muted">Held by </span>
      {view.heldBy.map((h, i) => (
        <span key={h.relationshipId}>
          {i > 0 ? ', ' : ''}
          <Link to={`/relationships/${encodeURIComponent(h.relationshipId)}?tab=holds`}>{h.company === null ? h.relationshipId.slice(0, 8) : theirText(h.company)}</Link>
          {h.version < view.version ? <span className="muted"> (older version)</span> : null}
        </span>
      ))}
    </span>
  );
}

/** Her profile: each field, who holds it, and changing it everywhere at once. */
export function ProfilePage() {
  useTitle('Profile');
  const { data, error, loading, reload } = useResource(prepare(routes.profile));
  const changes = useResource(prepare(routes.profileChanges, { limit: 5 }));
  const [editing, setEditing] = useState<ProfileFieldName | undefined>(undefined);
  const [latest, setLatest] = useState<ChangeView | undefined>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);
  const vcard = useAction();

  useAgentEvents((event) => {
    if (event.type === 'profile.changed' || (event.type === 'profile.delivery' && event.state === 'acked')) {
      void reload();
      void changes.reload();
    }
  });

  const byName = new Map((data?.fields ?? []).map((f) => [f.field, f]));
  const set = FIELD_NAMES.filter((f) => byName.has(f) && !isPreference(f));
  const preferences = FIELD_NAMES.filter((f) => byName.has(f) && isPreference(f));
  const unset = FIELD_NAMES.filter((f) => !byName.has(f));

  const saved = (field: ProfileFieldName, change: ChangeView | null) => {
    setEditing(undefined);
    if (change) {
      setLatest(change);
      setNote(undefined);
    } else setNote(`${fieldLabel(field)} already had that value; nothing changed.`);
    void reload();
    void changes.reload();
    window.setTimeout(() => document.getElementById(`row-${field}`)?.querySelector<HTMLButtonElement>('button')?.focus(), 0);
  };

  const exportVcard = () =>
    vcard.run(async () => {
      const response = await request(prepare(routes.exportVcard));
      downloadBlob(await response.blob(), 'kith-profile.vcf');
    });

  const row = (field: ProfileFieldName) => {
    const view = byName.get(field);
    const open = editing === field;
    return (
      <li key={field} id={`row-${field}`} className={`profile-row${open ? ' is-editing' : ''}`}>
        {open ? (
          <FieldEditor field={field} view={view} onSaved={(change) => saved(field, change)} onCancel={() => setEditing(undefined)} />
        ) : (
          <>
            <div className="profile-row-main">
              <h3 className="profile-label">{FIELD_SPECS[field].label}</h3>
              <p className={`profile-value${field === 'note' ? ' is-multiline' : ''}`}>{view ? formatFieldValue(field, view.value) : <span className="muted">Not set</span>}</p>
              {view ? (
                <p className="profile-meta">
                  <HeldBy view={view} />
                </p>
              ) : null}
            </div>
            <Button variant="secondary" className="btn-small" onClick={() => setEditing(field)} disabled={editing !== undefined}>
              {view ? 'Edit' : 'Add'}
              <span className="visually-hidden"> {FIELD_SPECS[field].label.toLowerCase()}</span>
            </Button>
          </>
        )}
      </li>
    );
  };

  return (
    <>
      <PageHeader
        title="Profile"
        subtitle="Change a detail once: every company that holds it gets the new value."
        actions={
          <Button onClick={() => void exportVcard()} busy={vcard.busy} busyLabel="Preparing…">
            Download vCard
          </Button>
        }
      />
      <ErrorNote message={vcard.error} />
      <ErrorNote message={error?.message} />
      <LiveNote tone="info">{note}</LiveNote>

      {latest ? (
        <Section title="Your latest change" id="latest" className="section-attention">
          <DeliveryProgress initial={latest} />
        </Section>
      ) : null}

      {loading && !data ? <Loading /> : null}
      {data ? (
        <>
          <Section title="Your details" id="details" actions={<Badge>Version {data.version}</Badge>}>
            {set.length === 0 && preferences.length === 0 ? <p className="muted">Your profile is empty. Add what you are happy to share with companies; you still choose, each time, who gets what.</p> : null}
            <ul className="profile-list">{set.map(row)}</ul>
          </Section>
          {preferences.length > 0 ? (
            <Section title="Your preferences" id="preferences">
              <p className="muted">How you like to be served. Shared field by field like your details, and changed once for every company that has them.</p>
              <ul className="profile-list">{preferences.map(row)}</ul>
            </Section>
          ) : null}
          {unset.length > 0 ? (
            <Section title="Add more" id="more">
              {editing !== undefined && !byName.has(editing) ? (
                <div className="card add-editor">
                  <FieldEditor field={editing} view={undefined} onSaved={(change) => saved(editing, change)} onCancel={() => setEditing(undefined)} />
                </div>
              ) : null}
              <ul className="add-chips">
                {unset.map((field) => (
                  <li key={field} id={`row-${field}`}>
                    <button type="button" className="btn btn-secondary add-chip" onClick={() => setEditing(field)} disabled={editing !== undefined} aria-label={`Add ${FIELD_SPECS[field].label.toLowerCase()}`}>
                      <span className="add-chip-plus" aria-hidden="true">
                        +
                      </span>
                      {FIELD_SPECS[field].label}
                    </button>
                  </li>
                ))}
              </ul>
            </Section>
          ) : null}
        </>
      ) : null}

      {changes.data && changes.data.changes.length > 0 ? (
        <Section title="Recent changes" id="changes">
          <ul className="record-list">
            {changes.data.changes.map((c) => (
              <li key={c.version} className="record">
                <div className="record-head">
                  <Badge tone={c.done ? (c.summary.failed > 0 ? 'warn' : 'good') : 'info'}>{c.done ? (c.summary.total === 0 ? 'nothing to send' : 'delivered') : 'sending'}</Badge>
                  <span className="record-title">
                    Version {c.version}: {c.fields.map((f) => (c.removed.includes(f) ? `${fieldLabel(f)} removed` : fieldLabel(f))).join(', ')}
                  </span>
                </div>
                <p className="record-foot">
                  {formatDateTime(c.createdAt)}
                  {c.summary.total > 0 ? ` · ${c.summary.acked} of ${c.summary.total} companies received it` : ''}
                  {c.summary.failed > 0 ? ` · ${c.summary.failed} refused` : ''}
                  {c.summary.pending > 0 ? ` · ${c.summary.pending} pending` : ''}
                </p>
              </li>
            ))}
          </ul>
        </Section>
      ) : null}
    </>
  );
}
