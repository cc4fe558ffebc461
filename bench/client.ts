/**
 * The load driver, in its own process so its cost does not share the servers' event loop.
 *
 * `prepare`: makes its own pairwise did:peer:2 and packs every envelope up front (basicmessages of
 * ~200 characters, distinct ids, signed and anoncrypted to the company), so packing is never timed.
 * `run`: connects to one server, sends the warm-up envelopes, waits for `go`, then sends the
 * measured ones over `concurrency` keep-alive connections and reports throughput and latencies.
 * Every server receives the same envelopes.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../src/core/clock.js';
import { signingKeyOf, agreementKeyOf, createPeerIdentity } from '../src/protocol/agent/identity.js';
import { resolvePeer } from '../src/protocol/agent/peer.js';
import { buildMessage } from '../src/protocol/buildMessage.js';
import { createDidResolver } from '../src/protocol/did/resolver.js';
import { fastEngine } from '../src/protocol/envelope/fastEngine.js';
import { MEDIA_TYPE } from '../src/protocol/envelope/format.js';
import { packMessage } from '../src/protocol/envelope/pack.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, receiveMessage } from '../src/protocol/envelope/receive.js';
import { BasicMessage, Connect, createMessageRegistry } from '../src/protocol/families/index.js';
import type { ClientCommand, ClientEvent, RunResult } from './run.js';

const identity = createPeerIdentity().identity;
const resolver = createDidResolver();
const signer = signingKeyOf(identity);
let companyDid = '';
let warmup: Buffer[] = [];
let measured: Buffer[] = [];

const send = (event: ClientEvent) => process.send?.(event);

interface Target {
  port: number;
  agent: Agent;
}

function post(target: Target, path: string, body: Buffer, contentType: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { host: '127.0.0.1', port: target.port, path, method: 'POST', agent: target.agent, headers: { 'content-type': contentType, 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Ephemeral keys come from a pool of imported keys, passed as `fixed` with a fresh CEK and IV per
 * envelope, so packing never runs `generateKeyPairSync`. On Node 20, a GC inside the JWK export of
 * a key whose KeyGenJob is not yet collected runs that job's destructor, which blocks on the mutex
 * the export holds: the process hangs for good (seen here packing ~20,000 envelopes, see README).
 * Importing from PKCS#8 costs ~0.4 ms, so 1024 keys are reused in turn; the server gains nothing
 * from that, as fastEngine parses the `epk` of every envelope (it keeps no cache of them).
 */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const ephemeralKeys = Array.from({ length: 1024 }, () =>
  createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, randomBytes(32)]), format: 'der', type: 'pkcs8' }),
);
let packedCount = 0;
function encryptionMaterial() {
  const ephemeralPrivateKey = ephemeralKeys[packedCount++ % ephemeralKeys.length]!;
  return { ephemeralPrivateKey, cek: randomBytes(64), iv: randomBytes(16) };
}

async function pack(type: string, body: Record<string, unknown>, extras: { returnRoute?: 'all'; pthid?: string } = {}): Promise<{ id: string; packed: Buffer }> {
  const company = await resolvePeer(resolver, companyDid);
  const message = buildMessage({ type, from: identity.did, to: companyDid, body, ...extras }, systemClock);
  const packed = await packMessage({ message, signer, recipients: [company.agreementKey], engine: fastEngine, fixed: encryptionMaterial() });
  return { id: message.id, packed: Buffer.from(packed) };
}

async function prepare(count: number, warmupCount: number): Promise<number> {
  const started = performance.now();
  const filler = 'The quick brown fox jumps over the lazy dog. '.repeat(5);
  const envelopes: Buffer[] = [];
  for (let i = 0; i < count + warmupCount; i += 1) {
    const content = `#${String(i).padStart(6, '0')} ${filler}`.slice(0, 200);
    envelopes.push((await pack(BasicMessage.message.type, { content })).packed);
  }
  warmup = envelopes.slice(0, warmupCount);
  measured = envelopes.slice(warmupCount);
  return (performance.now() - started) / 1000;
}

/** The one real DIDComm exchange: connect/request with return_route, answered by a connect/response. */
async function connectKith(target: Target): Promise<void> {
  const { id, packed } = await pack(Connect.request.type, {}, { returnRoute: 'all', pthid: `${companyDid.slice(-16)}-invitation` });
  const answer = await post(target, '/didcomm', packed, MEDIA_TYPE.encrypted);
  if (answer.status !== 200) throw new Error(`connect failed: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
  const agreementKey = agreementKeyOf(identity);
  const reply = await receiveMessage(answer.body, {
    maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
    engine: fastEngine,
    resolver,
    registry: createMessageRegistry(),
    clock: systemClock,
    clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
    findRecipientKey: (kid) => (kid === agreementKey.kid ? agreementKey : undefined),
    hasSeen: () => false,
  });
  if (reply.message.type !== Connect.response.type || reply.message.thid !== id) throw new Error('no connect/response to our request');
}

/** The baseline has no protocol: it is told the signer's public key once. */
async function connectBaseline(target: Target): Promise<void> {
  const body = Buffer.from(JSON.stringify({ kid: identity.signing.kid, x: identity.signing.publicJwk.x }));
  const answer = await post(target, '/connect', body, 'application/json');
  if (answer.status !== 200) throw new Error(`baseline connect failed: HTTP ${answer.status}`);
}

/** Sends the envelopes over `concurrency` connections, round-robin over the targets (several processes of one company). */
async function drive(targets: Target[], envelopes: Buffer[], concurrency: number) {
  const latencies = new Float64Array(envelopes.length);
  let next = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const worker = async () => {
    while (next < envelopes.length) {
      const i = next++;
      const started = performance.now();
      const answer = await post(targets[i % targets.length]!, '/didcomm', envelopes[i]!, MEDIA_TYPE.encrypted);
      latencies[i] = performance.now() - started;
      if (answer.status !== 202) {
        failures += 1;
        firstFailure ??= `HTTP ${answer.status} ${answer.body.slice(0, 300)}`;
      }
    }
  };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort();
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { seconds, p50: at(0.5), p99: at(0.99), failures, firstFailure, clientCpu: (cpu.user + cpu.system) / 1e6 / seconds };
}

async function run(ports: number[], kind: 'kith' | 'baseline', concurrency: number): Promise<RunResult> {
  const targets: Target[] = ports.map((port) => ({ port, agent: new Agent({ keepAlive: true, maxSockets: Math.ceil(concurrency / ports.length) }) }));
  try {
    // One company: connecting through one of its processes is enough (they share the store).
    await (kind === 'kith' ? connectKith(targets[0]!) : connectBaseline(targets[0]!));
    const warm = await drive(targets, warmup, concurrency);
    if (warm.failures > 0) throw new Error(`warm-up: ${warm.failures} failed, first: ${warm.firstFailure}`);
    send({ type: 'warmed' });
    await new Promise<void>((resolveGo) => process.once('message', () => resolveGo()));
    const { firstFailure, ...result } = await drive(targets, measured, concurrency);
    return { messages: measured.length, ...result, ...(firstFailure ? { firstFailure } : {}) };
  } finally {
    for (const target of targets) target.agent.destroy();
  }
}

process.on('message', (command: ClientCommand) => {
  const task = async (): Promise<ClientEvent | undefined> => {
    if (command.type === 'prepare') {
      companyDid = command.companyDid;
      return { type: 'prepared', seconds: await prepare(command.messages, command.warmup) };
    }
    if (command.type === 'run') return { type: 'result', result: await run(command.ports, command.kind, command.concurrency) };
    if (command.type === 'exit') process.exit(0);
    return undefined;
  };
  task().then(
    (event) => event && send(event),
    (error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
});
