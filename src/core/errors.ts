/**
 * Every failure Kith reports is a KithError with a code from this union, so callers can switch on
 * `err.code` exhaustively. Domain errors carry no HTTP status: `errorTable.ts` maps codes to HTTP
 * responses and CLI messages in one place.
 */
export type KithErrorCode =
  // envelope: the receive pipeline, in the order it runs
  | 'envelope.too_large'
  | 'envelope.malformed'
  | 'envelope.unsupported_algorithm'
  | 'envelope.no_recipient_key'
  | 'envelope.decrypt_failed'
  | 'envelope.signature_malformed'
  | 'envelope.signature_invalid'
  | 'envelope.sender_mismatch'
  | 'message.malformed'
  | 'message.signer_mismatch'
  | 'message.not_addressed_to_us'
  | 'message.expired'
  | 'message.from_the_future'
  | 'message.replayed'
  | 'message.unknown_type'
  | 'message.body_invalid'
  | 'message.unexpected'
  // DIDs
  | 'did.invalid'
  | 'did.unsupported_method'
  | 'did.not_found'
  | 'did.key_not_found'
  | 'did.insecure_transport'
  // relationships
  | 'relationship.unknown'
  | 'relationship.cut_off'
  | 'relationship.not_active'
  | 'invitation.invalid'
  // selective disclosure (SD-JWT presentations and the requests they answer)
  | 'disclosure.malformed'
  | 'disclosure.signature_invalid'
  | 'disclosure.key_binding_invalid'
  | 'disclosure.wrong_audience'
  | 'disclosure.nonce_mismatch'
  | 'disclosure.replayed'
  | 'disclosure.tampered'
  | 'disclosure.not_requested'
  | 'disclosure.untrusted_issuer'
  | 'disclosure.expired'
  | 'disclosure.unknown_request'
  | 'disclosure.not_pending'
  | 'disclosure.field_unavailable'
  // her disclosure rules (personal/disclosure/rules.ts)
  | 'rules.invalid'
  | 'rules.unknown_field'
  | 'rules.unknown_purpose'
  | 'rules.field_not_held'
  | 'rules.unknown_rule'
  // her profile and the updates that carry it
  | 'profile.unknown_field'
  | 'profile.invalid_value'
  | 'profile.vcard_invalid'
  | 'profile.stale_version'
  | 'profile.field_not_held'
  | 'profile.unknown_change'
  | 'profile.field_not_set'
  // her personas (sovereign identities: each a profile of its own)
  | 'persona.unknown'
  | 'persona.label_taken'
  | 'persona.in_use'
  | 'persona.is_default'
  | 'persona.nameless'
  | 'persona.invalid_label'
  // personal terms (IEEE 7012 MyTerms): rosters of agreements, and the records both parties sign
  | 'terms.unknown_roster'
  | 'terms.roster_invalid'
  | 'terms.unknown_agreement'
  | 'terms.text_mismatch'
  | 'terms.not_in_roster'
  | 'terms.counter_loop'
  | 'terms.record_invalid'
  | 'terms.signature_invalid'
  | 'terms.countersignature_missing'
  | 'terms.record_mismatch'
  | 'terms.outside_terms'
  | 'terms.settling'
  | 'terms.published_unsupported'
  | 'terms.myterms_invalid'
  // intents (she casts what she wants) and the offers companies answer with
  | 'intent.unknown'
  | 'intent.unknown_category'
  | 'intent.expired'
  | 'intent.closed'
  | 'intent.not_recipient'
  | 'intent.currency_mismatch'
  | 'intent.offer_unknown'
  | 'intent.offer_expired'
  | 'intent.offer_invalid'
  | 'intent.replayed'
  | 'intent.no_recipients'
  // caller verification: a company asks her to confirm it is her on the phone
  | 'verification.unknown'
  | 'verification.expired'
  | 'verification.answered'
  // administrative identities: what each company knows her by (docs/protocol/account.md)
  | 'account.wrong_subject'
  | 'account.unknown'
  | 'account.exists'
  | 'account.company_issued'
  // her things: what she owns, with its documents and the companies that support it
  | 'thing.unknown'
  | 'thing.invalid'
  | 'thing.attachment_unknown'
  | 'thing.attachment_too_large'
  | 'thing.attachments_full'
  | 'thing.attachment_type_unsupported'
  | 'thing.attachment_type_mismatch'
  // the thing family (docs/protocol/thing.md): signed receipts, registration with the maker, recalls
  | 'thing.receipt_invalid'
  | 'thing.receipt_unknown'
  | 'thing.receipt_answered'
  | 'thing.recall_unregistered'
  | 'thing.registration_invalid'
  | 'thing.registration_unknown'
  // service cases about her things (docs/protocol/service.md)
  | 'service.unknown_case'
  | 'service.case_resolved'
  | 'service.no_supporter'
  | 'service.not_linked'
  | 'service.invalid'
  | 'directory.invalid'
  | 'directory.unreachable'
  | 'directory.unknown'
  | 'directory.exists'
  // vault
  | 'vault.not_initialized'
  | 'vault.exists'
  | 'vault.conflict'
  | 'vault.disk_full'
  | 'vault.wrong_passphrase'
  | 'vault.locked'
  | 'vault.corrupt'
  | 'vault.passphrase_required'
  // export / import
  | 'export.corrupted'
  | 'export.foreign'
  | 'export.unsupported_version'
  | 'export.unwritable'
  // config and policy files
  | 'config.invalid'
  | 'config.not_found'
  | 'config.endpoint_mismatch'
  | 'config.endpoint_unreachable'
  | 'config.endpoint_not_ours'
  // connectors: the company's own systems told about changes
  | 'connector.unreachable'
  | 'connector.rejected'
  | 'connector.throttled'
  | 'connector.failed'
  | 'connector.unknown'
  | 'connector.no_dead_letter'
  // company store
  | 'store.unavailable'
  | 'store.conflict'
  | 'store.full'
  // transport
  | 'transport.unreachable'
  | 'transport.rejected'
  // local and admin APIs
  | 'api.unauthorized'
  | 'api.session_key_required'
  | 'api.forbidden_origin'
  | 'api.forbidden_host'
  | 'api.bad_request'
  | 'api.too_many_attempts'
  | 'api.not_found'
  | 'api.insufficient_scope'
  | 'api.token_exists'
  | 'api.token_unknown'
  | 'api.client_aborted'
  // overload and slow clients (core/httpLimits.ts)
  | 'api.rate_limited'
  | 'api.overloaded'
  | 'api.body_timeout'
  | 'agent.not_running'
  | 'internal';

export interface KithErrorOptions {
  cause?: unknown;
  /** Safe, non-personal facts about the failure (ids, limits, field names), never values. */
  details?: Record<string, unknown>;
}

export class KithError extends Error {
  readonly code: KithErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: KithErrorCode, message: string, options: KithErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: KithErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

type CodeIn<Prefix extends string> = Extract<KithErrorCode, `${Prefix}.${string}`>;

/**
 * A company system a connector talks to did not take an event. `retryable` failures are tried
 * again with backoff (after `retryAfterMs` when the system said when); the others go straight to
 * the dead letters, where an operator can replay them once the cause is fixed.
 */
export class ConnectorError extends KithError {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: CodeIn<'connector'>, message: string, options?: KithErrorOptions & { retryable?: boolean; retryAfterMs?: number }) {
    super(code, message, options);
    this.retryable = options?.retryable ?? code !== 'connector.rejected';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** Failures of the DIDComm envelope: size, JWE, JWS. */
export class EnvelopeError extends KithError {
  constructor(code: CodeIn<'envelope'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** A verified envelope whose plaintext message is not acceptable. */
export class MessageError extends KithError {
  constructor(code: CodeIn<'message'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

export class DidError extends KithError {
  constructor(code: CodeIn<'did'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

export class RelationshipError extends KithError {
  constructor(code: CodeIn<'relationship'> | 'invitation.invalid', message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** SD-JWT presentations and disclosure requests. */
export class DisclosureError extends KithError {
  constructor(code: CodeIn<'disclosure'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** Her disclosure rules: a rule or rule file she gives that is not one (nothing is changed). */
export class RulesError extends KithError {
  constructor(code: CodeIn<'rules'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** Her profile (vCard fields), its versions and the updates that carry them. */
export class ProfileError extends KithError {
  constructor(code: CodeIn<'profile'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** Her personas: several selves, each with its own profile values; a relationship uses one. */
export class PersonaError extends KithError {
  constructor(code: CodeIn<'persona'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** Personal terms (IEEE 7012 MyTerms): rosters, agreement texts, counters, signed agreement records. */
export class TermsError extends KithError {
  constructor(code: CodeIn<'terms'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** Her intents and the offers that answer them (docs/protocol/intent.md). */
export class IntentError extends KithError {
  constructor(code: CodeIn<'intent'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** Caller verification (docs/protocol/caller-verification.md): a challenge and her one answer. */
export class VerificationError extends KithError {
  constructor(code: CodeIn<'verification'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** Administrative identities (docs/protocol/account.md): what a company knows her by. */
export class AccountError extends KithError {
  constructor(code: CodeIn<'account'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** Her things (src/personal/things.ts): a thing or document that does not exist, malformed fields, a document too large or not what it claims. */
export class ThingError extends KithError {
  constructor(code: CodeIn<'thing'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** Service cases about her things (docs/protocol/service.md): an unknown or resolved case, a thing no company supports, a bad pick of details. */
export class ServiceError extends KithError {
  constructor(code: CodeIn<'service'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

/** Her directory of companies for anonymous intents: a description that does not verify, a URL that cannot be fetched. */
export class DirectoryError extends KithError {
  constructor(code: CodeIn<'directory'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

export class VaultError extends KithError {
  constructor(code: CodeIn<'vault'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

export class ExportError extends KithError {
  constructor(code: CodeIn<'export'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

export class ConfigError extends KithError {
  constructor(code: CodeIn<'config'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

export class StoreError extends KithError {
  constructor(code: CodeIn<'store'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

export class TransportError extends KithError {
  constructor(code: CodeIn<'transport'>, message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

export class ApiError extends KithError {
  constructor(code: CodeIn<'api'> | 'agent.not_running', message: string, options?: KithErrorOptions) {
    super(code, message, options);
  }
}

export function isKithError(value: unknown): value is KithError {
  return value instanceof KithError;
}

/** Wraps anything thrown into a KithError without losing the original as `cause`. */
export function asKithError(value: unknown): KithError {
  if (value instanceof KithError) return value;
  return new KithError('internal', 'Unexpected internal error', { cause: value });
}
