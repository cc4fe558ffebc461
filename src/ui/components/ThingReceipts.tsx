import { useState } from 'react';
import { api, errorMessage, routes } from '../api';
import { formatDate, formatIsoDate, theirText } from '../format';
import { navigate } from '../router';
import { announceThingsChanged, durationText } from '../things';
import type { ThingReceiptView } from '../types';
import { ConfirmDialog } from './ConfirmDialog';
import { Badge, Button, ErrorNote, LiveNote, Section } from './ui';

/*
 * The signed receipts sellers sent her (docs/protocol/thing.md), waiting on the Things page: what
 * was sold, for how much, with which warranty, signed by whom. Accept makes a thing of it (with the
 * warranty, the seller linked and the signed receipt kept as proof) and opens it; Decline keeps it
 * as declined. Either way the seller is told.
 */

function ReceiptCard({ item, onAnswered }: { item: ThingReceiptView; onAnswered: (note: string) => void }) {
  const { receipt } = item;
  const [busy, setBusy] = useState<'accept' | 'decline' | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [confirm, setConfirm] = useState(false);
  const seller = theirText(receipt.seller_name);
  const product = receipt.product;
  const made = [product.brand, product.model].filter(Boolean).map((v) => theirText(v!)).join(' ');
  const relationshipName = item.companyName === null ? undefined : theirText(item.companyName);

  const answer = async (how: 'accept' | 'decline') => {
    setBusy(how);
    setError(undefined);
    try {
      const done = await api(how === 'accept' ? routes.acceptThingReceipt : routes.declineThingReceipt, { id: item.id });
      announceThingsChanged();
      const told = done.answer === 'sent' ? `${seller} was told.` : `${seller} could not be reached now: your answer waits in your outbox and goes when it can.`;
      if (how === 'accept' && done.thing) {
        navigate(`/things/${encodeURIComponent(done.thing.id)}`);
        return;
      }
      setConfirm(false);
      onAnswered(`Declined the receipt for ${theirText(product.name)}. ${told}`);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <li className="record receipt-card" data-testid="thing-receipt">
      <div className="record-head">
        <span className="record-title">{theirText(product.name)}</span>
        {made ? <span className="muted">{made}</span> : null}
        <Badge tone="info">Signed receipt</Badge>
      </div>
      <dl className="facts facts-row">
        <div className="fact">
          <dt>Seller</dt>
          <dd>
            {seller}
            {relationshipName && relationshipName !== seller ? <span className="cell-sub">over your relationship with {relationshipName}</span> : null}
          </dd>
        </div>
        <div className="fact">
          <dt>Bought on</dt>
          <dd>{formatIsoDate(receipt.purchase_date)}</dd>
        </div>
        <div className="fact">
          <dt>Price</dt>
          <dd>{receipt.price ? `${receipt.price.amount} ${receipt.price.currency}` : <span className="muted">—</span>}</dd>
        </div>
        <div className="fact">
          <dt>Warranty</dt>
          <dd>
            {receipt.warranty ? (
              <>
                {durationText(receipt.warranty.duration)} from {formatIsoDate(receipt.warranty.start)}
                {receipt.warranty.provider ? `, given by ${theirText(receipt.warranty.provider)}` : ''}
                {receipt.warranty.scope ? <span className="cell-sub">Covers: {theirText(receipt.warranty.scope)}</span> : null}
              </>
            ) : (
              <span className="muted">None on the receipt</span>
            )}
          </dd>
        </div>
        {product.serialNumber ? (
          <div className="fact">
            <dt>Serial number</dt>
            <dd>{theirText(product.serialNumber)}</dd>
          </div>
        ) : null}
        {product.gtin ? (
          <div className="fact">
            <dt>GTIN (barcode)</dt>
            <dd>{product.gtin}</dd>
          </div>
        ) : null}
      </dl>
      <p className="hint">
        Signed by {seller} on {formatDate(Date.parse(receipt.issued_at))}; Kith checked the signature when it arrived. If you accept it, the signed receipt is kept with the thing as your proof of purchase.
      </p>
      <div className="button-row">
        <Button variant="primary" busy={busy === 'accept'} busyLabel="Accepting…" disabled={busy !== undefined} onClick={() => void answer('accept')}>
          Accept<span className="visually-hidden"> the receipt for {theirText(product.name)}</span>
        </Button>
        <Button variant="ghost" disabled={busy !== undefined} onClick={() => setConfirm(true)}>
          Decline…<span className="visually-hidden"> the receipt for {theirText(product.name)}</span>
        </Button>
      </div>
      <ErrorNote message={confirm ? undefined : error} />
      <ConfirmDialog
        open={confirm}
        title={`Decline the receipt for ${theirText(product.name)}?`}
        confirmLabel="Decline it"
        busyLabel="Declining…"
        danger
        busy={busy === 'decline'}
        error={error}
        onCancel={() => {
          setConfirm(false);
          setError(undefined);
        }}
        onConfirm={() => void answer('decline')}
      >
        <p>No thing is made of it, and {seller} is told you declined it. The receipt stays in your vault as declined.</p>
      </ConfirmDialog>
    </li>
  );
}

/** "Receipts waiting for you": shown while there is one, or an error. */
export function ThingReceipts({ receipts, error, onAnswered }: { receipts: ThingReceiptView[] | undefined; error: string | undefined; onAnswered: () => void }) {
  const [note, setNote] = useState<string | undefined>(undefined);
  const pending = (receipts ?? []).filter((r) => r.state === 'pending');
  if (pending.length === 0 && !error && !note) return null;
  return (
    <Section title="Receipts waiting for you" id="receipts" className="section-first">
      <p className="section-lead">Sellers you have a relationship with sent you these receipts, signed. Accept one and it becomes one of your things, with its warranty; decline it and nothing is added.</p>
      <ErrorNote message={error} />
      {pending.length > 0 ? (
        <ul className="record-list" aria-label="Receipts waiting for you">
          {pending.map((r) => (
            <ReceiptCard
              key={r.id}
              item={r}
              onAnswered={(text) => {
                setNote(text);
                onAnswered();
              }}
            />
          ))}
        </ul>
      ) : null}
      <LiveNote>{note}</LiveNote>
    </Section>
  );
}
