/*
 * The shapes the local API answers with, for the web app. The API's own types (its views and
 * answers) come from the contract (src/personal/http/apiContract.ts), which takes them from the
 * server's modules as type-only imports (erased at build time), so the app and the agent share one
 * definition; the rest are protocol types the pages show.
 */
export type {
  AccountIdView,
  AttachmentView,
  ContractInput,
  ContractView,
  DueView,
  LinkInput,
  ThingLinkView,
  ThingView,
  ThingReceiptView,
  ThingReceiptAnswer,
  ServiceCaseView,
  AgentEvent,
  AgreementView,
  AnswerOutcome,
  ChangeView,
  ConnectPreview,
  ConnectResult,
  ConsentView,
  CredentialView,
  DeliveryView,
  DirectoryEntryView,
  ExportResult,
  HeldItem,
  IntentCategory,
  IntentView,
  MessageView,
  OfferView,
  PersonaView,
  ProfileFieldView,
  ProfileView,
  ReceiptView,
  RelationshipView,
  RequestView,
  RosterView,
  RulesView,
  SendOutcome,
  VerificationView,
  SessionState,
  TermsPreview,
  TermsSummary,
} from '../personal/http/apiContract.js';
export type { ProfileAddress, ProfileFieldName } from '../protocol/profile/fields.js';
export type { Obligations, Agreement } from '../protocol/terms/roster.js';
export type { ConsentRecord } from '../protocol/consentRecord.js';
export type { ErasureReceiptBody } from '../protocol/families/relationship.js';
