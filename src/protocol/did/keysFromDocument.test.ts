import { describe, expect, it } from 'vitest';
import { DidError } from '../../core/errors.js';
import { generateKeyPair } from '../keys.js';
import { decodeMultikey, didCommEndpoint, encodeMultikey, findKey, keysFor } from './keysFromDocument.js';
import { didDocumentSchema, type DidDocument } from './types.js';

const ed = generateKeyPair('Ed25519').publicJwk;
const ed2 = generateKeyPair('Ed25519').publicJwk;
const x = generateKeyPair('X25519').publicJwk;
const DID = 'did:example:alice';

/** A document mixing every form findKey must handle: relative and absolute ids, references and embedded methods. */
function document(): DidDocument {
  return didDocumentSchema.parse({
    id: DID,
    verificationMethod: [
      { id: '#sign', type: 'Ed25519VerificationKey2020', controller: DID, publicKeyMultibase: encodeMultikey(ed) },
      { id: `${DID}#agree`, type: 'X25519KeyAgreementKey2020', controller: DID, publicKeyMultibase: encodeMultikey(x) },
      { id: `${DID}#unlisted`, type: 'JsonWebKey2020', controller: DID, publicKeyJwk: ed2 },
      { id: `${DID}#jwk-without-jwk`, type: 'JsonWebKey2020', controller: DID, publicKeyMultibase: encodeMultikey(ed2) },
      { id: 'did:example:bob#borrowed', type: 'Multikey', controller: 'did:example:bob', publicKeyMultibase: encodeMultikey(ed2) },
    ],
    authentication: [
      `${DID}#sign`,
      { id: '#embedded', type: 'Multikey', controller: DID, publicKeyMultibase: encodeMultikey(ed2) },
      '#agree',
      '#jwk-without-jwk',
      '#dangling',
      'did:example:bob#borrowed',
    ],
    keyAgreement: ['#agree', '#sign'],
    service: [
      { id: '#other', type: 'LinkedDomains', serviceEndpoint: 'https://alice.example' },
      { id: '#dm', type: 'DIDCommMessaging', serviceEndpoint: { uri: 'https://alice.example/dc', accept: ['didcomm/v2'] } },
      { id: '#dm2', type: 'DIDCommMessaging', serviceEndpoint: 'https://second.example' },
    ],
  });
}

function notFound(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(DidError);
  expect((thrown as DidError).code).toBe('did.key_not_found');
}

describe('multikey encoding', () => {
  it('round-trips Ed25519 and X25519 keys with their multicodec prefixes', () => {
    expect(encodeMultikey(ed)).toMatch(/^z6Mk/);
    expect(encodeMultikey(x)).toMatch(/^z6LS/);
    expect(decodeMultikey(encodeMultikey(ed))).toEqual(ed);
    expect(decodeMultikey(encodeMultikey(x))).toEqual(x);
  });

  it('returns undefined rather than throwing for anything else', () => {
    for (const bad of ['', 'z', 'z0OIl', 'm6MkqRYq', encodeMultikey(ed).slice(0, -2), `${encodeMultikey(ed)}1`]) {
      expect(decodeMultikey(bad), bad).toBeUndefined();
    }
  });
});

describe('findKey', () => {
  it('finds a key by relative or absolute id and returns its absolute kid', () => {
    expect(findKey(document(), '#sign', 'authentication')).toEqual({ kid: `${DID}#sign`, jwk: ed });
    expect(findKey(document(), `${DID}#sign`, 'authentication')).toEqual({ kid: `${DID}#sign`, jwk: ed });
    expect(findKey(document(), `${DID}#agree`, 'keyAgreement')).toEqual({ kid: `${DID}#agree`, jwk: x });
  });

  it('finds a key embedded in the verification relationship', () => {
    expect(findKey(document(), '#embedded', 'authentication')).toEqual({ kid: `${DID}#embedded`, jwk: ed2 });
  });

  it('refuses a key that exists but is not listed under the purpose', () => {
    notFound(() => findKey(document(), '#unlisted', 'authentication'));
    notFound(() => findKey(document(), '#embedded', 'keyAgreement'));
  });

  it('refuses a key listed under a purpose its curve cannot serve', () => {
    notFound(() => findKey(document(), '#agree', 'authentication'));
    notFound(() => findKey(document(), '#sign', 'keyAgreement'));
  });

  it('refuses missing keys, dangling references, JsonWebKey2020 without a JWK, and keys of other DIDs', () => {
    notFound(() => findKey(document(), '#nope', 'authentication'));
    notFound(() => findKey(document(), '#dangling', 'authentication'));
    notFound(() => findKey(document(), '#jwk-without-jwk', 'authentication'));
    notFound(() => findKey(document(), 'did:example:bob#borrowed', 'authentication'));
    notFound(() => findKey(document(), 'did:example:mallory#sign', 'authentication'));
  });
});

describe('keysFor', () => {
  it('lists the usable keys of the DID itself for a purpose in document order, skipping the rest', () => {
    expect(keysFor(document(), 'authentication')).toEqual([
      { kid: `${DID}#sign`, jwk: ed },
      { kid: `${DID}#embedded`, jwk: ed2 },
    ]);
    expect(keysFor(document(), 'keyAgreement')).toEqual([{ kid: `${DID}#agree`, jwk: x }]);
  });
});

describe('didCommEndpoint', () => {
  it('returns the uri of the first DIDCommMessaging service', () => {
    expect(didCommEndpoint(document())).toBe('https://alice.example/dc');
  });

  it('accepts a plain string endpoint and returns undefined when there is no DIDComm service', () => {
    const doc = document();
    expect(didCommEndpoint({ ...doc, service: doc.service.slice(2) })).toBe('https://second.example');
    expect(didCommEndpoint({ ...doc, service: doc.service.slice(0, 1) })).toBeUndefined();
  });
});
