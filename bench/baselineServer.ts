/**
 * The baseline: a bare node:http server doing only the raw node:crypto work a DIDComm anoncrypt
 * (ECDH-ES+A256KW, A256CBC-HS512) over a JWS (EdDSA) needs, then answering 202. No framework, no
 * schema checks, no DID resolution, no replay check, no storage: the floor Kith is compared with.
 *
 * Run by bench/run.ts with `fork`; it receives the company identity over IPC and reports its port.
 * `POST /connect {kid, x}` registers the sender's Ed25519 key (the bench's stand-in for resolving it).
 */
import {
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerCommand, ServerEvent, ServerStart } from './run.js';

const AES_KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
const ALG_ID = Buffer.from('\0\0\0\x0eECDH-ES+A256KW', 'latin1');
const signerKeys = new Map<string, KeyObject>();
let agreementKey: KeyObject;

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

/** Decrypts and verifies one envelope; throws on any failure. */
function open(body: Buffer): unknown {
  const jwe = JSON.parse(body.toString('utf8'));
  const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8'));
  const epk = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: header.epk.x }, format: 'jwk' });
  const shared = diffieHellman({ privateKey: agreementKey, publicKey: epk });
  // Concat KDF (RFC 7518 4.6.2), one SHA-256 round: round | Z | alg | apu (empty) | apv | 256.
  const apv = Buffer.from(header.apv, 'base64url');
  const kek = createHash('sha256').update(u32(1)).update(shared).update(ALG_ID).update(u32(0)).update(u32(apv.length)).update(apv).update(u32(256)).digest();
  const unwrap = createDecipheriv('id-aes256-wrap', kek, AES_KW_IV);
  const cek = Buffer.concat([unwrap.update(Buffer.from(jwe.recipients[0].encrypted_key, 'base64url')), unwrap.final()]);
  const aad = Buffer.from(jwe.protected, 'ascii');
  const iv = Buffer.from(jwe.iv, 'base64url');
  const ciphertext = Buffer.from(jwe.ciphertext, 'base64url');
  const aadBits = Buffer.alloc(8);
  aadBits.writeBigUInt64BE(BigInt(aad.length) * 8n);
  const tag = createHmac('sha512', cek.subarray(0, 32)).update(aad).update(iv).update(ciphertext).update(aadBits).digest().subarray(0, 32);
  if (!timingSafeEqual(tag, Buffer.from(jwe.tag, 'base64url'))) throw new Error('tag mismatch');
  const decipher = createDecipheriv('aes-256-cbc', cek.subarray(32, 64), iv);
  const jws = JSON.parse(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8'));
  const signature = jws.signatures[0];
  const signer = signerKeys.get(signature.header.kid);
  if (!signer) throw new Error('unknown signer');
  const signed = Buffer.from(`${signature.protected}.${jws.payload}`);
  if (!verify(null, signed, signer, Buffer.from(signature.signature, 'base64url'))) throw new Error('bad signature');
  return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8'));
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    try {
      const body = Buffer.concat(chunks);
      if (request.url === '/connect') {
        const { kid, x } = JSON.parse(body.toString('utf8')) as { kid: string; x: string };
        signerKeys.set(kid, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
        response.writeHead(200).end();
        return;
      }
      open(body);
      response.writeHead(202).end();
    } catch {
      response.writeHead(400).end();
    }
  });
}

const send = (event: ServerEvent) => process.send?.(event);

process.once('message', (start: ServerStart) => {
  const jwk = start.identity.agreement.privateJwk;
  agreementKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', x: jwk.x, d: jwk.d }, format: 'jwk' });
  const server = createServer(handle);
  server.listen(0, '127.0.0.1', () => {
    send({ type: 'listening', port: (server.address() as AddressInfo).port });
    process.on('message', (command: ServerCommand) => {
      if (command.type === 'cpu') send({ type: 'cpu', usage: process.cpuUsage() });
      if (command.type === 'stop') {
        server.closeAllConnections();
        server.close(() => process.exit(0));
      }
    });
  });
});
