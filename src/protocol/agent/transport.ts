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

/**
 * Posts one packed envelope over HTTP, the DIDComm v2 HTTPS transport (plain HTTP on loopback).
 * @throws TransportError `transport.unreachable` (no connection, timeout) or `transport.rejected`
 *   (the peer answered 4xx/5xx; `details.code` carries its error code when it sent one).
 */
export async function postEnvelope(endpoint: string, packed: string, options: TransportOptions = {}): Promise<PostResult> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': MEDIA_TYPE.encrypted },
      body: packed,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (cause) {
    throw new TransportError('transport.unreachable', 'Peer endpoint is unreachable', { cause, details: { endpoint } });
  }
  const text = await response.text();
  if (!response.ok) {
    const json = tryParseJson(text);
    const code = json.ok && typeof json.value === 'object' && json.value !== null ? (json.value as { error?: { code?: unknown } }).error?.code : undefined;
    throw new TransportError('transport.rejected', `Peer rejected the message (HTTP ${response.status})`, {
      details: { endpoint, status: response.status, code: typeof code === 'string' ? code : undefined },
    });
  }
  const isEnvelope = (response.headers.get('content-type') ?? '').startsWith(MEDIA_TYPE.encrypted);
  return { status: response.status, reply: isEnvelope && text.length > 0 ? text : undefined };
}

/**
 * A push the peer refused because it already had the message (it came by pickup too): for the
 * sender's outbox that counts as delivered.
 */
export function isAlreadyDelivered(error: unknown): boolean {
  return error instanceof TransportError && error.details?.['code'] === 'message.replayed';
}
