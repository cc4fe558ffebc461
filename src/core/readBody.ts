import { EnvelopeError } from './errors.js';

/**
 * Reads a request body, refusing more than `limit` bytes: early from Content-Length, and while
 * streaming for bodies that do not declare one, so an oversized message is never buffered whole.
 * @throws EnvelopeError `envelope.too_large`
 */
export async function readBodyWithLimit(request: Request, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length') ?? 'NaN');
  const tooLarge = (size: number) =>
    new EnvelopeError('envelope.too_large', `Request body exceeds the ${limit}-byte limit`, { details: { size, limit } });
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(declared);
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
      throw tooLarge(size);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}
