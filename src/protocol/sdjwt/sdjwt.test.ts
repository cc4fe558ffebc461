import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { SDJwtInstance } from '@sd-jwt/core';
import { SDJwtVcInstance, type SdJwtVcPayload } from '@sd-jwt/sd-jwt-vc';
import { describe, expect, it } from 'vitest';
import { DidError, DisclosureError, type KithErrorCode } from '../../core/errors.js';
import { createPeerIdentity, signingKeyOf } from '../agent/identity.js';
import { findKey } from '../did/keysFromDocument.js';
import { createDidResolver } from '../did/resolver.js';
import { generateKeyPair, privateKeyObject, publicKeyObject, type OkpPublicJwk } from '../keys.js';
import {
  inspectSdJwt,
  issueSdJwt,
  presentSdJwt,
  PROFILE_VCT,
  presentSelfIssued,
  SD_JWT_VC_TYP,
  verifySdJwtPresentation,
  type IssueOptions,
  type PresentOptions,
  type VerifyOptions,
} from './index.js';
import { issueSdJwtWith } from './issue.js';
import { codeForLibraryFailure, kithSdJwtVc, verifyWithLibrary } from './library.js';
import { keyBindAll } from './selfIssued.js';
import { codeOfRejection as codeOf } from '../../../test/support/errorCodes.js';

// ---------------------------------------------------------------------------------------------
// Parties, clock, fixtures

interface Party {
  did: string;
  kid: string;
  key: KeyObject;
  jwk: OkpPublicJwk;
}

function party(): Party {
  const { identity } = createPeerIdentity();
  return { did: identity.did, kid: identity.signing.kid, key: signingKeyOf(identity).privateKey, jwk: identity.signing.publicJwk };
}

const issuer = party();
const holder = party();
const stranger = party();
const resolver = createDidResolver();

const NOW_S = 1_900_000_000;
const NOW_MS = NOW_S * 1000 + 456;
const AUDIENCE = 'did:web:company.example';
const NONCE = 'n-0S6_WzA2Mj';

const CLAIMS = {
  given_name: 'Ada',
  family_name: 'Lovelace',
  email: 'ada@example.org',
  birthdate: '1815-12-10',
  age_over_18: true,
  address: { locality: 'London', country: 'GB' },
};

function issue(overrides: Partial<IssueOptions> = {}): Promise<string> {
  return issueSdJwt({
    issuer: { did: issuer.did, kid: issuer.kid, privateKey: issuer.key },
    holderPublicJwk: holder.jwk,
    vct: PROFILE_VCT,
    claims: CLAIMS,
    issuedAt: NOW_S - 3600,
    expiresAt: NOW_S + 86_400,
    ...overrides,
  });
}

function present(sdJwt: string, disclose: string[], overrides: Partial<PresentOptions> = {}): Promise<string> {
  return presentSdJwt(sdJwt, { disclose, holderKey: holder.key, audience: AUDIENCE, nonce: NONCE, issuedAt: NOW_S, ...overrides });
}

function options(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return { resolver, audience: AUDIENCE, nonce: NONCE, now: NOW_MS, trustIssuer: (did) => did === issuer.did, ...overrides };
}

/** The code a promise rejects with; every rejection must be a KithError, never a raw library error. */
async function disclosureCodeOf(promise: Promise<unknown>): Promise<KithErrorCode | 'resolved'> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    expect(err).toBeInstanceOf(DisclosureError);
    return (err as DisclosureError).code;
  }
}

// ---------------------------------------------------------------------------------------------
// Hand-built SD-JWT pieces, written from RFC 9901 rather than through the module under test

const b64json = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const unb64json = (text: string): unknown => JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
const sha256 = (text: string): string => createHash('sha256').update(Buffer.from(text, 'ascii')).digest('base64url');

function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64json(header)}.${b64json(payload)}`;
  return `${input}.${sign(null, Buffer.from(input, 'ascii'), key).toString('base64url')}`;
}

/** Everything up to and including the last `~` (drops the KB-JWT). */
const withoutKb = (presentation: string): string => presentation.slice(0, presentation.lastIndexOf('~') + 1);

/** Appends a KB-JWT over `sdJwt` (which must end in `~`), with optional changes to what an honest holder writes. */
function bind(
  sdJwt: string,
  o: { key?: KeyObject; header?: Record<string, unknown>; payload?: Record<string, unknown> } = {},
): string {
  const header = { typ: 'kb+jwt', alg: 'EdDSA', ...o.header };
  const payload = { iat: NOW_S, aud: AUDIENCE, nonce: NONCE, sd_hash: sha256(sdJwt), ...o.payload };
  return sdJwt + signJwt(header, payload, o.key ?? holder.key);
}

/** An issuer-signed SD-JWT built by hand, so tests can put anything into it. Ends in `~`. */
function craft(
  o: { header?: Record<string, unknown>; payload?: Record<string, unknown>; disclosures?: unknown[][]; key?: KeyObject } = {},
): string {
  const disclosures = (o.disclosures ?? [['c2FsdHNhbHRzYWx0c2FsdA', 'email', 'ada@example.org']]).map(b64json);
  const payload = {
    iss: issuer.did,
    iat: NOW_S - 60,
    vct: PROFILE_VCT,
    cnf: { jwk: holder.jwk },
    _sd: disclosures.map(sha256).sort(),
    _sd_alg: 'sha-256',
    ...o.payload,
  };
  const header = { typ: 'dc+sd-jwt', alg: 'EdDSA', kid: issuer.kid, ...o.header };
  return `${signJwt(header, payload, o.key ?? issuer.key)}~${disclosures.map((d) => `${d}~`).join('')}`;
}

/** Inserts `extra` disclosures just before the KB-JWT slot of an SD-JWT ending in `~`. */
const addDisclosures = (sdJwt: string, ...extra: string[]): string => sdJwt + extra.map((d) => `${d}~`).join('');

const testHasher = (data: string | ArrayBuffer): Uint8Array =>
  createHash('sha256')
    .update(typeof data === 'string' ? Buffer.from(data, 'ascii') : new Uint8Array(data))
    .digest();

/** The library's own verifier, configured by hand: to show what it accepts on its own. */
function libraryOnly(): SDJwtVcInstance {
  const ed = (jwk: OkpPublicJwk) => (data: string, sig: string) =>
    verify(null, Buffer.from(data, 'ascii'), publicKeyObject(jwk), Buffer.from(sig, 'base64url'));
  return new SDJwtVcInstance({ hasher: testHasher, verifier: ed(issuer.jwk), kbVerifier: ed(holder.jwk) });
}

// ---------------------------------------------------------------------------------------------

describe('issue -> present -> verify', () => {
  it('round-trips: the verifier sees exactly the presented subset', async () => {
    const sdJwt = await issue();
    expect(sdJwt.endsWith('~')).toBe(true);
    const presentation = await present(sdJwt, ['given_name', 'age_over_18']);
    const verified = await verifySdJwtPresentation(presentation, options());
    expect(verified).toEqual({
      issuer: issuer.did,
      vct: PROFILE_VCT,
      holderJwk: holder.jwk,
      disclosed: { given_name: 'Ada', age_over_18: true },
      visible: {},
      issuedAt: NOW_S - 3600,
      expiresAt: NOW_S + 86_400,
      kb: { iat: NOW_S, aud: AUDIENCE, nonce: NONCE },
    });
  });

  it('discloses structured values and nothing at all when asked for nothing', async () => {
    const sdJwt = await issue();
    const withAddress = await verifySdJwtPresentation(await present(sdJwt, ['address']), options());
    expect(withAddress.disclosed).toEqual({ address: { locality: 'London', country: 'GB' } });
    const none = await verifySdJwtPresentation(await present(sdJwt, []), options());
    expect(none.disclosed).toEqual({});
  });

  it('keeps alwaysVisible claims plain and the rest selectively disclosable', async () => {
    const sdJwt = await issue({ alwaysVisible: ['given_name', 'not_a_claim'] });
    const verified = await verifySdJwtPresentation(await present(sdJwt, ['email']), options());
    expect(verified.visible).toEqual({ given_name: 'Ada' });
    expect(verified.disclosed).toEqual({ email: 'ada@example.org' });
    expect((await inspectSdJwt(sdJwt)).disclosable).not.toContain('given_name');
  });

  it('selective: presenting age_over_18 reveals no birthdate in any part of the presentation', async () => {
    const sdJwt = await issue();
    const presentation = await present(sdJwt, ['age_over_18']);
    const parts = presentation.split('~');
    const jwtParts = (jwt: string): unknown[] => jwt.split('.').slice(0, 2).map(unb64json);
    const decoded = [
      ...jwtParts(parts[0] ?? ''),
      ...parts.slice(1, -1).map(unb64json),
      ...jwtParts(parts[parts.length - 1] ?? ''),
    ];
    expect(decoded).toHaveLength(2 + 1 + 2); // issuer JWT, one disclosure, KB-JWT
    const everything = `${presentation}\n${JSON.stringify(decoded)}`;
    for (const secret of ['birthdate', '1815-12-10', 'Lovelace', 'ada@example.org', 'London']) {
      expect(everything).not.toContain(secret);
    }
    expect(JSON.stringify(decoded)).toContain('age_over_18');
    // The birthdate disclosure of the issued SD-JWT is not among the presented ones.
    const birthdate = sdJwt.split('~').find((d) => d !== '' && !d.includes('.') && JSON.stringify(unb64json(d)).includes('birthdate'));
    expect(birthdate).toBeDefined();
    expect(presentation).not.toContain(birthdate);
  });

  it('inspects her own credential: all claims, disclosable names, holder key, times', async () => {
    const sdJwt = await issue({ alwaysVisible: ['given_name'] });
    const expected = {
      issuer: issuer.did,
      kid: issuer.kid,
      vct: PROFILE_VCT,
      claims: CLAIMS,
      disclosable: ['family_name', 'email', 'birthdate', 'age_over_18', 'address'],
      holderJwk: holder.jwk,
      issuedAt: NOW_S - 3600,
      expiresAt: NOW_S + 86_400,
    };
    const inspected = await inspectSdJwt(sdJwt);
    expect({ ...inspected, disclosable: [...inspected.disclosable].sort() }).toEqual({ ...expected, disclosable: [...expected.disclosable].sort() });
    // A presentation inspects to what it reveals.
    const presented = await inspectSdJwt(await present(sdJwt, ['email']));
    expect(presented.claims).toEqual({ given_name: 'Ada', email: 'ada@example.org' });
    expect(presented.disclosable).toEqual(['email']);
    expect(await disclosureCodeOf(inspectSdJwt('garbage'))).toBe('disclosure.malformed');
    // Unverified, so stray disclosures are left out, not believed; verification calls them tampered.
    const stray = addDisclosures(withoutKb(await present(sdJwt, ['email'])), b64json(['salt', 'x', 1]));
    expect((await inspectSdJwt(stray)).claims).toEqual({ given_name: 'Ada', email: 'ada@example.org' });
    expect(await disclosureCodeOf(verifySdJwtPresentation(bind(stray), options()))).toBe('disclosure.tampered');
  });

  it('present refuses claims it cannot disclose, bad input, and a key other than cnf', async () => {
    const sdJwt = await issue({ alwaysVisible: ['given_name'] });
    expect(await disclosureCodeOf(present(sdJwt, ['email', 'phone']))).toBe('disclosure.field_unavailable');
    expect(await disclosureCodeOf(present(sdJwt, ['given_name']))).toBe('disclosure.field_unavailable');
    expect(await disclosureCodeOf(present('not~an~sd-jwt', ['email']))).toBe('disclosure.malformed');
    expect(await disclosureCodeOf(present(await present(sdJwt, ['email']), ['email']))).toBe('disclosure.malformed');
    expect(await disclosureCodeOf(present(sdJwt, ['email'], { holderKey: stranger.key }))).toBe('disclosure.key_binding_invalid');
    expect(await disclosureCodeOf(present(sdJwt, ['email'], { nonce: '' }))).toBe('disclosure.malformed');
  });

  it('issue refuses reserved claim names, non-JSON values and inconsistent issuer keys', async () => {
    for (const name of ['iss', 'sub', 'iat', 'exp', 'nbf', 'cnf', 'vct', 'status', '_sd', '_sd_alg', '...', '__proto__']) {
      const claims = Object.fromEntries([[name, 'x']]);
      expect(await disclosureCodeOf(issue({ claims })), name).toBe('disclosure.malformed');
    }
    for (const value of [undefined, new Date(0), Number.NaN, () => 1, { _sd: [] }, [{ '...': 'x' }]]) {
      expect(await disclosureCodeOf(issue({ claims: { v: value } }))).toBe('disclosure.malformed');
    }
    const wrongKid = { did: issuer.did, kid: stranger.kid, privateKey: issuer.key };
    expect(await disclosureCodeOf(issue({ issuer: wrongKid }))).toBe('disclosure.malformed');
    const x25519 = privateKeyObject(generateKeyPair('X25519').privateJwk);
    expect(await disclosureCodeOf(issue({ issuer: { did: issuer.did, kid: issuer.kid, privateKey: x25519 } }))).toBe('disclosure.malformed');
    expect(await disclosureCodeOf(issue({ holderPublicJwk: generateKeyPair('X25519').publicJwk }))).toBe('disclosure.malformed');
    expect(await disclosureCodeOf(issue({ expiresAt: NOW_S - 7200 }))).toBe('disclosure.malformed');
  });
});

describe('RFC 9901 structure and interop with the library decoder', () => {
  it('issues the RFC structure: typ, alg, kid, _sd_alg, cnf, and one digest per disclosure', async () => {
    const sdJwt = await issue({ alwaysVisible: ['given_name'] });
    const [jwt = '', ...rest] = sdJwt.split('~');
    expect(rest.pop()).toBe(''); // trailing ~, no KB-JWT
    const [h = '', p = '', s = ''] = jwt.split('.');
    expect(unb64json(h)).toEqual({ typ: SD_JWT_VC_TYP, alg: 'EdDSA', kid: issuer.kid });
    const payload = unb64json(p) as Record<string, unknown>;
    expect(payload).toMatchObject({ iss: issuer.did, iat: NOW_S - 3600, exp: NOW_S + 86_400, vct: PROFILE_VCT, cnf: { jwk: holder.jwk } });
    expect(payload['_sd_alg']).toBe('sha-256');
    expect(payload['given_name']).toBe('Ada');
    for (const hidden of ['family_name', 'email', 'birthdate', 'age_over_18', 'address']) expect(payload).not.toHaveProperty(hidden);

    // Issuer signature: Ed25519 over ASCII(header.payload), with the key the issuer's DID document lists.
    const jwk = findKey(await resolver.resolve(issuer.did), issuer.kid, 'authentication').jwk;
    expect(verify(null, Buffer.from(`${h}.${p}`, 'ascii'), publicKeyObject(jwk), Buffer.from(s, 'base64url'))).toBe(true);

    // Disclosure = base64url(JSON [salt, name, value]); its digest = base64url(SHA-256(ASCII(disclosure))) in _sd.
    const sd = payload['_sd'] as string[];
    expect(sd).toHaveLength(rest.length);
    const revealed: Record<string, unknown> = {};
    for (const disclosure of rest) {
      const decoded = unb64json(disclosure) as [string, string, unknown];
      expect(decoded).toHaveLength(3);
      const [salt, name, value] = decoded;
      expect(Buffer.from(salt, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(sd).toContain(sha256(disclosure));
      revealed[name] = value;
    }
    const { given_name: _visible, ...selective } = CLAIMS;
    expect(revealed).toEqual(selective);
  });

  it('binds the presentation as the RFC says: KB-JWT typ, alg, aud, nonce, iat, sd_hash over everything up to the last ~', async () => {
    const presentation = await present(await issue(), ['email', 'birthdate']);
    const kb = presentation.slice(presentation.lastIndexOf('~') + 1);
    const [h = '', p = '', s = ''] = kb.split('.');
    expect(unb64json(h)).toEqual({ typ: 'kb+jwt', alg: 'EdDSA' });
    expect(unb64json(p)).toEqual({ iat: NOW_S, aud: AUDIENCE, nonce: NONCE, sd_hash: sha256(withoutKb(presentation)) });
    expect(verify(null, Buffer.from(`${h}.${p}`, 'ascii'), publicKeyObject(holder.jwk), Buffer.from(s, 'base64url'))).toBe(true);
  });

  it("decodes with the library's own decoder, independently, to the same claims", async () => {
    const sdJwt = await issue();
    const decoder = new SDJwtInstance({ hasher: testHasher });
    const claims = (await decoder.getClaims(sdJwt)) as Record<string, unknown>;
    expect(claims).toMatchObject({ ...CLAIMS, iss: issuer.did, vct: PROFILE_VCT, cnf: { jwk: holder.jwk } });
    expect(await decoder.presentableKeys(sdJwt)).toEqual(Object.keys(CLAIMS).sort());
    const decoded = await decoder.decode(await present(sdJwt, ['email']));
    expect(decoded.disclosures?.map((d) => [d.key, d.value])).toEqual([['email', 'ada@example.org']]);
    expect(decoded.kbJwt?.payload).toMatchObject({ aud: AUDIENCE, nonce: NONCE, iat: NOW_S });
  });

  it('is accepted by the library verifier configured by hand', async () => {
    const presentation = await present(await issue(), ['email']);
    const result = await libraryOnly().verify(presentation, { keyBindingNonce: NONCE, currentDate: NOW_S });
    expect(result.payload).toMatchObject({ email: 'ada@example.org' });
    expect(result.kb?.payload.aud).toBe(AUDIENCE);
  });

  it('verifies a presentation whose issuer JWT and KB-JWT were built by hand from the RFC', async () => {
    const verified = await verifySdJwtPresentation(bind(craft()), options());
    expect(verified.disclosed).toEqual({ email: 'ada@example.org' });
  });
});

describe('library gaps we close (each shown accepted by @sd-jwt 0.19 alone)', () => {
  it('KB-JWT aud is checked: the library accepts a presentation for another audience, we do not', async () => {
    const presentation = await present(await issue(), ['email'], { audience: 'did:web:someone-else.example' });
    await expect(libraryOnly().verify(presentation, { keyBindingNonce: NONCE, currentDate: NOW_S })).resolves.toBeDefined();
    expect(await disclosureCodeOf(verifySdJwtPresentation(presentation, options()))).toBe('disclosure.wrong_audience');
  });

  it('stray disclosures are refused: the library ignores a holder-made disclosure, we reject it', async () => {
    const sdJwt = await issue();
    const forged = b64json(['c2FsdHNhbHRzYWx0c2FsdA', 'age_over_21', true]);
    // The holder signs the KB-JWT over the forged disclosure, so sd_hash and the KB signature hold.
    const presentation = bind(addDisclosures(withoutKb(await present(sdJwt, ['email'])), forged));
    await expect(libraryOnly().verify(presentation, { keyBindingNonce: NONCE, currentDate: NOW_S })).resolves.toBeDefined();
    expect(await disclosureCodeOf(verifySdJwtPresentation(presentation, options()))).toBe('disclosure.tampered');
  });

  it('KB-JWT iat is checked: the library accepts a day-old key binding, we do not', async () => {
    const presentation = await present(await issue(), ['email'], { issuedAt: NOW_S - 86_400 });
    await expect(libraryOnly().verify(presentation, { keyBindingNonce: NONCE, currentDate: NOW_S })).resolves.toBeDefined();
    expect(await disclosureCodeOf(verifySdJwtPresentation(presentation, options()))).toBe('disclosure.key_binding_invalid');
  });
});

describe('verification failures, one code each', () => {
  it('garbage and non-SD-JWT input -> disclosure.malformed', async () => {
    const sdJwt = await issue();
    const [jwt = ''] = sdJwt.split('~');
    const inputs: unknown[] = [
      '',
      'garbage',
      42,
      null,
      '~~~',
      'a.b.c~',
      `${jwt}`, // no ~ at all
      `${jwt}~~${bind('')}`, // empty disclosure
      `${jwt.replace(/\.[^.]*$/, '')}~`, // two-part JWT
      `${jwt}=~`, // padding
      `${jwt} ~`, // space
      `${b64json({ typ: 'dc+sd-jwt', alg: 'EdDSA', kid: issuer.kid })}.${Buffer.from('{not json', 'utf8').toString('base64url')}.AAAA~`,
      `${b64json([1, 2])}.${b64json({})}.AAAA~`, // header not an object
    ];
    for (const input of inputs) {
      expect(await disclosureCodeOf(verifySdJwtPresentation(input as string, options())), String(input).slice(0, 40)).toBe('disclosure.malformed');
    }
  });

  it('oversized input -> disclosure.malformed, before anything else is looked at', async () => {
    expect(await disclosureCodeOf(verifySdJwtPresentation('a'.repeat(64 * 1024 + 1), options()))).toBe('disclosure.malformed');
    // A well-formed presentation whose bulk is one big stray disclosure is refused for its size, not its content.
    const huge = bind(addDisclosures(await issue(), b64json(['salt', 'blob', 'x'.repeat(64 * 1024)])));
    expect(await disclosureCodeOf(verifySdJwtPresentation(huge, options()))).toBe('disclosure.malformed');
  });

  it('refuses to run with a clock or window that would disable the time checks', async () => {
    const presentation = await present(await issue({ issuedAt: NOW_S - 7200, expiresAt: NOW_S - 3600 }), ['email']);
    for (const o of [{ now: Number.NaN }, { clockSkewSeconds: Number.NaN }, { maxKbAgeSeconds: Number.POSITIVE_INFINITY }, { clockSkewSeconds: -1 }]) {
      expect(await codeOf(verifySdJwtPresentation(presentation, options(o)))).toBe('internal');
    }
  });

  it('missing KB-JWT -> disclosure.key_binding_invalid', async () => {
    const presentation = await present(await issue(), ['email']);
    expect(await disclosureCodeOf(verifySdJwtPresentation(withoutKb(presentation), options()))).toBe('disclosure.key_binding_invalid');
  });

  it('one character of a disclosure altered -> disclosure.tampered', async () => {
    const presentation = await present(await issue(), ['email']);
    const parts = presentation.split('~');
    const disclosure = parts[1] ?? '';
    const i = Math.floor(disclosure.length / 2);
    const altered = disclosure.slice(0, i) + (disclosure[i] === 'A' ? 'B' : 'A') + disclosure.slice(i + 1);
    parts[1] = altered;
    expect(await disclosureCodeOf(verifySdJwtPresentation(parts.join('~'), options()))).toBe('disclosure.tampered');
    // Even re-bound by the holder, the altered disclosure is not one the issuer signed.
    expect(await disclosureCodeOf(verifySdJwtPresentation(bind(withoutKb(parts.join('~'))), options()))).toBe('disclosure.tampered');
  });

  it('duplicated disclosure -> disclosure.tampered', async () => {
    const presentation = await present(await issue(), ['email']);
    const email = presentation.split('~')[1] ?? '';
    const duplicated = bind(addDisclosures(withoutKb(presentation), email));
    expect(await disclosureCodeOf(verifySdJwtPresentation(duplicated, options()))).toBe('disclosure.tampered');
  });

  it('KB-JWT signed by another key -> disclosure.key_binding_invalid', async () => {
    const presentation = await present(await issue(), ['email']);
    const rebound = bind(withoutKb(presentation), { key: stranger.key });
    expect(await disclosureCodeOf(verifySdJwtPresentation(rebound, options()))).toBe('disclosure.key_binding_invalid');
  });

  it('KB-JWT with the wrong typ, alg, or missing fields -> disclosure.key_binding_invalid', async () => {
    const base = withoutKb(await present(await issue(), ['email']));
    const variants = [
      bind(base, { header: { typ: 'JWT' } }),
      bind(base, { header: { typ: undefined } }),
      bind(base, { header: { alg: 'ES256' } }),
      bind(base, { header: { crit: ['exp'] } }),
      bind(base, { payload: { nonce: undefined } }),
      bind(base, { payload: { aud: undefined } }),
      bind(base, { payload: { iat: undefined } }),
      bind(base, { payload: { sd_hash: undefined } }),
      bind(base, { payload: { aud: [AUDIENCE] } }),
      `${base}not-a-jwt`,
    ];
    for (const variant of variants) {
      expect(await disclosureCodeOf(verifySdJwtPresentation(variant, options()))).toBe('disclosure.key_binding_invalid');
    }
  });

  it('KB-JWT with the wrong aud -> disclosure.wrong_audience', async () => {
    const presentation = await present(await issue(), ['email']);
    expect(await disclosureCodeOf(verifySdJwtPresentation(presentation, options({ audience: 'did:web:other.example' })))).toBe(
      'disclosure.wrong_audience',
    );
  });

  it('KB-JWT with the wrong nonce -> disclosure.nonce_mismatch', async () => {
    const presentation = await present(await issue(), ['email']);
    expect(await disclosureCodeOf(verifySdJwtPresentation(presentation, options({ nonce: 'another-nonce' })))).toBe('disclosure.nonce_mismatch');
    expect(await disclosureCodeOf(verifySdJwtPresentation(presentation, options({ nonce: '' })))).toBe('disclosure.nonce_mismatch');
  });

  it('KB-JWT iat outside [now - maxKbAge, now + skew] -> disclosure.key_binding_invalid', async () => {
    const sdJwt = await issue();
    const at = async (iat: number, o: Partial<VerifyOptions> = {}) =>
      disclosureCodeOf(verifySdJwtPresentation(await present(sdJwt, ['email'], { issuedAt: iat }), options(o)));
    expect(await at(NOW_S - 301)).toBe('disclosure.key_binding_invalid');
    expect(await at(NOW_S - 300)).toBe('resolved');
    expect(await at(NOW_S + 121)).toBe('disclosure.key_binding_invalid');
    expect(await at(NOW_S + 120)).toBe('resolved');
    expect(await at(NOW_S - 31, { maxKbAgeSeconds: 30 })).toBe('disclosure.key_binding_invalid');
    expect(await at(NOW_S + 11, { clockSkewSeconds: 10 })).toBe('disclosure.key_binding_invalid');
  });

  it('KB-JWT carrying the sd_hash of another presentation -> disclosure.key_binding_invalid', async () => {
    const sdJwt = await issue();
    const a = await present(sdJwt, ['email']);
    const b = await present(sdJwt, ['given_name']);
    const spliced = withoutKb(b) + a.slice(a.lastIndexOf('~') + 1);
    expect(await disclosureCodeOf(verifySdJwtPresentation(spliced, options()))).toBe('disclosure.key_binding_invalid');
  });

  it('issuer JWT signed by another key -> disclosure.signature_invalid', async () => {
    const presentation = await present(await issue(), ['email']);
    const [jwt = '', ...rest] = presentation.split('~');
    const [h = '', p = ''] = jwt.split('.');
    const forged = `${h}.${p}.${sign(null, Buffer.from(`${h}.${p}`, 'ascii'), stranger.key).toString('base64url')}`;
    expect(await disclosureCodeOf(verifySdJwtPresentation([forged, ...rest].join('~'), options()))).toBe('disclosure.signature_invalid');
    // Also when the forger re-binds the whole presentation.
    expect(await disclosureCodeOf(verifySdJwtPresentation(bind(craft({ key: stranger.key })), options()))).toBe('disclosure.signature_invalid');
  });

  it('iss not the DID of kid, kid not an authentication key, alg not EdDSA -> disclosure.signature_invalid', async () => {
    const cases = [
      craft({ payload: { iss: stranger.did } }), // signed by the issuer, claims to be someone else
      craft({ payload: { iss: stranger.did }, key: stranger.key }), // kid names the issuer, iss and key are the stranger's
      craft({ header: { kid: `${issuer.did}#key-99` } }),
      craft({ header: { kid: issuer.did } }),
      craft({ header: { kid: '#key-1' } }),
      craft({ header: { alg: 'none' } }),
      craft({ header: { alg: 'ES256' } }),
    ];
    for (const sdJwt of cases) {
      expect(await disclosureCodeOf(verifySdJwtPresentation(bind(sdJwt), options({ trustIssuer: () => true })))).toBe(
        'disclosure.signature_invalid',
      );
    }
  });

  it('DidError from resolving the issuer passes through unchanged', async () => {
    const didKey = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
    const sdJwt = craft({ header: { kid: `${didKey}#${didKey.slice(8)}` }, payload: { iss: didKey } });
    const error = await verifySdJwtPresentation(bind(sdJwt), options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DidError);
    expect((error as DidError).code).toBe('did.unsupported_method');
  });

  it('expired, not yet valid, or issued in the future -> disclosure.expired (with clock skew)', async () => {
    const at = async (o: Partial<IssueOptions>) => disclosureCodeOf(verifySdJwtPresentation(await present(await issue(o), ['email']), options()));
    expect(await at({ issuedAt: NOW_S - 7200, expiresAt: NOW_S - 3600 })).toBe('disclosure.expired');
    expect(await at({ issuedAt: NOW_S - 7200, expiresAt: NOW_S - 120 })).toBe('disclosure.expired');
    expect(await at({ issuedAt: NOW_S - 7200, expiresAt: NOW_S - 119 })).toBe('resolved');
    expect(await at({ issuedAt: NOW_S + 121 })).toBe('disclosure.expired');
    expect(await at({ issuedAt: NOW_S + 120 })).toBe('resolved');
    const nbf = async (n: number) => disclosureCodeOf(verifySdJwtPresentation(bind(craft({ payload: { nbf: n } })), options()));
    expect(await nbf(NOW_S + 121)).toBe('disclosure.expired');
    expect(await nbf(NOW_S + 120)).toBe('resolved');
  });

  it('untrusted issuer -> disclosure.untrusted_issuer, asked only after the signature verified', async () => {
    const presentation = await present(await issue(), ['email']);
    const asked: string[] = [];
    const distrust = options({ trustIssuer: (did) => (asked.push(did), false) });
    expect(await disclosureCodeOf(verifySdJwtPresentation(presentation, distrust))).toBe('disclosure.untrusted_issuer');
    expect(asked).toEqual([issuer.did]);
    asked.length = 0;
    expect(await disclosureCodeOf(verifySdJwtPresentation(bind(craft({ key: stranger.key })), distrust))).toBe('disclosure.signature_invalid');
    expect(asked).toEqual([]);
  });

  it('a disclosure outside allowedClaims -> disclosure.not_requested', async () => {
    const presentation = await present(await issue(), ['email', 'birthdate']);
    expect(await disclosureCodeOf(verifySdJwtPresentation(presentation, options({ allowedClaims: ['email'] })))).toBe(
      'disclosure.not_requested',
    );
    expect(await codeOf(verifySdJwtPresentation(presentation, options({ allowedClaims: ['email', 'birthdate', 'phone'] })))).toBe('resolved');
    expect(await disclosureCodeOf(verifySdJwtPresentation(presentation, options({ allowedClaims: [] })))).toBe('disclosure.not_requested');
  });

  it('wrong header typ, _sd_alg, vct, cnf, status, or nested / array-element disclosures -> disclosure.malformed', async () => {
    const cases: Array<[string, string]> = [
      ['typ JWT', bind(craft({ header: { typ: 'JWT' } }))],
      ['typ vc+sd-jwt', bind(craft({ header: { typ: 'vc+sd-jwt' } }))],
      ['crit', bind(craft({ header: { crit: ['x'] } }))],
      ['_sd_alg sha-512', bind(craft({ payload: { _sd_alg: 'sha-512' } }))],
      ['cnf X25519', bind(craft({ payload: { cnf: { jwk: generateKeyPair('X25519').publicJwk } } }))],
      ['no cnf', bind(craft({ payload: { cnf: undefined } }))],
      ['no iat', bind(craft({ payload: { iat: undefined } }))],
      ['status', bind(craft({ payload: { status: { status_list: { idx: 0, uri: 'https://example.org/sl' } } } }))],
      ['nested _sd', bind(craft({ payload: { address: { _sd: [sha256('x')] } } }))],
      ['array element', bind(craft({ payload: { nationalities: [{ '...': sha256('x') }] } }))],
      ['digest twice', bind(craft({ payload: { _sd: [sha256('x'), sha256('x')] } }))],
      ['2-element disclosure', bind(craft({ disclosures: [['c2FsdHNhbHRzYWx0c2FsdA', 'GB']] }))],
      ['4-element disclosure', bind(craft({ disclosures: [['c2FsdHNhbHRzYWx0c2FsdA', 'a', 1, 2]] }))],
      ['non-string name', bind(craft({ disclosures: [['c2FsdHNhbHRzYWx0c2FsdA', 7, 1]] }))],
      ['reserved name', bind(craft({ disclosures: [['c2FsdHNhbHRzYWx0c2FsdA', 'iss', stranger.did]] }))],
      ['overrides a plain claim', bind(craft({ payload: { email: 'plain@example.org' } }))],
      ['name twice', bind(craft({ disclosures: [['c2FsdHNhbHRzYWx0c2FsdA', 'a', 1], ['b3RoZXJzYWx0b3RoZXJzYQ', 'a', 2]] }))],
      ['nested value', bind(craft({ disclosures: [['c2FsdHNhbHRzYWx0c2FsdA', 'address', { _sd: [sha256('x')] }]] }))],
    ];
    for (const [name, presentation] of cases) {
      expect(await disclosureCodeOf(verifySdJwtPresentation(presentation, options())), name).toBe('disclosure.malformed');
    }
    const presentation = await present(await issue(), ['email']);
    expect(await disclosureCodeOf(verifySdJwtPresentation(presentation, options({ expectedVct: 'https://example.org/other' })))).toBe(
      'disclosure.malformed',
    );
    expect(await codeOf(verifySdJwtPresentation(presentation, options({ expectedVct: PROFILE_VCT })))).toBe('resolved');
  });

  it('nested disclosures issued through the library itself are refused as malformed', async () => {
    const lib = new SDJwtVcInstance({
      hasher: testHasher,
      saltGenerator: () => 'c2FsdHNhbHRzYWx0c2FsdA',
      signer: (data) => sign(null, Buffer.from(data, 'ascii'), issuer.key).toString('base64url'),
      signAlg: 'EdDSA',
    });
    const nested = await lib.issue(
      { iss: issuer.did, iat: NOW_S, vct: PROFILE_VCT, cnf: { jwk: holder.jwk }, address: { locality: 'London', country: 'GB' } },
      { _sd: ['address'], address: { _sd: ['locality'] } },
      { header: { kid: issuer.kid } },
    );
    expect(await disclosureCodeOf(verifySdJwtPresentation(bind(nested), options()))).toBe('disclosure.malformed');
  });

  it('reports the first failing step when several fail', async () => {
    const sdJwt = await issue({ issuedAt: NOW_S - 7200, expiresAt: NOW_S - 3600 });
    const everythingWrong = bind(addDisclosures(withoutKb(await present(sdJwt, ['email'])), b64json(['s', 'x', 1])), {
      key: stranger.key,
      payload: { aud: 'other', nonce: 'other', iat: NOW_S - 9999 },
    });
    const steps: Array<[Partial<VerifyOptions>, KithErrorCode]> = [
      [{}, 'disclosure.expired'],
      [{ trustIssuer: () => false }, 'disclosure.untrusted_issuer'],
      [{ now: (NOW_S - 5000) * 1000 }, 'disclosure.tampered'],
    ];
    for (const [o, code] of steps) expect(await disclosureCodeOf(verifySdJwtPresentation(everythingWrong, options(o)))).toBe(code);

    const fresh = await issue();
    const kbWrong = (payload: Record<string, unknown>) => bind(withoutKb(fresh), { payload });
    expect(await disclosureCodeOf(verifySdJwtPresentation(kbWrong({ aud: 'x', nonce: 'y', iat: NOW_S - 9999 }), options()))).toBe(
      'disclosure.key_binding_invalid',
    );
    expect(await disclosureCodeOf(verifySdJwtPresentation(kbWrong({ aud: 'x', nonce: 'y' }), options()))).toBe('disclosure.wrong_audience');
  });
});

describe('library cross-check', () => {
  it('maps library failures to our codes by the phase they happened in', () => {
    const e = (message: string) => new Error(message);
    expect(codeForLibraryFailure('decoding', e('Invalid JWT as input'))).toBe('disclosure.malformed');
    expect(codeForLibraryFailure('decoding', e('Verify Error: JWT is expired'))).toBe('disclosure.expired');
    expect(codeForLibraryFailure('issuer_rejected', e('Verify Error: Invalid JWT Signature'))).toBe('disclosure.signature_invalid');
    expect(codeForLibraryFailure('issuer_accepted', e('Key Binding JWT not exist'))).toBe('disclosure.key_binding_invalid');
    expect(codeForLibraryFailure('key_binding', e('Verify Error: Invalid Nonce'))).toBe('disclosure.nonce_mismatch');
    expect(codeForLibraryFailure('key_binding', e('Invalid sd_hash in Key Binding JWT'))).toBe('disclosure.key_binding_invalid');
  });

  it('wraps every library exception in a DisclosureError', async () => {
    const presentation = await present(await issue(), ['email']);
    const run = (p: string, o: Partial<Parameters<typeof verifyWithLibrary>[1]> = {}) =>
      disclosureCodeOf(
        verifyWithLibrary(p, { issuerJwk: issuer.jwk, holderJwk: holder.jwk, nowSeconds: NOW_S, skewSeconds: 0, nonce: NONCE, ...o }),
      );
    expect(await run(presentation)).toBe('resolved');
    expect(await run('garbage')).toBe('disclosure.malformed');
    expect(await run(presentation, { issuerJwk: stranger.jwk })).toBe('disclosure.signature_invalid');
    expect(await run(presentation, { holderJwk: stranger.jwk })).toBe('disclosure.key_binding_invalid');
    expect(await run(presentation, { nonce: 'other' })).toBe('disclosure.nonce_mismatch');
    expect(await run(presentation, { nonce: '' })).toBe('disclosure.nonce_mismatch');
    expect(await run(presentation, { nowSeconds: NOW_S + 10 * 86_400 })).toBe('disclosure.expired');
    expect(await run(withoutKb(presentation))).toBe('disclosure.key_binding_invalid');
  });
});

// ---------------------------------------------------------------------------------------------
// Self-issued presentations: the fast key binding (no library present) is byte-identical to it

describe('presentSelfIssued', () => {
  const self = createPeerIdentity().identity;
  const selfKey = signingKeyOf(self).privateKey;
  const selfIssue = (claims: Record<string, unknown>) =>
    issueSdJwt({ issuer: { did: self.did, kid: self.signing.kid, privateKey: selfKey }, holderPublicJwk: self.signing.publicJwk, vct: PROFILE_VCT, claims, issuedAt: NOW_S });
  const binding = { audience: AUDIENCE, nonce: NONCE, issuedAt: NOW_S };

  it.each([
    ['one claim', { address: CLAIMS.address }],
    ['every fixture claim', CLAIMS],
    ['integer-like and non-ASCII names and values', { '10': 'ten', '2': 2, straße: 'Fünfhaus ✓', emoji: '🙂' }],
    ['no claim', {}],
  ])('keyBindAll over %s is what presentSdJwt makes of the same credential, byte for byte', async (_name, claims) => {
    const issued = await selfIssue(claims);
    const viaLibrary = await presentSdJwt(issued, { disclose: Object.keys(claims), holderKey: selfKey, ...binding });
    expect(keyBindAll(issued, selfKey, binding)).toBe(viaLibrary);
  });

  it('verifies as a presentation of every claim, by Kith and by the library alone', async () => {
    const presentation = await presentSelfIssued(self, { email: 'ada@example.org', address: CLAIMS.address }, binding);
    const verified = await verifySdJwtPresentation(presentation, { resolver, audience: AUDIENCE, nonce: NONCE, now: NOW_MS, trustIssuer: (did) => did === self.did });
    expect(verified.disclosed).toEqual({ email: 'ada@example.org', address: CLAIMS.address });
    expect(verified.issuer).toBe(self.did);
    const libraryClaims = await verifyWithLibrary(presentation, { issuerJwk: self.signing.publicJwk, holderJwk: self.signing.publicJwk, nowSeconds: NOW_S, skewSeconds: 60, nonce: NONCE });
    expect(libraryClaims).toMatchObject({ email: 'ada@example.org', address: CLAIMS.address });
  });

  it.each([
    ['an empty audience', { audience: '' }],
    ['an empty nonce', { nonce: '' }],
    ['a fractional issuedAt', { issuedAt: NOW_S + 0.5 }],
  ])('refuses %s with disclosure.malformed', async (_name, override) => {
    await expect(presentSelfIssued(self, { email: 'a@b.example' }, { ...binding, ...override })).rejects.toMatchObject({ code: 'disclosure.malformed' });
  });
});

// ---------------------------------------------------------------------------------------------
// Issuance on node:crypto alone is what the library issues, byte for byte, given the same salts

describe('issueSdJwtWith', () => {
  const salts = () => {
    let i = 0;
    return (bytes: number) => Buffer.alloc(bytes, (i += 1)).toString('base64url');
  };
  const base = (claims: Record<string, unknown>, overrides: Partial<IssueOptions> = {}): IssueOptions => ({
    issuer: { did: issuer.did, kid: issuer.kid, privateKey: issuer.key },
    holderPublicJwk: holder.jwk,
    vct: PROFILE_VCT,
    claims,
    issuedAt: NOW_S,
    ...overrides,
  });
  async function viaLibrary(o: IssueOptions): Promise<string> {
    const visible = new Set(o.alwaysVisible ?? []);
    const instance = kithSdJwtVc({ signer: (data) => sign(null, Buffer.from(data), o.issuer.privateKey).toString('base64url'), saltGenerator: salts() });
    const payload: SdJwtVcPayload = {
      iss: o.issuer.did,
      iat: o.issuedAt,
      ...(o.expiresAt === undefined ? {} : { exp: o.expiresAt }),
      vct: o.vct,
      cnf: { jwk: { kty: o.holderPublicJwk.kty, crv: o.holderPublicJwk.crv, x: o.holderPublicJwk.x } },
      ...o.claims,
    };
    const frame = { _sd: Object.keys(o.claims).filter((name) => !visible.has(name)) } as unknown as Parameters<SDJwtVcInstance['issue']>[1];
    return instance.issue(payload, frame, { header: { kid: o.issuer.kid } });
  }

  it.each([
    ['every fixture claim', base(CLAIMS)],
    ['an expiry and claims always visible', base(CLAIMS, { expiresAt: NOW_S + 60, alwaysVisible: ['given_name', 'age_over_18'] })],
    ['integer-like and non-ASCII names and values', base({ '10': 'ten', '2': [2, null], straße: 'Fünfhaus ✓', emoji: '🙂', nested: { a: { b: [1, 'x'] } } })],
    ['no claim', base({})],
    ['only visible claims', base({ email: 'a@b.example' }, { alwaysVisible: ['email'] })],
  ])('%s', async (_name, o) => {
    expect(issueSdJwtWith(o, salts())).toBe(await viaLibrary(o));
  });

  it('issues fresh 128-bit salts each time', async () => {
    const one = await issue();
    const two = await issue();
    expect(one).not.toBe(two);
    const parsed = parseSdJwtForTest(one);
    expect(parsed.length).toBe(Object.keys(CLAIMS).length);
    for (const [salt] of parsed) expect(Buffer.from(salt, 'base64url')).toHaveLength(16);
  });
});

function parseSdJwtForTest(sdJwt: string): [string, string, unknown][] {
  return sdJwt
    .split('~')
    .slice(1, -1)
    .map((d) => unb64json(d) as [string, string, unknown]);
}
