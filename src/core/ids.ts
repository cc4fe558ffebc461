import { randomBytes, randomUUID } from 'node:crypto';

/** A random message or record id (UUID v4), as DIDComm examples use. */
export function newId(): string {
  return randomUUID();
}

/** A random opaque token of `bytes` bytes, base64url. Used for API tokens and route paths. */
export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
