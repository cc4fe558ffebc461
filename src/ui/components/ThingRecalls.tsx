import { formatIsoDate, theirText } from '../format';
import { Link } from '../router';
import type { ThingView } from '../types';

/*
 * Recalls and safety notices (docs/protocol/thing.md): a maker she registered a thing with sends
 * one, her agent keeps it on the thing. They come before anything else on the Things page and on
 * the thing's page, in the company's own words (bidi controls shown), with its date and link.
 */

type Recall = ThingView['recalls'][number];

/** The company that sent it, by the thing's links or registrations (the recall names only the relationship). */
function senderName(thing: ThingView, recall: Recall): string {
  const name = thing.links.find((l) => l.relationshipId === recall.relationshipId)?.companyName ?? thing.registrations.find((r) => r.relationshipId === recall.relationshipId)?.companyName ?? null;
  return name === null ? 'Its maker' : theirText(name);
}

/** "2026-01-01T09:20:00.000Z" → "1 Jan 2026" (the notice's own date, as the company sent it). */
function issuedOn(recall: Recall): string {
  return formatIsoDate(recall.issuedAt.slice(0, 10));
}

/** Where the link goes, said next to it (the agent took only https URLs). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function RecallItem({ thing, recall, showThing }: { thing: ThingView; recall: Recall; showThing: boolean }) {
  return (
    <li className="recall" data-testid="recall">
      <p className="recall-title">
        <span className="recall-flag">Recall</span>{' '}
        {showThing ? (
          <>
            <Link to={`/things/${encodeURIComponent(thing.id)}`}>{thing.name}</Link>:{' '}
          </>
        ) : null}
        {senderName(thing, recall)}, <time dateTime={recall.issuedAt}>{issuedOn(recall)}</time>
        {recall.gtin || recall.model ? <span className="recall-product"> (for {[recall.model ? `model ${theirText(recall.model)}` : '', recall.gtin ? `GTIN ${recall.gtin}` : ''].filter(Boolean).join(', ')})</span> : null}
      </p>
      <p className="recall-text">{theirText(recall.text)}</p>
      {recall.url?.startsWith('https://') ? (
        <p className="recall-link">
          <a href={recall.url} target="_blank" rel="noopener noreferrer">
            Read the notice<span className="visually-hidden"> from {senderName(thing, recall)}</span>
          </a>{' '}
          <span className="muted">({hostOf(recall.url)})</span>
        </p>
      ) : null}
    </li>
  );
}

/** The banner: every recall of the things given, newest first; nothing when there is none. */
export function RecallBanner({ things, showThing }: { things: readonly ThingView[]; showThing: boolean }) {
  const items = things.flatMap((thing) => thing.recalls.map((recall) => ({ thing, recall }))).sort((a, b) => b.recall.receivedAt - a.recall.receivedAt);
  if (items.length === 0) return null;
  return (
    <section className="recall-banner" aria-labelledby="recalls-title">
      <h2 id="recalls-title" className="recall-heading">
        {items.length === 1 ? 'Safety recall' : `${items.length} safety recalls`}
      </h2>
      <ul className="recall-list">
        {items.map(({ thing, recall }) => (
          <RecallItem key={`${thing.id} ${recall.recallId}`} thing={thing} recall={recall} showThing={showThing} />
        ))}
      </ul>
    </section>
  );
}
