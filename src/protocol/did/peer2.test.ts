import { base58btc } from 'multiformats/bases/base58';
import { describe, expect, it } from 'vitest';
import { DidError } from '../../core/errors.js';
import { generateKeyPair } from '../keys.js';
import { findKey } from './keysFromDocument.js';
import { createPeerDid2, resolvePeerDid2 } from './peer2.js';

const ed = generateKeyPair('Ed25519').publicJwk;
const x = generateKeyPair('X25519').publicJwk;

/** The example DID of the spec's numalgo 2 section (V then E, two services in the current nested form). */
const SPEC_DID =
  'did:peer:2.Vz6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc.Ez6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR' +
  '.SeyJ0IjoiZG0iLCJzIjp7InVyaSI6Imh0dHA6Ly9leGFtcGxlLmNvbS9kaWRjb21tIiwiYSI6WyJkaWRjb21tL3YyIl0sInIiOlsiZGlkOmV4YW1wbGU6MTIzNDU2Nzg5YWJjZGVmZ2hpI2tleS0xIl19fQ' +
  '.SeyJ0IjoiZG0iLCJzIjp7InVyaSI6Imh0dHA6Ly9leGFtcGxlLmNvbS9hbm90aGVyIiwiYSI6WyJkaWRjb21tL3YyIl0sInIiOlsiZGlkOmV4YW1wbGU6MTIzNDU2Nzg5YWJjZGVmZ2hpI2tleS0yIl19fQ';

/**
 * A DID in the legacy service form (`r`/`a` beside a string `s`) from the sicpa-dlab peer-did test
 * vectors, whose published JWKs cross-check our multikey decoding.
 */
const LEGACY_DID =
  'did:peer:2.Ez6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc.Vz6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V' +
  '.Vz6MkgoLTnTypo3tDRwCkZXSccTPHRLhF4ZnjhueYAFpEX6vg' +
  '.SeyJ0IjoiZG0iLCJzIjoiaHR0cHM6Ly9leGFtcGxlLmNvbS9lbmRwb2ludCIsInIiOlsiZGlkOmV4YW1wbGU6c29tZW1lZGlhdG9yI3NvbWVrZXkiXSwiYSI6WyJkaWRjb21tL3YyIiwiZGlkY29tbS9haXAyO2Vudj1yZmM1ODciXX0';

function b64(json: unknown): string {
  return Buffer.from(typeof json === 'string' ? json : JSON.stringify(json), 'utf8').toString('base64url');
}

function expectInvalid(did: string): void {
  let thrown: unknown;
  try {
    resolvePeerDid2(did);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(DidError);
  expect((thrown as DidError).code).toBe('did.invalid');
}

describe('createPeerDid2', () => {
  it('emits the X25519 key (E) first, then the Ed25519 key (V), then the service (S)', () => {
    const { did } = createPeerDid2({ authentication: ed, keyAgreement: x, serviceEndpoint: 'https://a.example/dc' });
    const parts = did.split('.');
    expect(parts[0]).toBe('did:peer:2');
    expect(parts[1]).toMatch(/^Ez6LS/);
    expect(parts[2]).toMatch(/^Vz6Mk/);
    expect(parts[3]).toMatch(/^S/);
    expect(parts).toHaveLength(4);
  });

  it('encodes the service in the abbreviated, nested form of the current spec', () => {
    const { did } = createPeerDid2({ authentication: ed, keyAgreement: x, serviceEndpoint: 'https://a.example/dc' });
    const encoded = did.split('.')[3]!.slice(1);
    expect(encoded).not.toContain('=');
    expect(Buffer.from(encoded, 'base64url').toString('utf8')).toBe(
      '{"t":"dm","s":{"uri":"https://a.example/dc","a":["didcomm/v2"]}}',
    );
  });

  it('omits the service element when there is no endpoint', () => {
    const { did, document } = createPeerDid2({ authentication: ed, keyAgreement: x });
    expect(did.split('.')).toHaveLength(3);
    expect(document.service).toEqual([]);
  });

  it('round-trips: the returned document is what resolving the DID gives, and carries both keys', () => {
    const { did, document } = createPeerDid2({
      authentication: ed,
      keyAgreement: x,
      serviceEndpoint: 'https://a.example/dc',
      accept: ['didcomm/v2', 'didcomm/aip2;env=rfc19'],
    });
    expect(resolvePeerDid2(did)).toEqual(document);
    expect(document).toEqual({
      '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
      id: did,
      verificationMethod: [
        {
          id: `${did}#key-1`,
          type: 'Multikey',
          controller: did,
          publicKeyMultibase: did.split('.')[1]!.slice(1),
          publicKeyJwk: x,
        },
        {
          id: `${did}#key-2`,
          type: 'Multikey',
          controller: did,
          publicKeyMultibase: did.split('.')[2]!.slice(1),
          publicKeyJwk: ed,
        },
      ],
      authentication: [`${did}#key-2`],
      assertionMethod: [],
      keyAgreement: [`${did}#key-1`],
      service: [
        {
          id: `${did}#service`,
          type: 'DIDCommMessaging',
          serviceEndpoint: { uri: 'https://a.example/dc', accept: ['didcomm/v2', 'didcomm/aip2;env=rfc19'] },
        },
      ],
    });
    expect(findKey(document, '#key-2', 'authentication').jwk).toEqual(ed);
    expect(findKey(document, `${did}#key-1`, 'keyAgreement').jwk).toEqual(x);
  });

  it('refuses keys whose curves do not fit their purposes', () => {
    expect(() => createPeerDid2({ authentication: x, keyAgreement: ed })).toThrow(DidError);
  });
});

describe('resolvePeerDid2', () => {
  it('resolves the spec example with keys numbered in DID order and services #service, #service-1', () => {
    const doc = resolvePeerDid2(SPEC_DID);
    expect(doc.id).toBe(SPEC_DID);
    expect(doc.verificationMethod.map((m) => [m.id, m.type, m.controller, m.publicKeyMultibase])).toEqual([
      [`${SPEC_DID}#key-1`, 'Multikey', SPEC_DID, 'z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc'],
      [`${SPEC_DID}#key-2`, 'Multikey', SPEC_DID, 'z6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR'],
    ]);
    expect(doc.verificationMethod.map((m) => m.publicKeyJwk?.crv)).toEqual(['Ed25519', 'X25519']);
    expect(doc.authentication).toEqual([`${SPEC_DID}#key-1`]);
    expect(doc.keyAgreement).toEqual([`${SPEC_DID}#key-2`]);
    expect(doc.service).toEqual([
      {
        id: `${SPEC_DID}#service`,
        type: 'DIDCommMessaging',
        serviceEndpoint: {
          uri: 'http://example.com/didcomm',
          accept: ['didcomm/v2'],
          routingKeys: ['did:example:123456789abcdefghi#key-1'],
        },
      },
      {
        id: `${SPEC_DID}#service-1`,
        type: 'DIDCommMessaging',
        serviceEndpoint: {
          uri: 'http://example.com/another',
          accept: ['didcomm/v2'],
          routingKeys: ['did:example:123456789abcdefghi#key-2'],
        },
      },
    ]);
  });

  it('decodes keys to the same JWKs as an independent implementation, and folds the legacy service form', () => {
    const doc = resolvePeerDid2(LEGACY_DID);
    expect(doc.verificationMethod.map((m) => m.publicKeyJwk)).toEqual([
      { kty: 'OKP', crv: 'X25519', x: 'BIiFcQEn3dfvB2pjlhOQQour6jXy9d5s2FKEJNTOJik' },
      { kty: 'OKP', crv: 'Ed25519', x: 'owBhCbktDjkfS6PdQddT0D3yjSitaSysP3YimJ_YgmA' },
      { kty: 'OKP', crv: 'Ed25519', x: 'Itv8B__b1-Jos3LCpUe8EdTFGTCa_Dza6_3848P3R70' },
    ]);
    expect(doc.authentication).toEqual([`${LEGACY_DID}#key-2`, `${LEGACY_DID}#key-3`]);
    expect(doc.keyAgreement).toEqual([`${LEGACY_DID}#key-1`]);
    expect(doc.service).toEqual([
      {
        id: `${LEGACY_DID}#service`,
        type: 'DIDCommMessaging',
        serviceEndpoint: {
          uri: 'https://example.com/endpoint',
          accept: ['didcomm/v2', 'didcomm/aip2;env=rfc587'],
          routingKeys: ['did:example:somemediator#somekey'],
        },
      },
    ]);
  });

  it('adds A keys to assertionMethod and still numbers I and D keys', () => {
    const [, e, v] = createPeerDid2({ authentication: ed, keyAgreement: x }).did.split('.');
    const key = v!.slice(1);
    const did = `did:peer:2.I${key}.${e}.A${key}.D${key}`;
    const doc = resolvePeerDid2(did);
    expect(doc.verificationMethod.map((m) => m.id)).toEqual([1, 2, 3, 4].map((n) => `${did}#key-${n}`));
    expect(doc.assertionMethod).toEqual([`${did}#key-3`]);
    expect(doc.keyAgreement).toEqual([`${did}#key-2`]);
    expect(doc.authentication).toEqual([]);
  });

  it('keeps a service id the DID carries, made absolute, and numbers only the services without one', () => {
    const [, e, v] = createPeerDid2({ authentication: ed, keyAgreement: x }).did.split('.');
    const did =
      `did:peer:2.${e}.${v}` +
      `.S${b64({ t: 'dm', s: { uri: 'https://one.example' } })}` +
      `.S${b64({ id: '#mine', t: 'dm', s: { uri: 'https://two.example' } })}` +
      `.S${b64({ t: 'dm', s: { uri: 'https://three.example' } })}`;
    expect(resolvePeerDid2(did).service.map((s) => s.id)).toEqual([
      `${did}#service`,
      `${did}#mine`,
      `${did}#service-1`,
    ]);
  });

  describe('rejects every malformed DID with did.invalid', () => {
    const { did: good } = createPeerDid2({ authentication: ed, keyAgreement: x, serviceEndpoint: 'https://a.example' });
    const [, e, v] = good.split('.') as [string, string, string, string];
    const edKey = v.slice(1);
    const xKey = e.slice(1);
    const raw = (s: string): Uint8Array => base58btc.decode(s);
    const reencode = (bytes: Uint8Array): string => base58btc.encode(bytes);

    const cases: Array<[string, string]> = [
      ['an empty string', ''],
      ['another method', 'did:key:z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V'],
      ['another numalgo', `did:peer:0${edKey}`],
      ['no elements', 'did:peer:2'],
      ['a bare dot', 'did:peer:2.'],
      ['an empty element between dots', `did:peer:2.${e}..${v}`],
      ['a trailing dot', `${good}.`],
      ['a purpose letter with no key', `did:peer:2.${e}.V`],
      ['an unknown purpose letter', `did:peer:2.${e}.X${edKey}`],
      ['a lowercase purpose letter', `did:peer:2.${e}.v${edKey}`],
      ['a key that is not base58btc multibase', `did:peer:2.${e}.Vm${edKey.slice(1)}`],
      ['a key with a character outside base58', `did:peer:2.${e}.V${edKey.slice(0, -1)}0`],
      ['an Ed25519 key under E', `did:peer:2.E${edKey}.${v}`],
      ['an X25519 key under V', `did:peer:2.${e}.V${xKey}`],
      ['an X25519 key under A', `did:peer:2.${e}.${v}.A${xKey}`],
      ['a key with an unknown multicodec', `did:peer:2.${e}.V${reencode(Uint8Array.from([0xe7, 0x01, ...raw(edKey).subarray(2)]))}`],
      ['a key one byte short', `did:peer:2.${e}.V${reencode(raw(edKey).subarray(0, 33))}`],
      ['a key one byte long', `did:peer:2.${e}.V${reencode(Uint8Array.from([...raw(edKey), 0]))}`],
      ['a DID URL with a fragment', `${good}#key-1`],
      ['a service that is not base64url', `did:peer:2.${e}.${v}.S!!!!`],
      ['a service with base64 padding', `did:peer:2.${e}.${v}.S${b64('{"t":"dm","s":"x"}')}=`],
      ['a service of impossible base64 length', `did:peer:2.${e}.${v}.SeyJ0I`],
      ['a service that is not JSON', `did:peer:2.${e}.${v}.S${b64('not json')}`],
      ['a service that is a JSON list', `did:peer:2.${e}.${v}.S${b64([{ t: 'dm', s: 'https://a.example' }])}`],
      ['a service that is a JSON string', `did:peer:2.${e}.${v}.S${b64('"dm"')}`],
      ['a service without a type', `did:peer:2.${e}.${v}.S${b64({ s: { uri: 'https://a.example' } })}`],
      ['a service without an endpoint', `did:peer:2.${e}.${v}.S${b64({ t: 'dm' })}`],
      ['a service with a numeric id', `did:peer:2.${e}.${v}.S${b64({ id: 7, t: 'dm', s: 'https://a.example' })}`],
      ['a service endpoint without uri', `did:peer:2.${e}.${v}.S${b64({ t: 'dm', s: { a: ['didcomm/v2'] } })}`],
      ['a service that is not UTF-8', `did:peer:2.${e}.${v}.S${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}`],
    ];

    it.each(cases)('such as %s', (_label, did) => {
      expectInvalid(did);
    });
  });
});
