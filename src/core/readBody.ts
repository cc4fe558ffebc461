import { IncomingMessage } from 'node:http';
import { ApiError, EnvelopeError } from './errors.js';

function tooLarge(size: number, limit: number): EnvelopeError {
  return new EnvelopeError('envelope.too_large', `Request body exceeds the ${limit}-byte limit`, { details: { size, limit } });
}

/**
 * The client went away before its body was all read (a reset socket, an aborted request): its
 * doing, not ours, so the HTTP layer notes it at info level (`client_aborted`), never as an error.
 */
export function clientAborted(): ApiError {
  return new ApiError('api.client_aborted', 'The client hung up before the request body was read');
}

/**
 * Reads a request body, refusing more than `limit` bytes: early from Content-Length, and while
 * streaming for bodies that do not declare one, so an oversized message is never buffered whole.
 * @throws EnvelopeError `envelope.too_large`
 */
export async function readBodyWithLimit(request: Request, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length') ?? 'NaN');
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(declared, limit);
  if (!request.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(size, limit);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/**
 * The same limit on a Node request stream, for servers on node:http: reading the socket directly
 * skips the web-stream conversion, which costs more than small messages' own processing.
 * @throws EnvelopeError `envelope.too_large`
 */
export function readIncomingWithLimit(incoming: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(incoming.headers['content-length'] ?? 'NaN');
  if (Number.isFinite(declared) && declared > limit) {
    incoming.resume();
    return Promise.reject(tooLarge(declared, limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        incoming.removeAllListeners('data');
        incoming.resume();
        reject(tooLarge(size, limit));
        return;
      }
      chunks.push(chunk);
    });
    incoming.once('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks));
    });
    // A socket reset or closed mid-body ends the request with an error (ECONNRESET, "aborted") or
    // only with 'close': either way the client went away, which is no fault of ours.
    incoming.once('error', () => reject(clientAborted()));
    incoming.once('close', () => {
      if (!ended) reject(clientAborted());
    });
  });
}

/** Node's request when the app runs on @hono/node-server, undefined under `app.request()`. */
export function nodeIncoming(env: unknown): IncomingMessage | undefined {
  const incoming = (env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof IncomingMessage ? incoming : undefined;
}

/** Reads the body of a Hono request, from the socket when there is one. */
export function readRequestBody(request: Request, env: unknown, limit: number): Promise<Buffer> {
  const incoming = nodeIncoming(env);
  return incoming ? readIncomingWithLimit(incoming, limit) : readBodyWithLimit(request, limit);
}
