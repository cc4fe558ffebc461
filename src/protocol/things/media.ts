/*
 * The document types she may keep with a thing, each recognised by its first bytes: the type a
 * file claims (its name, the browser's guess) is never trusted, because a download is served with
 * the stored type and a "PDF" that is really HTML would run in her browser.
 */

/** The types accepted, with the signature the file's first bytes must carry. */
const SIGNATURES = {
  'application/pdf': (b: Uint8Array) => startsWith(b, [0x25, 0x50, 0x44, 0x46, 0x2d]), // %PDF-
  'image/jpeg': (b: Uint8Array) => startsWith(b, [0xff, 0xd8, 0xff]),
  'image/png': (b: Uint8Array) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  'image/gif': (b: Uint8Array) => startsWith(b, [0x47, 0x49, 0x46, 0x38]) && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61, // GIF87a / GIF89a
  'image/webp': (b: Uint8Array) => startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b.subarray(8), [0x57, 0x45, 0x42, 0x50]), // RIFF....WEBP
  // Text has no signature: it must be UTF-8 without control characters other than tab and newlines.
  'text/plain': (b: Uint8Array) => isPlainText(b),
} as const satisfies Record<string, (bytes: Uint8Array) => boolean>;

export type AttachmentMediaType = keyof typeof SIGNATURES;
export const ATTACHMENT_MEDIA_TYPES = Object.keys(SIGNATURES) as AttachmentMediaType[];

export function isAttachmentMediaType(type: string): type is AttachmentMediaType {
  return Object.hasOwn(SIGNATURES, type);
}

/** True when `bytes` carry the signature of `type`. */
export function matchesMediaType(type: AttachmentMediaType, bytes: Uint8Array): boolean {
  return SIGNATURES[type](bytes);
}

/** The accepted type whose signature `bytes` carry, if any (text last: anything plain would pass as text). */
export function sniffMediaType(bytes: Uint8Array): AttachmentMediaType | undefined {
  return ATTACHMENT_MEDIA_TYPES.find((type) => SIGNATURES[type](bytes));
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}

function isPlainText(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}
