import * as http from 'node:http';
import * as https from 'node:https';
import { TransportError } from '../../core/errors.js';
import { tryParseJson } from '../../core/json.js';
import { MEDIA_TYPE } from '../envelope/format.js';

export interface PostResult {
  status: number;
  /** A packed reply, when the peer answered on the same connection (`return_route: all`). */
  reply: string | undefined;
}

export interface TransportOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** At most this much of a peer's answer is read: a DIDComm reply is one envelope. */
const MAX_REPLY_BYTES = 8 * 1024 * 1024;

/**
 * Connections to peers are kept alive: a fan-out talks to the same companies again and again, and
 * a new TCP connection per message cost more than the message's crypto (measured in the fan-out
 * bench: undici fetch took twice the time of node:http with keep-alive for the same POSTs).
 */
const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
  /** The Retry-After header as sent, if any. */
  retryAfter: string | undefined;
}

/** The longest wait a peer's Retry-After is honoured for: a peer cannot park our outbox for a year. */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/** Retry-After in seconds (delta-seconds or an HTTP date, RFC 9110 10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * A kept-alive socket the peer closed while it sat idle fails at once with ECONNRESET; that post
 * never reached the peer, so it is sent once more on a fresh connection (the pattern Node's http
 * docs give for `reusedSocket`). Resending is safe in any case: the envelope's message id is
 * refused as a replay if the peer did get it.
 */
async function postWithNode(endpoint: string, packed: string, timeoutMs: number): Promise<RawResponse> {
  try {
    return await postOnce(endpoint, packed, timeoutMs);
  } catch (error) {
    if (!(error instanceof StaleSocketError)) throw error;
    return postOnce(endpoint, packed, timeoutMs);
  }
}

class StaleSocketError extends Error {}

function postOnce(endpoint: string, packed: string, timeoutMs: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch (error) {
      reject(error);
      return;
    }
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') {
      reject(new Error(`Unsupported endpoint scheme ${url.protocol}`));
      return;
    }
    const body = Buffer.from(packed, 'utf8');
    const request = (secure ? https : http).request(
      url,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: { 'content-type': MEDIA_TYPE.encrypted, 'content-length': body.length },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_REPLY_BYTES) {
            response.destroy(new Error('Reply too large'));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
            retryAfter: response.headers['retry-after'],
          }),
        );
      },
    );
    request.on('timeout', () => request.destroy(new Error('Timed out')));
    request.on('error', (error: NodeJS.ErrnoException) => {
      reject(request.reusedSocket && error.code === 'ECONNRESET' ? new StaleSocketError('Kept-alive socket closed by the peer', { cause: error }) : error);
    });
    request.end(body);
  });
}

async function postWithFetch(doFetch: typeof fetch, endpoint: string, packed: string, timeoutMs: number): Promise<RawResponse> {
  const response = await doFetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': MEDIA_TYPE.encrypted },
    body: packed,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text(), retryAfter: response.headers.get('retry-after') ?? undefined };
}

/**
 * Posts one packed envelope over HTTP, the DIDComm v2 HTTPS transport (plain HTTP on loopback),
 * with node:http on kept-alive connections, or through `options.fetch` when a caller supplies one.
 * @throws TransportError `transport.unreachable` (no connection, timeout) or `transport.rejected`
 *   (the peer answered 4xx/5xx; `details.code` carries its error code when it sent one, and
 *   `details.retryAfterSeconds` its Retry-After).
 */
export async function postEnvelope(endpoint: string, packed: string, options: TransportOptions = {}): Promise<PostResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let response: RawResponse;
  try {
    response = options.fetch ? await postWithFetch(options.fetch, endpoint, packed, timeoutMs) : await postWithNode(endpoint, packed, timeoutMs);
  } catch (cause) {
    throw new TransportError('transport.unreachable', 'Peer endpoint is unreachable', { cause, details: { endpoint } });
  }
  if (response.status < 200 || response.status >= 300) {
    const json = tryParseJson(response.text);
    const code = json.ok && typeof json.value === 'object' && json.value !== null ? (json.value as { error?: { code?: unknown } }).error?.code : undefined;
    const retryAfterSeconds = parseRetryAfter(response.retryAfter);
    // The peer's own code says what happened (message.from_the_future, relationship.cut_off...).
    const named = typeof code === 'string' && /^[a-z_]+\.[a-z_]+$/.test(code) ? `, ${code}` : '';
    throw new TransportError('transport.rejected', `Peer rejected the message (HTTP ${response.status}${named})`, {
      details: { endpoint, status: response.status, code: typeof code === 'string' ? code : undefined, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
    });
  }
  const isEnvelope = response.contentType.startsWith(MEDIA_TYPE.encrypted);
  return { status: response.status, reply: isEnvelope && response.text.length > 0 ? response.text : undefined };
}

/**
 * A push the peer refused because it already had the message (it came by pickup too): for the
 * sender's outbox that counts as delivered.
 */
export function isAlreadyDelivered(error: unknown): boolean {
  return error instanceof TransportError && error.details?.['code'] === 'message.replayed';
}

/**
 * The peer refused the message because its `expires_time` passed: no later attempt can succeed
 * (the message is sealed with that time), so a sender drops it rather than retrying forever.
 */
export function isExpiredAtPeer(error: unknown): boolean {
  return error instanceof TransportError && error.details?.['code'] === 'message.expired';
}

/**
 * A peer that said "not now" (429 too many requests, 503 busy) did not take the message, so it is
 * sent again later, never dropped; the answer is how long the peer asked us to wait (0 when it did
 * not say, at most MAX_RETRY_AFTER_MS). Undefined for every other outcome.
 */
export function retryLaterMs(error: unknown): number | undefined {
  if (!(error instanceof TransportError) || error.code !== 'transport.rejected') return undefined;
  const status = error.details?.['status'];
  if (status !== 429 && status !== 503) return undefined;
  const seconds = error.details?.['retryAfterSeconds'];
  return typeof seconds === 'number' ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : 0;
}

/** The next attempt's delay: our backoff, or longer when the peer asked for longer. */
export function delayAfter(error: unknown, backoffMs: number): number {
  return Math.max(backoffMs, retryLaterMs(error) ?? 0);
}

/** Connection errors that mean no byte of the request reached the peer (nothing was sent). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * True when a post certainly never reached the peer (the connection was refused or the host not
 * found), as opposed to a timeout or a connection lost after sending, after which the peer may
 * have acted on the message and only its reply is missing.
 */
export function neverReachedPeer(error: unknown): boolean {
  if (!(error instanceof TransportError) || error.code !== 'transport.unreachable') return false;
  for (let cause: unknown = error.cause, depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}
