import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { z } from 'zod';
import { presentError } from './errorTable.js';
import type { KithErrorCode } from './errors.js';

/**
 * What one agent's HTTP server will put up with from its clients: deadlines (a slow client must not
 * hold a connection forever), sizes (a huge body is refused before it is read), and budgets (one
 * address cannot take the whole server; the whole server does not take more than it can finish).
 * Both agents use it through `listen()`; docs/deploy.md ("Limits") says what each is for and what a
 * deployment behind a load balancer sets instead.
 */
export const httpLimitsSchema = z
  .object({
    /** Whole request head within this (node:http headersTimeout): cuts headers trickled a byte at a time. */
    headersTimeoutMs: z.number().int().min(100).max(300_000).default(10_000),
    /** Whole request, head and body, within this (node:http requestTimeout); node answers 408. */
    requestTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** An idle kept-alive connection is closed after this (node:http keepAliveTimeout). */
    keepAliveTimeoutMs: z.number().int().min(100).max(600_000).default(5_000),
    /** A body not complete this long after its head is cut: 408 if an answer can still be written, then closed. */
    bodyTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    /** After the first `bodyGraceMs`, a body arriving slower than this on average is cut the same way. */
    minBodyBytesPerSecond: z.number().int().min(0).max(100 * 1024 * 1024).default(1024),
    bodyGraceMs: z.number().int().min(0).max(600_000).default(2_000),
    /** No body on any route is larger: a declared Content-Length over it is answered 413 before a byte is read. */
    maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    /** Requests one kept-alive connection may carry (node:http maxRequestsPerSocket); then it is closed. */
    maxRequestsPerConnection: z.number().int().min(1).max(1_000_000).default(1_000),
    /** Requests being worked on at once; one more is answered 503 with Retry-After (the queue is bounded). */
    maxInFlight: z.number().int().min(1).max(100_000).default(256),
    /** Per remote address: token buckets of requests and bytes, refilled per second up to the burst; over: 429 with Retry-After. */
    perPeer: z
      .object({
        requestsPerSecond: z.number().min(0.1).max(1_000_000).default(100),
        requestBurst: z.number().int().min(1).max(10_000_000).default(500),
        bytesPerSecond: z.number().int().min(1024).max(10 * 1024 * 1024 * 1024).default(8 * 1024 * 1024),
        byteBurst: z.number().int().min(1024).max(100 * 1024 * 1024 * 1024).default(32 * 1024 * 1024),
        /** At most this many addresses are tracked; buckets that refilled are forgotten first. */
        maxPeers: z.number().int().min(1).max(10_000_000).default(10_000),
      })
      .strict()
      .prefault({}),
    /** What a 503 asks the client to wait (seconds). */
    overloadedRetryAfterSeconds: z.number().int().min(1).max(3600).default(1),
  })
  .strict();
export type HttpLimits = z.infer<typeof httpLimitsSchema>;
export type HttpLimitsInput = z.input<typeof httpLimitsSchema>;

export const DEFAULT_HTTP_LIMITS: HttpLimits = httpLimitsSchema.parse({});

/** Counts of what the guard refused or cut, for tests, the bench and metrics. */
export interface HttpLimitCounts {
  rateLimited: number;
  overloaded: number;
  tooLarge: number;
  bodyTimeouts: number;
}

interface Bucket {
  tokens: number;
  bytes: number;
  at: number;
}

/**
 * Token buckets per remote address. A request takes one token and its declared size in bytes; bytes
 * it read beyond that (chunked bodies, headers) are charged when it ends, so the next one waits.
 */
export class PeerBudgets {
  private readonly buckets = new Map<string, Bucket>();
  constructor(
    private readonly limits: HttpLimits['perPeer'],
    private readonly now: () => number = Date.now,
  ) {}

  private bucket(peer: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(peer);
    if (!bucket) {
      if (this.buckets.size >= this.limits.maxPeers) this.forget();
      bucket = { tokens: this.limits.requestBurst, bytes: this.limits.byteBurst, at: now };
      this.buckets.set(peer, bucket);
      return bucket;
    }
    const seconds = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(this.limits.requestBurst, bucket.tokens + seconds * this.limits.requestsPerSecond);
    bucket.bytes = Math.min(this.limits.byteBurst, bucket.bytes + seconds * this.limits.bytesPerSecond);
    bucket.at = now;
    return bucket;
  }

  /** Forgets buckets that are full again (their peers went quiet), else the oldest: the map stays bounded. */
  private forget(): void {
    for (const [peer] of this.buckets) {
      if (this.buckets.size < this.limits.maxPeers) return;
      const refilled = this.bucket(peer);
      if (refilled.tokens >= this.limits.requestBurst && refilled.bytes >= this.limits.byteBurst) this.buckets.delete(peer);
    }
    const oldest = this.buckets.keys().next();
    if (this.buckets.size >= this.limits.maxPeers && !oldest.done) this.buckets.delete(oldest.value);
  }

  /** Takes a request and `bytes`; when either runs short, nothing is taken and the answer is seconds to wait. */
  take(peer: string, bytes: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const bucket = this.bucket(peer);
    if (bucket.tokens >= 1 && bucket.bytes >= bytes) {
      bucket.tokens -= 1;
      bucket.bytes -= bytes;
      return { ok: true };
    }
    const waitTokens = bucket.tokens >= 1 ? 0 : (1 - bucket.tokens) / this.limits.requestsPerSecond;
    // A request larger than the burst can never fit: it waits as long as a full refill takes.
    const neededBytes = Math.min(bytes, this.limits.byteBurst);
    const waitBytes = bucket.bytes >= neededBytes ? 0 : (neededBytes - bucket.bytes) / this.limits.bytesPerSecond;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(Math.max(waitTokens, waitBytes))) };
  }

  /** Bytes read beyond what was taken up front; the bucket may go below zero, and then the peer waits. */
  charge(peer: string, bytes: number): void {
    if (bytes <= 0) return;
    this.bucket(peer).bytes -= bytes;
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** The peer an address stands for: IPv4 addresses seen through an IPv6 socket count as themselves. */
export function peerOf(socket: Socket): string {
  const address = socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function errorJson(code: KithErrorCode, message: string, details?: Record<string, unknown>): string {
  return JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } });
}

/** Answers from the guard itself, before the app has seen the request. */
function refuse(response: ServerResponse, code: KithErrorCode, message: string, headers: Record<string, string>, details?: Record<string, unknown>): void {
  const body = errorJson(code, message, details);
  response.writeHead(presentError(code).status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

/**
 * A body that must be cut while the app may be waiting on it: the answer is written on the socket
 * itself (the app's response object is left alone, so its late answer goes nowhere instead of
 * clashing), then the connection closes.
 */
function cut(socket: Socket, response: ServerResponse, code: KithErrorCode, message: string): void {
  if (socket.destroyed) return;
  if (!response.headersSent && socket.writable) {
    const body = errorJson(code, message);
    const { status } = presentError(code);
    const reason = status === 413 ? 'Content Too Large' : 'Request Timeout';
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    closeSoon(socket);
  } else socket.destroy();
}

/**
 * Ends a connection whose request body is still unread: FIN first, so the answer already written
 * reaches the client (destroying a socket with unread input sends RST, which can drop it), and
 * destroyed a moment later whatever the client keeps sending.
 */
function closeSoon(socket: Socket): void {
  socket.end();
  setTimeout(() => socket.destroy(), 1_000).unref();
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return request.headers['transfer-encoding'] !== undefined;
}

/** How often the body watchdog looks at each body still arriving. */
function watchInterval(limits: HttpLimits): number {
  return Math.max(20, Math.min(250, Math.floor(Math.min(limits.bodyTimeoutMs, limits.bodyGraceMs || limits.bodyTimeoutMs) / 4)));
}

/**
 * Puts `limits` in front of a request listener: node:http's own deadlines set on `server`, and a
 * listener that refuses (413 declared too large, 429 peer over budget, 503 too much in flight) before
 * the app sees a request, and watches each body until it is complete (too slow, too late or too
 * large: cut). A message is acknowledged only by the app, once stored, so whatever is refused here
 * was never acknowledged and its sender retries it.
 */
export function guardRequests(
  server: Server,
  limits: HttpLimits,
  handle: (request: IncomingMessage, response: ServerResponse) => void,
  now: () => number = Date.now,
): { listener: (request: IncomingMessage, response: ServerResponse) => void; counts: HttpLimitCounts; inFlight: () => number } {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxRequestsPerSocket = limits.maxRequestsPerConnection;
  const budgets = new PeerBudgets(limits.perPeer, now);
  const counts: HttpLimitCounts = { rateLimited: 0, overloaded: 0, tooLarge: 0, bodyTimeouts: 0 };
  let inFlight = 0;
  const requestsOn = new WeakMap<Socket, number>();

  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    const socket = request.socket;
    // An answer written before its request's body was all read (refused early, 413 from a route's
    // limit) says "Connection: close": the connection is closed behind it rather than drained, and
    // a keep-alive client must not send its next request on it.
    const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
    response.writeHead = ((...args: unknown[]) => {
      if (hasBody(request) && !request.complete) {
        response.shouldKeepAlive = false;
        // node would destroy the socket as soon as the answer is flushed, and with the body still
        // arriving that is a reset, which can drop the answer at the client: FIN and wait instead.
        (socket as unknown as { destroySoon: () => void }).destroySoon = () => closeSoon(socket);
      }
      return writeHead(...args);
    }) as ServerResponse['writeHead'];
    const peer = peerOf(socket);
    const declared = Number(request.headers['content-length'] ?? 0);
    const declaredBytes = Number.isFinite(declared) && declared > 0 ? declared : 0;
    // Refused at once, the body unread: the connection closes behind the answer instead of draining it.
    if (declaredBytes > limits.maxBodyBytes) {
      counts.tooLarge += 1;
      response.once('finish', () => closeSoon(socket));
      refuse(response, 'envelope.too_large', `Request body exceeds the ${limits.maxBodyBytes}-byte limit`, { connection: 'close' }, { size: declaredBytes, limit: limits.maxBodyBytes });
      return;
    }
    const taken = budgets.take(peer, declaredBytes);
    if (!taken.ok) {
      counts.rateLimited += 1;
      refuse(response, 'api.rate_limited', 'Too many requests from this address', { 'retry-after': String(taken.retryAfterSeconds) }, { retryAfterSeconds: taken.retryAfterSeconds });
      return;
    }
    if (inFlight >= limits.maxInFlight) {
      counts.overloaded += 1;
      const retryAfterSeconds = limits.overloadedRetryAfterSeconds;
      refuse(response, 'api.overloaded', 'Too many requests in progress', { 'retry-after': String(retryAfterSeconds) }, { retryAfterSeconds });
      return;
    }

    inFlight += 1;
    const served = (requestsOn.get(socket) ?? 0) + 1;
    requestsOn.set(socket, served);
    const bytesAtStart = socket.bytesRead;
    const started = now();
    let watchdog: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight -= 1;
      if (watchdog) clearInterval(watchdog);
      budgets.charge(peer, socket.bytesRead - bytesAtStart - declaredBytes);
      // Answered before its body was all read (refused early, cut): close rather than drain the rest.
      // node says "Connection: close" on the last answer maxRequestsPerSocket allows but leaves the socket open.
      if (!socket.destroyed && ((hasBody(request) && !request.complete) || served >= limits.maxRequestsPerConnection)) closeSoon(socket);
    };
    response.once('finish', finish);
    response.once('close', finish);

    if (hasBody(request)) {
      const stop = (code: KithErrorCode, message: string) => {
        if (watchdog) clearInterval(watchdog);
        watchdog = undefined;
        cut(socket, response, code, message);
      };
      watchdog = setInterval(() => {
        if (request.complete || socket.destroyed) {
          clearInterval(watchdog);
          watchdog = undefined;
          return;
        }
        // Body bytes the app has not taken yet: the wait is ours (a busy handler holds node's
        // backpressure on the socket), not the client's, so the client is not judged on it.
        if (request.readableLength > 0) return;
        const elapsed = now() - started;
        // The head and the body so far (the head is small and bounded by node's maxHeaderSize).
        const received = socket.bytesRead - bytesAtStart;
        if (received > limits.maxBodyBytes + 64 * 1024) {
          counts.tooLarge += 1;
          stop('envelope.too_large', `Request body exceeds the ${limits.maxBodyBytes}-byte limit`);
        } else if (elapsed > limits.bodyTimeoutMs) {
          counts.bodyTimeouts += 1;
          stop('api.body_timeout', `The request body was not complete within ${limits.bodyTimeoutMs} ms`);
        } else if (elapsed > limits.bodyGraceMs && (received * 1000) / elapsed < limits.minBodyBytesPerSecond) {
          counts.bodyTimeouts += 1;
          stop('api.body_timeout', `The request body arrived slower than ${limits.minBodyBytesPerSecond} bytes/s`);
        }
      }, watchInterval(limits));
      watchdog.unref();
    }
    handle(request, response);
  };
  return { listener, counts, inFlight: () => inFlight };
}
