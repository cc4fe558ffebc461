/**
 * SD-JWT (RFC 9901) / SD-JWT VC issuance, presentation with key binding, and strict verification,
 * Ed25519 only. Built on @sd-jwt/sd-jwt-vc for the SD-JWT mechanics, with Kith's own parsing and
 * the checks that library leaves out (KB `aud` and `iat`, stray disclosures, typ/alg, cnf key type).
 */
export { PROFILE_VCT, SD_JWT_VC_TYP } from './constants.js';
export { issueSdJwt, type IssueOptions, type SdJwtIssuerKey } from './issue.js';
export { presentSdJwt, type PresentOptions } from './present.js';
export { inspectSdJwt, type InspectedSdJwt } from './inspect.js';
export { presentSelfIssued, type SelfIssuedPresentation } from './selfIssued.js';
export { verifySdJwtPresentation, type VerifiedPresentation, type VerifyOptions } from './verify.js';
export { withoutClaims } from './redact.js';
