import { useId, useState, type ReactNode } from 'react';
import { api, prepare, routes } from '../api';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { companyName } from '../components/labels';
import { Badge, Button, ErrorNote, LiveNote, Loading, Note, PageHeader, Section } from '../components/ui';
import { useAgentEvents } from '../events';
import { fieldLabel, formatDateTime, formatIsoDate, plural, shortName, theirText } from '../format';
import { AVAILABILITY, categoryLabel, INTENT_STATE, OFFER_STATE, offerCompany, priceRangeText, RECIPIENT_STATE, regionText, RULE, shortfallText, TERMS_DECISION } from '../intents';
import { Link, useTitle } from '../router';
import type { IntentView, OfferView, RelationshipView } from '../types';
import { useAction, useResource } from '../useResource';
import { useAgreementTitles } from '../useTerms';

const TITLE_MAX = 90;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

function money(o: OfferView): string {
  return `${o.offer.price} ${o.offer.priceCurrency}`;
}

function MeetsCell({ offer }: { offer: OfferView }) {
  if (offer.meets) return <Badge tone="good">Yes</Badge>;
  return (
    <span className="meets-no">
      <Badge tone="warn">No</Badge> <span>{offer.shortfalls.map(shortfallText).join('; ') || 'it falls short of what you asked'}</span>
    </span>
  );
}

function StateCell({ offer }: { offer: OfferView }) {
  const state = OFFER_STATE[offer.state] ?? { text: offer.state, tone: 'neutral' as const };
  return (
    <>
      <Badge tone={state.tone}>{state.text}</Badge>
      {offer.decidedBy ? (
        <span className="cell-sub rule-note">
          Declined by your rule: <code>{offer.decidedBy}</code>
          {RULE[offer.decidedBy] ? ` (${RULE[offer.decidedBy]})` : ''}
        </span>
      ) : null}
    </>
  );
}

/**
 * The offers side by side: one column per offer (cheapest first, as the agent sorts them), one row
 * per thing to compare. On a narrow screen the table scrolls sideways with the row names kept in view.
 */
function OffersTable({ offers, intent, titles, onAccept, onDecline }: { offers: OfferView[]; intent: IntentView; titles: ReadonlyMap<string, string>; onAccept: (o: OfferView) => void; onDecline: (o: OfferView) => void }) {
  const captionId = useId();
  const cheapest = offers.find((o) => o.meets && (o.state === 'received' || o.state === 'accepted'));
  const answerable = intent.state === 'open';
  const rows: { label: string; cell: (o: OfferView) => ReactNode }[] = [
    {
      label: 'Item',
      cell: (o) => (
        <>
          <span className="offer-item">{theirText(o.offer.itemOffered.name)}</span>
          {o.offer.itemOffered.description ? <span className="cell-sub">{theirText(o.offer.itemOffered.description)}</span> : null}
          {o.offer.itemOffered.sku ? <span className="cell-sub">SKU {theirText(o.offer.itemOffered.sku)}</span> : null}
        </>
      ),
    },
    {
      label: 'Price',
      cell: (o) => (
        <>
          <strong className="offer-price">{money(o)}</strong>
          {o === cheapest ? <span className="cell-sub">cheapest that meets what you asked</span> : null}
        </>
      ),
    },
    { label: 'Quantity', cell: (o) => String(o.offer.eligibleQuantity.value) },
    { label: 'Availability', cell: (o) => AVAILABILITY[o.offer.availability] ?? o.offer.availability },
    { label: 'Delivery date', cell: (o) => (o.offer.deliveryDate ? formatIsoDate(o.offer.deliveryDate) : 'not stated') },
    { label: 'Valid until', cell: (o) => formatDateTime(Date.parse(o.offer.validThrough)) },
    { label: 'Conditions', cell: (o) => (o.offer.conditions === undefined ? <span className="muted">none stated</span> : theirText(o.offer.conditions)) },
    { label: 'Terms', cell: (o) => (o.offer.terms ? <span title={o.offer.terms}>{titles.get(o.offer.terms) ?? shortName(o.offer.terms)}</span> : <span className="muted">none agreed</span>) },
    { label: 'Meets what you asked', cell: (o) => <MeetsCell offer={o} /> },
    { label: 'State', cell: (o) => <StateCell offer={o} /> },
  ];
  return (
    <div className="table-scroll" role="region" aria-labelledby={captionId} tabIndex={0}>
      <table className="table offers-table">
        <caption id={captionId} className="visually-hidden">
          Offers compared, cheapest first
        </caption>
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">Offer from</span>
            </th>
            {offers.map((o) => (
              <th scope="col" key={o.id} className={o.state === 'accepted' ? 'is-accepted' : undefined}>
                {offerCompany(o)}
                <span className="cell-sub">received {formatDateTime(o.receivedAt)}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.label}>
              <th scope="row">{row.label}</th>
              {offers.map((o) => (
                <td key={o.id} className={o.state === 'accepted' ? 'is-accepted' : undefined}>
                  {row.cell(o)}
                </td>
              ))}
            </tr>
          ))}
          {answerable && offers.some((o) => o.state === 'received') ? (
            <tr>
              <th scope="row">Your answer</th>
              {offers.map((o) => (
                <td key={o.id}>
                  {o.state === 'received' ? (
                    <div className="offer-actions">
                      <Button variant="primary" className="btn-small" onClick={() => onAccept(o)}>
                        Accept<span className="visually-hidden"> the offer of {offerCompany(o)}</span>
                      </Button>
                      <Button className="btn-small" onClick={() => onDecline(o)}>
                        Decline<span className="visually-hidden"> the offer of {offerCompany(o)}</span>
                      </Button>
                    </div>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              ))}
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

function Recipients({ intent }: { intent: IntentView }) {
  return (
    <table className="table stack-table">
      <caption className="visually-hidden">The companies you sent this intent to</caption>
      <thead>
        <tr>
          <th scope="col">Company</th>
          <th scope="col">State</th>
          <th scope="col">Your terms</th>
        </tr>
      </thead>
      <tbody>
        {intent.recipients.map((r) => (
          <tr key={r.relationshipId}>
            <th scope="row" data-label="Company">
              {r.anonymous ? (
                <>
                  Anonymous company{r.company ? ` (${theirText(r.company)})` : ''}
                  <span className="cell-sub">asked from a new identity, through your directory</span>
                </>
              ) : (
                <Link to={`/relationships/${encodeURIComponent(r.relationshipId)}`}>{companyName({ company: r.company, id: r.relationshipId })}</Link>
              )}
            </th>
            <td data-label="State">{RECIPIENT_STATE[r.state] ?? r.state}</td>
            <td data-label="Your terms">{r.termsDecision ? (TERMS_DECISION[r.termsDecision] ?? r.termsDecision) : r.anonymous ? <span className="muted">no answer yet</span> : <span className="muted">those in force with it</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

type Pending = { kind: 'accept' | 'decline'; offer: OfferView } | { kind: 'close' } | undefined;

/** One intent: what she asked, the offers compared, her answers, and who she asked. */
export function IntentPage({ id }: { id: string }) {
  const intentResource = useResource(prepare(routes.intent, { id }));
  const offersResource = useResource(prepare(routes.intentOffers, { id }));
  const categories = useResource(prepare(routes.intentCategories));
  const relationships = useResource(prepare(routes.relationships));
  const titles = useAgreementTitles();
  const action = useAction();
  const [pending, setPending] = useState<Pending>(undefined);
  const [reason, setReason] = useState('');
  const [linkTo, setLinkTo] = useState('');
  // Only her other relationships with the same company (its DID): the agent refuses any other link.
  const sameCompanyAs = (offer: OfferView): RelationshipView[] => {
    const theirs = liveRelationships.find((r) => r.id === offer.relationshipId)?.theirDid;
    return theirs === undefined ? [] : liveRelationships.filter((r) => r.id !== offer.relationshipId && r.theirDid === theirs);
  };
  const [note, setNote] = useState<string | undefined>(undefined);
  const formId = useId();

  const intent = intentResource.data?.intent;
  const offers = offersResource.data?.offers ?? [];
  useTitle(intent ? clip(intent.demand.description, 40) : 'Intent');

  const reload = async () => {
    await Promise.all([intentResource.reload(), offersResource.reload()]);
  };

  useAgentEvents((event) => {
    if (event.type === 'intent.offer' && intent && event.intentId === intent.id) {
      void reload();
      setNote(event.decidedBy ? 'An offer just arrived; your rule declined it.' : 'An offer just arrived.');
    }
  });

  const open = (next: Pending) => {
    action.setError(undefined);
    setReason('');
    setLinkTo('');
    setPending(next);
  };

  const confirm = async () => {
    if (!pending) return;
    setNote(undefined);
    let said: string;
    if (pending.kind === 'accept') {
      const o = pending.offer;
      const done = await action.run(() => api(routes.acceptOffer, { id: o.id }, linkTo ? { linkTo } : {}));
      if (!done) return;
      const othersAsked = (intent?.recipients.length ?? 1) - 1;
      said = `You accepted ${offerCompany(o)}’s offer: ${theirText(o.offer.itemOffered.name)} for ${money(o)}.${othersAsked > 0 ? ' The other companies were told the intent is closed.' : ''}${linkTo ? ' Your vault notes it is the company you already knew; it was not told.' : ''}`;
    } else if (pending.kind === 'decline') {
      const o = pending.offer;
      const done = await action.run(() => api(routes.declineOffer, { id: o.id }, reason.trim() ? { reason: reason.trim() } : {}));
      if (!done) return;
      said = `Declined ${offerCompany(o)}’s offer; ${offerCompany(o)} was told.`;
    } else {
      const done = await action.run(() => api(routes.closeIntent, { id: intent?.id ?? id }));
      if (!done) return;
      said = 'Closed. Every company you asked was told.';
    }
    setPending(undefined);
    // The result is announced once the page shows it.
    await reload();
    setNote(said);
  };

  if (!intent) {
    return (
      <>
        <p className="back-link">
          <Link to="/intents">← All intents</Link>
        </p>
        <PageHeader title="Intent" />
        <ErrorNote message={intentResource.error?.message} />
        {intentResource.loading ? <Loading /> : null}
      </>
    );
  }

  const state = INTENT_STATE[intent.state] ?? { text: intent.state, tone: 'neutral' as const };
  const demand = intent.demand;
  const price = priceRangeText(demand);
  const region = regionText(demand);
  const others = intent.recipients.length - 1;
  const liveRelationships = (relationships.data?.relationships ?? []).filter((r) => r.state === 'active' || r.state === 'muted');
  const waiting = offers.filter((o) => o.state === 'received').length;

  return (
    <>
      <p className="back-link">
        <Link to="/intents">← All intents</Link>
      </p>
      <PageHeader
        title={clip(demand.description, TITLE_MAX)}
        badge={<Badge tone={state.tone}>{state.text}</Badge>}
        actions={
          intent.state === 'open' ? (
            <Button variant="danger" onClick={() => open({ kind: 'close' })}>
              Close intent…
            </Button>
          ) : undefined
        }
      >
        <dl className="header-facts">
          <div>
            <dt>Category</dt>
            <dd>{categoryLabel(demand.category, categories.data?.categories)}</dd>
          </div>
          <div>
            <dt>Price</dt>
            <dd>{price ?? 'any'}</dd>
          </div>
          {demand.eligibleQuantity ? (
            <div>
              <dt>Quantity</dt>
              <dd>{demand.eligibleQuantity.value}</dd>
            </div>
          ) : null}
          {region ? (
            <div>
              <dt>Deliver to</dt>
              <dd>{region}</dd>
            </div>
          ) : null}
          {demand.availabilityEnds ? (
            <div>
              <dt>Wanted by</dt>
              <dd>{formatIsoDate(demand.availabilityEnds)}</dd>
            </div>
          ) : null}
          <div>
            <dt>{intent.state === 'open' ? 'Ends' : intent.state === 'expired' ? 'Ended' : 'Was to end'}</dt>
            <dd>{formatDateTime(intent.expiresAt)}</dd>
          </div>
          <div>
            <dt>Shared up front</dt>
            <dd>{intent.disclosed.length > 0 ? intent.disclosed.map(fieldLabel).join(', ') : 'nothing'}</dd>
          </div>
        </dl>
      </PageHeader>

      {demand.description.length > TITLE_MAX || intent.outcome ? (
        <div className="card intent-words">
          {demand.description.length > TITLE_MAX ? <p className="intent-description">{demand.description}</p> : null}
          {intent.outcome ? (
            <p>
              <span className="muted">The outcome you are after: </span>
              {intent.outcome}
            </p>
          ) : null}
        </div>
      ) : null}

      <LiveNote>{note}</LiveNote>

      <Section title="Offers" id="offers">
        <ErrorNote message={offersResource.error?.message} />
        {offersResource.loading && !offersResource.data ? <Loading /> : null}
        {offersResource.data && offers.length === 0 ? (
          <p className="muted">{intent.state === 'open' ? 'No offer yet. Offers appear here as soon as a company answers.' : 'No company made an offer.'}</p>
        ) : null}
        {offers.length > 0 ? (
          <>
            <p className="section-lead">
              {plural(offers.length, 'offer')}, cheapest first.{' '}
              {intent.state === 'open' ? (waiting > 0 ? `${plural(waiting, 'offer waits', 'offers wait')} for your answer.` : 'None waits for your answer.') : intent.state === 'accepted' ? 'You accepted one; the others were closed.' : ''}
            </p>
            <OffersTable offers={offers} intent={intent} titles={titles} onAccept={(o) => open({ kind: 'accept', offer: o })} onDecline={(o) => open({ kind: 'decline', offer: o })} />
          </>
        ) : null}
      </Section>

      <Section title="Who you asked" id="recipients">
        {intent.recipients.length === 0 ? <p className="muted">No company: nobody was reachable.</p> : <Recipients intent={intent} />}
      </Section>

      <ConfirmDialog
        open={pending?.kind === 'accept'}
        title={pending?.kind === 'accept' ? `Accept ${offerCompany(pending.offer)}’s offer?` : 'Accept this offer?'}
        confirmLabel="Accept offer"
        busyLabel="Accepting…"
        busy={action.busy}
        error={pending?.kind === 'accept' ? action.error : undefined}
        onCancel={() => setPending(undefined)}
        onConfirm={() => void confirm()}
      >
        {pending?.kind === 'accept' ? (
          <>
            <p>
              <strong>{theirText(pending.offer.offer.itemOffered.name)}</strong> for <strong>{money(pending.offer)}</strong>
              {pending.offer.offer.deliveryDate ? `, delivered by ${formatIsoDate(pending.offer.offer.deliveryDate)}` : ''}.
            </p>
            <p>
              {offerCompany(pending.offer)} is told you accept it.{' '}
              {others > 0 ? `The other ${plural(others, 'company', 'companies')} you asked ${others === 1 ? 'is' : 'are'} told the intent is closed, and offers still waiting are closed.` : 'You asked no other company.'}
            </p>
            {pending.offer.anonymous && sameCompanyAs(pending.offer).length > 0 ? (
              <div className="field">
                <label htmlFor={`${formId}-link`}>This is the same company as my relationship with…</label>
                <select id={`${formId}-link`} value={linkTo} onChange={(event) => setLinkTo(event.target.value)} aria-describedby={`${formId}-link-hint`}>
                  <option value="">No one I know (keep it separate)</option>
                  {sameCompanyAs(pending.offer).map((r) => (
                    <option key={r.id} value={r.id}>
                      {companyName(r)}
                    </option>
                  ))}
                </select>
                <p className="hint" id={`${formId}-link-hint`}>
                  Optional. Only your vault records it; nothing is sent about it.
                </p>
              </div>
            ) : null}
          </>
        ) : null}
      </ConfirmDialog>

      <ConfirmDialog
        open={pending?.kind === 'decline'}
        title={pending?.kind === 'decline' ? `Decline ${offerCompany(pending.offer)}’s offer?` : 'Decline this offer?'}
        confirmLabel="Decline offer"
        busyLabel="Declining…"
        danger
        busy={action.busy}
        error={pending?.kind === 'decline' ? action.error : undefined}
        onCancel={() => setPending(undefined)}
        onConfirm={() => void confirm()}
      >
        {pending?.kind === 'decline' ? (
          <>
            <p>
              {offerCompany(pending.offer)} is told you declined {theirText(pending.offer.offer.itemOffered.name)} for {money(pending.offer)}. Your intent stays open for the other offers.
            </p>
            <div className="field">
              <label htmlFor={`${formId}-reason`}>Reason for {offerCompany(pending.offer)} (optional)</label>
              <textarea id={`${formId}-reason`} rows={2} maxLength={2000} value={reason} onChange={(event) => setReason(event.target.value)} />
            </div>
          </>
        ) : null}
      </ConfirmDialog>

      <ConfirmDialog
        open={pending?.kind === 'close'}
        title="Close this intent?"
        confirmLabel="Close intent"
        busyLabel="Closing…"
        danger
        busy={action.busy}
        error={pending?.kind === 'close' ? action.error : undefined}
        onCancel={() => setPending(undefined)}
        onConfirm={() => void confirm()}
      >
        <p>Every company you asked is told it is closed, and offers waiting for your answer are closed. It cannot be opened again.</p>
        {waiting > 0 ? <Note tone="warn">{plural(waiting, 'offer is', 'offers are')} still waiting for your answer.</Note> : null}
      </ConfirmDialog>
    </>
  );
}
