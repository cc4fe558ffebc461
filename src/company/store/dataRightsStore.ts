/** DRP statuses a request can be in (Data Rights Protocol 0.9.4 / 1.0, section 3.02). */
export type DataRightsStatus = 'open' | 'in_progress' | 'fulfilled' | 'denied' | 'expired';
export type DataRightsExercise = 'access' | 'deletion';

/** One data rights request of hers and how it was answered; no personal value. */
export interface DataRightsRequestRow {
  id: string;
  /** Not a foreign key: the row outlives an erased relationship (it is the record that it was erased). */
  relationshipId: string;
  /** Her id for the request (DRP `request_id`), unique per relationship. */
  requestId: string;
  exercise: DataRightsExercise;
  status: DataRightsStatus;
  /** A DRP denial reason, when denied. */
  reason: string | null;
  receivedAt: number;
  updatedAt: number;
}

/**
 * Her data rights requests, kept as the company's record of having answered them.
 *
 * Besides what each method states, every method may reject as described on CompanyStore.
 */
export interface DataRightsStore {
  /** Inserts; returns false, changing nothing, if this relationship already has a request with that requestId (a resend). */
  saveDataRightsRequest(row: DataRightsRequestRow): Promise<boolean>;
  /** The request this relationship made under `requestId` (her id for it), if any. */
  getDataRightsRequest(relationshipId: string, requestId: string): Promise<DataRightsRequestRow | undefined>;
  /** Newest first (receivedAt, then id, descending), of one relationship or all, at most `limit` (default 100). */
  listDataRightsRequests(options?: { relationshipId?: string; limit?: number }): Promise<DataRightsRequestRow[]>;
  /** How many requests of this exercise the relationship made since `since` (ms). */
  countDataRightsRequests(relationshipId: string, exercise: DataRightsExercise, since: number): Promise<number>;
}
