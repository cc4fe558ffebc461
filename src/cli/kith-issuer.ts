import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { systemClock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { tryParseJson } from '../core/json.js';
import { PRIVATE_UMASK } from '../core/privateFiles.js';
import { AGE_VCT, ageClaims, defaultIssuerHome, initIssuerHome, issueCredential, openIssuerHome } from '../issuer/demoIssuer.js';
import { okpPublicJwkSchema } from '../protocol/keys.js';
import { output, run, type GlobalOptions } from './common.js';

// The issuer's signing key is its alone, whatever the shell's umask.
process.umask(PRIVATE_UMASK);

const program = new Command('kith-issuer')
  .description('A demo credential issuer: SD-JWT VCs (e.g. age over 18) bound to a key from `kith credentials key`')
  .option('--home <dir>', 'issuer home (default $KITH_ISSUER_HOME or ~/.kith-issuer)')
  .option('--json', 'machine-readable output')
  .showHelpAfterError();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
const home = (): string => globals().home ?? defaultIssuerHome();

/** `k=v`: v as JSON when it parses (true, 42, "x"), else as text. */
function parseClaim(spec: string, all: Record<string, unknown>): Record<string, unknown> {
  const at = spec.indexOf('=');
  if (at <= 0) throw new ConfigError('config.invalid', `--claim takes name=value (got "${spec}")`);
  const raw = spec.slice(at + 1);
  const json = tryParseJson(raw);
  return { ...all, [spec.slice(0, at)]: json.ok ? json.value : raw };
}

program
  .command('init')
  .description('create the issuer (a did:peer:2 and its keys)')
  .option('--name <name>', 'issuer name', 'Kith Demo Issuer')
  .action((options: { name: string }) =>
    run(globals, async () => {
      const issuer = initIssuerHome(home(), options.name);
      output(globals(), { did: issuer.identity.did }, () => `Issuer ${options.name}: ${issuer.identity.did}\nCompanies that trust it list this DID in their policy's trustedIssuers.`);
    }),
  );

program
  .command('did')
  .description('print the issuer DID')
  .action(() => run(globals, async () => output(globals(), { did: openIssuerHome(home()).identity.did }, () => openIssuerHome(home()).identity.did)));

program
  .command('issue')
  .description('issue an SD-JWT VC to a holder key; prints the credential for `kith credentials add`')
  .requiredOption('--holder-key <jwk>', 'the holder public JWK (JSON, or @file)')
  .option('--vct <type>', 'credential type', AGE_VCT)
  .option('--birthdate <YYYY-MM-DD>', 'derive age_over_16/18/21/65 claims (the birth date itself is not put in)')
  .option('--claim <name=value>', 'a claim (repeatable)', parseClaim, {} as Record<string, unknown>)
  .option('--valid-days <n>', 'validity', '365')
  .action((options: { holderKey: string; vct: string; birthdate?: string; claim: Record<string, unknown>; validDays: string }) =>
    run(globals, async () => {
      const issuer = openIssuerHome(home());
      const text = options.holderKey.startsWith('@') ? readFileSync(options.holderKey.slice(1), 'utf8') : options.holderKey;
      const parsed = okpPublicJwkSchema.safeParse(tryParseJson(text).ok ? JSON.parse(text) : undefined);
      if (!parsed.success) throw new ConfigError('config.invalid', '--holder-key must be a public OKP JWK (from `kith credentials key`)');
      const claims = { ...(options.birthdate ? ageClaims(options.birthdate, new Date(systemClock.now())) : {}), ...options.claim };
      if (Object.keys(claims).length === 0) throw new ConfigError('config.invalid', 'Nothing to issue: give --birthdate or --claim');
      const sdJwt = await issueCredential(issuer.identity, { holderPublicJwk: parsed.data, vct: options.vct, claims, validDays: Number(options.validDays) }, systemClock);
      output(globals(), { sdJwt, issuer: issuer.identity.did, vct: options.vct, claims: Object.keys(claims) }, () => sdJwt);
    }),
  );

await program.parseAsync(process.argv);
