import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { newToken } from '../core/ids.js';
import { ensurePrivateDir, makePrivate, writePrivateFile } from '../core/privateFiles.js';
import { createPeerIdentity, identityFromDocument, localIdentitySchema, type LocalIdentity } from '../protocol/agent/identity.js';
import { buildDidWebDocument, urlToDidWeb } from '../protocol/did/web.js';
import type { DidDocument } from '../protocol/did/types.js';
import { generateKeyPair } from '../protocol/keys.js';
import { loadJsonFile, parsePolicy, companyConfigSchema, companyPolicySchema, NEWCOMER_POLICY, type CompanyConfig, type CompanyPolicy } from './config.js';
import { openCompanyStore } from './store/open.js';
import type { CompanyStore } from './store/types.js';

/**
 * A company agent's home directory (0700): `config.json` (settings), `admin-token` (the admin API
 * secret with every scope: never on a command line), `tokens.json` (the scoped admin tokens'
 * SHA-256 hashes, when any were made: adminTokens.ts), `vendor.db` (the default SQLite store,
 * which holds the keys), every file 0600 (core/privateFiles.ts).
 */
export interface CompanyHome {
  dir: string;
  config: CompanyConfig;
  policy: CompanyPolicy;
  adminToken: string;
  store: CompanyStore;
  identity: LocalIdentity;
  /** For did:web companies: the document served at /.well-known/did.json. */
  didDocument: DidDocument | undefined;
}

export interface InitCompanyOptions {
  name: string;
  port?: number;
  publicUrl?: string;
  db?: string;
  /** Its policy file; without one, init writes `<home>/policy.json` (NEWCOMER_POLICY) and uses that. */
  policyFile?: string;
  didMethod?: 'peer' | 'web';
  allowInsecureDidWebLoopback?: boolean;
}

const storedIdentitySchema = z.object({ method: z.enum(['peer', 'web']), identity: localIdentitySchema });

export function defaultCompanyHome(): string {
  return process.env['KITH_VENDOR_HOME'] ?? join(process.env['HOME'] ?? '.', '.kith-vendor');
}

function dbUrl(dir: string, config: CompanyConfig): string {
  return config.db ?? `sqlite:${join(dir, 'vendor.db')}`;
}

function createIdentity(config: CompanyConfig): { identity: LocalIdentity; document: DidDocument } {
  const endpoint = `${config.publicUrl.replace(/\/$/, '')}/didcomm`;
  if (config.didMethod === 'peer') return createPeerIdentity(endpoint);
  const did = urlToDidWeb(config.publicUrl);
  const signing = generateKeyPair('Ed25519');
  const agreement = generateKeyPair('X25519');
  const document = buildDidWebDocument({ did, authentication: signing.publicJwk, keyAgreement: agreement.publicJwk, serviceEndpoint: endpoint });
  return { identity: identityFromDocument(did, document, signing, agreement), document };
}

/**
 * Creates a company agent home: config, admin token, store and a fresh identity.
 * @throws ConfigError `config.invalid` (bad options or policy file), `store.conflict` if already initialised
 */
export async function initCompanyHome(dirInput: string, options: InitCompanyOptions): Promise<CompanyHome> {
  const dir = resolve(dirInput);
  if (existsSync(join(dir, 'config.json'))) throw new ConfigError('config.invalid', `A company agent is already initialised in ${dir}`);
  const port = options.port ?? 7401;
  const parsed = companyConfigSchema.safeParse({
    name: options.name,
    port,
    publicUrl: options.publicUrl ?? `http://127.0.0.1:${port}`,
    ...(options.db ? { db: options.db } : {}),
    ...(options.policyFile ? { policyFile: resolve(options.policyFile) } : {}),
    didMethod: options.didMethod ?? 'peer',
    allowInsecureDidWebLoopback: options.allowInsecureDidWebLoopback ?? false,
  });
  if (!parsed.success) throw new ConfigError('config.invalid', `Invalid company settings: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  const config = parsed.data;
  // Validate the policy before writing anything, so a bad file leaves no half-made home.
  if (config.policyFile) loadJsonFile(config.policyFile, companyPolicySchema, 'Policy file');
  ensurePrivateDir(dir);
  if (!config.policyFile) {
    // Explicit, instead of an empty policy that rejects every proffer: the file says what it answers.
    config.policyFile = join(dir, 'policy.json');
    writePrivateFile(config.policyFile, `${JSON.stringify(NEWCOMER_POLICY, null, 2)}\n`);
  }
  const store = await openCompanyStore(dbUrl(dir, config));
  const { identity } = createIdentity(config);
  await store.saveIdentity({ did: identity.did, keys: { method: config.didMethod, identity }, createdAt: Date.now() });
  await store.close();
  writePrivateFile(join(dir, 'admin-token'), `${newToken()}\n`);
  writePrivateFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return openCompanyHome(dir);
}

/**
 * The directory of an initialised company home, for commands that use its files but not its store
 * (`kith-vendor token`).
 * @throws ConfigError `config.not_found` when no company agent is initialised there
 */
export function companyHomeDir(dirInput: string): string {
  const dir = resolve(dirInput);
  if (!existsSync(join(dir, 'config.json'))) throw new ConfigError('config.not_found', `No company agent in ${dir}: run kith-vendor init first`);
  return dir;
}

/** @throws ConfigError `config.not_found` | `config.invalid` */
export async function openCompanyHome(dirInput: string, overrides: { port?: number; db?: string } = {}): Promise<CompanyHome> {
  const dir = resolve(dirInput);
  const fileConfig = loadJsonFile(join(dir, 'config.json'), companyConfigSchema, 'Company config');
  const config: CompanyConfig = { ...fileConfig, ...(overrides.port !== undefined ? { port: overrides.port } : {}), ...(overrides.db ? { db: overrides.db } : {}) };
  const policy = config.policyFile ? loadJsonFile(config.policyFile, companyPolicySchema, 'Policy file') : parsePolicy({});
  const adminToken = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
  // A home made by an older version, or copied with looser modes: the token and the config (which
  // may name a database URL with its password) are the owner's only.
  makePrivate(join(dir, 'admin-token'), join(dir, 'config.json'));
  const store = await openCompanyStore(dbUrl(dir, config));
  let stored = await store.getIdentity();
  if (!stored) {
    // A PostgreSQL store given at serve time starts empty: give it this home's identity.
    const { identity } = createIdentity(config);
    stored = { did: identity.did, keys: { method: config.didMethod, identity }, createdAt: Date.now() };
    await store.saveIdentity(stored);
  }
  const parsedIdentity = storedIdentitySchema.safeParse(stored.keys);
  if (!parsedIdentity.success) throw new ConfigError('config.invalid', 'Stored company identity is unreadable');
  const { identity } = parsedIdentity.data;
  const didDocument =
    parsedIdentity.data.method === 'web'
      ? buildDidWebDocument({
          did: identity.did,
          authentication: identity.signing.publicJwk,
          keyAgreement: identity.agreement.publicJwk,
          serviceEndpoint: `${config.publicUrl.replace(/\/$/, '')}/didcomm`,
        })
      : undefined;
  return { dir, config, policy, adminToken, store, identity, didDocument };
}
