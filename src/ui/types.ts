/*
 * The shapes the local API answers with. Views come from the server's own modules as type-only
 * imports (erased at build time), so the app and the agent share one definition; only what the
 * server does not export as a type is written out here.
 */
export type { HeldItem, MessageView, ReceiptView, RelationshipView, TermsSummary } from '../personal/views.js';
export type { AnswerOutcome, ConsentView, RequestView } from '../personal/disclosure/disclosure.js';
export type { ChangeView, DeliveryView, ProfileFieldView } from '../personal/profile/fanout.js';
export type { AgreementView, RosterView } from '../personal/terms.js';
export type { AgentEvent } from '../personal/events.js';
export type { ProfileAddress, ProfileFieldName } from '../protocol/profile/fields.js';
export type { Obligations, Agreement } from '../protocol/terms/roster.js';
export type { ConsentRecord } from '../protocol/consentRecord.js';
export type { ErasureReceiptBody } from '../protocol/families/relationship.js';
export type { ConnectPreview, SendOutcome } from '../personal/createPersonalAgent.js';
export type { TermsPreview } from '../personal/terms.js';

import type { ProfileFieldView } from '../personal/profile/fanout.js';
import type { RelationshipView } from '../personal/views.js';

/** GET /api/session (public). */
export interface SessionState {
  authenticated: boolean;
  locked: boolean;
}

/** GET /api/profile. */
export interface ProfileView {
  version: number;
  fields: ProfileFieldView[];
}

/** POST /api/connect. */
export interface ConnectResult {
  relationship: RelationshipView;
}

/** POST /api/export. */
export type ExportResult = { format: 'plain'; document: unknown } | { format: 'jwe'; text: string };
