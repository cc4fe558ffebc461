import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { toEpochSeconds, type Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { createPeerIdentity, localIdentitySchema, type LocalIdentity } from '../protocol/agent/identity.js';
import { okpPublicJwkSchema, privateKeyObject, type OkpPublicJwk } from '../protocol/keys.js';
import { issueSdJwt } from '../protocol/sdjwt/index.js';

/**
 * A small credential issuer for the demo and the tests: a `did:peer:2` of its own and SD-JWT VCs
 * bound to a holder key she gives it. A real issuer (a bank, a registry, an eID scheme) would do
 * the same over OpenID4VCI; this one stands in so age checks and the like can be shown end to end.
 */
export const AGE_VCT = 'https://kith.invalid/credentials/age/1.0';

const issuerFileSchema = z.object({ version: z.literal(1), name: z.string().min(1).max(200), identity: localIdentitySchema });
export type DemoIssuer = z.infer<typeof issuerFileSchema>;

const ISSUER_FILE = 'issuer.json';

export function defaultIssuerHome(): string {
  return process.env['KITH_ISSUER_HOME'] ?? join(process.env['HOME'] ?? '.', '.kith-issuer');
}

export function createDemoIssuer(name: string): DemoIssuer {
  return { version: 1, name, identity: createPeerIdentity().identity };
}

/** @throws ConfigError `config.invalid` if an issuer already lives there. */
export function initIssuerHome(dir: string, name: string): DemoIssuer {
  const file = join(dir, ISSUER_FILE);
  if (existsSync(file)) throw new ConfigError('config.invalid', `An issuer already exists at ${file}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const issuer = createDemoIssuer(name);
  writeFileSync(file, `${JSON.stringify(issuer, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return issuer;
}

/** @throws ConfigError `config.not_found`, `config.invalid` */
export function openIssuerHome(dir: string): DemoIssuer {
  const file = join(dir, ISSUER_FILE);
  if (!existsSync(file)) throw new ConfigError('config.not_found', `No issuer at ${dir}: run \`kith-issuer init\``);
  const parsed = issuerFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new ConfigError('config.invalid', `${file} is not an issuer file`);
  return parsed.data;
}

export interface IssueRequest {
  holderPublicJwk: OkpPublicJwk;
  vct: string;
  claims: Record<string, unknown>;
  /** Validity in days (default 365). */
  validDays?: number;
}

/** Issues an SD-JWT VC with every claim selectively disclosable. */
export function issueCredential(issuer: LocalIdentity, request: IssueRequest, clock: Clock): Promise<string> {
  const holder = okpPublicJwkSchema.parse(request.holderPublicJwk);
  if (holder.crv !== 'Ed25519') throw new ConfigError('config.invalid', 'The holder key must be an Ed25519 public JWK');
  const issuedAt = toEpochSeconds(clock.now());
  return issueSdJwt({
    issuer: { did: issuer.did, kid: issuer.signing.kid, privateKey: privateKeyObject(issuer.signing.privateJwk) },
    holderPublicJwk: holder,
    vct: request.vct,
    claims: request.claims,
    issuedAt,
    expiresAt: issuedAt + (request.validDays ?? 365) * 86_400,
  });
}

/** Age claims from a birth date, as age-verification credentials carry them (no birth date needed to use them). */
export function ageClaims(birthdate: string, now: Date): Record<string, boolean> {
  const born = new Date(`${birthdate}T00:00:00Z`);
  if (Number.isNaN(born.getTime())) throw new ConfigError('config.invalid', 'Birth date must be YYYY-MM-DD');
  let age = now.getUTCFullYear() - born.getUTCFullYear();
  const beforeBirthday = now.getUTCMonth() < born.getUTCMonth() || (now.getUTCMonth() === born.getUTCMonth() && now.getUTCDate() < born.getUTCDate());
  if (beforeBirthday) age -= 1;
  return { age_over_16: age >= 16, age_over_18: age >= 18, age_over_21: age >= 21, age_over_65: age >= 65 };
}
