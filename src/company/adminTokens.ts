import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { tokensEqual } from '../core/bearer.js';
import { ApiError, ConfigError } from '../core/errors.js';
import { newToken } from '../core/ids.js';
import { makePrivate, replacePrivateFile } from '../core/privateFiles.js';

/*
 * Admin tokens with scopes (docs/deploy.md, "Admin tokens and scopes"). The home's `admin-token`
 * holds every scope, so homes, scripts and the demo made before scopes keep working. Tokens made
 * with `kith-vendor token create` hold the scopes they were given and live in `<home>/tokens.json`
 * (0600) as a SHA-256 of the token with a name, the scopes and when it was made: the token itself
 * is printed once and kept nowhere, so a copy of the file, a backup or a log of it lets no one in.
 */

/**
 * `read`: every GET of the admin API and /metrics. `write`: the POSTs that change something
 * (messages, disclosure requests, terms proposals, offers, withdrawals, dead-letter replays).
 * `console`: the call-center console's routes (http/adminScopes.ts says which route needs which).
 */
export const ADMIN_SCOPES = ['read', 'write', 'console'] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

/** Who a request is: the token's name and what it may do. */
export interface AdminPrincipal {
  name: string;
  scopes: ReadonlySet<AdminScope>;
}

/** The name the home's `admin-token` goes by; no token in tokens.json may take it. */
export const ADMIN_TOKEN_NAME = 'admin-token';

const TOKENS_FILE = 'tokens.json';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const scopeSchema = z.enum(ADMIN_SCOPES);
const storedTokenSchema = z
  .object({
    name: z.string().regex(NAME_PATTERN),
    scopes: z.array(scopeSchema).min(1),
    createdAt: z.number().int().nonnegative(),
    /** SHA-256 of the token, hex. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
const tokensFileSchema = z.object({ version: z.literal(1), tokens: z.array(storedTokenSchema) }).strict();

type StoredToken = z.infer<typeof storedTokenSchema>;

/** What `token list` shows: never the token, nor its hash. */
export interface AdminTokenInfo {
  name: string;
  scopes: AdminScope[];
  createdAt: number;
}

export function adminTokensPath(homeDir: string): string {
  return join(homeDir, TOKENS_FILE);
}

function sha256(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * `read,write` → ['read', 'write'] (sorted, without repeats).
 * @throws ApiError `api.bad_request` naming the unknown scope, or for an empty list
 */
export function parseScopes(text: string): AdminScope[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new ApiError('api.bad_request', `--scopes: one or more of ${ADMIN_SCOPES.join(', ')}, comma-separated`, { details: { fields: { scopes: 'required' } } });
  const unknown = names.filter((n) => !scopeSchema.safeParse(n).success);
  if (unknown.length > 0) throw new ApiError('api.bad_request', `--scopes: unknown scope ${unknown.map((u) => `"${u}"`).join(', ')} (known: ${ADMIN_SCOPES.join(', ')})`, { details: { fields: { scopes: 'unknown scope' } } });
  return ADMIN_SCOPES.filter((scope) => names.includes(scope));
}

/** @throws ConfigError `config.invalid` when tokens.json is not a tokens file (nothing of it is named: it holds hashes). */
function readStored(homeDir: string): StoredToken[] {
  const path = adminTokensPath(homeDir);
  if (!existsSync(path)) return [];
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError('config.invalid', `${path} is not JSON`);
  }
  const parsed = tokensFileSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError('config.invalid', `${path} is not an admin tokens file (${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')})`);
  return parsed.data.tokens;
}

function writeStored(homeDir: string, tokens: StoredToken[]): void {
  replacePrivateFile(adminTokensPath(homeDir), `${JSON.stringify({ version: 1, tokens }, null, 2)}\n`);
}

/**
 * Makes a token with these scopes and records its hash; the token is returned once, here.
 * @throws ApiError `api.bad_request` (a bad name), `api.token_exists` (the name is taken, or is `admin-token`); ConfigError `config.invalid` (tokens.json unreadable)
 */
export function createAdminToken(homeDir: string, options: { name?: string; scopes: readonly AdminScope[]; now: number }): { token: string; info: AdminTokenInfo } {
  const stored = readStored(homeDir);
  const name = options.name ?? `token-${newToken(6).replace(/[^A-Za-z0-9]/g, 'x')}`;
  if (!NAME_PATTERN.test(name)) throw new ApiError('api.bad_request', '--name: 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit', { details: { fields: { name: 'invalid' } } });
  if (name === ADMIN_TOKEN_NAME || stored.some((t) => t.name === name)) throw new ApiError('api.token_exists', `An admin token named "${name}" exists`);
  if (options.scopes.length === 0) throw new ApiError('api.bad_request', '--scopes: at least one scope', { details: { fields: { scopes: 'required' } } });
  const token = newToken();
  const entry: StoredToken = { name, scopes: ADMIN_SCOPES.filter((s) => options.scopes.includes(s)), createdAt: options.now, sha256: sha256(token).toString('hex') };
  writeStored(homeDir, [...stored, entry]);
  return { token, info: { name: entry.name, scopes: entry.scopes, createdAt: entry.createdAt } };
}

/** The tokens of tokens.json, oldest first (the home's admin-token is not among them). */
export function listAdminTokens(homeDir: string): AdminTokenInfo[] {
  return readStored(homeDir).map(({ name, scopes, createdAt }) => ({ name, scopes, createdAt }));
}

/**
 * Removes a token: from the next request on, it opens nothing (the server re-reads the file when it changes).
 * @throws ApiError `api.token_unknown`, changing nothing
 */
export function revokeAdminToken(homeDir: string, name: string): AdminTokenInfo {
  const stored = readStored(homeDir);
  const found = stored.find((t) => t.name === name);
  if (!found) throw new ApiError('api.token_unknown', name === ADMIN_TOKEN_NAME ? 'The home’s admin-token is not revoked here: replace the admin-token file and restart' : `No admin token named "${name}"`);
  writeStored(homeDir, stored.filter((t) => t !== found));
  return { name: found.name, scopes: found.scopes, createdAt: found.createdAt };
}

/** Who presents which bearer token. */
export interface AdminCredentials {
  /**
   * The principal of a presented token, or undefined for none or an unknown one. Constant time in
   * the token: every stored hash is compared, whichever matches.
   */
  authenticate(presented: string | undefined): AdminPrincipal | undefined;
}

const ALL_SCOPES: ReadonlySet<AdminScope> = new Set(ADMIN_SCOPES);

/**
 * The home's admin token (every scope) and, when given, the scoped tokens. Both are always
 * checked, so the time taken does not say which kind of token was presented.
 */
export function adminCredentials(adminToken: string, scoped?: AdminCredentials): AdminCredentials {
  return {
    authenticate(presented) {
      const admin = tokensEqual(presented, adminToken);
      const other = scoped?.authenticate(presented);
      return admin ? { name: ADMIN_TOKEN_NAME, scopes: ALL_SCOPES } : other;
    },
  };
}

/**
 * The scoped tokens of a home's tokens.json, which is read again whenever it changed (a stat per
 * request), so `token create` and `token revoke` take effect without a restart. A tokens.json
 * that became unreadable opens nothing until it is fixed (it fails closed), and says so once per
 * change on `onUnreadable` (with a code, never the file's contents).
 * @throws ConfigError `config.invalid` when tokens.json is unreadable at the start: better not to
 *   start than to run without the tokens meant to work
 */
export function tokensFileCredentials(homeDir: string, onUnreadable: (code: string) => void = () => {}): AdminCredentials {
  const path = adminTokensPath(homeDir);
  makePrivate(path);
  readStored(homeDir);
  let seen = '';
  let tokens: { principal: AdminPrincipal; hash: Buffer }[] = [];
  const load = () => {
    // One call, no exists-then-stat: the file may be removed in between.
    const stat = statSync(path, { bigint: true, throwIfNoEntry: false });
    const version = stat ? `${stat.ino}:${stat.mtimeNs}:${stat.size}` : 'none';
    if (version === seen) return;
    seen = version;
    try {
      tokens = readStored(homeDir).map((t) => ({ principal: { name: t.name, scopes: new Set(t.scopes) }, hash: Buffer.from(t.sha256, 'hex') }));
    } catch (error) {
      tokens = [];
      onUnreadable(error instanceof ConfigError ? error.code : 'unreadable');
    }
  };
  return {
    authenticate(presented) {
      load();
      if (presented === undefined) return undefined;
      const hash = sha256(presented);
      let found: AdminPrincipal | undefined;
      // Every hash is compared, whichever matches: the time taken says nothing about which.
      for (const token of tokens) if (timingSafeEqual(hash, token.hash)) found = token.principal;
      return found;
    },
  };
}
