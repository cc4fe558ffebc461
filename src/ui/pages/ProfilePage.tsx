import { useEffect, useState } from 'react';
import { prepare, request, routes } from '../api';
import { DeliveryProgress } from '../components/DeliveryProgress';
import { FieldEditor } from '../components/FieldEditor';
import { PersonaSwitcher, PersonasSection, usePersonas } from '../components/Personas';
import { Badge, Button, ErrorNote, LiveNote, Loading, PageHeader, Section } from '../components/ui';
import { downloadBlob } from '../download';
import { useAgentEvents } from '../events';
import { FIELD_NAMES, FIELD_SPECS, fieldLabel, formatDateTime, formatFieldValue, isNameField, isPreference, theirText } from '../format';
import { Link, navigate, useLocation, useTitle } from '../router';
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

/** What a change was, in a line: its fields, and for a company moved to a persona, that move. */
function changeTitle(c: ChangeView, namePersona: boolean): string {
  // Its persona may have been removed since (its changes stay in her history).
  const persona = c.persona.label === null ? 'a persona since removed' : `your ${c.persona.label} persona`;
  if (c.moved) {
    const company = c.moved.company === null ? c.moved.relationshipId.slice(0, 8) : theirText(c.moved.company);
    const what = c.fields.map((f) => (c.removed.includes(f) ? `${fieldLabel(f)} withdrawn` : `${fieldLabel(f)} sent again`)).join(', ');
    return `Version ${c.version}: ${company} moved to ${persona}${what ? ` (${what})` : ''}`;
  }
  const fields = c.fields.map((f) => (c.removed.includes(f) ? `${fieldLabel(f)} removed` : fieldLabel(f))).join(', ');
  return `Version ${c.version}: ${fields}${namePersona ? ` (${c.persona.label === null ? 'a persona since removed' : `${c.persona.label} persona`})` : ''}`;
}

/** A file name for a persona's vCard: her own words, made safe for a file system. */
function vcardName(label: string | undefined): string {
  const safe = (label ?? '').replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '');
  return safe ? `kith-profile-${safe}.vcf` : 'kith-profile.vcf';
}

/**
 * Her profile, one persona at a time (`?persona=<id>`, her default without it): each field, who
 * holds it, and changing it at once for every company that knows her as that persona. Below, her
 * personas themselves.
 */
export function ProfilePage() {
  useTitle('Profile');
  const { query } = useLocation();
  const asked = query.get('persona') ?? undefined;
  const personas = usePersonas();
  const { data, error, loading, reload } = useResource(prepare(routes.profile, asked === undefined ? {} : { persona: asked }));
  const changes = useResource(prepare(routes.profileChanges, { limit: 5 }));
  const [editing, setEditing] = useState<ProfileFieldName | undefined>(undefined);
  const [latest, setLatest] = useState<ChangeView | undefined>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);
  const vcard = useAction();

  // Another persona: another set of values, so nothing of the one left stays open.
  useEffect(() => {
    setEditing(undefined);
    setLatest(undefined);
    setNote(undefined);
  }, [asked]);

  useAgentEvents((event) => {
    if (event.type === 'profile.changed' || event.type === 'persona.changed' || (event.type === 'profile.delivery' && event.state === 'acked')) {
      void reload();
      void changes.reload();
    }
  });

  const list = personas.data?.personas ?? [];
  const several = list.length > 1;
  const shown = data?.persona.id;
  const persona = list.find((p) => p.id === shown);
  // Only when she has several: with one persona its name says nothing.
  const which = several && data ? data.persona.label : undefined;
  const byName = new Map((data?.fields ?? []).map((f) => [f.field, f]));
  const set = FIELD_NAMES.filter((f) => byName.has(f) && !isPreference(f));
  const preferences = FIELD_NAMES.filter((f) => byName.has(f) && isPreference(f));
  // A nameless persona never holds a name (the agent refuses one): not offered.
  const unset = FIELD_NAMES.filter((f) => !byName.has(f) && !(persona?.nameless === true && isNameField(f)));

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
      const response = await request(prepare(routes.exportVcard, shown === undefined ? {} : { persona: shown }));
      downloadBlob(await response.blob(), vcardName(which));
    });

  const row = (field: ProfileFieldName) => {
    const view = byName.get(field);
    const open = editing === field;
    return (
      <li key={field} id={`row-${field}`} className={`profile-row${open ? ' is-editing' : ''}`}>
        {open ? (
          <FieldEditor field={field} view={view} persona={shown} onSaved={(change) => saved(field, change)} onCancel={() => setEditing(undefined)} />
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
        subtitle={several ? 'Change a detail of one persona once: every company that knows you as it and holds the detail gets the new value.' : 'Change a detail once: every company that holds it gets the new value.'}
        actions={
          <Button onClick={() => void exportVcard()} busy={vcard.busy} busyLabel="Preparing…">
            Download vCard
          </Button>
        }
      />
      {several ? <PersonaSwitcher personas={list} current={shown ?? (asked === undefined ? list.find((p) => p.isDefault)?.id : undefined)} /> : null}
      <ErrorNote message={vcard.error} />
      {error?.code === 'persona.unknown' ? (
        <div className="note note-bad" role="alert">
          <span className="note-icon" aria-hidden="true">
            !
          </span>
          <span>
            That persona does not exist (any more). <Link to="/profile">Show your default persona</Link>
          </span>
        </div>
      ) : (
        <ErrorNote message={error?.message} />
      )}
      <ErrorNote message={personas.error?.message} />
      <LiveNote tone="info">{note}</LiveNote>

      {latest ? (
        <Section title="Your latest change" id="latest" className="section-attention">
          <DeliveryProgress initial={latest} />
        </Section>
      ) : null}

      {loading && !data ? <Loading /> : null}
      {data ? (
        <>
          <Section title={which ? `Your ${which} details` : 'Your details'} id="details" actions={<Badge>Version {data.version}</Badge>}>
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
              {persona?.nameless ? <p className="muted">Your {persona.label} persona is nameless: it never holds a name, so names are not offered here.</p> : null}
              {editing !== undefined && !byName.has(editing) ? (
                <div className="card add-editor">
                  <FieldEditor field={editing} view={undefined} persona={shown} onSaved={(change) => saved(editing, change)} onCancel={() => setEditing(undefined)} />
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

      {personas.data ? (
        <PersonasSection
          personas={list}
          current={shown}
          onChanged={() => {
            void personas.reload();
            void reload();
          }}
          onRemoved={(removed) => {
            // Leave it before loading again: its profile is gone (persona.unknown).
            if (removed.id === shown || asked === removed.id) navigate('/profile', { replace: true });
            else void reload();
            void personas.reload();
          }}
        />
      ) : null}

      {changes.data && changes.data.changes.length > 0 ? (
        <Section title="Recent changes" id="changes">
          <ul className="record-list">
            {changes.data.changes.map((c) => (
              <li key={c.version} className="record">
                <div className="record-head">
                  <Badge tone={c.done ? (c.summary.failed > 0 ? 'warn' : 'good') : 'info'}>{c.done ? (c.summary.total === 0 ? 'nothing to send' : 'delivered') : 'sending'}</Badge>
                  <span className="record-title">{changeTitle(c, several)}</span>
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
