import { Command } from 'commander';
import { ApiError, ConnectorError, IntentError } from '../core/errors.js';
import { PRIVATE_UMASK } from '../core/privateFiles.js';
import { formatFieldValue, isProfileField } from '../protocol/profile/fields.js';
import QRCode from 'qrcode';
import { createLogger } from '../core/log.js';
import { silentLogger } from '../core/log.js';
import { createDidResolver } from '../protocol/did/resolver.js';
import { createCompanyAgent, type CompanyAgent } from '../company/createCompanyAgent.js';
import { ADMIN_SCOPES, createAdminToken, listAdminTokens, parseScopes, revokeAdminToken } from '../company/adminTokens.js';
import { companyHomeDir, defaultCompanyHome, initCompanyHome, openCompanyHome, type CompanyHome } from '../company/home.js';
import { COMPANY_ROLES, startCompanyServer } from '../company/server.js';
import { caseListStateSchema, type ServiceCaseDetail } from '../company/serviceCases.js';
import type { TermsAgreementRow } from '../company/store/types.js';
import { agreementShortName } from '../protocol/terms/roster.js';
import { formatTime, oneLine, output, run, stopOnSignals, table, type GlobalOptions } from './common.js';
import { MESSAGE_INDENT, terminalBlock } from './terminalText.js';

// The store, its WAL and the home's token and config are the company's alone, whatever the shell's umask.
process.umask(PRIVATE_UMASK);

const program = new Command('kith-vendor')
  .description('The Kith company agent: the company’s side of its customers’ Kith relationships')
  .option('--home <dir>', 'company agent home (default $KITH_VENDOR_HOME or ~/.kith-vendor)')
  .option('--json', 'machine-readable output')
  .showHelpAfterError();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
const home = (): string => globals().home ?? defaultCompanyHome();

/** `--db`, else KITH_VENDOR_DB: a PostgreSQL URL may carry a password, which must not sit in argv. */
function databaseUrl(flag: string | undefined): string | undefined {
  return flag ?? process.env['KITH_VENDOR_DB'];
}

/** Commands other than `serve` work on the store directly (SQLite WAL and PostgreSQL allow it while serving). */
async function withAgent<T>(fn: (agent: CompanyAgent, companyHome: CompanyHome) => Promise<T>): Promise<T> {
  const db = databaseUrl(undefined);
  const companyHome = await openCompanyHome(home(), db ? { db } : {});
  const agent = createCompanyAgent({
    name: companyHome.config.name,
    publicUrl: companyHome.config.publicUrl,
    store: companyHome.store,
    identity: companyHome.identity,
    policy: companyHome.policy,
    resolver: createDidResolver({ allowInsecureLoopback: companyHome.config.allowInsecureDidWebLoopback }),
    logger: silentLogger,
  });
  try {
    return await fn(agent, companyHome);
  } finally {
    await companyHome.store.close();
  }
}

program
  .command('init')
  .description('create the company agent: config, admin token, store and DID')
  .requiredOption('--name <name>', 'company name shown to customers')
  .option('--policy <file>', 'policy JSON file (validated)')
  .option('--port <n>', 'port to serve on', '7401')
  .option('--public-url <url>', 'base URL customers reach (default http://127.0.0.1:<port>)')
  .option('--db <url>', 'sqlite:<path> (default <home>/vendor.db) or postgres://... (credentials: KITH_VENDOR_DB or PGPASSWORD, not argv)')
  .option('--did <method>', 'peer (default) or web', 'peer')
  .option('--dev-insecure-did-web', 'development only: resolve did:web over plain HTTP on loopback')
  .action((options: { name: string; policy?: string; port: string; publicUrl?: string; db?: string; did: string; devInsecureDidWeb?: boolean }) =>
    run(globals, async () => {
      const companyHome = await initCompanyHome(home(), {
        name: options.name,
        port: Number(options.port),
        ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
        ...(databaseUrl(options.db) ? { db: databaseUrl(options.db) } : {}),
        ...(options.policy ? { policyFile: options.policy } : {}),
        didMethod: options.did === 'web' ? 'web' : 'peer',
        allowInsecureDidWebLoopback: Boolean(options.devInsecureDidWeb),
      });
      await companyHome.store.close();
      const policyFile = companyHome.config.policyFile ?? null;
      const { terms } = companyHome.policy;
      output(globals(), { home: companyHome.dir, did: companyHome.identity.did, policyFile }, () =>
        [
          `Company agent "${options.name}" created in ${companyHome.dir}`,
          `Admin token in ${companyHome.dir}/admin-token`,
          `Policy in ${policyFile}${options.policy ? '' : ' (written for you: edit it, then restart kith-vendor serve)'}`,
          `  accepts the terms: ${terms.accept.length > 0 ? terms.accept.join(', ') : 'none (every proffer is rejected)'}; counters with: ${terms.preferred ?? 'nothing'}`,
          `  connectors: ${companyHome.policy.connectors.map((c) => c.type).join(', ') || 'none'}`,
        ].join('\n'),
      );
    }),
  );

program
  .command('serve')
  .description('run the company agent (DIDComm endpoint, invitation, admin API)')
  .option('--port <n>', 'port (default from config)')
  .option('--db <url>', 'store URL (default: KITH_VENDOR_DB, else the config)')
  .option('--role <role>', 'all (default), http (receive only) or worker (queues and sweeps only); any number of each over one PostgreSQL', 'all')
  .option('--no-endpoint-check', 'a proxy or another replica serves the published URL on purpose: do not compare --port with it nor check at start that it answers as this process')
  .action((options: { port?: string; db?: string; role: string; endpointCheck: boolean }) =>
    run(globals, async () => {
      const role = COMPANY_ROLES.find((r) => r === options.role);
      if (role === undefined) throw new ApiError('api.bad_request', `--role must be one of ${COMPANY_ROLES.join(', ')} (got "${options.role}")`);
      const db = databaseUrl(options.db);
      const port = options.port === undefined ? undefined : Number(options.port);
      if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new ApiError('api.bad_request', `--port takes a port number (got "${options.port}")`);
      const companyHome = await openCompanyHome(home(), db ? { db } : {});
      const server = await startCompanyServer(companyHome, {
        role,
        ...(port === undefined ? {} : { port }),
        endpointCheck: options.endpointCheck,
        logger: createLogger(process.stderr, 'kith-vendor'),
        ...(process.env['KITH_OUTBOX_INTERVAL_MS'] ? { outboxIntervalMs: Number(process.env['KITH_OUTBOX_INTERVAL_MS']) } : {}),
      });
      output(globals(), { url: server.url, did: server.agent.did, role }, () =>
        role === 'worker'
          ? `${companyHome.config.name}: company worker (queues and sweeps), health and metrics on ${server.url}`
          : `${companyHome.config.name}: company agent (${role === 'all' ? 'receiving and working the queues' : 'receiving only'}) listening on ${server.url}\nInvitation: ${server.agent.invitationUrl()}`,
      );
      stopOnSignals(() => server.stop());
    }),
  );

program
  .command('invite')
  .description('print the invitation URL and its QR code')
  .option('--no-qr', 'URL only')
  .action((options: { qr: boolean }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const url = agent.invitationUrl();
        output(globals(), { url, invitation: agent.invitation() }, () => url);
        // The QR code is drawn with our own colour sequences, so it bypasses output's escaping.
        if (options.qr && !globals().json) process.stdout.write(await QRCode.toString(url, { type: 'terminal', small: true }));
      }),
    ),
  );

program
  .command('relationships')
  .description('what the company holds per relationship, as its call center sees it')
  .action(() =>
    run(globals, () =>
      withAgent(async (agent) => {
        const relationships = await agent.relationships();
        const rows = await Promise.all(
          relationships.map(async (r) => ({
            ...r,
            messages: r.state === 'cut_off' ? 0 : (await agent.messages(r.id)).length,
            fields: (await agent.holdings(r.id)).fields.map((f) => f.field),
            terms: termsCell(await agent.termsHistory(r.id)),
          })),
        );
        output(globals(), rows, () =>
          rows.length === 0
            ? 'No relationships yet.'
            : table([
                ['ID', 'CUSTOMER #', 'STATE', 'SINCE', 'TERMS', 'MESSAGES', 'FIELDS', 'THEIR DID'],
                ...rows.map((r) => [r.id.slice(0, 8), r.customerRef, r.state, formatTime(r.createdAt), r.terms, String(r.messages), r.fields.join(', ') || '-', r.state === 'cut_off' ? '(erased)' : `${r.theirDid.slice(0, 24)}…`]),
              ]),
        );
      }),
    ),
  );

program
  .command('message <rel> <text>')
  .description('send a customer a message (waits in the outbox until their agent takes it)')
  .action((rel: string, text: string) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const relationship = await agent.findRelationship(rel);
        const result = await agent.sendMessage(relationship.id, text);
        output(globals(), result, () => (result.delivered ? 'Delivered.' : 'Queued: delivered when the customer’s agent is back or picks it up.'));
      }),
    ),
  );

program
  .command('messages <rel>')
  .description('the thread with one customer')
  .action((rel: string) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const relationship = await agent.findRelationship(rel);
        const messages = await agent.messages(relationship.id);
        output(globals(), messages, () =>
          messages.length === 0
            ? 'No messages.'
            : messages.map((m) => `${formatTime(m.createdAt)}  ${m.direction === 'in' ? '<-' : '->'} ${terminalBlock(String((m.body as { content?: unknown }).content ?? m.type), MESSAGE_INDENT)}`).join('\n'),
        );
      }),
    ),
  );

program
  .command('verify <rel>')
  .description('verify the caller: send the customer’s agent a challenge, show its code, and wait for the signed answer')
  .option('--operator <name>', 'who asks (shown to the customer and written to the audit log)', 'kith-vendor-cli')
  .action((rel: string, options: { operator: string }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const relationship = await agent.findRelationship(rel);
        const started = await agent.verifications.start(relationship.id, options.operator);
        await agent.audit(options.operator, 'cli.verify', relationship.id);
        if (!globals().json) process.stderr.write(`Code: ${started.code}  (ask the customer to check that their app shows the same code)\nWaiting for the answer…\n`);
        let verification = await agent.verifications.get(started.id);
        while (verification.state === 'pending') {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          verification = await agent.verifications.get(started.id);
        }
        output(globals(), verification, () =>
          verification.state === 'approved'
            ? `Verified: signed by ${verification.signedBy ?? '?'} at ${formatTime(verification.answeredAt ?? 0)}`
            : verification.state === 'refused'
              ? 'Refused: the customer did not confirm this call.'
              : 'Expired: no answer came in time.',
        );
        // A script can tell: only a verified caller exits 0.
        if (verification.state !== 'approved') process.exitCode = 1;
      }),
    ),
  );

program
  .command('audit')
  .description('the audit log, newest first: who looked at or acted on which customer')
  .option('--relationship <rel>', 'one relationship only')
  .option('--limit <n>', 'at most this many entries', '100')
  .action((options: { relationship?: string; limit: string }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError('api.bad_request', '--limit: a whole number from 1 to 1000');
        const relationshipId = options.relationship === undefined ? undefined : (await agent.findRelationship(options.relationship)).id;
        const entries = await agent.auditLog({ limit, ...(relationshipId === undefined ? {} : { relationshipId }) });
        output(globals(), entries, () =>
          entries.length === 0 ? 'The audit log is empty.' : table([['When', 'Operator', 'Action', 'Relationship'], ...entries.map((e) => [formatTime(e.at), e.operator, e.action, e.relationshipId ?? '-'])]),
        );
      }),
    ),
  );

program
  .command('request <rel>')
  .description('ask a customer for fields (and/or credential claims) with a purpose; they approve all, some or none')
  .option('--fields <list>', 'profile fields, comma-separated (e.g. name,email,address)', '')
  .option('--purpose <text>', 'why you need them (shown to the customer and kept in the consent record)')
  .option('--purpose-code <term>', 'the purpose as a roster term (service-delivery, order-fulfilment, billing, support, legal-compliance, product-improvement, marketing); checked against the agreed terms')
  .option('--retention <duration>', 'how long you keep them, ISO 8601 (e.g. P1Y, P30D)')
  .option('--legal-basis <basis>', 'consent | contract | legal-obligation | vital-interest | public-interest | legitimate-interest', 'consent')
  .option('--credential <vct=claims>', 'a credential claim set, e.g. https://issuer.example/age=age_over_18 (repeatable)', (value: string, all: string[]) => [...all, value], [] as string[])
  .action((rel: string, options: { fields: string; purpose?: string; purposeCode?: string; retention?: string; legalBasis: string; credential: string[] }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        if (!options.purpose) throw new ApiError('api.bad_request', '--purpose is required: the customer decides on it');
        const credentials = options.credential.map((spec) => {
          const at = spec.lastIndexOf('=');
          if (at <= 0) throw new ApiError('api.bad_request', `--credential takes vct=claim1,claim2 (got "${spec}")`);
          return { vct: spec.slice(0, at), claims: spec.slice(at + 1).split(',').map((c) => c.trim()).filter(Boolean) };
        });
        const relationship = await agent.findRelationship(rel);
        const result = await agent.requestDisclosure(relationship.id, {
          fields: options.fields.split(',').map((f) => f.trim()).filter(Boolean),
          credentials,
          purpose: options.purpose,
          ...(options.purposeCode ? { purposeCode: options.purposeCode as never } : {}),
          ...(options.retention ? { retention: options.retention } : {}),
          legalBasis: options.legalBasis as never,
        });
        output(globals(), result, () => `Request ${result.request.id} ${result.delivered ? 'delivered' : 'queued'}; the customer answers with \`kith approve\` or \`kith decline\`.`);
      }),
    ),
  );

// What the company knows her by (docs/protocol/account.md).
const account = program.command('account').description('what the company knows a customer by: customer number, login, loyalty, membership, policy and contract numbers');
account
  .command('show <rel>')
  .description('the identifiers last sent to the customer’s agent, and the last list it acknowledged')
  .action((rel: string) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const relationship = await agent.findRelationship(rel);
        const list = await agent.accountIds.current(relationship.id);
        output(globals(), list, () =>
          [
            `List ${list.sequence}${list.sequence === 0 ? ' (the customer number of the connect response)' : ''}; the customer’s agent acknowledged ${list.acknowledged === 0 ? 'none yet' : `list ${list.acknowledged}`}.`,
            table([['KIND', 'VALUE', 'LABEL', 'ISSUED'], ...list.identifiers.map((i) => [i.kind, oneLine(i.value, 100), oneLine(i.label ?? '-', 60), i.issued_at])]),
          ].join('\n'),
        );
      }),
    ),
  );
account
  .command('set <rel>')
  .description('add an identifier (or relabel one of the same kind and value) and send the customer’s agent the whole new list, signed')
  .requiredOption('--kind <kind>', 'customer_number | account_login | loyalty_number | membership_number | policy_number | contract_number | other')
  .requiredOption('--value <value>', 'the identifier, as the customer would quote it (1–100 characters)')
  .option('--label <label>', 'what the company calls it, e.g. "Home insurance"')
  .action((rel: string, options: { kind: string; value: string; label?: string }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const relationship = await agent.findRelationship(rel);
        const result = await agent.accountIds.set(relationship.id, { kind: options.kind, value: options.value, ...(options.label === undefined ? {} : { label: options.label }) });
        output(globals(), result, () => `Sent list ${result.sequence} (${result.identifiers.length} identifiers); ${result.delivered ? 'delivered' : 'queued until her agent takes it'}.`);
      }),
    ),
  );

// Her things (docs/protocol/thing.md): signed receipts, her registrations, recalls.
const things = program.command('things').description('signed receipts for what a customer bought, their registrations of things the company makes, recalls');
things
  .command('receipt <rel>')
  .description('sign a receipt for a sale and send it to the customer’s agent: product, price and warranty (she accepts or declines it)')
  .requiredOption('--name <text>', 'the product, as on the receipt')
  .option('--brand <text>')
  .option('--model <text>')
  .option('--gtin <digits>', 'GTIN-8, -12, -13 or -14 (check digit checked)')
  .option('--mpn <text>', 'manufacturer part number')
  .option('--serial <text>', 'serial number')
  .option('--purchase-date <date>', 'YYYY-MM-DD (default today)')
  .option('--price <amount>', 'e.g. 899.00')
  .option('--currency <code>', 'ISO 4217 (with --price)', 'EUR')
  .option('--warranty <duration>', 'ISO 8601 duration, e.g. P2Y')
  .option('--warranty-start <date>', 'YYYY-MM-DD (default the purchase date)')
  .option('--warranty-scope <text>', 'what the warranty covers')
  .option('--warranty-provider <text>', 'who gives it (default the company)')
  .action(
    (
      rel: string,
      o: { name: string; brand?: string; model?: string; gtin?: string; mpn?: string; serial?: string; purchaseDate?: string; price?: string; currency: string; warranty?: string; warrantyStart?: string; warrantyScope?: string; warrantyProvider?: string },
    ) =>
      run(globals, () =>
        withAgent(async (agent) => {
          const relationship = await agent.findRelationship(rel);
          const defined = (entries: Record<string, unknown>) => Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
          const result = await agent.things.sendReceipt(
            relationship.id,
            defined({
              name: o.name,
              brand: o.brand,
              model: o.model,
              gtin: o.gtin,
              mpn: o.mpn,
              serialNumber: o.serial,
              purchaseDate: o.purchaseDate,
              price: o.price === undefined ? undefined : { amount: o.price, currency: o.currency },
              warranty: o.warranty,
              warrantyStart: o.warrantyStart,
              warrantyScope: o.warrantyScope,
              warrantyProvider: o.warrantyProvider,
            }),
          );
          output(globals(), result, () => `Receipt ${result.receipt.id} signed and ${result.delivered ? 'delivered' : 'queued until her agent takes it'}.`);
        }),
      ),
  );
things
  .command('receipts')
  .description('the receipts sent, with the customer’s answer')
  .option('--rel <rel>', 'one customer only')
  .action((o: { rel?: string }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const relationshipId = o.rel === undefined ? undefined : (await agent.findRelationship(o.rel)).id;
        const receipts = await agent.things.receipts(relationshipId);
        output(globals(), receipts, () =>
          receipts.length === 0
            ? 'No receipts sent.'
            : table([['RECEIPT', 'CUSTOMER', 'PRODUCT', 'SENT', 'STATE'], ...receipts.map((r) => [r.id.slice(0, 8), r.relationshipId.slice(0, 8), oneLine(r.signed.receipt.product.name, 40), formatTime(r.createdAt), r.state])]),
        );
      }),
    ),
  );
things
  .command('registrations')
  .description('customers’ registrations of things the company makes: the product and the claims each shared')
  .option('--gtin <digits>')
  .option('--model <text>')
  .action((o: { gtin?: string; model?: string }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const registrations = await agent.things.registrations({ ...(o.gtin === undefined ? {} : { gtin: o.gtin }), ...(o.model === undefined ? {} : { model: o.model }) });
        output(globals(), registrations, () =>
          registrations.length === 0
            ? 'No registrations.'
            : table([['REGISTRATION', 'CUSTOMER', 'GTIN', 'MODEL', 'SHARED', 'AT'], ...registrations.map((r) => [r.id.slice(0, 8), r.relationshipId.slice(0, 8), r.gtin ?? '-', oneLine(r.model ?? '-', 30), Object.keys(r.claims).join(','), formatTime(r.createdAt)])]),
        );
      }),
    ),
  );
things
  .command('recall <text>')
  .description('send a recall or safety notice to every customer who registered the GTIN or model (and to no one else)')
  .option('--gtin <digits>')
  .option('--model <text>')
  .option('--url <https-url>', 'where to read more')
  .action((text: string, o: { gtin?: string; model?: string; url?: string }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const result = await agent.things.recall({ text, ...(o.gtin === undefined ? {} : { gtin: o.gtin }), ...(o.model === undefined ? {} : { model: o.model }), ...(o.url === undefined ? {} : { url: o.url }) });
        output(globals(), result, () => `Recall ${result.recallId} sent to ${result.relationships.length} customer${result.relationships.length === 1 ? '' : 's'} who registered it (${result.relationships.filter((r) => r.delivered).length} delivered now).`);
      }),
    ),
  );

// Service cases customers opened about their things (docs/protocol/service.md).
const cases = program.command('cases').description('service cases customers opened about their things: the details they shared, the thread');
const caseDetailText = (c: ServiceCaseDetail): string => {
  const shared = Object.entries(c.thing).map(([field, value]) => `${field}=${typeof value === 'object' && value !== null ? `${(value as { amount: string }).amount} ${(value as { currency: string }).currency}` : String(value)}`);
  return [
    `Case ${c.id} (her case ${c.caseId}), customer ${c.customerRef || '(erased)'}`,
    `State         ${c.state}${c.warrantyClaim ? ', warranty claim' : ''}`,
    `Thing         ${shared.length === 0 ? '(nothing shared)' : oneLine(shared.join(', '), 400)}`,
    ...(c.identifier ? [`Identifier    ${c.identifier.kind} ${oneLine(c.identifier.value, 100)}`] : []),
    '',
    ...c.thread.map((e) => `${formatTime(e.createdAt)}  ${e.author === 'person' ? 'Customer' : 'Company'} ${e.kind === 'open' ? 'opened' : e.kind === 'resolve' ? 'resolved' : 'wrote'}${e.text === null ? '' : `:\n    ${terminalBlock(e.text, '    ')}`}`),
  ].join('\n');
};
cases
  .command('list')
  .description('cases, most recently changed first')
  .option('--state <state>', 'open | answered | resolved')
  .action((options: { state?: string }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const state = options.state === undefined ? undefined : caseListStateSchema.safeParse(options.state);
        if (state !== undefined && !state.success) throw new ApiError('api.bad_request', '--state takes open, answered or resolved');
        const list = await agent.serviceCases.list(state?.data === undefined ? {} : { state: state.data });
        output(globals(), list, () =>
          list.length === 0
            ? 'No service cases.'
            : table([['CASE', 'CUSTOMER', 'STATE', 'WARRANTY', 'THING', 'UPDATED'], ...list.map((c) => [c.id.slice(0, 8), c.customerRef, c.state, c.warrantyClaim ? 'claim' : '-', oneLine(c.thing.model ?? c.thing.name ?? '-', 40), formatTime(c.updatedAt)])]),
        );
      }),
    ),
  );
cases
  .command('show <id>')
  .description('one case: what the customer shared and the thread')
  .action((id: string) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const found = await agent.serviceCases.show(id);
        output(globals(), found, () => caseDetailText(found));
      }),
    ),
  );
cases
  .command('reply <id> <text>')
  .description('write in the case (signed, sent to the customer’s agent): the case is then answered')
  .action((id: string, text: string) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const result = await agent.serviceCases.reply(id, text);
        output(globals(), result, () => `Sent; case ${result.case.id.slice(0, 8)} is answered; ${result.delivered ? 'delivered' : 'queued until her agent takes it'}.`);
      }),
    ),
  );
cases
  .command('resolve <id> [text]')
  .description('resolve the case, with an optional last word')
  .action((id: string, text: string | undefined) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const result = await agent.serviceCases.resolve(id, text);
        output(globals(), result, () => `Case ${result.case.id.slice(0, 8)} is resolved; ${result.delivered ? 'delivered' : 'queued until her agent takes it'}.`);
      }),
    ),
  );

program
  .command('terms <rel>')
  .description('the terms records with one customer: proffers, counters, the agreed one, history')
  .action((rel: string) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const relationship = await agent.findRelationship(rel);
        const history = await agent.termsHistory(relationship.id);
        output(globals(), history, () =>
          history.length === 0
            ? 'No terms proffered.'
            : table([['RECORD', 'AGREEMENT', 'BY', 'STATE', 'SINCE'], ...history.map((t) => [t.id.slice(0, 8), agreementShortName(t.agreementId), t.proposedBy === 'person' ? 'customer' : 'company', t.state, formatTime(t.updatedAt)])]),
        );
      }),
    ),
  );

program
  .command('propose-terms <rel> <agreement>')
  .description('propose a change of terms to a customer (her agent accepts it if it protects her at least as well, else she decides)')
  .action((rel: string, agreement: string) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const relationship = await agent.findRelationship(rel);
        const result = await agent.proposeTerms(relationship.id, agreement);
        output(globals(), result, () => `Proposed (record ${result.recordId.slice(0, 8)}); ${result.delivered ? 'delivered' : 'queued until her agent takes it'}.`);
      }),
    ),
  );

program
  .command('intents')
  .description('intents customers cast to the company (its own id for each), with its offers')
  .option('--state <state>', 'only open, accepted, declined, closed or expired ones')
  .action((options: { state?: string }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const states = ['open', 'accepted', 'declined', 'closed', 'expired'] as const;
        const state = states.find((s) => s === options.state);
        if (options.state !== undefined && state === undefined) throw new ApiError('api.bad_request', `--state must be one of ${states.join(', ')}`);
        const intents = await agent.intents.list(state ? { state } : {});
        output(globals(), intents, () =>
          intents.length === 0
            ? 'No intents received.'
            : table([
                ['INTENT', 'CUSTOMER', 'WANTS', 'CATEGORY', 'UNTIL', 'STATE', 'OFFERS'],
                ...intents.map((i) => [i.id.slice(0, 8), i.customerRef ?? '-', oneLine(i.demand.description, 40), i.demand.category, formatTime(i.expiresAt), i.state, i.offers.map((o) => `${o.signed.offer.price} ${o.signed.offer.priceCurrency} (${o.state})`).join(', ') || '-']),
              ]),
        );
      }),
    ),
  );

program
  .command('offer <intent>')
  .description('make an offer by hand for an intent: signed by the company, queued for her, pushed when she is reachable')
  .requiredOption('--name <text>', 'what is offered')
  .requiredOption('--price <amount>', 'decimal, e.g. 129.90')
  .requiredOption('--currency <code>', 'ISO 4217, e.g. EUR')
  .option('--description <text>', 'more about it')
  .option('--delivery <date>', 'delivered by (YYYY-MM-DD)')
  .option('--conditions <text>', 'returns, warranty, what is included')
  .option('--valid-hours <n>', 'how long the offer stands (default: the policy\'s offerValidHours)')
  .action((intent: string, options: { name: string; price: string; currency: string; description?: string; delivery?: string; conditions?: string; validHours?: string }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const all = await agent.intents.list();
        const matches = all.filter((i) => i.id === intent || i.id.startsWith(intent));
        if (matches.length !== 1 || !matches[0]) throw new IntentError('intent.unknown', matches.length > 1 ? `"${intent}" matches several intents` : `No intent "${intent}"`);
        const validHours = options.validHours === undefined ? undefined : Number(options.validHours);
        const result = await agent.intents.offer(matches[0].id, {
          name: options.name,
          price: options.price,
          currency: options.currency.toUpperCase(),
          ...(options.description ? { description: options.description } : {}),
          ...(options.delivery ? { deliveryDate: options.delivery } : {}),
          ...(options.conditions ? { conditions: options.conditions } : {}),
          ...(validHours !== undefined ? { validHours } : {}),
        });
        output(globals(), result, () => `Offer ${result.offer.id.slice(0, 8)} (${result.offer.signed.offer.price} ${result.offer.signed.offer.priceCurrency}, until ${result.offer.signed.offer.validThrough}) ${result.delivered ? 'delivered' : 'queued until her agent takes it'}.`);
      }),
    ),
  );

program
  .command('withdraw-offer <offer>')
  .description('withdraw an offer she has not answered; she is told')
  .option('--reason <text>', 'why, for her')
  .action((offer: string, options: { reason?: string }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const result = await agent.intents.withdraw(offer, options.reason);
        output(globals(), result, () => `Offer ${result.offer.id.slice(0, 8)} withdrawn; ${result.delivered ? 'she was told' : 'she is told when her agent takes it'}.`);
      }),
    ),
  );

program
  .command('holdings <rel>')
  .description('what the company holds about one customer, under which consent, at which profile version')
  .action((rel: string) =>
    run(globals, () =>
      withAgent(async (agent) => {
        const relationship = await agent.findRelationship(rel);
        const holdings = await agent.holdings(relationship.id);
        output(globals(), holdings, () =>
          [
            `Customer ${oneLine(relationship.customerRef, 80)} (${relationship.state}), profile version ${holdings.profileVersion}`,
            holdings.fields.length === 0
              ? 'No fields disclosed.'
              : table([
                  ['FIELD', 'VALUE', 'VERSION', 'SOURCE', 'CONSENT'],
                  ...holdings.fields.map((f) => [f.field, isProfileField(f.field) ? formatFieldValue(f.field, f.value) : JSON.stringify(f.value), String(f.version), f.issuer ? `credential` : 'customer', f.consentRecordId.slice(0, 8)]),
                ]),
            holdings.requests.length === 0 ? '' : `Requests: ${holdings.requests.map((r) => `${r.id.slice(0, 8)} ${r.state} (${[...r.fields, ...r.credentials.flatMap((c) => c.claims)].join(', ')})`).join('; ')}`,
          ]
            .filter(Boolean)
            .join('\n'),
        );
      }),
    ),
  );

program
  .command('connectors')
  .description('the company systems told about changes, and where their deliveries stand')
  .action(() =>
    run(globals, () =>
      withAgent(async (agent) => {
        const connectors = await agent.connectors();
        output(globals(), connectors, () =>
          connectors.length === 0
            ? 'No connectors are configured (policy.json "connectors").'
            : table([
                ['ID', 'TYPE', 'DELIVERED', 'RETRYING', 'DEAD LETTERS'],
                ...connectors.map((c) => [c.id, c.type, String(c.delivered), String(c.retrying), c.dead > 0 ? `${c.dead} (kith-vendor dead-letters ${c.id})` : '0']),
              ]),
        );
      }),
    ),
  );

program
  .command('dead-letters [connector]')
  .description('events a connector gave up on (all connectors, or one); replay one with --replay <event>')
  .option('--limit <n>', 'how many', '50')
  .option('--replay <event>', 'put this event back in line for <connector> (after fixing the cause)')
  .action((connector: string | undefined, options: { limit: string; replay?: string }) =>
    run(globals, () =>
      withAgent(async (agent) => {
        if (options.replay !== undefined) {
          if (connector === undefined) throw new ApiError('api.bad_request', '--replay needs the connector: kith-vendor dead-letters <connector> --replay <event>');
          await agent.replayDeadLetter(options.replay, connector);
          output(globals(), { replayed: true, eventId: options.replay, connectorId: connector }, () => `Event ${options.replay} is back in line for ${connector}; it is tried again on the next dispatch.`);
          return;
        }
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError('api.bad_request', '--limit: a whole number from 1 to 1000');
        if (connector !== undefined && !(await agent.connectors()).some((c) => c.id === connector)) throw new ConnectorError('connector.unknown', `No connector "${connector}" is configured`);
        const letters = await agent.deadLetters({ ...(connector === undefined ? {} : { connectorId: connector }), limit });
        output(globals(), letters, () =>
          letters.length === 0
            ? 'No dead letters.'
            : table([
                ['EVENT', 'TYPE', 'CONNECTOR', 'ATTEMPTS', 'GAVE UP', 'LAST ERROR'],
                ...letters.map((d) => [d.event.id, d.event.type, d.attempt.connectorId, String(d.attempt.attempts), formatTime(d.attempt.updatedAt), oneLine(d.attempt.lastError ?? '', 80)]),
              ]),
        );
      }),
    ),
  );

const token = program.command('token').description('admin API tokens with scopes (read, write, console); the home\'s admin-token keeps every scope');

token
  .command('create')
  .description('make a token with these scopes; it is printed once, and only its SHA-256 is kept (tokens.json)')
  .requiredOption('--scopes <list>', `comma-separated: ${ADMIN_SCOPES.join(', ')}`)
  .option('--name <label>', 'a name to list and revoke it by (default: token-<random>)')
  .action((options: { scopes: string; name?: string }) =>
    run(globals, async () => {
      const scopes = parseScopes(options.scopes);
      const { token: secret, info } = createAdminToken(companyHomeDir(home()), { ...(options.name === undefined ? {} : { name: options.name }), scopes, now: Date.now() });
      output(globals(), { ...info, token: secret }, () => `Token "${info.name}" (${info.scopes.join(', ')}):\n${secret}\nShown once: keep it now (Authorization: Bearer <token>). Revoke it with kith-vendor token revoke ${info.name}.`);
    }),
  );

token
  .command('list')
  .description('the tokens made with token create: names, scopes, when made (never the tokens)')
  .action(() =>
    run(globals, async () => {
      const tokens = listAdminTokens(companyHomeDir(home()));
      output(globals(), tokens, () =>
        [
          tokens.length === 0 ? 'No scoped tokens (kith-vendor token create --scopes read).' : table([['NAME', 'SCOPES', 'CREATED'], ...tokens.map((t) => [t.name, t.scopes.join(','), formatTime(t.createdAt)])]),
          'The home’s admin-token has every scope.',
        ].join('\n'),
      );
    }),
  );

token
  .command('revoke <name>')
  .description('revoke a token: a running agent refuses it from its next request on')
  .action((name: string) =>
    run(globals, async () => {
      const revoked = revokeAdminToken(companyHomeDir(home()), name);
      output(globals(), { revoked: revoked.name }, () => `Token "${revoked.name}" revoked.`);
    }),
  );

/** The agreed terms, or how the last negotiation ended. */
function termsCell(history: TermsAgreementRow[]): string {
  const agreed = history.find((t) => t.state === 'agreed');
  if (agreed) return agreementShortName(agreed.agreementId);
  const last = history.at(-1);
  return last ? `none (${last.state})` : '-';
}

await program.parseAsync(process.argv);
