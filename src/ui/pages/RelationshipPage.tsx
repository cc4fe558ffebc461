import { useState } from 'react';
import { api, prepare, routes } from '../api';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Holdings } from '../components/Holdings';
import { StateBadge, TermsCell, companyName } from '../components/labels';
import { Receipt } from '../components/Receipt';
import { TermsPanel } from '../components/TermsPanel';
import { Thread } from '../components/Thread';
import { Verifications } from '../components/Verifications';
import { AccountIds } from '../components/AccountIds';
import { KnowsYouAs } from '../components/KnowsYouAs';
import { personaName } from '../components/Personas';
import { Button, ErrorNote, LiveNote, Loading, PageHeader, Section } from '../components/ui';
import { formatDate, plural } from '../format';
import { Link, useLocation, useTitle } from '../router';
import type { ReceiptView } from '../types';
import { useAction, useResource } from '../useResource';
import { useAgreementTitles } from '../useTerms';

const TABS = [
  { id: 'messages', label: 'Messages' },
  { id: 'holds', label: 'What they hold' },
  { id: 'terms', label: 'Terms' },
] as const;
type Tab = (typeof TABS)[number]['id'];

function isTab(value: string | null): value is Tab {
  return TABS.some((t) => t.id === value);
}

function Tabs({ id, current, waiting }: { id: string; current: Tab; waiting: boolean }) {
  return (
    <nav className="tabs" aria-label="Relationship sections">
      {TABS.map((tab) => (
        <Link key={tab.id} to={`/relationships/${encodeURIComponent(id)}${tab.id === 'messages' ? '' : `?tab=${tab.id}`}`} className={`tab${tab.id === current ? ' is-current' : ''}`} aria-current={tab.id === current ? 'page' : undefined}>
          {tab.label}
          {tab.id === 'terms' && waiting ? (
            <span className="tab-dot">
              <span className="visually-hidden"> (answer waiting)</span>
            </span>
          ) : null}
        </Link>
      ))}
    </nav>
  );
}

/** One company: the conversation, what it holds and why, the terms, and mute / cut off. */
export function RelationshipPage({ id }: { id: string }) {
  const { query } = useLocation();
  const tabParam = query.get('tab');
  const tab: Tab = isTab(tabParam) ? tabParam : 'messages';
  const { data, error, loading, reload } = useResource(prepare(routes.relationship, { ref: id }));
  const receipts = useResource(data?.relationship.state === 'cut_off' ? prepare(routes.receipts, { relationship: id }) : null);
  const titles = useAgreementTitles();
  const mute = useAction();
  const cut = useAction();
  const [confirmCut, setConfirmCut] = useState(false);
  const [receipt, setReceipt] = useState<ReceiptView | undefined>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);

  const relationship = data?.relationship;
  const company = relationship ? companyName(relationship) : 'Relationship';
  useTitle(relationship ? company : 'Relationship');

  const toggleMute = async () => {
    if (!relationship) return;
    const muting = relationship.state === 'active';
    setNote(undefined);
    const done = await mute.run(() => api(muting ? routes.mute : routes.unmute, { ref: relationship.id }));
    if (!done) return;
    setNote(muting ? `Muted. ${company}’s messages are held until you unmute.` : `Unmuted. Messages ${company} sent meanwhile are in the thread.`);
    await reload();
  };

  const cutOff = async () => {
    if (!relationship) return;
    const done = await cut.run(() => api(routes.cutOff, { ref: relationship.id }));
    if (!done) return;
    setConfirmCut(false);
    setReceipt(done.receipt);
    await reload();
  };

  if (!relationship) {
    return (
      <>
        <p className="back-link">
          <Link to="/">← All relationships</Link>
        </p>
        <PageHeader title="Relationship" />
        <ErrorNote message={error?.message} />
        {loading ? <Loading /> : null}
      </>
    );
  }

  // Only erasure receipts here: her access answers are receipts of another kind.
  const shownReceipts = receipt ? [receipt] : (receipts.data?.receipts ?? []).filter((r) => r.kind === 'erasure');
  const live = relationship.state !== 'cut_off';
  const fields = relationship.holds.filter((h) => h.category === 'field').length;

  return (
    <>
      <p className="back-link">
        <Link to="/">← All relationships</Link>
      </p>
      <PageHeader
        title={company}
        badge={<StateBadge state={relationship.state} />}
        actions={
          live ? (
            <>
              <Button onClick={() => void toggleMute()} busy={mute.busy} busyLabel={relationship.state === 'active' ? 'Muting…' : 'Unmuting…'} disabled={relationship.state === 'pending'}>
                {relationship.state === 'muted' ? 'Unmute' : 'Mute'}
              </Button>
              <Button variant="danger" onClick={() => setConfirmCut(true)}>
                Cut off…
              </Button>
            </>
          ) : undefined
        }
      >
        <dl className="header-facts">
          <div>
            <dt>Customer number</dt>
            <dd>{relationship.customerRef ?? '—'}</dd>
          </div>
          <div>
            <dt>Terms</dt>
            <dd>
              <TermsCell terms={relationship.terms} titles={titles} />
            </dd>
          </div>
          <div>
            <dt>Holds</dt>
            <dd>{live ? (fields === 0 ? 'no fields' : plural(fields, 'field')) : 'nothing (erased)'}</dd>
          </div>
          <div>
            <dt>{live ? 'Knows you as' : 'Knew you as'}</dt>
            <dd>{personaName(relationship.persona.label)}</dd>
          </div>
          <div>
            <dt>Since</dt>
            <dd>{formatDate(relationship.createdAt)}</dd>
          </div>
        </dl>
        {/* After a cut-off the identity is destroyed and the company erased what it knew: nothing to say "it knows". */}
        {live ? (
          <div className="header-did">
            <p>It knows you only by an identity made for it alone: no name, no email, nothing it could match with another company.</p>
            <details className="disclosure">
              <summary>Show that identity</summary>
              <p className="small">
                Your pairwise DID: <code className="wrap">{relationship.myDid}</code>
              </p>
              <p className="small">
                Its DID: <code className="wrap">{relationship.theirDid}</code>
              </p>
            </details>
          </div>
        ) : (
          <p className="header-did">It knew you only by an identity made for it alone; that identity is destroyed.</p>
        )}
      </PageHeader>
      <ErrorNote message={mute.error} />
      <LiveNote tone={relationship.state === 'muted' ? 'warn' : 'good'}>{note}</LiveNote>
      {live ? <Verifications relationship={relationship.id} /> : null}
      {live ? <KnowsYouAs relationship={relationship} company={company} onMoved={() => void reload()} /> : null}
      <AccountIds relationship={relationship.id} company={company} canAdd={relationship.state !== 'pending'} />

      {shownReceipts.length > 0 ? (
        <Section title="Erasure receipt" id="receipt">
          {shownReceipts.map((r) => (
            <Receipt key={r.id} receipt={r} company={company} />
          ))}
        </Section>
      ) : null}
      <ErrorNote message={receipts.error?.message} />

      <Tabs id={relationship.id} current={tab} waiting={relationship.terms.awaitingHer} />
      <div className="tab-panel">
        {tab === 'messages' ? <Thread relationship={relationship} onChanged={() => void reload()} /> : null}
        {/* Keyed on the state: a cut-off (or mute) reloads its consent records and requests too. */}
        {tab === 'holds' ? <Holdings key={relationship.state} relationship={relationship} /> : null}
        {tab === 'terms' ? <TermsPanel relationship={relationship} onChanged={() => void reload()} /> : null}
      </div>

      <ConfirmDialog
        open={confirmCut}
        title={`Cut off ${company}?`}
        confirmLabel="Cut off and erase"
        busyLabel="Cutting off…"
        danger
        busy={cut.busy}
        error={cut.error}
        onCancel={() => {
          setConfirmCut(false);
          cut.setError(undefined);
        }}
        onConfirm={() => void cutOff()}
      >
        <p>This ends the relationship for good:</p>
        <ul>
          <li>
            {company} is asked to <strong>erase everything it holds about you</strong> — {fields > 0 ? `${plural(fields, 'field')}, ` : ''}your messages and your identifiers — and to send you a signed receipt saying what it erased.
          </li>
          <li>Kith then <strong>destroys the keys</strong> of this relationship: neither of you can send the other anything again.</li>
        </ul>
        <p>This cannot be undone. To deal with {company} again you would connect anew, as a stranger.</p>
      </ConfirmDialog>
    </>
  );
}
