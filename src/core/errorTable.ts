import type { KithErrorCode } from './errors.js';

export interface ErrorPresentation {
  /** HTTP status for the local API, admin API and DIDComm inbound endpoint. */
  status: 400 | 401 | 403 | 404 | 409 | 410 | 413 | 422 | 500 | 502 | 503;
  /** What the CLI prints (before the error's own message). */
  cli: string;
  /** Process exit code for the CLI: 1 usage/input, 2 auth/secret, 3 remote, 4 internal. */
  exit: 1 | 2 | 3 | 4;
}

/** The one place that turns error codes into HTTP responses and CLI messages. */
export const ERROR_TABLE: Readonly<Record<KithErrorCode, ErrorPresentation>> = {
  'envelope.too_large': { status: 413, cli: 'Message too large', exit: 1 },
  'envelope.malformed': { status: 400, cli: 'Malformed envelope', exit: 1 },
  'envelope.unsupported_algorithm': { status: 400, cli: 'Unsupported envelope algorithm', exit: 1 },
  'envelope.no_recipient_key': { status: 400, cli: 'Envelope not encrypted to any of our keys', exit: 1 },
  'envelope.decrypt_failed': { status: 400, cli: 'Envelope could not be decrypted', exit: 1 },
  'envelope.signature_malformed': { status: 400, cli: 'Malformed signature', exit: 1 },
  'envelope.signature_invalid': { status: 400, cli: 'Signature does not verify', exit: 1 },
  'message.malformed': { status: 400, cli: 'Malformed message', exit: 1 },
  'message.signer_mismatch': { status: 400, cli: 'Signer is not the sender', exit: 1 },
  'message.not_addressed_to_us': { status: 400, cli: 'Message not addressed to us', exit: 1 },
  'message.expired': { status: 400, cli: 'Message expired', exit: 1 },
  'message.from_the_future': { status: 400, cli: 'Message created in the future', exit: 1 },
  'message.replayed': { status: 409, cli: 'Message already received', exit: 1 },
  'message.unknown_type': { status: 422, cli: 'Unknown message type', exit: 1 },
  'message.body_invalid': { status: 422, cli: 'Message body invalid', exit: 1 },
  'message.unexpected': { status: 422, cli: 'Message not expected here', exit: 1 },
  'did.invalid': { status: 400, cli: 'Invalid DID', exit: 1 },
  'did.unsupported_method': { status: 400, cli: 'Unsupported DID method', exit: 1 },
  'did.not_found': { status: 400, cli: 'DID could not be resolved', exit: 3 },
  'did.key_not_found': { status: 400, cli: 'Key not found in DID document', exit: 1 },
  'did.insecure_transport': { status: 400, cli: 'Refusing plain HTTP for did:web', exit: 1 },
  'relationship.unknown': { status: 404, cli: 'Unknown relationship', exit: 1 },
  'relationship.cut_off': { status: 410, cli: 'Relationship was cut off', exit: 1 },
  'relationship.not_active': { status: 409, cli: 'Relationship is not active', exit: 1 },
  'invitation.invalid': { status: 400, cli: 'Invalid invitation', exit: 1 },
  'disclosure.malformed': { status: 400, cli: 'Malformed SD-JWT presentation', exit: 1 },
  'disclosure.signature_invalid': { status: 400, cli: 'SD-JWT issuer signature does not verify', exit: 1 },
  'disclosure.key_binding_invalid': { status: 400, cli: 'SD-JWT key binding missing or invalid', exit: 1 },
  'disclosure.wrong_audience': { status: 400, cli: 'SD-JWT presentation is for another audience', exit: 1 },
  'disclosure.nonce_mismatch': { status: 400, cli: 'SD-JWT presentation answers another request', exit: 1 },
  'disclosure.replayed': { status: 409, cli: 'SD-JWT presentation already used', exit: 1 },
  'disclosure.tampered': { status: 400, cli: 'SD-JWT disclosure altered or not issued', exit: 1 },
  'disclosure.not_requested': { status: 422, cli: 'Disclosure of a field that was not requested or approved', exit: 1 },
  'disclosure.untrusted_issuer': { status: 422, cli: 'Credential issuer not trusted', exit: 1 },
  'disclosure.expired': { status: 400, cli: 'Credential or presentation expired', exit: 1 },
  'disclosure.unknown_request': { status: 404, cli: 'Unknown disclosure request', exit: 1 },
  'disclosure.not_pending': { status: 409, cli: 'Disclosure request already answered', exit: 1 },
  'disclosure.field_unavailable': { status: 422, cli: 'You have no value for a requested field', exit: 1 },
  'profile.unknown_field': { status: 400, cli: 'Unknown profile field', exit: 1 },
  'profile.invalid_value': { status: 400, cli: 'Invalid value for this field', exit: 1 },
  'profile.vcard_invalid': { status: 400, cli: 'Not a valid vCard', exit: 1 },
  'profile.stale_version': { status: 409, cli: 'Profile update is older than what the company holds', exit: 1 },
  'profile.field_not_held': { status: 422, cli: 'Update for a field the company was never given', exit: 1 },
  'profile.unknown_change': { status: 404, cli: 'Unknown profile change', exit: 1 },
  'vault.not_initialized': { status: 409, cli: 'No vault here: run `kith init` first', exit: 1 },
  'vault.exists': { status: 409, cli: 'A vault already exists here', exit: 1 },
  'vault.wrong_passphrase': { status: 401, cli: 'Wrong passphrase', exit: 2 },
  'vault.locked': { status: 409, cli: 'Vault is locked', exit: 2 },
  'vault.corrupt': { status: 500, cli: 'Vault is corrupt', exit: 4 },
  'vault.passphrase_required': { status: 401, cli: 'Passphrase required (prompt or KITH_PASSPHRASE)', exit: 2 },
  'export.corrupted': { status: 400, cli: 'Export file is corrupted', exit: 1 },
  'export.foreign': { status: 400, cli: 'Not a Kith export', exit: 1 },
  'export.unsupported_version': { status: 400, cli: 'Unsupported export version', exit: 1 },
  'config.invalid': { status: 400, cli: 'Invalid configuration', exit: 1 },
  'config.not_found': { status: 404, cli: 'Configuration not found: run init first', exit: 1 },
  'store.unavailable': { status: 503, cli: 'Store unavailable', exit: 3 },
  'store.conflict': { status: 409, cli: 'Store conflict', exit: 1 },
  'transport.unreachable': { status: 502, cli: 'Peer unreachable', exit: 3 },
  'transport.rejected': { status: 502, cli: 'Peer rejected the message', exit: 3 },
  'api.unauthorized': { status: 401, cli: 'Unauthorized', exit: 2 },
  'api.forbidden_origin': { status: 403, cli: 'Forbidden origin', exit: 2 },
  'api.forbidden_host': { status: 403, cli: 'Forbidden host', exit: 2 },
  'api.bad_request': { status: 400, cli: 'Bad request', exit: 1 },
  'api.not_found': { status: 404, cli: 'Not found', exit: 1 },
  'agent.not_running': { status: 503, cli: 'Agent is not running', exit: 3 },
  internal: { status: 500, cli: 'Internal error', exit: 4 },
};

export function presentError(code: KithErrorCode): ErrorPresentation {
  return ERROR_TABLE[code];
}
