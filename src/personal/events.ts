/**
 * What the personal agent tells its UI while it works: new requests, fan-out progress, arrivals.
 * Events carry local ids, states and field names, never values, so any listener may log them.
 */
export type AgentEvent =
  | { type: 'disclosure.requested'; requestId: string; relationshipId: string; fields: string[] }
  | { type: 'disclosure.answered'; requestId: string; relationshipId: string; state: 'approved' | 'declined' }
  | { type: 'profile.changed'; version: number; fields: string[]; deliveries: number }
  /** A persona was added, renamed, made the default or removed, or a relationship moved to another. */
  | { type: 'persona.changed'; persona: string }
  | {
      type: 'profile.delivery';
      version: number;
      relationshipId: string;
      state: 'acked' | 'retrying' | 'failed' | 'skipped';
      attempts: number;
      code?: string;
    }
  | { type: 'message.received'; relationshipId: string; messageType: string }
  /** A terms record changed state; `decide` when it waits for her (a counter or a company proffer she must judge). */
  | { type: 'terms.updated'; relationshipId: string; recordId: string; state: 'proffered' | 'countered' | 'agreed' | 'superseded' | 'rejected' | 'declined'; decide: boolean }
  /** The agent is being locked (vault closing): listeners should stop and ask for her passphrase. */
  | { type: 'agent.locked' }
  /** A company answered her intent with an offer; `decidedBy` names her rule when it declined the offer by itself. */
  | { type: 'intent.offer'; intentId: string; offerId: string; relationshipId: string; decidedBy: string | null }
  /** A company asks her to confirm she is the caller on the phone (docs/protocol/caller-verification.md). */
  | { type: 'verification.requested'; verificationId: string; relationshipId: string }
  /** A company told her what it knows her by (docs/protocol/account.md): its list `sequence` replaced the earlier one. */
  | { type: 'account.identifiers'; relationshipId: string; sequence: number; count: number }
  /** She answered a caller verification and the company took the answer. */
  | { type: 'verification.answered'; verificationId: string; relationshipId: string; state: 'approved' | 'refused' }
  /**
   * A warranty or service contract of one of her things ends within `threshold` days (60, 30, 7):
   * told once per contract and threshold, from the agent's background work.
   */
  | { type: 'thing.warranty_ending'; thingId: string; contractId: string; kind: 'warranty' | 'service'; endsOn: string; daysLeft: number; threshold: number }
  /** A seller sent her a signed receipt; it waits for her to accept it into her things or decline it (docs/protocol/thing.md). */
  | { type: 'thing.receipt'; receiptId: string; relationshipId: string }
  /** A maker sent a recall or safety notice about things she registered with it: kept on each of `thingIds`. */
  | { type: 'thing.recall'; relationshipId: string; thingIds: string[] }
  /** Her agent refused a disclosure request outside the agreed terms, naming the obligation. */
  | { type: 'disclosure.refused'; relationshipId: string; obligation: string }
  /** A service case about one of her things changed (docs/protocol/service.md): opened, answered, added to or resolved, by `by`. */
  | { type: 'service.case_updated'; caseId: string; relationshipId: string; thingId: string | null; state: 'open' | 'answered' | 'resolved'; by: 'her' | 'company' };

export type AgentEventListener = (event: AgentEvent) => void;

/** A tiny typed publisher: listeners are called synchronously and may not break the emitter. */
export class AgentEvents {
  readonly #listeners = new Set<AgentEventListener>();

  /** @returns a function that removes the listener. */
  on(listener: AgentEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: AgentEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A failing UI listener must not stop the agent's work.
      }
    }
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }
}
