/*
 * The local API's contract: every route once, with its method, path, body, query and answer. The
 * server (localApi.ts) registers its handlers from it, and both clients (the CLI's apiClient.ts and
 * the web app's api.ts) call through it, so a route cannot change on one side only.
 *
 * The web app bundles this file: it holds type-only imports of the server's view types (erased at
 * build time) and plain data, nothing that needs Node.
 */
import type { AnswerOutcome, ConsentView, RequestView } from '../disclosure/disclosure.js';
import type { RuleTestView, RulesView } from '../disclosure/ruleBook.js';
import type { RuleFile, RuleInput, TrustLevel } from '../disclosure/rules.js';
import type { CredentialsFeature, CredentialView } from '../credentials.js';
import type { PersonalAgent } from '../createPersonalAgent.js';
import type { AgentEvent } from '../events.js';
import type { ChangeView, FanoutResult, ProfileFieldView } from '../profile/fanout.js';
import type { PersonaView } from '../personas.js';
import type { JCard } from '../profile/vcard.js';
import type { ConnectPreview } from '../relationshipCommands.js';
import type { SendOutcome } from '../messaging.js';
import type { AgreementView, RosterView } from '../terms.js';
import type { IntentView, OfferView } from '../intents.js';
import type { DirectoryEntryView } from '../directory.js';
import type { VerificationView } from '../verifications.js';
import type { AccountIdView } from '../accountIds.js';
import type { ServiceCaseView } from '../serviceCases.js';
import type { AttachmentView, ContractInput, DueView, LinkInput, ThingView } from '../things.js';
import type { ThingReceiptAnswer, ThingReceiptView, RegisterInput } from '../thingProtocol.js';
import type { Price } from '../../protocol/things/fields.js';
import type { Demand } from '../../protocol/families/intent.js';
import type { IntentCategory } from '../../protocol/intent/categories.js';
import type { MessageView, ReceiptView, RelationshipView } from '../views.js';

export type { HeldItem, MessageView, ReceiptView, RelationshipView, TermsSummary } from '../views.js';
export type { AnswerOutcome, ConsentView, RequestView } from '../disclosure/disclosure.js';
export type { RuleTestView, RuleView, RulesView } from '../disclosure/ruleBook.js';
export type { RuleFile, RuleInput, TrustLevel } from '../disclosure/rules.js';
export type { ChangeView, DeliveryView, FanoutResult, ProfileFieldView } from '../profile/fanout.js';
export type { PersonaView } from '../personas.js';
export type { AgreementView, RosterView, TermsPreview } from '../terms.js';
export type { CredentialView } from '../credentials.js';
export type { IntentView, OfferView } from '../intents.js';
export type { DirectoryCompanyView, DirectoryEntryView } from '../directory.js';
export type { VerificationView } from '../verifications.js';
export type { AccountIdView } from '../accountIds.js';
export type { ServiceCaseView } from '../serviceCases.js';
export type { AttachmentView, ContractInput, ContractView, DueView, LinkInput, ThingLinkView, ThingView } from '../things.js';
export type { ThingReceiptAnswer, ThingReceiptView, RegisterInput } from '../thingProtocol.js';
export type { IntentCategory } from '../../protocol/intent/categories.js';
export type { AgentEvent } from '../events.js';
export type { ConnectPreview } from '../relationshipCommands.js';
export type { SendOutcome } from '../messaging.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT';

/** GET /api/session (public): whether this browser or token is signed in, and whether the vault is locked. */
export interface SessionState {
  authenticated: boolean;
  locked: boolean;
}

/**
 * The header in which the web app sends its session key with the session cookie (browserSessions.ts
 * says why a cookie alone is not enough). Here because the server and the web app both need it.
 */
export const SESSION_KEY_HEADER = 'x-kith-session';

/** POST /api/session: the key that goes with the session cookie just set, for SESSION_KEY_HEADER. */
export interface SignedIn {
  sessionKey: string;
}

/** POST /api/lock and /api/unlock. */
export interface LockState {
  locked: boolean;
}

/** GET /api/status. `relationships` is null while the vault is locked. */
export interface StatusView {
  ok: true;
  locked: boolean;
  relationships: number | null;
  /** Where her passphrase is, when whoever started the agent said so (the demo); else null. */
  passphraseHint: string | null;
  /**
   * Which vault file `kith serve` serves (device:inode, home.ts `vaultFileId`); null in process. The
   * CLI uses a running agent only when this is its home's vault file: a copied home's agent.json
   * names the original's agent.
   */
  vaultFile: string | null;
}

/** GET /api/profile: one persona's profile. */
export interface ProfileView {
  version: number;
  persona: { id: string; label: string };
  fields: ProfileFieldView[];
}

/** Which persona a profile route reads or changes (id or label); her default persona when absent. */
type PersonaQuery = { persona?: string };

/** POST /api/connect. */
export interface ConnectResult {
  relationship: RelationshipView;
}

/**
 * POST /api/export: the whole vault, in plain JSON or sealed with her export passphrase (JWE). A
 * salvage export also names, in `skipped`, the records it left out because they do not open.
 */
export type ExportResult = ({ format: 'plain'; document: unknown } | { format: 'jwe'; text: string }) & { skipped?: { table: string; id: string }[] };

/** Where `exportFile` wrote the export, as what, and how many documents went beside it. */
export interface ExportFileResult {
  file: string;
  format: 'plain' | 'jwe';
  documents: number;
}

export type PickupResult = Awaited<ReturnType<PersonalAgent['pickup']>>;
export type HolderKey = ReturnType<CredentialsFeature['newHolderKey']>;

/**
 * One route. `method`, `path` (Hono's form, `:name` for a parameter), `body` and `answer` are the
 * data both sides use at run time; `types` only carries the TypeScript types and is never set.
 */
export interface Route<M extends HttpMethod = HttpMethod, P extends string = string, Body = unknown, Answer = unknown, Query = unknown> {
  readonly method: M;
  readonly path: P;
  /** The media type of the body it takes (`application/json`, or raw text such as `text/vcard`); absent when it takes none. */
  readonly body?: string;
  /** How it answers: JSON, text, raw bytes (a document she keeps, with its own type), or a stream of server-sent events. */
  readonly answer: 'json' | 'text' | 'bytes' | 'events';
  readonly types?: { body: Body; answer: Answer; query: Query };
}

export type RouteBody<R extends Route> = NonNullable<R['types']>['body'];
export type RouteResponse<R extends Route> = NonNullable<R['types']>['answer'];
export type RouteQuery<R extends Route> = NonNullable<R['types']>['query'];

type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}` ? Name | ParamNames<Rest> : P extends `${string}:${infer Name}` ? Name : never;
/** The values of a path's `:name` parameters. */
export type RouteParams<P extends string> = { [Name in ParamNames<P>]: string | number };

type ParamsArg<R extends Route> = [ParamNames<R['path']>] extends [never] ? [] : [params: RouteParams<R['path']>];
type BodyArg<R extends Route> = [RouteBody<R>] extends [undefined] ? [] : [body: RouteBody<R>];
type QueryArg<R extends Route> = [RouteQuery<R>] extends [undefined] ? [] : {} extends RouteQuery<R> ? [query?: RouteQuery<R>] : [query: RouteQuery<R>];
/** What a call of `R` passes after the route: its path parameters, its body, its query, each only if it has one. */
export type CallArgs<R extends Route> = [...ParamsArg<R>, ...BodyArg<R>, ...QueryArg<R>];

export const JSON_MEDIA_TYPE = 'application/json';

interface Declaring<M extends HttpMethod, P extends string, Body, Query> {
  /** Takes a JSON body of this type. */
  takes<T>(): Declaring<M, P, T, Query>;
  /** Takes raw text of this media type. */
  takesText(mediaType: string): Declaring<M, P, string, Query>;
  /** Reads these query parameters (values as they travel: strings, or numbers written out). */
  query<T extends Record<string, string | number | undefined>>(): Declaring<M, P, Body, T>;
  /** Answers JSON of this type (undefined for 204). */
  answers<T>(): Route<M, P, Body, T, Query>;
  answersText(): Route<M, P, Body, string, Query>;
  /** Answers raw bytes of the type its Content-Type names. */
  answersBytes(): Route<M, P, Body, Uint8Array, Query>;
  /** Answers with server-sent events, one JSON event of this type each. */
  streams<T>(): Route<M, P, Body, T, Query>;
}

function declaring<M extends HttpMethod, P extends string, Body, Query>(method: M, path: P, body?: string): Declaring<M, P, Body, Query> {
  const done = (answer: Route['answer']) => ({ method, path, answer, ...(body === undefined ? {} : { body }) });
  return {
    takes: <T>() => declaring<M, P, T, Query>(method, path, JSON_MEDIA_TYPE),
    takesText: (mediaType) => declaring<M, P, string, Query>(method, path, mediaType),
    query: <T extends Record<string, string | number | undefined>>() => declaring<M, P, Body, T>(method, path, body),
    answers: () => done('json'),
    answersText: () => done('text'),
    answersBytes: () => done('bytes'),
    streams: () => done('events'),
  };
}

const route = <M extends HttpMethod, P extends string>(method: M, path: P) => declaring<M, P, undefined, undefined>(method, path);

type RelationshipFilter = { relationship?: string };

/** A thing's fields as the API takes them (src/personal/things.ts checks them: thing.invalid). */
export interface ThingFieldsBody {
  name: string;
  brand?: string;
  model?: string;
  gtin?: string;
  mpn?: string;
  serialNumber?: string;
  purchaseDate?: string;
  price?: Price;
  seller?: string;
  location?: string;
  notes?: string;
}
/** A service case to open (src/personal/serviceCases.ts checks it: service.invalid). */
export interface OpenCaseBody {
  text: string;
  with?: string;
  share?: string[];
  identifier?: string;
}
export type ThingBody = ThingFieldsBody & { contracts?: ContractInput[]; links?: LinkInput[] };
export type ThingPatchBody = { [K in keyof ThingFieldsBody]?: K extends 'name' ? string : ThingFieldsBody[K] | null } & { contracts?: ContractInput[]; links?: LinkInput[] };
export interface AttachBody {
  kind: 'receipt' | 'photo' | 'manual' | 'warranty' | 'other';
  fileName: string;
  contentType: string;
  /** The file, base64. */
  data: string;
}

/** Every route of the local API. Bodies are checked by the server's zod schemas (localApi.ts), which must accept exactly these types. */
export const routes = {
  // Signing in, locking and the status: reachable without a session or while locked (localApi.ts says which).
  session: route('GET', '/api/session').answers<SessionState>(),
  signIn: route('POST', '/api/session').takes<{ token: string }>().answers<SignedIn>(),
  unlock: route('POST', '/api/unlock').takes<{ passphrase: string }>().answers<LockState>(),
  lock: route('POST', '/api/lock').answers<LockState>(),
  status: route('GET', '/api/status').answers<StatusView>(),
  openapi: route('GET', '/api/openapi.json').answers<unknown>(),

  /** `persona` (id or label): the self this company will know; her default persona when absent. */
  connect: route('POST', '/api/connect').takes<{ invitation: string; persona?: string }>().answers<ConnectResult>(),
  previewConnect: route('POST', '/api/connect/preview').takes<{ invitation: string }>().answers<ConnectPreview>(),
  relationships: route('GET', '/api/relationships').answers<{ relationships: RelationshipView[] }>(),
  relationship: route('GET', '/api/relationships/:ref').answers<{ relationship: RelationshipView }>(),
  messages: route('GET', '/api/relationships/:ref/messages').query<{ includeHeld?: '1' }>().answers<{ messages: MessageView[] }>(),
  sendMessage: route('POST', '/api/relationships/:ref/messages').takes<{ content: string }>().answers<SendOutcome>(),
  ping: route('POST', '/api/relationships/:ref/ping').answers<{ roundTripMs: number }>(),
  mute: route('POST', '/api/relationships/:ref/mute').answers<{ relationship: RelationshipView }>(),
  unmute: route('POST', '/api/relationships/:ref/unmute').answers<{ relationship: RelationshipView }>(),
  cutOff: route('POST', '/api/relationships/:ref/cutoff').answers<{ receipt: ReceiptView }>(),
  /** Asks the company what it holds (data-rights 1.0 access); its signed answer is kept as a receipt. */
  requestAccess: route('POST', '/api/relationships/:ref/access').answers<{ receipt: ReceiptView }>(),
  receipts: route('GET', '/api/receipts').query<RelationshipFilter>().answers<{ receipts: ReceiptView[] }>(),
  pickup: route('POST', '/api/pickup').answers<PickupResult>(),

  /** `auto=1`: only the requests her rules answered, each with the rule. */
  requests: route('GET', '/api/requests').query<{ all?: '1'; auto?: '1' } & RelationshipFilter>().answers<{ requests: RequestView[] }>(),
  approve: route('POST', '/api/requests/:id/approve').takes<{ fields?: string[] }>().answers<AnswerOutcome>(),
  decline: route('POST', '/api/requests/:id/decline').takes<{ reason?: string }>().answers<AnswerOutcome>(),
  consents: route('GET', '/api/consents').query<RelationshipFilter>().answers<{ consents: ConsentView[] }>(),

  /** Her disclosure rules (decision 0020): ordered, first match wins; `manual` makes every request wait for her. */
  rules: route('GET', '/api/rules').answers<RulesView>(),
  /** Adds one rule (`position` 1-based; default before the first catch-all). Answers 201. */
  addRule: route('POST', '/api/rules').takes<{ rule: RuleInput; position?: number }>().answers<RulesView>(),
  /** Replaces the whole set with a rule file's. */
  replaceRules: route('PUT', '/api/rules').takes<RuleFile>().answers<RulesView>(),
  removeRule: route('POST', '/api/rules/:id/remove').answers<RulesView>(),
  moveRule: route('POST', '/api/rules/:id/move').takes<{ position: number }>().answers<RulesView>(),
  setRulesManual: route('PUT', '/api/rules/manual').takes<{ manual: boolean }>().answers<RulesView>(),
  /** What her rules would do with a request she received; nothing is sent or changed. */
  testRules: route('POST', '/api/rules/test').takes<{ request: string }>().answers<RuleTestView>(),
  /** She trusts this company (a trust level of her rules), or no longer does. */
  setTrust: route('PUT', '/api/relationships/:ref/trust').takes<{ trusted: boolean }>().answers<{ relationshipId: string; trust: TrustLevel }>(),

  profile: route('GET', '/api/profile').query<PersonaQuery>().answers<ProfileView>(),
  /**
   * Fields by name or alias, of one persona (`persona`, else her default); every company that knows
   * her by it and holds a field is sent the new value. Answers 201 with the change, or 200 with null
   * when nothing changed.
   */
  setProfile: route('PUT', '/api/profile').takes<{ fields: Record<string, unknown>; persona?: string }>().answers<{ change: ChangeView | null }>(),
  /** Removes fields from one persona's profile; every company holding one is asked to erase it (consent 1.0). */
  removeProfileFields: route('POST', '/api/profile/remove').takes<{ fields: string[]; persona?: string }>().answers<{ change: ChangeView }>(),
  /** One persona's profile as a vCard 4 (text/vcard). */
  exportVcard: route('GET', '/api/profile/vcard').query<PersonaQuery>().answersText(),
  /** The same route with `format=jcard`: her profile as jCard (RFC 7095). */
  exportJcard: route('GET', '/api/profile/vcard').query<{ format: 'jcard' } & PersonaQuery>().answers<JCard>(),
  importVcard: route('POST', '/api/profile/vcard').query<PersonaQuery>().takesText('text/vcard').answers<{ change: ChangeView | null; ignored: string[] }>(),

  /** Her personas (her selves), oldest first. */
  personas: route('GET', '/api/personas').answers<{ personas: PersonaView[] }>(),
  /** Answers 201. @throws persona.label_taken */
  addPersona: route('POST', '/api/personas').takes<{ label: string; nameless?: boolean }>().answers<{ persona: PersonaView }>(),
  /** Renames it, or makes it nameless. @throws persona.unknown, persona.label_taken, persona.nameless */
  updatePersona: route('PUT', '/api/personas/:ref').takes<{ label?: string; nameless?: boolean }>().answers<{ persona: PersonaView }>(),
  /** The persona new relationships use. */
  setDefaultPersona: route('PUT', '/api/personas/default').takes<{ persona: string }>().answers<{ persona: PersonaView }>(),
  /** Removes it and its values. @throws persona.is_default, persona.in_use */
  removePersona: route('POST', '/api/personas/:ref/remove').answers<{ persona: PersonaView }>(),
  /**
   * Moves a relationship to another persona: the fields it holds are sent again from that persona
   * (withdrawn where it has none), as a change of her profile (null when it holds none). 200 with
   * `moved: false` when it already used that persona.
   */
  setRelationshipPersona: route('PUT', '/api/relationships/:ref/persona')
    .takes<{ persona: string }>()
    .answers<{ moved: boolean; relationship: RelationshipView; change: ChangeView | null }>(),
  profileChanges: route('GET', '/api/profile/changes').query<{ limit?: number | string }>().answers<{ changes: ChangeView[] }>(),
  profileChange: route('GET', '/api/profile/changes/:version').answers<{ change: ChangeView }>(),
  deliverProfile: route('POST', '/api/profile/deliver').answers<FanoutResult>(),

  roster: route('GET', '/api/terms').answers<RosterView>(),
  /** null clears her default terms. */
  setDefaultTerms: route('PUT', '/api/terms/default').takes<{ agreement: string | null }>().answers<{ default: string | null }>(),
  terms: route('GET', '/api/relationships/:ref/terms').answers<{ terms: AgreementView[] }>(),
  profferTerms: route('POST', '/api/relationships/:ref/terms').takes<{ agreement: string }>().answers<{ terms: AgreementView[] }>(),
  acceptTerms: route('POST', '/api/relationships/:ref/terms/accept').answers<{ terms: AgreementView[] }>(),
  rejectTerms: route('POST', '/api/relationships/:ref/terms/reject').takes<{ reason?: string }>().answers<{ terms: AgreementView[] }>(),

  credentials: route('GET', '/api/credentials').answers<{ credentials: CredentialView[] }>(),
  newHolderKey: route('POST', '/api/credentials/keys').answers<HolderKey>(),
  addCredential: route('POST', '/api/credentials').takes<{ sdJwt: string }>().answers<{ credential: CredentialView }>(),

  intents: route('GET', '/api/intents').answers<{ intents: IntentView[] }>(),
  /** The shipped category list an intent names one of (docs/protocol/intent.md). */
  intentCategories: route('GET', '/api/intent-categories').answers<{ categories: IntentCategory[] }>(),
  /**
   * Casts to `to` (relationship references) and, with `anonymous`, to every company of her directory
   * that serves the category, each from a fresh pairwise DID; with neither, to every live
   * relationship. `disclose` names profile fields sent with it (none by default), as a selective-
   * disclosure SD-JWT per recipient under a consent record; `expiresAt` in ms since the epoch. Answers 201.
   */
  castIntent: route('POST', '/api/intents')
    .takes<{ demand: Demand; outcome?: string; expiresAt: number; currencyRequired?: boolean; to?: string[]; anonymous?: boolean; disclose?: string[]; persona?: string }>()
    .answers<{ intent: IntentView }>(),
  intent: route('GET', '/api/intents/:id').answers<{ intent: IntentView }>(),
  intentOffers: route('GET', '/api/intents/:id/offers').answers<{ offers: OfferView[] }>(),
  closeIntent: route('POST', '/api/intents/:id/close').answers<{ intent: IntentView }>(),
  /** `linkTo` (a relationship reference) records that an anonymous offer's company is the same as that relationship's; nothing is sent about it. */
  acceptOffer: route('POST', '/api/offers/:id/accept').takes<{ linkTo?: string } | undefined>().answers<{ offer: OfferView }>(),
  declineOffer: route('POST', '/api/offers/:id/decline').takes<{ reason?: string }>().answers<{ offer: OfferView }>(),

  /** Her directory: the companies (and directory lists of companies) anonymous intents go to. */
  directory: route('GET', '/api/directory').answers<{ entries: DirectoryEntryView[] }>(),
  /** Fetches and verifies the URL's signed company description (or directory list) before adding it. Answers 201. */
  addDirectoryEntry: route('POST', '/api/directory').takes<{ url: string }>().answers<{ entry: DirectoryEntryView }>(),
  /** Fetches every entry again and verifies it. */
  refreshDirectory: route('POST', '/api/directory/refresh').answers<{ entries: DirectoryEntryView[] }>(),
  removeDirectoryEntry: route('POST', '/api/directory/:id/remove').answers<{ entries: DirectoryEntryView[] }>(),

  /** Companies asking her to confirm she is the caller on the phone; `pending=1`: only those waiting for her. */
  verifications: route('GET', '/api/verifications').query<{ pending?: '1' } & RelationshipFilter>().answers<{ verifications: VerificationView[] }>(),
  /** Her answer, signed by her pairwise DID; an expired or answered one is refused (verification.expired / verification.answered). */
  answerVerification: route('POST', '/api/verifications/:id/answer').takes<{ decision: 'approved' | 'refused' }>().answers<{ verification: VerificationView }>(),

  /** What each company knows her by (docs/protocol/account.md): all, or one relationship's, oldest first. */
  accountIds: route('GET', '/api/account-ids').query<RelationshipFilter>().answers<{ identifiers: AccountIdView[] }>(),
  /** Her own entry; answers 201. @throws relationship.unknown, account.exists */
  addAccountId: route('POST', '/api/account-ids').takes<{ relationship: string; kind: AccountIdView['kind']; value: string; label?: string }>().answers<{ identifier: AccountIdView }>(),
  /** Removes one of her own entries. @throws account.unknown, account.company_issued */
  removeAccountId: route('POST', '/api/account-ids/:id/remove').answers<{ identifier: AccountIdView }>(),
  /** Which company knows her by this value, and as what (exact match after normalising). */
  findAccountId: route('GET', '/api/account-ids/find').query<{ value: string }>().answers<{ identifiers: AccountIdView[] }>(),
  /** Her things (issue 13): each with its contracts and their status, its companies and its documents (metadata). */
  things: route('GET', '/api/things').answers<{ things: ThingView[] }>(),
  /** Contracts in force ending within `within` days (default 60), soonest first. */
  thingsDue: route('GET', '/api/things/due').query<{ within?: number | string }>().answers<{ due: DueView[] }>(),
  /** Her inventory as CSV (default) or a printable HTML page with the photos and totals per currency. */
  thingsInventory: route('GET', '/api/things/inventory').query<{ format?: 'csv' | 'html' }>().answersText(),
  /** Signed receipts sellers sent her (docs/protocol/thing.md): pending ones, or all with `all=true`. */
  thingReceipts: route('GET', '/api/things/receipts').query<{ all?: 'true' | 'false' }>().answers<{ receipts: ThingReceiptView[] }>(),
  /** Makes a thing of a pending receipt and tells the seller. @throws thing.receipt_unknown, thing.receipt_answered */
  acceptThingReceipt: route('POST', '/api/things/receipts/:id/accept').answers<ThingReceiptAnswer>(),
  /** @throws thing.receipt_unknown, thing.receipt_answered */
  declineThingReceipt: route('POST', '/api/things/receipts/:id/decline').answers<ThingReceiptAnswer>(),
  thing: route('GET', '/api/things/:id').answers<{ thing: ThingView }>(),
  /** Registers the thing with its maker, sharing the fields named. @throws thing.invalid, relationship.not_active (muted), relationship.cut_off */
  registerThing: route('POST', '/api/things/:id/register').takes<RegisterInput>().answers<{ thing: ThingView }>(),
  /** Answers 201; a malformed field is thing.invalid naming it, a company she has no relationship with relationship.unknown. */
  addThing: route('POST', '/api/things').takes<ThingBody>().answers<{ thing: ThingView }>(),
  /** The fields given replace the thing's (null clears one); `contracts` and `links` replace the whole list. */
  editThing: route('PUT', '/api/things/:id').takes<ThingPatchBody>().answers<{ thing: ThingView }>(),
  removeThing: route('POST', '/api/things/:id/remove').answers<{ removed: true }>(),
  /** A document, base64 in `data`; its first bytes must match `contentType`. Answers 201. */
  attachThing: route('POST', '/api/things/:id/attachments').takes<AttachBody>().answers<{ attachment: AttachmentView }>(),
  /** The document's file, with its type, as an attachment (never shown inline, never sniffed). */
  thingDocument: route('GET', '/api/things/:id/attachments/:attachmentId').answersBytes(),
  detachThing: route('POST', '/api/things/:id/attachments/:attachmentId/remove').answers<{ removed: true }>(),
  /** Service cases about her things (docs/protocol/service.md): one thing's, oldest first, each with its thread. */
  thingCases: route('GET', '/api/things/:id/cases').answers<{ cases: ServiceCaseView[] }>(),
  /**
   * Opens a case on the relationship that supports the thing (servicer, else maker, else seller, or
   * `with`), sharing only the fields in `share` and the identifier picked; answers 201.
   * @throws service.invalid, service.no_supporter, service.not_linked, relationship.not_active (muted), relationship.cut_off, account.unknown
   */
  openCase: route('POST', '/api/things/:id/cases').takes<OpenCaseBody>().answers<{ case: ServiceCaseView }>(),
  /** Every case, oldest first. */
  cases: route('GET', '/api/cases').answers<{ cases: ServiceCaseView[] }>(),
  serviceCase: route('GET', '/api/cases/:id').answers<{ case: ServiceCaseView }>(),
  /** Writes in the case. @throws service.unknown_case, service.case_resolved, service.invalid */
  replyCase: route('POST', '/api/cases/:id/replies').takes<{ text: string }>().answers<{ case: ServiceCaseView }>(),
  /** Closes the case, with an optional last word. @throws service.unknown_case, service.case_resolved */
  resolveCase: route('POST', '/api/cases/:id/resolve').takes<{ text?: string }>().answers<{ case: ServiceCaseView }>(),

  events: route('GET', '/api/events').streams<AgentEvent>(),

  /** Without `plain`, sealed with `passphrase` (required then). */
  export: route('POST', '/api/export').takes<{ plain?: boolean; passphrase?: string; salvage?: boolean }>().answers<ExportResult>(),
  /**
   * The export streamed by the agent to a file on its own machine (`kith export` while it runs):
   * the same bytes as without an agent, in bounded memory. For the agent's token only.
   */
  exportFile: route('POST', '/api/export/file').takes<{ file: string; plain?: boolean; passphrase?: string }>().answers<ExportFileResult>(),
  /** An export file's text, its passphrase if sealed, and her vault passphrase (only under `kith serve`). */
  /** Minutes without her use before the agent locks (0: never). */
  idleLock: route('GET', '/api/settings/idle-lock').answers<{ minutes: number }>(),
  setIdleLock: route('PUT', '/api/settings/idle-lock').takes<{ minutes: number }>().answers<{ minutes: number }>(),
  /** Changes her vault passphrase (only the data key is rewrapped). @throws vault.wrong_passphrase for a wrong `current` */
  changePassphrase: route('POST', '/api/passphrase').takes<{ current: string; next: string }>().answers<{ changed: true }>(),
  import: route('POST', '/api/import').takes<{ text: string; passphrase?: string; vaultPassphrase: string }>().answers<{ relationships: number }>(),
} satisfies Record<string, Route>;

export type Routes = typeof routes;

/** `GET /api/session`: how the server names a route in its allow lists. */
export function routeKey(route: Route): string {
  return `${route.method} ${route.path}`;
}

/** A call of a route with its arguments filled in: what goes on the wire, for either client's transport. */
export interface PreparedCall<R extends Route = Route> {
  readonly route: R;
  readonly method: R['method'];
  /** The path with its parameters escaped, and the query string. */
  readonly url: string;
  /** The body as sent (JSON text, or the raw text of a text route); absent when the route takes none. */
  readonly body?: string;
  /** What the body needs (its content-type); empty without a body. The transport adds its own. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Fills in a route's path parameters, query and body.
 * @throws TypeError when a path parameter is missing (a caller that bypassed the types)
 */
export function prepare<R extends Route>(route: R, ...args: CallArgs<R>): PreparedCall<R> {
  const values: readonly unknown[] = args;
  let next = 0;
  const params = route.path.includes(':') ? (values[next++] as Record<string, string | number | undefined>) : {};
  const body = route.body === undefined ? undefined : values[next++];
  const query = (values[next] ?? {}) as Record<string, string | number | undefined>;
  const path = route.path.replace(/:(\w+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`${route.path} needs :${name}`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, String(value));
  const queryString = search.toString();
  const url = queryString ? `${path}?${queryString}` : path;
  if (route.body === undefined) return { route, method: route.method, url, headers: {} };
  return { route, method: route.method, url, headers: { 'content-type': route.body }, body: route.body === JSON_MEDIA_TYPE ? JSON.stringify(body) : String(body) };
}
