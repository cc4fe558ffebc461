/**
 * Protocol URIs: `<base>/<family>/<version>/<message>`. Standard families use the community base
 * (didcomm.org); Kith's own use a base under the reserved `.invalid` TLD (RFC 6761) because the
 * project owns no domain yet; see docs/decisions/0003-protocol-uris.md. Change it here only.
 */
export const DIDCOMM_ORG = 'https://didcomm.org';
export const KITH_PROTOCOL_BASE = 'https://kith.invalid/protocols';

export function standardType(family: string, version: string, message: string): string {
  return `${DIDCOMM_ORG}/${family}/${version}/${message}`;
}

export function kithType(family: string, version: string, message: string): string {
  return `${KITH_PROTOCOL_BASE}/${family}/${version}/${message}`;
}
