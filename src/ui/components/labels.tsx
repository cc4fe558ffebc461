import { RELATIONSHIP_STATE, theirText } from '../format';
import type { RelationshipView, TermsSummary } from '../types';
import { Badge, type Tone } from './ui';

const STATE_TONE: Record<string, Tone> = { active: 'good', muted: 'warn', cut_off: 'bad', pending: 'neutral' };

/** Active / Muted / Cut off, as a badge with words. */
export function StateBadge({ state }: { state: RelationshipView['state'] }) {
  return <Badge tone={STATE_TONE[state] ?? 'neutral'}>{RELATIONSHIP_STATE[state] ?? state}</Badge>;
}

/** The terms in force in words: the agreement's name and how it was reached, or why there is none. */
export function termsText(terms: TermsSummary, titles?: ReadonlyMap<string, string>): string {
  if (terms.agreementId) {
    const name = titles?.get(terms.agreementId) ?? terms.name ?? terms.agreementId;
    return terms.outcome === 'countered-accepted' ? `${name} (their counter)` : name;
  }
  if (terms.awaitingHer) return 'none yet';
  if (terms.lastState === 'rejected') return 'none (rejected)';
  if (terms.lastState === 'declined') return 'none (you declined)';
  return 'none';
}

export function TermsCell({ terms, titles }: { terms: TermsSummary; titles?: ReadonlyMap<string, string> }) {
  return (
    <span className="terms-cell">
      <span>{termsText(terms, titles)}</span>
      {terms.awaitingHer ? <Badge tone="info">Answer waiting</Badge> : null}
    </span>
  );
}

/** The company's name (bidi controls shown, theirText), or a placeholder while it has not told it. */
export function companyName(r: { company: string | null; id: string }): string {
  return r.company === null ? `Company ${r.id.slice(0, 8)}` : theirText(r.company);
}
