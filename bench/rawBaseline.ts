/**
 * The fan-out's raw-crypto baseline (issue 15): per company, the signatures, key agreements and
 * encryptions a profile update needs, on raw node:crypto (bench/rawCrypto.ts), over bare node:http
 * to listeners that do the company's checks and answer with a signed, encrypted ack
 * (bench/rawListeners.ts), which she decrypts and verifies. Her side per company: the SD-JWT's two
 * signatures (issuer, key binding), the envelope's signature and encryption, the ack's decryption
 * and verification. What Kith adds on top of this is its own cost: schemas, DID resolution, the
 * vault, consent and delivery records.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID, type KeyObject } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createPublicKey } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { chunks, inParallel, timedRounds } from './measure.js';
import { compactJws, open, rawKeys, seal, type RawKeys } from './rawCrypto.js';
import type { RawListener, RawListenersEvent, RawListenersStart } from './rawListeners.js';

export interface RawBaselineResult {
  rawMs: number[];
  /** Her process's CPU per change (ms). */
  herRawCpuMs: number;
  /** The listeners' CPU per change (ms), from /proc. */
  rawCompanyCpuMs: number | undefined;
}

function post(agent: Agent, port: number, body: string): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/didcomm', method: 'POST', agent, headers: { 'content-type': 'application/didcomm-encrypted+json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () => (res.statusCode === 200 ? resolvePromise(Buffer.concat(parts)) : reject(new Error(`HTTP ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Company {
  listener: RawListener;
  mine: RawKeys;
  signing: KeyObject;
  agreement: { kid: string; publicKey: KeyObject };
}

/** One change to every company: her per-company cryptography, the POST, the ack opened and checked; returns ms. */
async function changeOnce(companies: Company[], agent: Agent, concurrency: number, version: number, filler: string): Promise<number> {
  const started = performance.now();
  await inParallel(companies, concurrency, async (company) => {
    const { mine } = company;
    const issuer = compactJws({ iss: mine.signing.kid, vct: 'profile', _sd: [filler.slice(0, 43)], cnf: { kid: mine.signing.kid } }, mine.signing);
    const kb = compactJws({ aud: company.listener.signingKid, nonce: randomUUID(), iat: Math.floor(Date.now() / 1000) }, mine.signing);
    const envelope = seal({ id: randomUUID(), type: 'profile-update/notice', body: { version, fields: ['address'], issuer, kb, filler } }, mine.signing, company.agreement);
    const reply = await post(agent, company.listener.port, envelope);
    open(reply, mine.agreement.privateKey, (kid) => (kid === company.listener.signingKid ? company.signing : undefined));
  });
  return performance.now() - started;
}

/**
 * Measures the raw-crypto baseline for N companies laid out like the fleet (`perProcess` listeners
 * per process), her envelopes padded to about `noticeBytes`.
 */
export async function measureRawBaseline(options: { n: number; perProcess: number; noticeBytes: number; concurrency: number; repetitions: number; forkListeners(): ChildProcess }): Promise<RawBaselineResult> {
  const companies: Company[] = [];
  const pids: (number | undefined)[] = [];
  for (const count of chunks(options.n, options.perProcess)) {
    const mine = Array.from({ length: count }, (_, i) => rawKeys(`did:example:her-${companies.length + i}`));
    const child = options.forkListeners();
    pids.push(child.pid);
    const listeners = await new Promise<RawListener[]>((resolvePromise, reject) => {
      child.once('message', (event: RawListenersEvent) => resolvePromise(event.listeners));
      child.once('exit', (code) => reject(new Error(`raw listeners exited (${code})`)));
      child.send({
        hers: mine.map((k) => ({ signingKid: k.signing.kid, signingX: k.signing.publicKey.export({ format: 'jwk' }).x!, agreementKid: k.agreement.kid, agreementX: k.agreement.publicKey.export({ format: 'jwk' }).x! })),
      } satisfies RawListenersStart);
    });
    listeners.forEach((listener, i) =>
      companies.push({
        listener,
        mine: mine[i]!,
        signing: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: listener.signingX }, format: 'jwk' }),
        agreement: { kid: listener.agreementKid, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: listener.agreementX }, format: 'jwk' }) },
      }),
    );
  }
  // Her envelope padded to Kith's notice size: base64url twice (the JWS payload, then the JWE) inflates by 16/9.
  const probe = seal({ id: randomUUID(), type: 'profile-update/notice', body: { version: 0, fields: ['address'], issuer: 'x'.repeat(300), kb: 'x'.repeat(250), filler: '' } }, companies[0]!.mine.signing, companies[0]!.agreement);
  const filler = 'a'.repeat(Math.max(0, Math.floor(((options.noticeBytes - probe.length) * 9) / 16)));
  const agent = new Agent({ keepAlive: true });
  try {
    for (let w = 0; w < 3; w += 1) await changeOnce(companies, agent, options.concurrency, w, filler);
    const raw = await timedRounds(options.repetitions, pids, (r) => changeOnce(companies, agent, options.concurrency, 10 + r, filler));
    return { rawMs: raw.ms, herRawCpuMs: raw.herCpuMs, rawCompanyCpuMs: raw.otherCpuMs };
  } finally {
    agent.destroy();
  }
}
