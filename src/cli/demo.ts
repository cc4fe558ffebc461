import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newToken } from '../core/ids.js';
import { PRIVATE_UMASK, ensurePrivateDir, touchPrivateFile, writePrivateFile } from '../core/privateFiles.js';
import { readRunningAgent, runningAgentFile, vaultPath } from '../personal/home.js';
import { Vault } from '../personal/vault/vault.js';
import { initCompanyHome } from '../company/home.js';
import { intentPolicySchema, type IntentPolicy } from '../company/config.js';
import { catalogSchema, type CatalogItem } from '../company/intents/catalog.js';
import type { Demand } from '../protocol/families/intent.js';
import { formatTime, table } from './common.js';
import { terminalLines } from './terminalText.js';
import { demoWebhookSecret, startDemoWebhookReceiver } from './demoWebhooks.js';
import { startDemoCrm } from './demoCrm.js';
import { systemClock } from '../core/clock.js';
import { AGE_VCT, ageClaims, initIssuerHome, issueCredential, openIssuerHome } from '../issuer/demoIssuer.js';
import { prepare, routes, type CallArgs, type IntentView, type OfferView, type RelationshipView, type RequestView, type Route, type RouteResponse } from '../personal/http/apiContract.js';

/**
 * `npm start`: a personal agent and three demo companies, each a real process on loopback with
 * SQLite, so a newcomer can try Kith at once. State persists in KITH_DEMO_HOME (default
 * ~/.kith-demo) between runs; Ctrl-C stops everything.
 */
const DEMO_COMPANIES = [
  {
    slug: 'acme',
    name: 'Acme Outfitters',
    welcome: 'Welcome to Acme Outfitters! Ask us anything about your gear.',
    // Accepts her terms as proffered.
    terms: { accept: ['intent-only-contact', 'service-only'], preferred: 'intent-only-contact' },
    ask: { fields: ['name', 'email', 'address'], purpose: 'Order confirmations and shipping', purposeCode: 'order-fulfilment', retention: 'P90D', legalBasis: 'contract' },
    // Answers intents for clothing and outdoor gear from its catalog (the tour's trail shoes among them).
    intents: {
      categories: ['clothing', 'outdoor-gear'],
      offerValidHours: 72,
      catalog: [
        { sku: 'RDG-GTX-39', name: 'Ridge GTX waterproof trail shoe, EU 39', description: 'Waterproof membrane, 310 g a shoe', category: 'clothing', price: '129.90', priceCurrency: 'EUR', stock: 12, deliveryDays: 4, countries: ['GB', 'IE'], conditions: '30 days free returns; 2-year warranty.' },
        { sku: 'STM-SHELL-M', name: 'Storm 3L shell jacket', description: 'Waterproof and breathable, taped seams', category: 'clothing', price: '189.00', priceCurrency: 'EUR', stock: 5, deliveryDays: 4, countries: ['GB', 'IE'], conditions: '30 days free returns; 2-year warranty.' },
        { sku: 'LUX-HL-300', name: 'Lux 300 rechargeable headlamp', category: 'outdoor-gear', price: '34.50', priceCurrency: 'EUR', stock: 40, deliveryDays: 3, countries: ['GB', 'IE'] },
        { sku: 'CRG-TENT-2', name: 'Cairngorm 2-person tent', description: '2.1 kg, two porches', category: 'outdoor-gear', price: '249.00', priceCurrency: 'EUR', stock: 3, deliveryDays: 6, countries: ['GB', 'IE'] },
      ] satisfies readonly DemoItem[],
    },
  },
  {
    slug: 'northwind',
    name: 'Northwind Energy',
    welcome: 'Hello from Northwind Energy. Your meter readings will arrive here.',
    // Rejects anything but billing terms, and offers no alternative.
    terms: { accept: ['service-plus-billing'], preferred: null },
    ask: { fields: ['name', 'address', 'phone_number'], purpose: 'Your supply contract and meter visits', purposeCode: 'billing', retention: 'P6Y', legalBasis: 'contract' },
    // Answers intents for energy supply with its tariff, a service.
    intents: {
      categories: ['energy'],
      offerValidHours: 24 * 14,
      catalog: [
        {
          sku: 'NW-GREEN-FIX12',
          name: 'Green Fixed 12 electricity tariff',
          description: 'Estimated monthly payment for a two-bedroom home: 100% renewable, 24.5p/kWh, 45p a day standing charge, fixed for 12 months',
          category: 'energy',
          price: '89.00',
          priceCurrency: 'GBP',
          stock: 1_000_000,
          deliveryDays: 14,
          countries: ['GB'],
          conditions: 'No exit fees; 14-day cooling-off period.',
        },
      ] satisfies readonly DemoItem[],
    },
  },
  {
    slug: 'bluebird',
    name: 'Bluebird Books',
    welcome: 'Bluebird Books here: we will tell you when your order ships.',
    // Counters with a stricter agreement, which her rule accepts on its own.
    terms: { accept: ['service-only'], preferred: 'service-only' },
    ask: {
      fields: ['address'],
      credentials: [{ vct: AGE_VCT, claims: ['age_over_18'] }],
      purpose: 'Delivering your books (some titles are for adults only)',
      purposeCode: 'service-delivery',
      retention: 'P30D',
      legalBasis: 'contract',
    },
    // Answers intents for books from its catalog.
    intents: {
      categories: ['books'],
      offerValidHours: 24 * 7,
      catalog: [
        { sku: 'BB-9780000000011', name: 'A Field Guide to Rain (paperback)', description: 'Walks, weather and the wet side of the hills', category: 'books', price: '12.99', priceCurrency: 'GBP', stock: 8, deliveryDays: 2, countries: ['GB'], conditions: 'Free delivery; returns within 14 days.' },
        { sku: 'BB-9780000000028', name: 'Trails of the North (hardback)', description: 'Fifty long walks, with maps', category: 'books', price: '24.00', priceCurrency: 'GBP', stock: 3, deliveryDays: 2, countries: ['GB'], conditions: 'Free delivery; returns within 14 days.' },
      ] satisfies readonly DemoItem[],
    },
  },
] as const;
type DemoCompany = (typeof DEMO_COMPANIES)[number];
/** A demo catalog item (company/intents/catalog.ts); `countries` empty would mean anywhere. */
type DemoItem = Omit<CatalogItem, 'countries'> & { countries: readonly string[] };

/** The terms the demo proffers for you (kith terms set <agreement> changes them). */
const DEMO_TERMS = 'intent-only-contact';

/** Who "you" are in the demo: a made-up person, set on first run. */
const DEMO_PROFILE = {
  name: 'Alex Rivera',
  email: 'alex.rivera@example.org',
  phone_number: '+44 20 7946 0321',
  address: { street_address: '1 Old Road', locality: 'Oldtown', postal_code: 'OT1 1AA', country: 'GB' },
};
const DEMO_NEW_ADDRESS = { street_address: '22 New Street', locality: 'Newtown', postal_code: 'NT2 2BB', country: 'GB' };

/**
 * Your second self: the studio you work from. Bluebird Books knows you by it (you buy your books
 * for work), so it holds the studio's address and email, never your home's.
 */
const DEMO_WORK_PERSONA = 'work';
const DEMO_WORK_PROFILE = {
  name: 'Alex Rivera',
  email: 'alex@rivera-studio.example',
  organization: 'Rivera Studio',
  address: { street_address: '5 Mill Yard', locality: 'Oldtown', postal_code: 'OT1 9ZZ', country: 'GB' },
};
/** The company that knows your work self. */
const DEMO_WORK_COMPANY = 'bluebird';
/** Your rule: companies that agreed your terms get your work email for their service, without asking you. */
const DEMO_WORK_RULE = {
  id: 'work-email',
  when: { fields: ['email'], purposes: ['service-delivery', 'order-fulfilment'], trust: ['agreed_terms', 'trusted'], personas: [DEMO_WORK_PERSONA] },
  action: 'approve',
  note: 'Work suppliers may have my work email for their service',
};

/** What "you" want in the tour: cast to every company, delivered to the country you now live in. Acme's catalog answers it. */
const DEMO_INTENT = { description: 'Waterproof trail shoes, size 39', category: 'clothing', maxPrice: '150', currency: 'EUR', wantedInDays: 14, openDays: 7 } as const;
const DAY_MS = 86_400_000;

// Everything the demo and the agents it starts write (vaults, stores, keys, logs) is the owner's
// alone, whatever the shell's umask; the children inherit it.
process.umask(PRIVATE_UMASK);

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const demoHome = resolve(process.env['KITH_DEMO_HOME'] ?? join(homedir(), '.kith-demo'));
const basePort = Number(process.env['KITH_DEMO_BASE_PORT'] ?? 7400);
const children: ChildProcess[] = [];

/** The demo's lines, with what the companies sent (names, purposes, offers) made safe for the terminal. */
function log(line: string): void {
  process.stdout.write(`${terminalLines(line)}\n`);
}

/** The demo vault's passphrase: KITH_PASSPHRASE, or one generated on first run and kept beside it (demo only). */
function demoPassphrase(): string {
  if (process.env['KITH_PASSPHRASE']) return process.env['KITH_PASSPHRASE'];
  const file = join(demoHome, 'demo-passphrase');
  if (!existsSync(file)) writePrivateFile(file, `${newToken(18)}\n`);
  return readFileSync(file, 'utf8').trim();
}

function spawnServe(bin: string, args: string[], logName: string, env: NodeJS.ProcessEnv): ChildProcess {
  // Owner-only: a log of an older run may have been created readable by others.
  const logPath = join(demoHome, 'logs', logName);
  touchPrivateFile(logPath);
  const logFile = openSync(logPath, 'a');
  // KITH_STOP_WITH_PARENT: should the demo be killed outright, its servers stop too (cli/common.ts).
  const child = spawn(process.execPath, [join(repoRoot, 'bin', bin), ...args], { env: { ...process.env, ...env, KITH_STOP_WITH_PARENT: '1' }, stdio: ['ignore', logFile, logFile] });
  children.push(child);
  child.once('exit', (code, signal) => {
    if (!stopping) log(`${logName.replace('.log', '')} exited (${signal ?? code}); see ${join(demoHome, 'logs', logName)}`);
  });
  return child;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

let stopping = false;
async function stopAll(code: number): Promise<never> {
  stopping = true;
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
        }),
    ),
  );
  process.exit(code);
}

async function main(): Promise<void> {
  ensurePrivateDir(demoHome);
  ensurePrivateDir(join(demoHome, 'logs'));
  const personalHome = join(demoHome, 'me');
  const passphrase = demoPassphrase();
  if (!Vault.exists(vaultPath(personalHome))) {
    ensurePrivateDir(personalHome);
    Vault.create(vaultPath(personalHome), passphrase).close();
    log(`Created your demo vault in ${personalHome}`);
  }

  // A demo credential issuer (think: a bank or an eID scheme) that Bluebird Books trusts for age checks.
  const issuerHome = join(demoHome, 'issuer');
  const issuer = existsSync(join(issuerHome, 'issuer.json')) ? openIssuerHome(issuerHome) : initIssuerHome(issuerHome, 'Demo Age Authority');

  // The companies' CRM, as far as the demo has one: a receiver that checks and prints their webhooks.
  const webhookPort = basePort + 4;
  const webhookSecret = demoWebhookSecret(demoHome);
  const receiver = await startDemoWebhookReceiver(webhookPort, webhookSecret, new Map(DEMO_COMPANIES.map((c) => [c.slug, c.name])), log).catch((error: unknown) => {
    log(`(The webhook receiver could not listen on port ${webhookPort}: ${error instanceof Error ? error.message : 'error'}; the companies retry later.)`);
    return undefined;
  });
  receiver?.unref();
  // Acme's CRM also keeps its customers as SCIM Users (a scimmy service provider): the SCIM connector writes them.
  const scimPort = basePort + 5;
  const crm = await startDemoCrm(demoHome, scimPort, log).catch((error: unknown) => {
    log(`(The demo CRM could not listen on port ${scimPort}: ${error instanceof Error ? error.message : 'error'}; Acme retries later.)`);
    return undefined;
  });
  crm?.server.unref();
  const connectorsOf = (company: DemoCompany) => [
    { type: 'logging' },
    { type: 'webhook', id: 'crm', url: `http://127.0.0.1:${webhookPort}/webhooks/${company.slug}`, secrets: [webhookSecret] },
    ...(company.slug === 'acme' && crm ? [{ type: 'scim', id: 'crm-scim', baseUrl: crm.baseUrl, tokenFile: crm.tokenFile }] : []),
  ];

  const companyUrls: { slug: string; name: string; url: string; home: string }[] = [];
  for (const [index, company] of DEMO_COMPANIES.entries()) {
    const home = join(demoHome, company.slug);
    const port = basePort + 1 + index;
    if (!existsSync(join(home, 'config.json'))) {
      ensurePrivateDir(home);
      const policyFile = join(home, 'policy.json');
      const policy = { version: 1, acceptConnections: true, welcomeMessage: company.welcome, requestOnConnect: company.ask, trustedIssuers: [issuer.identity.did], terms: company.terms, intents: intentPolicy(company, home), connectors: connectorsOf(company) };
      writePrivateFile(policyFile, `${JSON.stringify(policy, null, 2)}\n`);
      const created = await initCompanyHome(home, { name: company.name, port, policyFile });
      await created.store.close();
    } else {
      addIntentPolicy(company, home);
      addWebhookConnector(home, connectorsOf(company));
    }
    spawnServe('kith-vendor.js', ['--home', home, 'serve', '--port', String(port)], `${company.slug}.log`, {});
    companyUrls.push({ slug: company.slug, name: company.name, url: `http://127.0.0.1:${port}`, home });
  }
  // Her lock screen says where the demo's passphrase is (it locks after 15 minutes without use).
  const lockScreenHint = process.env['KITH_PASSPHRASE'] ? 'This demo uses your KITH_PASSPHRASE.' : `This is the demo: its passphrase is in ${join(demoHome, 'demo-passphrase')}.`;
  spawnServe('kith.js', ['--home', personalHome, 'serve', '--port', String(basePort)], 'me.log', { KITH_PASSPHRASE: passphrase, KITH_PASSPHRASE_HINT: lockScreenHint });

  for (const company of companyUrls) await waitFor(`${company.name}`, async () => ((await fetch(`${company.url}/health`)).ok ? true : undefined));
  const agent = await waitFor('your agent', async () => readRunningAgent(personalHome));
  const api: Api = async (route, ...args) => {
    const call = prepare(route, ...args);
    const response = await fetch(`${agent.url}${call.url}`, {
      method: call.method,
      headers: { authorization: `Bearer ${agent.token}`, ...call.headers },
      ...(call.body === undefined ? {} : { body: call.body }),
    });
    if (!response.ok) throw new Error(`${call.method} ${call.url}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as RouteResponse<typeof route>;
  };

  // First run: you, an age credential, a connection to each company, their requests answered,
  // a move of house that reaches all three, and an intent that Acme answers with an offer.
  const { relationships } = await api(routes.relationships);
  const firstRun = relationships.length === 0;
  if (firstRun) {
    await api(routes.setProfile, { fields: DEMO_PROFILE });
    const holderKey = await api(routes.newHolderKey);
    const credential = await issueCredential(issuer.identity, { holderPublicJwk: holderKey.publicJwk, vct: AGE_VCT, claims: ageClaims('1990-04-12', new Date()) }, systemClock);
    await api(routes.addCredential, { sdJwt: credential });
    log(`Your demo profile: ${DEMO_PROFILE.name}, and an age credential from ${issuer.name} (over 18, no birth date in it)`);
    await api(routes.setDefaultTerms, { agreement: DEMO_TERMS });
    log(`Your terms: ${DEMO_TERMS} (IEEE 7012 style), proffered to every company you connect to`);
    await api(routes.addPersona, { label: DEMO_WORK_PERSONA });
    await api(routes.setProfile, { fields: DEMO_WORK_PROFILE, persona: DEMO_WORK_PERSONA });
    log(`Your personas: "me" (${DEMO_PROFILE.email}, at home) and "${DEMO_WORK_PERSONA}" (${DEMO_WORK_PROFILE.email}, ${DEMO_WORK_PROFILE.organization}); each company knows you by one`);
  }
  const hasWorkPersona = (await api(routes.personas)).personas.some((p) => p.label === DEMO_WORK_PERSONA);
  for (const company of companyUrls) {
    if (relationships.some((r) => r.company === company.name)) continue;
    const { url } = (await (await fetch(`${company.url}/invite`)).json()) as { url: string };
    const persona = company.slug === DEMO_WORK_COMPANY && hasWorkPersona ? DEMO_WORK_PERSONA : undefined;
    const { relationship } = await api(routes.connect, { invitation: url, ...(persona ? { persona } : {}) });
    log(`Connected to ${company.name} as your "${relationship.persona.label ?? 'me'}" persona, from a fresh pairwise DID; ${termsOutcome(relationship)}`);
  }
  if (firstRun) await firstRunTour(api, companyUrls);

  // `node bin/kith.js`, not `npx kith`: outside this folder npx would fetch an unrelated npm
  // package called "kith" (and it starts slower here too).
  const inRepo = resolve(process.cwd()) === repoRoot;
  const cli = `node ${inRepo ? 'bin/kith.js' : join(repoRoot, 'bin', 'kith.js')} --home ${personalHome}`;
  log('');
  log('Kith is running: your personal agent and three demo companies, each its own process.');
  // The token only to a terminal: output sent to a file or a pipe would keep it where others may
  // read it. Otherwise the path of agent.json (0600), which holds it, and `kith open`.
  const toTerminal = process.stdout.isTTY === true;
  log(toTerminal ? `  Web app:   ${agent.url}/login#token=${agent.token}` : `  Web app:   ${cli} open   (prints its sign-in link)`);
  const passphraseHint = process.env['KITH_PASSPHRASE'] ? 'your KITH_PASSPHRASE' : `in ${join(demoHome, 'demo-passphrase')}`;
  log(`             (it locks after 15 minutes without use; the demo passphrase is ${passphraseHint})`);
  log(`  Local API: ${agent.url}/api   (OpenAPI: ${agent.url}/api/openapi.json)`);
  log(toTerminal ? `  API token: ${agent.token}` : `  API token: in ${runningAgentFile(personalHome)} (readable only by you)`);
  for (const company of companyUrls) log(`  ${company.name.padEnd(17)} ${company.url}   (call-center console: ${company.url}/console, admin token in ${join(company.home, 'admin-token')})`);
  if (receiver) log(`  Their CRM:         http://127.0.0.1:${webhookPort}/webhooks/<company>   (Standard Webhooks, signatures checked; each event is printed here)`);
  if (crm) log(`  Acme's SCIM users: ${crm.baseUrl}/Users   (bearer token in ${crm.tokenFile}; each change is printed here)`);
  log('');
  for (const request of await pendingRequests(api)) {
    log(`Waiting for you: ${request.company ?? 'a company'} asks for ${askedFor(request)} ("${request.purpose}")`);
    log(`  ${cli} approve ${request.requestId.slice(0, 8)}     or     ${cli} decline ${request.requestId.slice(0, 8)}`);
  }
  log('');
  log(`Try (another terminal${inRepo ? `, in ${repoRoot}` : ''}; the CLI uses the running agent):`);
  for (const { intent, offer } of await offersWaiting(api)) {
    log(`  ${cli} offers ${intent.id.slice(0, 8)}           (the offers for "${intent.demand.description}", side by side)`);
    log(`  ${cli} offer accept ${offer.id.slice(0, 8)}     (take the offer from ${offer.company ?? 'the company'} at ${offer.offer.price} ${offer.offer.priceCurrency}; the others are told the intent is closed)`);
  }
  log(`  ${cli} relationships --json     (what each company holds, per field, and why; the terms agreed)`);
  log(`  ${cli} terms show acme           (the agreement both of you signed, and its history)`);
  log(`  ${cli} requests`);
  log(`  ${cli} profile set address "3 Third Way; Thirdham; ; TH3 3CC; GB"`);
  log(`  ${cli} messages acme`);
  log(`  ${cli} message acme "Hello from my own agent"`);
  log(`  ${cli} intent cast "A paperback for a rainy weekend" --category books --max 20 --currency GBP --country GB --anonymous`);
  log(`                               (Bluebird Books answers a new pairwise DID: it cannot tell it is you)`);
  log(`  ${cli} intents`);
  log(`  ${cli} directory                (the companies your anonymous intents go to, and what each serves)`);
  log(`  ${cli} access acme              (what Acme holds about you: its signed answer, kept in your vault)`);
  log(`  ${cli} profile remove phone      (every company holding your phone erases it; its CRM hears of it)`);
  log(`  ${cli} ids                      (what each company knows you by, signed by it; \`ids find <number>\` names the company)`);
  log(`  ${cli} rules list               (your disclosure rules: your work email for work suppliers, marketing declined, anything else asks you)`);
  log(`  ${cli} personas                 (your selves and who knows you by each; \`profile show --persona work\`, \`personas use <company> <persona>\`)`);
  log(`  ${cli} things list              (the headlamp Acme sold you: its receipt, registration and service case; \`things cases\`)`);
  log(`  ${cli} things add "Trail shoes" --brand Ridge --purchased ${new Date().toISOString().slice(0, 10)} --price "129.90 EUR" --warranty P2Y --sold-by acme`);
  log(`                               (what you own, with its warranty and the company behind it; \`things due\`, \`things inventory --html\`)`);
  const acmeCustomer = companyUrls[0] ? await customerNumberAt(companyUrls[0]) : undefined;
  log(`  node ${inRepo ? 'bin/kith-vendor.js' : join(repoRoot, 'bin', 'kith-vendor.js')} --home ${companyUrls[0]?.home ?? '<acme home>'} verify ${acmeCustomer ?? '<customer number>'}`);
  log(`                               (Acme asks you to confirm it is you on the phone: ${cli} verifications, ${cli} verify approve <id>)`);
  log(`  ${cli} cutoff bluebird`);
  log(`Logs: ${join(demoHome, 'logs')}    Ctrl-C stops everything.`);
}

/**
 * A demo home made before companies sent webhooks: its policy gets the demo's connectors, unless it
 * configures connectors of its own (an edited policy is left as it is).
 */
function addWebhookConnector(home: string, connectors: unknown[]): void {
  const { policyFile } = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { policyFile?: string };
  if (!policyFile || !existsSync(policyFile)) return;
  const policy = JSON.parse(readFileSync(policyFile, 'utf8')) as Record<string, unknown>;
  if (policy['connectors'] !== undefined) return;
  writePrivateFile(policyFile, `${JSON.stringify({ ...policy, connectors }, null, 2)}\n`);
}

/** A company's intents policy, its catalog written next to its policy file (kept if already there). */
function intentPolicy(company: DemoCompany, home: string): IntentPolicy {
  const catalogFile = join(home, 'catalog.json');
  if (!existsSync(catalogFile)) writePrivateFile(catalogFile, `${JSON.stringify(catalogSchema.parse({ version: 1, items: company.intents.catalog }), null, 2)}\n`);
  return intentPolicySchema.parse({ categories: company.intents.categories, catalogFile, offerValidHours: company.intents.offerValidHours });
}

/**
 * A demo home made before companies answered intents: its policy file gets the intents policy
 * (a policy that has one, even an edited one, is left as it is). The company reads it when it starts.
 */
function addIntentPolicy(company: DemoCompany, home: string): void {
  const { policyFile } = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { policyFile?: string };
  if (!policyFile || !existsSync(policyFile)) return;
  const policy = JSON.parse(readFileSync(policyFile, 'utf8')) as Record<string, unknown>;
  if (policy['intents'] !== undefined) return;
  writePrivateFile(policyFile, `${JSON.stringify({ ...policy, intents: intentPolicy(company, home) }, null, 2)}\n`);
}

/** What became of her proffered terms, in words. */
function termsOutcome(relationship: RelationshipView): string {
  const { terms } = relationship;
  if (terms.outcome === 'accepted') return `it accepted your terms (${terms.name})`;
  if (terms.outcome === 'countered-accepted') return `it countered with ${terms.name}, which protects you at least as well on every obligation, so your agent accepted it`;
  if (terms.awaitingHer) return 'it countered with terms that protect you less: kith terms show, then kith terms accept|reject';
  if (terms.lastState === 'rejected') return 'it rejected your terms: no agreement, so each of its requests is yours to judge';
  return 'no terms proffered';
}

/** Her running agent's local API, typed by the contract. */
type Api = <R extends Route>(route: R, ...args: CallArgs<R>) => Promise<RouteResponse<R>>;

async function pendingRequests(api: Api): Promise<RequestView[]> {
  return (await api(routes.requests)).requests;
}

/** Fetches what the companies queued (pickup) until at least `count` requests wait for her. */
function pickUpRequests(api: Api, what: string, count: number): Promise<RequestView[]> {
  return waitFor(what, async () => {
    await api(routes.pickup);
    const requests = await pendingRequests(api);
    return requests.length >= count ? requests : undefined;
  });
}

const askedFor = (request: RequestView): string => [...request.fields.map((f) => f.name), ...request.credentials.flatMap((c) => c.claims)].join(', ');

/** Answers the companies' first requests, moves house, shows the change reach everyone, and casts an intent. */
async function firstRunTour(api: Api, companies: { slug: string; name: string; url: string; home: string }[]): Promise<void> {
  // The companies queued their requests when she connected; her agent fetches them.
  for (const request of await pickUpRequests(api, 'the companies’ requests', companies.length)) {
    await api(routes.approve, { id: request.id }, {});
    log(`${request.company ?? 'A company'} asked for ${askedFor(request)} ("${request.purpose}"): approved for the demo, as a selective-disclosure SD-JWT`);
  }
  const { change } = await api(routes.setProfile, { fields: { address: DEMO_NEW_ADDRESS } });
  // The first run's profile holds another address, so this is always a change.
  if (!change) throw new Error('The demo address change changed nothing');
  log(
    `You moved to ${DEMO_NEW_ADDRESS.street_address}, ${DEMO_NEW_ADDRESS.locality}: one change (profile version ${change.version}) goes to every company that knows you as "me" and holds your address (Bluebird knows your work self: it keeps your studio's)`,
  );
  const done = await waitFor(
    'the address change',
    async () => {
      const view = await api(routes.profileChange, { version: change.version });
      return view.change.done ? view.change : undefined;
    },
    30_000,
  );
  for (const delivery of done.deliveries) log(`  ${(delivery.company ?? '?').padEnd(17)} ${delivery.state === 'acked' ? 'acknowledged' : delivery.state}`);
  await answerByRule(api, companies);
  await castDemoIntent(api, companies);
  if (companies[0]) await thingsTour(api, companies[0]);
  // Her directory lists the companies' signed descriptions, for intents she casts without an existing relationship.
  for (const company of companies) await api(routes.addDirectoryEntry, { url: company.url });
  log('Your directory lists the three companies (their signed descriptions): an intent cast with --anonymous reaches those serving its category, each from a fresh pairwise DID');
  // One more question, left for you to answer.
  const acme = companies[0];
  if (acme) {
    const at = await customerAt(acme);
    if (at) {
      const { admin, ref } = at;
      await verifyTheCaller(api, acme.url, admin, ref);
      await fetch(`${acme.url}/admin/relationships/${ref}/disclosure-requests`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ fields: ['phone_number'], purpose: 'Text you when a parcel is out for delivery', purposeCode: 'order-fulfilment', retention: 'P30D' }),
      });
      await pickUpRequests(api, 'Acme’s second request', 1);
    }
  }
}

/**
 * A demo company's admin headers (its admin token) and its reference for her: its first
 * relationship, the one the tour opened. Undefined when it has none.
 */
async function customerAt(company: { url: string; home: string }): Promise<{ admin: Record<string, string>; ref: string } | undefined> {
  const token = readFileSync(join(company.home, 'admin-token'), 'utf8').trim();
  const admin = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const { relationships } = (await (await fetch(`${company.url}/admin/relationships`, { headers: admin })).json()) as { relationships: { id: string }[] };
  const ref = relationships[0]?.id;
  return ref === undefined ? undefined : { admin, ref };
}

/**
 * Her rule at work: Bluebird, which knows her work self and agreed her terms, asks for an email for
 * shipping notices; her agent approves it by her rule, from the work persona, without asking her.
 */
async function answerByRule(api: Api, companies: { slug: string; name: string; url: string; home: string }[]): Promise<void> {
  const bluebird = companies.find((c) => c.slug === DEMO_WORK_COMPANY);
  if (!bluebird) return;
  await api(routes.addRule, { rule: DEMO_WORK_RULE, position: 1 });
  log(`Your rule "${DEMO_WORK_RULE.id}": approve email for service-delivery or order-fulfilment to companies that agreed your terms, as your work persona; everything else still asks you`);
  const at = await customerAt(bluebird);
  if (!at) return;
  const { admin, ref } = at;
  const asked = await fetch(`${bluebird.url}/admin/relationships/${ref}/disclosure-requests`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ fields: ['email'], purpose: 'Email you when your books ship', purposeCode: 'service-delivery', retention: 'P30D', legalBasis: 'contract' }),
  });
  if (!asked.ok) return log(`(Bluebird could not ask for your email: HTTP ${asked.status})`);
  const answered = await waitFor('your rule to answer Bluebird', async () => {
    await api(routes.pickup);
    return (await api(routes.requests, { auto: '1' })).requests.find((r) => r.company === bluebird.name && r.state !== 'pending');
  });
  log(`${bluebird.name} asked for your email ("${answered.purpose}"): ${answered.state} by your rule "${answered.answeredBy?.ruleId ?? '?'}", from your work persona, without asking you (kith requests --auto lists these)`);
}

/** What Acme sells you in the tour: its own-brand headlamp, so Acme is both its seller and its maker. */
const DEMO_THING = {
  name: 'Lux 300 rechargeable headlamp',
  brand: 'Acme',
  model: 'LUX-HL-300',
  gtin: '4006381333931',
  serialNumber: 'LX3-2026-004217',
  price: { amount: '34.50', currency: 'EUR' },
  warranty: 'P2Y',
  warrantyScope: 'Battery and electronics',
};

/**
 * Her things with their companies: Acme sends a signed receipt for what she bought; she accepts it
 * into her things (the signature kept as proof of purchase), registers it with its maker (Acme:
 * its own brand) sharing only the serial number and purchase date, and opens a service case as a
 * warranty claim, which Acme's support answers.
 */
async function thingsTour(api: Api, acme: { name: string; url: string; home: string }): Promise<void> {
  const at = await customerAt(acme);
  if (!at) return;
  const { admin, ref } = at;
  const sent = await fetch(`${acme.url}/admin/relationships/${ref}/things/receipts`, { method: 'POST', headers: admin, body: JSON.stringify(DEMO_THING) });
  if (!sent.ok) return log(`(Acme could not send a receipt: HTTP ${sent.status})`);
  const receipt = await waitFor('Acme’s signed receipt', async () => {
    await api(routes.pickup);
    return (await api(routes.thingReceipts)).receipts.find((r) => r.state === 'pending');
  });
  const accepted = await api(routes.acceptThingReceipt, { id: receipt.id });
  const thing = accepted.thing;
  if (!thing) return;
  log(`${acme.name} sent a signed receipt for your ${DEMO_THING.name} (${DEMO_THING.price.amount} ${DEMO_THING.price.currency}, 2-year warranty): accepted into your things; its signature is kept as proof of purchase`);
  await api(routes.registerThing, { id: thing.id }, { with: acme.name, fields: ['serial', 'purchase'] });
  log(`You registered it with its maker, ${acme.name}: only its serial number and purchase date (with its model, so a recall finds you), as an SD-JWT under a consent record both keep`);
  const opened = await api(routes.openCase, { id: thing.id }, { text: 'It no longer holds a charge for more than an hour.', share: ['model', 'serial', 'purchaseDate'] });
  const cases = (await (await fetch(`${acme.url}/admin/cases?state=open`, { headers: admin })).json()) as { cases: { id: string; caseId: string }[] };
  const theirs = cases.cases.find((c) => c.caseId === opened.case.id);
  if (!theirs) return log('(Acme does not list your service case)');
  const answer = 'Sorry about that: a new battery is in the post, free under your warranty.';
  await fetch(`${acme.url}/admin/cases/${theirs.id}/replies`, { method: 'POST', headers: admin, body: JSON.stringify({ text: answer }) });
  const answered = await waitFor('Acme to answer your service case', async () => {
    await api(routes.pickup);
    const current = (await api(routes.serviceCase, { id: opened.case.id })).case;
    return current.state === 'answered' ? current : undefined;
  });
  log(`You opened a service case about it with ${acme.name}${answered.warrantyClaim ? ', a warranty claim (its warranty is in force)' : ''}; its support answered: "${answer}"`);
}

/** The customer number a demo company gave her (its first relationship), from its admin API. */
async function customerNumberAt(company: { url: string; home: string }): Promise<string | undefined> {
  try {
    const token = readFileSync(join(company.home, 'admin-token'), 'utf8').trim();
    const answer = (await (await fetch(`${company.url}/admin/relationships`, { headers: { authorization: `Bearer ${token}` } })).json()) as { relationships?: { customerRef?: string }[] };
    return answer.relationships?.[0]?.customerRef;
  } catch {
    return undefined;
  }
}

/**
 * Acme's call center asks her agent to vouch for the caller: the code both screens show, her signed
 * answer (approved for the demo, as the tour approves the first requests), and what the console
 * then shows.
 */
async function verifyTheCaller(api: Api, companyUrl: string, admin: Record<string, string>, ref: string): Promise<void> {
  const started = await fetch(`${companyUrl}/admin/relationships/${ref}/verifications`, { method: 'POST', headers: { ...admin, 'x-kith-operator': 'Sam, Acme call center' } });
  if (!started.ok) return log(`(Acme could not start a caller verification: HTTP ${started.status})`);
  const { verification } = (await started.json()) as { verification: { id: string; code: string } };
  const mine = await waitFor('Acme’s caller verification', async () => {
    await api(routes.pickup);
    return (await api(routes.verifications, { pending: '1' })).verifications.find((v) => v.state === 'pending');
  });
  await api(routes.answerVerification, { id: mine.id }, { decision: 'approved' });
  const settled = await waitFor('Acme to see your answer', async () => {
    const answer = (await (await fetch(`${companyUrl}/admin/verifications/${verification.id}`, { headers: admin })).json()) as { verification: { state: string } };
    return answer.verification.state === 'pending' ? undefined : answer.verification;
  });
  log(`Acme's call center asked your agent to vouch for you on the phone: code ${mine.code} on both screens; approved for the demo; its console shows: ${settled.state}, signed by your pairwise DID for Acme`);
}

/** A calendar date (UTC), as a demand's "wanted by" takes it. */
const isoDate = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 10);

/** Says what she wants to every company, and shows their answers side by side: Acme's catalog has an offer, the others acknowledge. */
async function castDemoIntent(api: Api, companies: { name: string }[]): Promise<void> {
  const now = Date.now();
  const demand: Demand = {
    '@type': 'Demand',
    description: DEMO_INTENT.description,
    category: DEMO_INTENT.category,
    priceSpecification: { maxPrice: DEMO_INTENT.maxPrice, priceCurrency: DEMO_INTENT.currency },
    // Where she lives now: the companies' catalogs say where they deliver.
    eligibleRegion: { addressCountry: DEMO_NEW_ADDRESS.country },
    availabilityEnds: isoDate(now + DEMO_INTENT.wantedInDays * DAY_MS),
  };
  const { intent } = await api(routes.castIntent, { demand, expiresAt: now + DEMO_INTENT.openDays * DAY_MS });
  log(
    `You cast an intent: "${demand.description}" (${demand.category}, up to ${DEMO_INTENT.maxPrice} ${DEMO_INTENT.currency}, delivered to ${DEMO_NEW_ADDRESS.country} by ${demand.availabilityEnds}): each company gets its own copy, with its own id`,
  );
  const { offers } = await api(routes.intentOffers, { id: intent.id });
  const rows = [['COMPANY', 'OFFER', 'PRICE', 'DELIVERY', 'MEETS YOUR DEMAND']];
  for (const company of companies) {
    const theirs = offers.filter((o) => o.company === company.name);
    for (const offer of theirs) {
      const meets = offer.meets ? 'yes' : `no: ${offer.shortfalls.join(', ')}`;
      rows.push([company.name, offer.offer.itemOffered.name, `${offer.offer.price} ${offer.offer.priceCurrency}`, offer.offer.deliveryDate ?? '-', offer.decidedBy ? `${meets} (declined by your rule)` : meets]);
    }
    if (theirs.length > 0) continue;
    const state = intent.recipients.find((r) => r.company === company.name)?.state;
    rows.push([company.name, state === 'acknowledged' ? 'acknowledged, no offer' : state === 'failed' ? 'not reached' : (state ?? 'not sent')]);
  }
  for (const line of table(rows).split('\n')) log(`  ${line}`);
  for (const offer of offers.filter((o) => o.state === 'received')) {
    log(`${offer.company ?? 'A company'} signed its offer, a document you keep; it stands until ${formatTime(Date.parse(offer.offer.validThrough))} UTC and is left for you to accept`);
  }
}

/** Her open intents' offers still waiting for her answer, each intent's best first (one meeting her demand, then the cheapest). */
async function offersWaiting(api: Api): Promise<{ intent: IntentView; offer: OfferView }[]> {
  const now = Date.now();
  const waiting: { intent: IntentView; offer: OfferView }[] = [];
  for (const intent of (await api(routes.intents)).intents) {
    if (intent.state !== 'open' || intent.expiresAt <= now || intent.offers === 0) continue;
    const open = (await api(routes.intentOffers, { id: intent.id })).offers.filter((o) => o.state === 'received' && Date.parse(o.offer.validThrough) > now);
    const best = open.find((o) => o.meets) ?? open[0];
    if (best) waiting.push({ intent, offer: best });
  }
  return waiting;
}

process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));
main().catch((error: unknown) => {
  process.stderr.write(`kith demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  void stopAll(1);
});
