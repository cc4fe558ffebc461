import { resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { formatFieldValue, isProfileField } from '../protocol/profile/fields.js';
import { agreementShortName } from '../protocol/terms/roster.js';
import { loadRosterSet } from '../protocol/terms/rosterSet.js';
import { obligationLines } from '../protocol/terms/words.js';
import { DEFAULT_RULE_SET, ruleText } from '../personal/disclosure/rules.js';
import { DEFAULT_TERMS_SETTING, NEWCOMER_TERMS } from '../personal/terms.js';
import { ApiError, TransportError, VaultError } from '../core/errors.js';
import { PRIVATE_UMASK, ensurePrivateDir, writePrivateFile } from '../core/privateFiles.js';
import { createLogger } from '../core/log.js';
import { defaultHome, runningAgentFile, vaultPath } from '../personal/home.js';
import { DEFAULT_IDLE_LOCK_MS, startPersonalServer } from '../personal/server.js';
import { publishedPort } from '../personal/endpoint.js';
import { routes, type MessageView, type ReceiptView, type RelationshipView } from '../personal/http/apiContract.js';
import { importVault, openExport, parseExportDocument } from '../personal/vault/export.js';
import { exportFileSource, exportFilesDir, writePlainExport } from '../personal/vault/exportFiles.js';
import { writeExportFile } from '../personal/vault/exportStream.js';
import { Vault } from '../personal/vault/vault.js';
import { DEFAULT_PERSONAL_PORT, findRunningAgent, openApiClient, otherAgentNote, type ApiClient } from './apiClient.js';
import { askYes, formatTime, oneLine, output, readSecret, run, stopOnSignals, table, type GlobalOptions } from './common.js';
import { MESSAGE_INDENT, terminalBlock, terminalLine, terminalLines } from './terminalText.js';
import { registerCredentialCommands } from './commands/credentials.js';
import { registerDisclosureCommands } from './commands/disclosure.js';
import { registerDirectoryCommands, registerIntentCommands } from './commands/intents.js';
import { registerProfileCommands } from './commands/profile.js';
import { registerPersonaCommands } from './commands/personas.js';
import { registerRulesCommands } from './commands/rules.js';
import { registerTermsCommands } from './commands/terms.js';
import { registerVerificationCommands } from './commands/verifications.js';
import { registerAccountIdCommands } from './commands/accountIds.js';
import { registerThingCommands } from './commands/things.js';
import { registerServiceCaseCommands } from './commands/serviceCases.js';

// Her vault, its WAL, agent.json and exports are hers alone, whatever the shell's umask.
process.umask(PRIVATE_UMASK);

const program = new Command('kith')
  .description('Your own side of every customer relationship: the Kith personal agent')
  .option('--home <dir>', 'agent home (default $KITH_HOME or ~/.kith)')
  .option('--json', 'machine-readable output')
  .showHelpAfterError();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
const home = (): string => globals().home ?? defaultHome();

async function withClient<T>(fn: (client: ApiClient) => Promise<T>): Promise<T> {
  const client = await openApiClient(home());
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

function relationshipRows(relationships: RelationshipView[]): string {
  if (relationships.length === 0) return 'No relationships yet. Connect with: kith connect <invitation-url>';
  return table([
    ['ID', 'COMPANY', 'STATE', 'KNOWS YOU AS', 'CUSTOMER #', 'TERMS', 'MESSAGES', 'HOLDS'],
    ...relationships.map((r) => [
      r.id.slice(0, 8),
      r.company ?? '(pending)',
      r.state,
      r.persona.label ?? '-',
      r.customerRef ?? '-',
      termsCell(r),
      String(r.messages),
      r.holds.map((h) => h.field ?? h.category).join(', ') || '-',
    ]),
  ]);
}

function termsCell(r: RelationshipView): string {
  const { terms } = r;
  const agreed = terms.name
    ? `${terms.name}${terms.outcome === 'countered-accepted' ? ' (their counter)' : ''}`
    : terms.awaitingHer
      ? 'none yet'
      : terms.lastState
        ? `none (${terms.lastState})`
        : '-';
  return terms.awaitingHer ? `${agreed}; answer waiting` : agreed;
}

function messageLines(messages: MessageView[]): string {
  if (messages.length === 0) return 'No messages.';
  return messages.map((m) => `${formatTime(m.createdAt)}  ${m.direction === 'in' ? '<-' : '->'} ${terminalBlock(m.content ?? m.type, MESSAGE_INDENT)}${m.status === 'queued' ? '  (queued)' : m.status === 'held' ? '  (held)' : ''}`).join('\n');
}

function receiptText(receipt: ReceiptView): string {
  const body = receipt.body as { erased?: { category: string; count: number; where: string }[]; erased_at?: number; erasure_requested?: boolean };
  if (body.erasure_requested === false) return `Termination receipt ${receipt.id} (signed by the company): erasure was not requested, nothing was erased`;
  // The company wrote the receipt: each value on its own line, whatever it holds.
  const erased = (body.erased ?? []).map((e) => `  ${oneLine(String(e.category), 80)}: ${oneLine(String(e.count), 20)} (${oneLine(String(e.where), 80)})`).join('\n');
  return `Erasure receipt ${receipt.id} (signed by the company)\n${erased}`;
}

program
  .command('init')
  .description('create the encrypted vault (passphrase from a prompt or KITH_PASSPHRASE)')
  .action(() =>
    run(globals, async () => {
      const path = vaultPath(home());
      if (Vault.exists(path)) throw new VaultError('vault.exists', `A vault already exists at ${path}`);
      const passphrase = await readSecret('KITH_PASSPHRASE', 'New passphrase: ', true);
      ensurePrivateDir(home());
      // A newcomer proffers protective terms from her first connect, and is told so (decision 0020);
      // the agreement is read from the bundled roster, checked, before the vault exists.
      const { agreement } = (await loadRosterSet()).agreement(NEWCOMER_TERMS);
      const vault = Vault.create(path, passphrase);
      vault.settings.set(DEFAULT_TERMS_SETTING, agreement.id);
      vault.close();
      output(globals(), { vault: path, defaultTerms: agreement.id }, () =>
        [
          `Vault created at ${path}`,
          `Your default terms: ${agreementShortName(agreement.id)} (${agreement.title}), proffered to every company you connect to:`,
          ...obligationLines(agreement.obligations).map((line) => `  ${line.protective === false ? '-' : '+'} ${line.text}`),
          'Change them at once with: kith terms set <agreement>  (kith terms show lists them; kith terms set none proffers none)',
          `Your disclosure rules: ${DEFAULT_RULE_SET.rules.map((rule) => ruleText(rule)).join('; ')} (kith rules).`,
        ].join('\n'),
      );
    }),
  );

program
  .command('serve')
  .description('run the personal agent (web app + local API + DIDComm endpoint) on 127.0.0.1')
  .option('--port <n>', `port (default: the one your relationships' DIDs publish, else ${DEFAULT_PERSONAL_PORT})`)
  .option('--locked', 'start locked, without asking for the passphrase (unlock in the web app or with `kith unlock`)')
  .option('--idle-lock <minutes>', 'lock after this many minutes without use (0: never)', String(DEFAULT_IDLE_LOCK_MS / 60_000))
  .option('--no-endpoint-check', 'do not check the port against the endpoint your relationships publish, nor that it answers as this process')
  .action((options: { port?: string; locked?: boolean; idleLock: string; endpointCheck: boolean }) =>
    run(globals, async () => {
      const path = vaultPath(home());
      if (!Vault.exists(path)) throw new VaultError('vault.not_initialized', `nothing at ${path}; create one with \`kith init\``);
      const idleMinutes = Number(options.idleLock);
      if (!Number.isFinite(idleMinutes) || idleMinutes < 0) throw new ApiError('api.bad_request', '--idle-lock takes a number of minutes (0: never)');
      const vault = options.locked ? undefined : Vault.open(path, await readSecret('KITH_PASSPHRASE', 'Passphrase: '));
      // Without --port: where her relationships already reach her, so a plain `kith serve` is
      // always consistent (a locked start cannot read them: the unlock checks instead).
      const port = options.port === undefined ? ((vault && publishedPort(vault)) ?? DEFAULT_PERSONAL_PORT) : Number(options.port);
      if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new ApiError('api.bad_request', `--port takes a port number (got "${options.port}")`);
      // KITH_PASSPHRASE_HINT: where her passphrase is, for the lock screen (the demo says where its file is).
      const passphraseHint = process.env['KITH_PASSPHRASE_HINT']?.slice(0, 300);
      // KITH_THING_REMINDER_INTERVAL_MS: how often her things' contracts are checked (default hourly);
      // tests shorten it to see a reminder reach the web app while it is open.
      const reminderMs = Number(process.env['KITH_THING_REMINDER_INTERVAL_MS']);
      const server = await startPersonalServer({
        home: home(),
        ...(vault ? { vault } : {}),
        port,
        endpointCheck: options.endpointCheck,
        idleLockMs: idleMinutes * 60_000,
        logger: createLogger(process.stderr, 'kith'),
        ...(passphraseHint ? { passphraseHint } : {}),
        ...(Number.isSafeInteger(reminderMs) && reminderMs >= 100 ? { thingReminderIntervalMs: reminderMs } : {}),
      });
      // Only once it serves there: a refused start changes nothing in her vault.
      if (port !== 0) vault?.settings.set('servePort', port);
      // The token goes to a terminal only: a pipe or a file (a supervisor's log, the demo's
      // logs) would keep it where others may read it. It is always in agent.json (0600), and
      // `kith open` prints the link.
      const toTerminal = process.stdout.isTTY === true;
      const agentFile = runningAgentFile(home());
      output(
        globals(),
        { url: server.url, ...(toTerminal ? { token: server.token, loginUrl: server.loginUrl } : { agentFile }), locked: server.access.locked(), pid: process.pid },
        () =>
          [
            `Kith personal agent listening on ${server.url}${server.access.locked() ? ' (locked)' : ''}`,
            ...(toTerminal
              ? [`Web app: ${server.loginUrl}`, `Local API: ${server.url}/api   API token: ${server.token}`]
              : [`Web app: \`kith open\` prints its sign-in link   Local API: ${server.url}/api   (API token in ${agentFile}, readable only by you)`]),
            'Ctrl-C to stop.',
          ].join('\n'),
      );
      stopOnSignals(() => server.stop());
    }),
  );

program
  .command('open')
  .description('print the web app link of the running agent (it signs the browser in once)')
  .action(() =>
    run(globals, async () => {
      const running = await findRunningAgent(home());
      if (running.kind === 'none') throw new TransportError('transport.unreachable', 'No running agent for this home: start it with kith serve');
      // The link signs a browser in to that agent: never to another home's.
      if (running.kind === 'other') throw new ApiError('agent.not_running', `${otherAgentNote(home(), running)}. Start this home's agent with kith serve`);
      const loginUrl = `${running.agent.url}/login#token=${running.agent.token}`;
      output(globals(), { loginUrl }, () => loginUrl);
    }),
  );

for (const [name, description] of [
  ['unlock', 'unlock the running agent with your passphrase'],
  ['lock', 'lock the running agent: the vault closes and its keys leave memory'],
] as const) {
  program
    .command(name)
    .description(description)
    .action(() =>
      run(globals, () =>
        withClient(async (client) => {
          const result = name === 'unlock' ? await client.call(routes.unlock, { passphrase: await readSecret('KITH_PASSPHRASE', 'Passphrase: ') }) : await client.call(routes.lock);
          output(globals(), result, () => (result.locked ? 'Locked.' : 'Unlocked.'));
        }),
      ),
    );
}

program
  .command('connect <invitation>')
  .description('connect anonymously to a company from its invitation URL; prints the relationship id')
  .option('--persona <persona>', 'which of your personas this company will know (default: your default persona; see kith personas)')
  .action((invitation: string, options: { persona?: string }) =>
    run(globals, () =>
      withClient(async (client) => {
        const { relationship } = await client.call(routes.connect, { invitation, ...(options.persona ? { persona: options.persona } : {}) });
        output(
          globals(),
          relationship,
          () =>
            `${relationship.id}\nConnected to ${oneLine(relationship.company ?? 'the company (awaiting its answer)', 80)} as customer ${oneLine(relationship.customerRef ?? '-', 80)}; it knows only a pairwise DID.\nYour persona there: ${oneLine(relationship.persona.label ?? '-', 40)} (what you share with it comes from this persona's profile).\nTerms: ${oneLine(termsCell(relationship), 120)}`,
        );
      }),
    ),
  );

program
  .command('relationships')
  .description('list relationships with state and what each company holds')
  .action(() =>
    run(globals, () =>
      withClient(async (client) => {
        const { relationships } = await client.call(routes.relationships);
        output(globals(), relationships, () => relationshipRows(relationships));
      }),
    ),
  );

program
  .command('message <rel> <text>')
  .description('send a message to a company')
  .action((rel: string, text: string) =>
    run(globals, () =>
      withClient(async (client) => {
        const result = await client.call(routes.sendMessage, { ref: rel }, { content: text });
        output(globals(), result, () => (result.status === 'sent' ? 'Sent.' : 'Queued: the company is unreachable; it will be retried.'));
      }),
    ),
  );

program
  .command('messages <rel>')
  .description('show the thread with a company')
  .option('--held', 'include messages held while muted')
  .action((rel: string, options: { held?: boolean }) =>
    run(globals, () =>
      withClient(async (client) => {
        const { messages } = await client.call(routes.messages, { ref: rel }, options.held ? { includeHeld: '1' } : {});
        output(globals(), messages, () => messageLines(messages));
      }),
    ),
  );

for (const [name, description] of [
  ['mute', 'hold a company’s messages without telling you'],
  ['unmute', 'release held messages'],
] as const) {
  program
    .command(`${name} <rel>`)
    .description(description)
    .action((rel: string) =>
      run(globals, () =>
        withClient(async (client) => {
          const { relationship } = await client.call(routes[name], { ref: rel });
          output(globals(), relationship, () => `${oneLine(relationship.company ?? relationship.id, 80)}: ${relationship.state}`);
        }),
      ),
    );
}

program
  .command('cutoff <rel>')
  .description('end the relationship: the company erases your data and signs a receipt; your keys for it are destroyed (asks first)')
  .option('--yes', 'do not ask (for scripts): then <rel> must be the full id or the exact company name')
  .action((rel: string, options: { yes?: boolean }) =>
    run(globals, () =>
      withClient(async (client) => {
        const { relationship } = await client.call(routes.relationship, { ref: rel });
        const name = relationship.company ?? `relationship ${relationship.id.slice(0, 8)}`;
        const exact = rel === relationship.id || rel.toLowerCase() === relationship.company?.toLowerCase();
        if (options.yes && !exact) {
          throw new ApiError('api.bad_request', `"${rel}" is only the start of ${name}'s name or id: with --yes, give its full id (${relationship.id}) or its exact name`);
        }
        if (!options.yes) {
          if (!process.stdin.isTTY) throw new ApiError('api.bad_request', `kith cutoff asks before it erases: run it in a terminal, or add --yes with the full id (${relationship.id}) or exact name`);
          process.stderr.write(`${terminalLines(cutoffSummary(relationship))}\n`);
          if (!(await askYes(terminalLines(`Cut off ${oneLine(name, 80)}?`)))) {
            process.stderr.write('Nothing was sent; the relationship is as it was.\n');
            return;
          }
        }
        // By id: what she confirmed is what is cut off, whatever else starts the same.
        const { receipt } = await client.call(routes.cutOff, { ref: relationship.id });
        output(globals(), receipt, () => receiptText(receipt));
      }),
    ),
  );

/** What a cut-off ends, in words, before she confirms it. */
function cutoffSummary(relationship: RelationshipView): string {
  const fields = relationship.holds.filter((h) => h.category === 'field').map((h) => oneLine(h.field ?? h.detail, 40));
  const name = oneLine(relationship.company ?? 'The company', 80);
  return [
    `${name} will be asked to erase what it holds about you, and to sign a receipt saying so:`,
    `  ${relationship.messages} message${relationship.messages === 1 ? '' : 's'} in your thread`,
    `  ${fields.length > 0 ? `your ${fields.join(', ')}` : 'no fields you shared'}`,
    `  ${relationship.terms.name ? `the ${oneLine(relationship.terms.name, 80)} agreement` : 'no agreement in force'}`,
    'Your keys for this relationship are destroyed: it cannot be reopened.',
  ].join('\n');
}

program
  .command('access <rel>')
  .description('ask a company what it holds about you; its signed answer is kept in your vault (--json for all of it)')
  .action((rel: string) =>
    run(globals, () =>
      withClient(async (client) => {
        const { receipt } = await client.call(routes.requestAccess, { ref: rel });
        output(globals(), receipt, () => accessText(receipt));
      }),
    ),
  );

/** A company's answer to her access request, in words (values from the other side made safe by output()). */
function accessText(receipt: ReceiptView): string {
  const body = receipt.body as {
    status: string;
    reason?: string;
    processing_details?: string;
    data?: { fields: { field: string; value: unknown; consent_record_id: string }[]; consent_records: { record_id: string; state: string; processing: { purposes: string[] }[] }[]; agreements: { agreement: string; state: string }[]; messages: number; intents: number; offers: number };
  };
  if (body.status !== 'fulfilled' || !body.data) return `Refused: ${body.reason ?? 'no reason given'}${body.processing_details ? ` (${oneLine(body.processing_details, 200)})` : ''}.`;
  const { data } = body;
  return [
    `Signed answer, kept in your vault (kith receipts ${receipt.relationshipId.slice(0, 8)}):`,
    data.fields.length === 0
      ? 'It holds none of your fields.'
      : table([['FIELD', 'VALUE', 'UNDER CONSENT'], ...data.fields.map((f) => [f.field, oneLine(isProfileField(f.field) ? formatFieldValue(f.field, f.value) : JSON.stringify(f.value), 60), f.consent_record_id.slice(0, 8)])]),
    `Consent records: ${data.consent_records.map((c) => `${c.record_id.slice(0, 8)} ${c.state} (${c.processing.flatMap((p) => p.purposes).map((p) => oneLine(p, 60)).join(', ')})`).join('; ') || 'none'}`,
    `Agreements: ${data.agreements.map((a) => `${oneLine(agreementShortName(a.agreement), 80)} ${a.state}`).join('; ') || 'none'}`,
    `Messages: ${data.messages}, intents: ${data.intents}, offers: ${data.offers}`,
  ].join('\n');
}

program
  .command('receipts [rel]')
  .description('erasure receipts')
  .action((rel: string | undefined) =>
    run(globals, () =>
      withClient(async (client) => {
        const { receipts } = await client.call(routes.receipts, { relationship: rel });
        output(globals(), receipts, () => receipts.map(receiptText).join('\n\n') || 'No receipts.');
      }),
    ),
  );

program
  .command('ping <rel>')
  .description('trust ping: is the company’s agent there?')
  .action((rel: string) =>
    run(globals, () =>
      withClient(async (client) => {
        const result = await client.call(routes.ping, { ref: rel });
        output(globals(), result, () => `pong in ${result.roundTripMs} ms`);
      }),
    ),
  );

program
  .command('pickup')
  .description('fetch messages companies queued while you were away')
  .action(() =>
    run(globals, () =>
      withClient(async (client) => {
        const result = await client.call(routes.pickup);
        output(globals(), result, () => `${result.received} new message(s)${result.failed ? `, ${result.failed} rejected` : ''}`);
      }),
    ),
  );

program
  .command('export <file>')
  .description('full export: encrypted (JWE, passphrase from KITH_EXPORT_PASSPHRASE or a prompt) or --plain JSON')
  .option('--plain', 'write unencrypted JSON')
  .option('--salvage', 'export every record that still opens, leaving out (and naming) the unreadable ones')
  .action((file: string, options: { plain?: boolean; salvage?: boolean }) =>
    run(globals, async () => {
      // Without a running agent, the CLI reads the vault itself and streams the export to disk
      // (bounded memory, documents one at a time, ADR 0025); a running agent streams it to the
      // file itself (POST /api/export/file, the same bytes). --salvage goes through the API's
      // whole-document export, which can leave records out.
      const running = options.salvage ? undefined : await findRunningAgent(home());
      if (running !== undefined && running.kind !== 'this') return streamExport(file, Boolean(options.plain), running);
      if (running !== undefined) {
        return withClient(async (client) => {
          const passphrase = options.plain ? undefined : await readSecret('KITH_EXPORT_PASSPHRASE', 'Export passphrase: ', true);
          if (process.stderr.isTTY) process.stderr.write('The running agent is writing the export...\n');
          const result = await client.call(routes.exportFile, { file: resolve(file), plain: Boolean(options.plain), ...(passphrase ? { passphrase } : {}) });
          reportExport(file, result);
        });
      }
      return withClient(async (client) => {
        const passphrase = options.plain ? undefined : await readSecret('KITH_EXPORT_PASSPHRASE', 'Export passphrase: ', true);
        const result = await client.call(routes.export, { plain: Boolean(options.plain), ...(passphrase ? { passphrase } : {}), ...(options.salvage ? { salvage: true } : {}) });
        // A plain export keeps her documents as files beside it (<file>.files/); a sealed one inside.
        let beside = 0;
        if (result.format === 'plain') beside = writePlainExport(file, parseExportDocument(result.document));
        else writePrivateFile(file, `${result.text}\n`);
        // Which records were left out: table and row id only (the export's `skipped` says the same).
        for (const s of result.skipped ?? []) process.stderr.write(`skipped: ${terminalLine(s.table)} row ${terminalLine(s.id)} (does not open)\n`);
        const skippedNote = result.skipped === undefined ? '' : `; ${result.skipped.length} unreadable record(s) skipped`;
        const besideNote = beside > 0 ? `; ${beside} document(s) in ${exportFilesDir(file)}` : '';
        output(globals(), { file, format: result.format, ...(beside > 0 ? { files: exportFilesDir(file) } : {}), ...(result.skipped ? { skipped: result.skipped } : {}) }, () => `Exported to ${file} (${result.format === 'plain' ? 'plain JSON: keep it safe' : 'encrypted'})${skippedNote}${besideNote}`);
      });
    }),
  );

/** `kith export` with no agent serving this home: straight from the vault to the file, streamed. */
async function streamExport(file: string, plain: boolean, running: Awaited<ReturnType<typeof findRunningAgent>>): Promise<void> {
  if (running.kind === 'other') process.stderr.write(`note: ${otherAgentNote(home(), running)}; using this home's vault directly.\n`);
  const vault = Vault.open(vaultPath(home()), await readSecret('KITH_PASSPHRASE', 'Passphrase: '));
  try {
    const passphrase = plain ? undefined : await readSecret('KITH_EXPORT_PASSPHRASE', 'Export passphrase: ', true);
    // Progress only on a terminal: documents written / in all, on one line.
    const tty = process.stderr.isTTY;
    const onProgress = tty ? (written: number, total: number) => process.stderr.write(`\rdocuments ${written}/${total}${written === total ? '\n' : ''}`) : undefined;
    reportExport(file, await writeExportFile(vault, file, { plain, ...(passphrase ? { passphrase } : {}), ...(onProgress ? { onProgress } : {}) }));
  } finally {
    vault.close();
  }
}

/** What a streamed export says: where, as what, and where its documents went. */
function reportExport(file: string, result: { format: 'plain' | 'jwe'; documents: number }): void {
  const besideNote = result.documents > 0 ? `; ${result.documents} document(s) in ${exportFilesDir(file)}` : '';
  output(globals(), { file, format: result.format, ...(result.documents > 0 ? { files: exportFilesDir(file) } : {}) }, () => `Exported to ${file} (${result.format === 'plain' ? 'plain JSON: keep it safe' : 'encrypted'})${besideNote}`);
}

program
  .command('import <file>')
  .description('restore an export into a fresh home')
  .action((file: string) =>
    run(globals, async () => {
      const path = vaultPath(home());
      if (Vault.exists(path)) throw new VaultError('vault.exists', `A vault already exists at ${path}; import needs a fresh home`);
      const text = readFileSync(file, 'utf8');
      const encrypted = !text.trimStart().startsWith('{') || !text.includes('"format"');
      const exportPassphrase = encrypted ? await readSecret('KITH_EXPORT_PASSPHRASE', 'Export passphrase: ') : '';
      // Documents are files beside the export (plain, or sealed in version 10), read one at a
      // time inside the import's transaction (exportFiles.ts); checked before anything is made.
      const document = await openExport(text, exportPassphrase);
      const files = exportFileSource(file, document);
      const passphrase = await readSecret('KITH_PASSPHRASE', 'New vault passphrase: ', true);
      ensurePrivateDir(home());
      importVault(path, passphrase, document, undefined, files).close();
      output(globals(), { vault: path, relationships: document.relationships.length }, () => `Imported ${document.relationships.length} relationship(s) into ${path}`);
    }),
  );

program
  .command('passwd')
  .description('change the vault passphrase (KITH_PASSPHRASE and KITH_NEW_PASSPHRASE, or prompts); only the key is rewrapped')
  .action(() =>
    run(globals, async () => {
      if ((await findRunningAgent(home())).kind === 'this') throw new VaultError('vault.locked', 'Stop `kith serve` before changing the passphrase');
      const current = await readSecret('KITH_PASSPHRASE', 'Current passphrase: ');
      const next = await readSecret('KITH_NEW_PASSPHRASE', 'New passphrase: ', true);
      const vault = Vault.open(vaultPath(home()), current);
      try {
        vault.changePassphrase(current, next);
      } finally {
        vault.close();
      }
      output(globals(), { changed: true }, () => 'Passphrase changed.');
    }),
  );

program
  .command('status')
  .description('is the agent running, and where')
  .action(() =>
    run(globals, async () => {
      const initialised = existsSync(vaultPath(home()));
      const check = await findRunningAgent(home());
      const running = check.kind === 'this' ? check.agent : undefined;
      const other = check.kind === 'other' ? otherAgentNote(home(), check) : undefined;
      output(globals(), { initialised, running: running ? { url: running.url, pid: running.pid } : null, ...(other ? { note: other } : {}) }, () =>
        !initialised
          ? 'No vault: run `kith init`.'
          : running
            ? `Running at ${running.url} (pid ${running.pid})`
            : `Not running: \`kith serve\` starts it.${other ? `\n(${other}.)` : ''}`,
      );
    }),
  );

const context = { globals, withClient };
registerDisclosureCommands(program, context);
registerTermsCommands(program, context);
registerRulesCommands(program, context);
registerIntentCommands(program, context);
registerDirectoryCommands(program, context);
registerProfileCommands(program, context);
registerCredentialCommands(program, context);
registerVerificationCommands(program, context);
registerAccountIdCommands(program, context);
registerThingCommands(program, context);
registerPersonaCommands(program, context);
registerServiceCaseCommands(program, context);

await program.parseAsync(process.argv);
