/**
 * The cryptography a Kith envelope needs, done with raw node:crypto and nothing else: the floor the
 * benchmarks compare Kith with. An envelope is a JWS (EdDSA, general JSON) inside a JWE anoncrypt
 * (ECDH-ES+A256KW with a fresh X25519 ephemeral key, A256CBC-HS512), as Kith packs it; an SD-JWT
 * carries two more Ed25519 signatures (the issuer's and the key binding). No schemas, no DID
 * resolution, no replay check, no storage.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';

const AES_KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
const ALG_ID = Buffer.from('\0\0\0\x0eECDH-ES+A256KW', 'latin1');
const b64 = (value: Buffer | string) => Buffer.from(value).toString('base64url');

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

/** Concat KDF (RFC 7518 4.6.2), one SHA-256 round: round | Z | alg | apu (empty) | apv | 256. */
function kekOf(shared: Buffer, apv: Buffer): Buffer {
  return createHash('sha256').update(u32(1)).update(shared).update(ALG_ID).update(u32(0)).update(u32(apv.length)).update(apv).update(u32(256)).digest();
}

function tagOf(macKey: Buffer, aad: Buffer, iv: Buffer, ciphertext: Buffer): Buffer {
  const aadBits = Buffer.alloc(8);
  aadBits.writeBigUInt64BE(BigInt(aad.length) * 8n);
  return createHmac('sha512', macKey).update(aad).update(iv).update(ciphertext).update(aadBits).digest().subarray(0, 32);
}

export interface RawSigner {
  kid: string;
  privateKey: KeyObject;
}

export interface RawKeys {
  signing: RawSigner & { publicKey: KeyObject };
  agreement: { kid: string; privateKey: KeyObject; publicKey: KeyObject };
}

/** An Ed25519 signing key and an X25519 agreement key, as one pairwise identity has. */
export function rawKeys(name: string): RawKeys {
  const signing = generateKeyPairSync('ed25519');
  const agreement = generateKeyPairSync('x25519');
  return { signing: { kid: `${name}#sig`, ...signing }, agreement: { kid: `${name}#agree`, ...agreement } };
}

/** A compact JWS (EdDSA) over `payload`: what an SD-JWT's issuer signature and key binding each cost. */
export function compactJws(payload: unknown, signer: RawSigner): string {
  const input = `${b64(JSON.stringify({ alg: 'EdDSA', kid: signer.kid }))}.${b64(JSON.stringify(payload))}`;
  return `${input}.${b64(sign(null, Buffer.from(input), signer.privateKey))}`;
}

/** Checks a compact JWS by `publicKey`; throws when it does not verify. */
export function verifyCompactJws(jws: string, publicKey: KeyObject): unknown {
  const [header, payload, signature] = jws.split('.');
  if (!verify(null, Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature ?? '', 'base64url'))) throw new Error('bad signature');
  return JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
}

/** Signs `payload` (JWS, general JSON) and encrypts it to `recipient` (JWE anoncrypt). */
export function seal(payload: unknown, signer: RawSigner, recipient: { kid: string; publicKey: KeyObject }): string {
  const jwsPayload = b64(JSON.stringify(payload));
  const jwsProtected = b64(JSON.stringify({ typ: 'application/didcomm-signed+json', alg: 'EdDSA' }));
  const signature = b64(sign(null, Buffer.from(`${jwsProtected}.${jwsPayload}`), signer.privateKey));
  const plaintext = Buffer.from(JSON.stringify({ payload: jwsPayload, signatures: [{ protected: jwsProtected, signature, header: { kid: signer.kid } }] }));

  const ephemeral = generateKeyPairSync('x25519');
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.publicKey });
  const apv = createHash('sha256').update(recipient.kid).digest();
  // DER, not JWK: on Node 20 a GC during the JWK export of a fresh key can deadlock (src/protocol/keys.ts); it hung this bench.
  const epk = { x: b64(ephemeral.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)) };
  const protectedHeader = b64(JSON.stringify({ typ: 'application/didcomm-encrypted+json', alg: 'ECDH-ES+A256KW', enc: 'A256CBC-HS512', apv: b64(apv), epk: { kty: 'OKP', crv: 'X25519', x: epk.x } }));
  const cek = randomBytes(64);
  const wrap = createCipheriv('id-aes256-wrap', kekOf(shared, apv), AES_KW_IV);
  const encryptedKey = Buffer.concat([wrap.update(cek), wrap.final()]);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', cek.subarray(32, 64), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = tagOf(cek.subarray(0, 32), Buffer.from(protectedHeader, 'ascii'), iv, ciphertext);
  return JSON.stringify({ protected: protectedHeader, recipients: [{ header: { kid: recipient.kid }, encrypted_key: b64(encryptedKey) }], iv: b64(iv), ciphertext: b64(ciphertext), tag: b64(tag) });
}

/** Decrypts one envelope with `agreementKey` and verifies its signature by the signer `signerOf` names; throws on any failure. */
export function open(body: Buffer | string, agreementKey: KeyObject, signerOf: (kid: string) => KeyObject | undefined): unknown {
  const jwe = JSON.parse(body.toString());
  const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8'));
  const epk = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: header.epk.x }, format: 'jwk' });
  const shared = diffieHellman({ privateKey: agreementKey, publicKey: epk });
  const unwrap = createDecipheriv('id-aes256-wrap', kekOf(shared, Buffer.from(header.apv, 'base64url')), AES_KW_IV);
  const cek = Buffer.concat([unwrap.update(Buffer.from(jwe.recipients[0].encrypted_key, 'base64url')), unwrap.final()]);
  const iv = Buffer.from(jwe.iv, 'base64url');
  const ciphertext = Buffer.from(jwe.ciphertext, 'base64url');
  if (!timingSafeEqual(tagOf(cek.subarray(0, 32), Buffer.from(jwe.protected, 'ascii'), iv, ciphertext), Buffer.from(jwe.tag, 'base64url'))) throw new Error('tag mismatch');
  const decipher = createDecipheriv('aes-256-cbc', cek.subarray(32, 64), iv);
  const jws = JSON.parse(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8'));
  const signature = jws.signatures[0];
  const signer = signerOf(signature.header.kid);
  if (!signer) throw new Error('unknown signer');
  if (!verify(null, Buffer.from(`${signature.protected}.${jws.payload}`), signer, Buffer.from(signature.signature, 'base64url'))) throw new Error('bad signature');
  return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8'));
}
