/**
 * The raw-crypto fan-out baseline's other end: `count` bare node:http listeners in one process, each
 * a company that does, with raw node:crypto only (bench/rawCrypto.ts), what a Kith company must do
 * with her profile update: decrypt the envelope, verify its signature and the SD-JWT's two (issuer
 * and key binding), then sign and encrypt an acknowledgement to her. No schemas, no DID resolution,
 * no replay check, no storage.
 *
 * Run by bench/rawBaseline.ts with `fork`: told her public keys for each listener, it answers with
 * each listener's port and public keys.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { open, rawKeys, seal, verifyCompactJws } from './rawCrypto.js';

export interface RawListenersStart {
  /** Per listener: her pairwise keys for that company (public halves, JWK x). */
  hers: { signingKid: string; signingX: string; agreementKid: string; agreementX: string }[];
}
export interface RawListener {
  port: number;
  signingKid: string;
  signingX: string;
  agreementKid: string;
  agreementX: string;
}
export type RawListenersEvent = { type: 'listening'; listeners: RawListener[] };

const okp = (crv: 'Ed25519' | 'X25519', x: string): KeyObject => createPublicKey({ key: { kty: 'OKP', crv, x }, format: 'jwk' });

process.once('message', (start: RawListenersStart) => {
  const servers: Server[] = [];
  const listening = start.hers.map(
    (her, i) =>
      new Promise<RawListener>((done, reject) => {
        const company = rawKeys(`did:example:company-${i}`);
        const herSigning = okp('Ed25519', her.signingX);
        const herAgreement = { kid: her.agreementKid, publicKey: okp('X25519', her.agreementX) };
        const server = createServer((request, response) => {
          const chunks: Buffer[] = [];
          request.on('data', (chunk: Buffer) => chunks.push(chunk));
          request.on('end', () => {
            try {
              const message = open(Buffer.concat(chunks), company.agreement.privateKey, (kid) => (kid === her.signingKid ? herSigning : undefined)) as { id: string; body: { version: number; issuer: string; kb: string } };
              verifyCompactJws(message.body.issuer, herSigning);
              verifyCompactJws(message.body.kb, herSigning);
              const ack = seal({ type: 'ack', thid: message.id, body: { version: message.body.version, applied: true } }, company.signing, herAgreement);
              response.writeHead(200, { 'content-type': 'application/didcomm-encrypted+json' }).end(ack);
            } catch {
              response.writeHead(400).end();
            }
          });
        });
        servers.push(server);
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () =>
          done({
            port: (server.address() as AddressInfo).port,
            signingKid: company.signing.kid,
            signingX: company.signing.publicKey.export({ format: 'jwk' }).x!,
            agreementKid: company.agreement.kid,
            agreementX: company.agreement.publicKey.export({ format: 'jwk' }).x!,
          }),
        );
      }),
  );
  void Promise.all(listening).then((listeners) => process.send?.({ type: 'listening', listeners } satisfies RawListenersEvent));
  process.on('message', (command: { type: 'stop' }) => {
    if (command.type !== 'stop') return;
    for (const server of servers) server.closeAllConnections();
    void Promise.all(servers.map((server) => new Promise((done) => server.close(done)))).then(() => process.exit(0));
  });
});
