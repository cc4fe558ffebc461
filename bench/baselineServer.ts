/**
 * The baseline: a bare node:http server doing only the raw node:crypto work a DIDComm anoncrypt
 * (ECDH-ES+A256KW, A256CBC-HS512) over a JWS (EdDSA) needs, then answering 202. No framework, no
 * schema checks, no DID resolution, no replay check, no storage: the floor Kith is compared with.
 *
 * Run by bench/run.ts with `fork`; it receives the company identity over IPC and reports its port.
 * `POST /connect {kid, x}` registers the sender's Ed25519 key (the bench's stand-in for resolving it).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { open as openEnvelope } from './rawCrypto.js';
import type { ServerCommand, ServerEvent, ServerStart } from './run.js';

const signerKeys = new Map<string, KeyObject>();
let agreementKey: KeyObject;

/** Decrypts and verifies one envelope (bench/rawCrypto.ts); throws on any failure. */
const open = (body: Buffer): unknown => openEnvelope(body, agreementKey, (kid) => signerKeys.get(kid));

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
