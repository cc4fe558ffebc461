/** The company agent's own DID and key material: one row, written at set-up and on rotation. */
export interface AgentIdentity {
  did: string;
  /** JSON, opaque to the store. */
  keys: unknown;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/**
 * Keeps the agent's single identity.
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`).
 */
export interface IdentityStore {
  /** The saved identity, or undefined before the first save. */
  getIdentity(): Promise<AgentIdentity | undefined>;
  /** Upsert of the single identity row: a second save replaces the first, keeping one row. `keys` is any JSON value; `undefined` is stored as `null`. */
  saveIdentity(identity: AgentIdentity): Promise<void>;
}
