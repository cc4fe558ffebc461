import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, VaultError } from '../../core/errors.js';

/**
 * The key hierarchy: a random data key wrapped (AES-256-GCM) under a key derived from the
 * passphrase with scrypt. Only the wrapped key, the KDF parameters and the salt touch the disk.
 */

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** OWASP-style interactive defaults: ~128 MiB and a few hundred milliseconds per unlock. */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = { N: 2 ** 17, r: 8, p: 1 };
/** Memory ceiling handed to scrypt; Node's own default (32 MiB) is too small for N=2^17, r=8. */
export const SCRYPT_MAXMEM = 256 * 1024 * 1024;
const DATA_KEY_BYTES = 32;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Binds the wrapped key to its purpose, so no other GCM blob can pass as a wrapped data key. */
const WRAP_AAD = Buffer.from('kith/vault/data-key/v1', 'utf8');

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0;
const fitsMaxmem = (s: ScryptParams): boolean => 128 * s.N * s.r + 128 * s.r * s.p <= SCRYPT_MAXMEM;

const scryptParamsSchema = z
  .object({
    N: z.number().int().min(2 ** 10).max(2 ** 20).refine(isPowerOfTwo),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
  })
  .refine(fitsMaxmem);

const base64Of = (bytes: number) =>
  z.base64().refine((s) => Buffer.from(s, 'base64').length === bytes, { message: `must be ${bytes} bytes` });

/** The `keyring` entry of the `meta` table. */
export const keyringSchema = z.object({
  version: z.literal(1),
  kdf: z.object({
    name: z.literal('scrypt'),
    N: z.number(),
    r: z.number(),
    p: z.number(),
    keyLength: z.literal(32),
    salt: base64Of(SALT_BYTES),
  }),
  wrap: z.object({
    alg: z.literal('A256GCM'),
    nonce: base64Of(NONCE_BYTES),
    wrappedKey: base64Of(DATA_KEY_BYTES + TAG_BYTES),
  }),
});
export type Keyring = z.infer<typeof keyringSchema>;

/**
 * Merges caller options over the defaults and checks them.
 * @throws ConfigError `config.invalid` for parameters scrypt would reject or that exceed the memory ceiling.
 */
export function resolveScryptParams(options: Partial<ScryptParams> | undefined): ScryptParams {
  const merged = { ...DEFAULT_SCRYPT, ...stripUndefined(options ?? {}) };
  const parsed = scryptParamsSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError('config.invalid', 'Invalid scrypt parameters for the vault', {
      details: { N: merged.N, r: merged.r, p: merged.p },
    });
  }
  return parsed.data;
}

function stripUndefined(o: Partial<ScryptParams>): Partial<ScryptParams> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<ScryptParams>;
}

/** A fresh random data key. The caller owns it and zeroes it on close. */
export function newDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

function deriveKek(passphrase: string, salt: Buffer, params: ScryptParams): Buffer {
  // NFC so the same passphrase typed on systems that compose accents differently still unlocks.
  return scryptSync(passphrase.normalize('NFC'), salt, DATA_KEY_BYTES, { ...params, maxmem: SCRYPT_MAXMEM });
}

/** Wraps the data key under a passphrase with a new random salt and nonce. */
export function wrapDataKey(dataKey: Buffer, passphrase: string, params: ScryptParams): Keyring {
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const kek = deriveKek(passphrase, salt, params);
  try {
    const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(WRAP_AAD);
    const wrapped = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    return {
      version: 1,
      kdf: { name: 'scrypt', ...params, keyLength: 32, salt: salt.toString('base64') },
      wrap: { alg: 'A256GCM', nonce: nonce.toString('base64'), wrappedKey: wrapped.toString('base64') },
    };
  } finally {
    kek.fill(0);
  }
}

/**
 * Parses the stored keyring JSON.
 * @throws VaultError `vault.corrupt` if it is not valid JSON or does not match {@link keyringSchema}.
 */
export function parseKeyring(text: unknown): Keyring {
  let value: unknown;
  try {
    value = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    value = undefined;
  }
  const parsed = keyringSchema.safeParse(value);
  if (!parsed.success || !scryptParamsSchema.safeParse(parsed.data.kdf).success) {
    throw new VaultError('vault.corrupt', 'The vault key metadata is unreadable');
  }
  return parsed.data;
}

/**
 * Unwraps the data key with the stored (never the caller's) KDF parameters. The GCM tag is the
 * passphrase check.
 * @throws VaultError `vault.wrong_passphrase` if the tag does not verify.
 */
export function unwrapDataKey(keyring: Keyring, passphrase: string): Buffer {
  const { N, r, p, salt } = keyring.kdf;
  const kek = deriveKek(passphrase, Buffer.from(salt, 'base64'), { N, r, p });
  const wrapped = Buffer.from(keyring.wrap.wrappedKey, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(keyring.wrap.nonce, 'base64'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(WRAP_AAD);
    decipher.setAuthTag(wrapped.subarray(DATA_KEY_BYTES));
    return Buffer.concat([decipher.update(wrapped.subarray(0, DATA_KEY_BYTES)), decipher.final()]);
  } catch {
    throw new VaultError('vault.wrong_passphrase', 'Wrong passphrase for this vault');
  } finally {
    kek.fill(0);
  }
}
