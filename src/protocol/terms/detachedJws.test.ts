import { sign, verify } from 'node:crypto';
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { createPeerIdentity, signingKeyOf } from '../agent/identity.js';
import { publicKeyObject } from '../keys.js';
import { jcs, parseDetached, signDetached, verifyDetached } from './detachedJws.js';

// ---------------------------------------------------------------------------------------------
// RFC 8785 (JCS): the behaviour rosters and agreement records rely on, checked against the RFC's
// own examples so that a change of the `canonicalize` package cannot slip past.

/** A float64 from its IEEE 754 bit pattern, as RFC 8785 appendix B lists them. */
function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('JCS (RFC 8785) through canonicalize', () => {
  it('sorts members by UTF-16 code units, recursively, and drops all whitespace (RFC 8785 §3.2.3)', () => {
    const input = JSON.parse(String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`) as unknown;
    // The emoji (a surrogate pair, D83D DE00) sorts before U+FB33 by code unit, though after it by
    // code point; "1" comes after "\r" although JavaScript lists integer-like keys first.
    expect(jcs(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    expect(jcs({ b: [3, { z: 1, a: { y: true, x: null } }], a: 'x' })).toBe('{"a":"x","b":[3,{"a":{"x":null,"y":true},"z":1}]}');
  });

  it('gives the RFC 8785 §3.2.2 example byte for byte', () => {
    const input = JSON.parse(String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`) as unknown;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    expect(jcs(input)).toBe(expected);
    // The UTF-8 bytes are what gets signed: € is three bytes.
    const bytes = Buffer.from(jcs(input), 'utf8');
    const at = Buffer.byteLength(expected.slice(0, expected.indexOf('€')), 'utf8');
    expect(bytes.subarray(at, at + 3)).toEqual(Buffer.from([0xe2, 0x82, 0xac]));
    expect(bytes.length).toBe(expected.length + 2);
  });

  it('formats numbers as ECMAScript does (RFC 8785 §3.2.2.3, appendix B)', () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'], // -0
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af6', '1e+23'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['41b3de4355555555', '333333333.3333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, text] of cases) expect(jcs([fromBits(bits)]), bits).toBe(`[${text}]`);
    expect(jcs({ a: 1e21, b: 1e20, c: 0.1, d: 4.5, e: 2e-7, f: 100 })).toBe('{"a":1e+21,"b":100000000000000000000,"c":0.1,"d":4.5,"e":2e-7,"f":100}');
  });

  it('keeps non-ASCII characters as they are and escapes only what JSON must (RFC 8785 §3.2.2.2)', () => {
    expect(jcs({ s: 'é€😀\u2028\u007f' })).toBe('{"s":"é€😀\u2028\u007f"}');
    expect(jcs({ s: '\u0000\u0008\t\n\f\r\u001f"\\/' })).toBe(String.raw`{"s":"\u0000\b\t\n\f\r\u001f\"\\/"}`);
    // Unicode is not normalised: é precomposed and decomposed stay two different values.
    expect(jcs({ s: '\u00e9' })).not.toBe(jcs({ s: 'e\u0301' }));
  });

  it('refuses what JSON cannot carry exactly: NaN, Infinity, lone surrogates, nothing', () => {
    for (const bad of [[Number.NaN], [Number.POSITIVE_INFINITY], { x: Number.NEGATIVE_INFINITY }, { s: '\ud800' }, { s: 'a\udc00b' }, undefined, () => 1]) {
      expect(() => jcs(bad)).toThrow(TypeError);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => jcs(cyclic)).toThrow(TypeError);
  });

  it('is the same whatever the input spelling or member order', () => {
    const a = JSON.parse('{ "b" : 1.50, "a" : [ 1E2 , "\\u0041" ] }') as unknown;
    const b = JSON.parse('{"a":[100,"A"],"b":1.5}') as unknown;
    expect(jcs(a)).toBe(jcs(b));
    expect(jcs(a)).toBe(canonicalize(b));
  });
});

// ---------------------------------------------------------------------------------------------
// Detached compact JWS

describe('detached JWS over JCS bytes', () => {
  const { identity } = createPeerIdentity();
  const signer = signingKeyOf(identity);
  const payload = { b: 2, a: 'één' };

  it('is BASE64URL(header)..signature, header exactly {alg, kid}, signed over header.BASE64URL(JCS)', () => {
    const jws = signDetached(payload, signer);
    const [h, p, s] = jws.split('.');
    expect(p).toBe('');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString('utf8'))).toEqual({ alg: 'EdDSA', kid: identity.signing.kid });
    // Checked from the definition, with node:crypto directly.
    const input = `${h}.${Buffer.from('{"a":"één","b":2}', 'utf8').toString('base64url')}`;
    expect(verify(null, Buffer.from(input, 'ascii'), publicKeyObject(identity.signing.publicJwk), Buffer.from(s!, 'base64url'))).toBe(true);
    const parsed = parseDetached(jws)!;
    expect(verifyDetached(parsed, { a: 'één', b: 2 }, identity.signing.publicJwk)).toBe(true);
    expect(verifyDetached(parsed, { a: 'één', b: 3 }, identity.signing.publicJwk)).toBe(false);
    expect(verifyDetached(parsed, { a: Number.NaN }, identity.signing.publicJwk)).toBe(false);
    expect(verifyDetached(parsed, payload, createPeerIdentity().identity.signing.publicJwk)).toBe(false);
  });

  it('is deterministic (Ed25519 and JCS both are)', () => {
    expect(signDetached(payload, signer)).toBe(signDetached({ a: 'één', b: 2 }, signer));
  });

  it('refuses malformed JWS and headers other than exactly {alg: EdDSA, kid}', () => {
    const jws = signDetached(payload, signer);
    const [h, , s] = jws.split('.') as [string, string, string];
    const header = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    const kid = identity.signing.kid;
    for (const bad of [
      '',
      `${h}.${s}`,
      `${h}.x.${s}`,
      `${h}..${s}.`,
      `.${''}.${s}`,
      `${h}..`,
      `${h}=..${s}`,
      `${header({ alg: 'ES256', kid })}..${s}`,
      `${header({ alg: 'EdDSA', kid, b64: false })}..${s}`,
      `${header({ alg: 'EdDSA', kid, crit: ['exp'] })}..${s}`,
      `${header({ alg: 'EdDSA' })}..${s}`,
      `${header({ alg: 'EdDSA', kid: identity.did })}..${s}`,
      `${Buffer.from('not json').toString('base64url')}..${s}`,
    ]) {
      expect(parseDetached(bad), bad).toBeUndefined();
    }
    // Header member order is free (it is signed as sent), but the signature is over the sent bytes.
    const reordered = `${header({ kid, alg: 'EdDSA' })}..${s}`;
    expect(verifyDetached(parseDetached(reordered)!, payload, identity.signing.publicJwk)).toBe(false);
    const input = `${header({ kid, alg: 'EdDSA' })}.${Buffer.from(jcs(payload)).toString('base64url')}`;
    const resigned = `${header({ kid, alg: 'EdDSA' })}..${sign(null, Buffer.from(input), signer.privateKey).toString('base64url')}`;
    expect(verifyDetached(parseDetached(resigned)!, payload, identity.signing.publicJwk)).toBe(true);
  });
});
