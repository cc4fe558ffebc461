import { createDecipheriv, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { errors, GeneralEncrypt, generalDecrypt } from 'jose';
import { z } from 'zod';
import { ExportError, VaultError } from '../../core/errors.js';
import { tryParseJson } from '../../core/json.js';
import { EXPORT_CONTENT_TYPE, EXPORT_FORMAT, exportDocumentSchema, parseExportDocument, type ExportDocument } from './exportDocument.js';

/**
 * Sealing an export: a JWE (General JSON serialization) with a passphrase-based key
 * (PBES2-HS512+A256KW) and AES-256-GCM content encryption, so any JOSE library can open it.
 */

export const EXPORT_KEY_ALG = 'PBES2-HS512+A256KW';
export const EXPORT_CONTENT_ENC = 'A256GCM';
/** PBKDF2 iterations (OWASP 2023 guidance for PBKDF2-HMAC-SHA512 is 210 000; we go higher). */
export const EXPORT_P2C = 600_000;
/** Upper bound accepted when opening, so a crafted file cannot make us spin for minutes. */
export const EXPORT_MAX_P2C = 2_000_000;

const pbkdf2Async = promisify(pbkdf2);

export interface SealOptions {
  /** Write the plain JSON document instead of a JWE. She must ask for this explicitly. */
  plain?: boolean;
}

/**
 * Serialises an export, encrypted under `passphrase` unless `options.plain`.
 * Async because jose encrypts through WebCrypto.
 * @throws VaultError `vault.passphrase_required` if encrypting with an empty passphrase;
 * ExportError `export.corrupted` if `doc` does not match {@link exportDocumentSchema}.
 */
export async function sealExport(doc: ExportDocument, passphrase: string, options: SealOptions = {}): Promise<string> {
  const parsed = exportDocumentSchema.safeParse(doc);
  if (!parsed.success) throw new ExportError('export.corrupted', 'Refusing to write an invalid export document');
  const json = JSON.stringify(parsed.data, null, 2);
  if (options.plain) return `${json}\n`;
  if (passphrase.length === 0) throw new VaultError('vault.passphrase_required', 'A passphrase is required to encrypt an export');
  const jwe = await new GeneralEncrypt(new TextEncoder().encode(json))
    .setProtectedHeader({ alg: EXPORT_KEY_ALG, enc: EXPORT_CONTENT_ENC, cty: EXPORT_CONTENT_TYPE })
    .addRecipient(passphraseBytes(passphrase))
    .setKeyManagementParameters({ p2c: EXPORT_P2C, p2s: randomBytes(16) })
    .encrypt();
  return `${JSON.stringify(jwe)}\n`;
}

const generalJweSchema = z.object({
  protected: z.string(),
  iv: z.string(),
  ciphertext: z.string(),
  tag: z.string(),
  recipients: z.tuple([z.object({ encrypted_key: z.string() })]),
});

const protectedHeaderSchema = z.object({
  alg: z.string(),
  enc: z.string(),
  cty: z.string().optional(),
  // Optional here so that a foreign or future algorithm is reported as such, not as damage.
  p2s: z.string().optional(),
  p2c: z.number().int().positive().optional(),
});

/**
 * Reads an export file, plain or encrypted.
 * @throws ExportError `export.corrupted` (not JSON, truncated, altered ciphertext, invalid
 * document), `export.foreign` (JSON that is neither a Kith export nor a JWE with our `cty`),
 * `export.unsupported_version` (another document version or another algorithm);
 * VaultError `vault.wrong_passphrase` when the key cannot be unwrapped with `passphrase`.
 */
export async function openExport(text: string, passphrase: string): Promise<ExportDocument> {
  const json = tryParseJson(text);
  if (!json.ok) throw new ExportError('export.corrupted', 'The export is not valid JSON (truncated?)');
  const value = json.value;
  if (isObject(value) && value.format === EXPORT_FORMAT) return parseExportDocument(value);
  if (!isObject(value) || typeof value.ciphertext !== 'string' || typeof value.protected !== 'string') {
    throw new ExportError('export.foreign', 'This is not a Kith export');
  }
  const header = decodeHeader(value.protected);
  if (header.cty !== EXPORT_CONTENT_TYPE) throw new ExportError('export.foreign', 'This JWE is not a Kith export');
  if (header.alg !== EXPORT_KEY_ALG || header.enc !== EXPORT_CONTENT_ENC) {
    throw new ExportError('export.unsupported_version', 'This export uses an unsupported encryption', {
      details: { alg: header.alg, enc: header.enc },
    });
  }
  const { p2s, p2c } = header;
  if (p2s === undefined || p2c === undefined) throw new ExportError('export.corrupted', 'The encrypted export lacks its PBES2 parameters');
  if (p2c > EXPORT_MAX_P2C) throw new ExportError('export.corrupted', 'The export asks for too many key derivation rounds');
  const jwe = generalJweSchema.safeParse(value);
  if (!jwe.success) throw new ExportError('export.corrupted', 'The encrypted export is incomplete');

  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await generalDecrypt(jwe.data, passphraseBytes(passphrase), {
      keyManagementAlgorithms: [EXPORT_KEY_ALG],
      contentEncryptionAlgorithms: [EXPORT_CONTENT_ENC],
      maxPBES2Count: EXPORT_MAX_P2C,
    }));
  } catch (cause) {
    if (cause instanceof errors.JWEDecryptionFailed && !(await keyUnwraps({ p2s, p2c }, jwe.data.recipients[0].encrypted_key, passphrase))) {
      throw new VaultError('vault.wrong_passphrase', 'Wrong passphrase for this export');
    }
    throw new ExportError('export.corrupted', 'The encrypted export failed to decrypt', { cause });
  }
  const inner = tryParseJson(new TextDecoder().decode(plaintext));
  if (!inner.ok) throw new ExportError('export.corrupted', 'The decrypted export is not valid JSON');
  try {
    return parseExportDocument(inner.value);
  } catch (err) {
    // Inside our own envelope, "foreign" content can only mean damage.
    if (err instanceof ExportError && err.code === 'export.foreign') {
      throw new ExportError('export.corrupted', 'The encrypted export does not contain a Kith export');
    }
    throw err;
  }
}

function decodeHeader(encoded: string): z.infer<typeof protectedHeaderSchema> {
  const json = tryParseJson(Buffer.from(encoded, 'base64url').toString('utf8'));
  const header = json.ok ? protectedHeaderSchema.safeParse(json.value) : undefined;
  if (header === undefined || !header.success) {
    throw new ExportError('export.corrupted', 'The encrypted export has an unreadable header');
  }
  return header.data;
}

/**
 * jose deliberately hides *why* decryption failed (a key unwrap failure continues with a random
 * key, RFC 7516 §11.5). After a failure we redo only the PBES2 unwrap ourselves: if AES-KW's
 * integrity check fails, the passphrase is wrong (or p2s was altered, which looks the same);
 * if it succeeds, the passphrase is right and the ciphertext is damaged.
 */
async function keyUnwraps(
  header: { p2s: string; p2c: number },
  encryptedKey: string,
  passphrase: string,
): Promise<boolean> {
  const salt = Buffer.concat([Buffer.from(EXPORT_KEY_ALG, 'utf8'), Buffer.from([0]), Buffer.from(header.p2s, 'base64url')]);
  const kek = await pbkdf2Async(passphraseBytes(passphrase), salt, header.p2c, 32, 'sha512');
  try {
    const decipher = createDecipheriv('id-aes256-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
    const cek = Buffer.concat([decipher.update(Buffer.from(encryptedKey, 'base64url')), decipher.final()]);
    cek.fill(0);
    return true;
  } catch {
    return false;
  } finally {
    kek.fill(0);
  }
}

function passphraseBytes(passphrase: string): Uint8Array {
  // NFC, as for the vault passphrase, so the same typed passphrase works on every system.
  return new TextEncoder().encode(passphrase.normalize('NFC'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
