import { readFileSync } from 'node:fs';
import { writePrivateFile } from '../../core/privateFiles.js';
import type { Command } from 'commander';
import { ApiError, ProfileError } from '../../core/errors.js';
import { routes, type ChangeView, type ProfileView } from '../../personal/http/apiContract.js';
import { formatFieldValue, parseFieldText, resolveFieldName } from '../../protocol/profile/fields.js';
import type { ApiClient } from '../apiClient.js';
import { askYes, oneLine, output, run, table } from '../common.js';
import type { CommandContext } from './context.js';

const BAR_WIDTH = 24;
const PERSONA_FLAG = '--persona <persona>';
const PERSONA_HELP = 'which of your personas (default: your default persona; see kith personas)';

/** `{ persona }` when the flag was given: absent, the agent uses her default persona. */
function personaQuery(options: { persona?: string }): { persona?: string } {
  return options.persona ? { persona: options.persona } : {};
}

function progressLine(change: ChangeView): string {
  const { total, acked, failed, skipped, pending } = change.summary;
  const done = total === 0 ? BAR_WIDTH : Math.round(((acked + failed + skipped) / total) * BAR_WIDTH);
  // Written to the terminal as it is (a progress line): the company's name and its error text made safe here.
  const waiting = change.deliveries.filter((d) => d.state === 'pending' && d.lastError).map((d) => `${oneLine(d.company ?? d.relationshipId.slice(0, 8), 40)}: ${oneLine(d.lastError ?? '', 80)}`);
  return `[${'#'.repeat(done)}${'-'.repeat(BAR_WIDTH - done)}] ${acked}/${total} acknowledged${failed ? `, ${failed} refused` : ''}${pending && waiting.length ? `, retrying ${waiting.slice(0, 3).join('; ')}` : ''}`;
}

function changeTable(change: ChangeView): string {
  const fields = change.removed.length === change.fields.length ? `removed ${change.fields.join(', ')}` : change.fields.join(', ');
  const persona = oneLine(change.persona.label ?? 'a removed persona', 40);
  const what = change.moved ? `${oneLine(change.moved.company ?? 'a company', 80)} moved to your ${persona} persona: ${fields}` : `${persona}: ${fields}`;
  if (change.deliveries.length === 0) return `Version ${change.version} (${what}): no company holds ${change.fields.length === 1 ? 'it' : 'them'}; nothing to send.`;
  return [
    `Version ${change.version} (${what}):`,
    table([
      ['COMPANY', 'STATE', 'RETRIES', 'NOTE'],
      ...change.deliveries.map((d) => [d.company ?? d.relationshipId.slice(0, 8), d.state, String(d.attempts), d.lastError ?? '']),
    ]),
  ].join('\n');
}

/**
 * Follows a change until every company acknowledged it (or refused, or the wait ends). Without a
 * running agent this command is the agent: it sends the updates itself.
 */
async function follow(client: ApiClient, version: number, timeoutMs: number, draw: boolean): Promise<ChangeView> {
  const deadline = Date.now() + timeoutMs;
  let change = (await client.call(routes.profileChange, { version })).change;
  let lastLine = '';
  while (!change.done && Date.now() < deadline) {
    if (client.inProcess) await client.call(routes.deliverProfile);
    else await new Promise((resolve) => setTimeout(resolve, 200));
    change = (await client.call(routes.profileChange, { version })).change;
    const line = progressLine(change);
    if (draw && line !== lastLine) process.stderr.write(`\r${line}\u001b[K`);
    lastLine = line;
    if (client.inProcess && !change.done) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (draw && lastLine) process.stderr.write('\n');
  return change;
}

/** What removing fields does, in words, before she confirms it. */
function removalSummary(profile: ProfileView, fields: string[]): string {
  return fields
    .map((field) => {
      const holders = profile.fields.find((f) => f.field === field)?.heldBy.map((h) => oneLine(h.company ?? h.relationshipId.slice(0, 8), 80)) ?? [];
      return holders.length === 0
        ? `Your ${field} goes from your profile; no company holds it.`
        : `Your ${field} goes from your profile, and ${holders.join(', ')} ${holders.length === 1 ? 'is' : 'are'} asked to erase it (your consent for it is withdrawn).`;
    })
    .join('\n');
}

function profileText(profile: ProfileView): string {
  const persona = oneLine(profile.persona.label, 40);
  if (profile.fields.length === 0) return `Your ${persona} profile is empty. Set a field with: kith profile set <field> <value> --persona ${persona}`;
  return [
    `Persona ${persona}, profile version ${profile.version}`,
    table([
      ['FIELD', 'VALUE', 'HELD BY'],
      ...profile.fields.map((f) => [f.field, formatFieldValue(f.field as never, f.value), f.heldBy.map((h) => h.company ?? h.relationshipId.slice(0, 8)).join(', ') || '-']),
    ]),
  ].join('\n');
}

/** `kith profile show | set | remove | import | export | changes`. */
export function registerProfileCommands(program: Command, ctx: CommandContext): void {
  const profile = program.command('profile').description('your own profile (vCard 4 fields), and changing it everywhere at once');

  profile
    .command('show')
    .description('your fields, and which companies hold each')
    .option(PERSONA_FLAG, PERSONA_HELP)
    .action((options: { persona?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const view = await client.call(routes.profile, personaQuery(options));
          output(ctx.globals(), view, () => profileText(view));
        }),
      ),
    );

  profile
    .command('set <field> <value>')
    .description('change a field; every company holding it gets the new value (address: "street; city; region; postal code; country")')
    .option(PERSONA_FLAG, PERSONA_HELP)
    .option('--no-wait', 'return at once; the running agent keeps delivering')
    .option('--timeout <seconds>', 'how long to wait for acknowledgements', '30')
    .action((name: string, text: string, options: { wait: boolean; timeout: string; persona?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const field = resolveFieldName(name);
          const value = parseFieldText(field, text);
          const timeoutMs = Number(options.timeout) * 1000;
          if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new ApiError('api.bad_request', '--timeout takes a number of seconds');
          const { change } = await client.call(routes.setProfile, { fields: { [field]: value }, ...personaQuery(options) });
          if (!change) return output(ctx.globals(), { change: null }, () => `${field} already has that value; nothing changed.`);
          const wait = options.wait && change.deliveries.length > 0;
          const final = wait ? await follow(client, change.version, timeoutMs, !ctx.globals().json && process.stderr.isTTY === true) : change;
          output(ctx.globals(), final, () => {
            const tail = final.done ? '' : client.inProcess ? '\nNot all companies answered; the rest go out the next time the agent runs (`kith serve`).' : '\nThe agent keeps retrying the rest in the background (`kith profile changes`).';
            return `${changeTable(final)}${tail}`;
          });
        }),
      ),
    );

  profile
    .command('remove <fields...>')
    .description('remove fields from your profile; every company holding one is asked to erase it (asks first)')
    .option(PERSONA_FLAG, PERSONA_HELP)
    .option('--yes', 'do not ask (for scripts)')
    .option('--no-wait', 'return at once; the running agent keeps delivering')
    .option('--timeout <seconds>', 'how long to wait for acknowledgements', '30')
    .action((names: string[], options: { yes?: boolean; wait: boolean; timeout: string; persona?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const fields = [...new Set(names.map((name) => resolveFieldName(name)))];
          const timeoutMs = Number(options.timeout) * 1000;
          if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new ApiError('api.bad_request', '--timeout takes a number of seconds');
          const current = await client.call(routes.profile, personaQuery(options));
          const missing = fields.filter((field) => !current.fields.some((f) => f.field === field));
          if (missing.length > 0) throw new ProfileError('profile.field_not_set', `Your profile has no ${missing.join(', ')}`, { details: { fields: missing } });
          if (!options.yes) {
            if (!process.stdin.isTTY) throw new ApiError('api.bad_request', 'kith profile remove asks before it removes: run it in a terminal, or add --yes');
            process.stderr.write(`${removalSummary(current, fields)}\n`);
            if (!(await askYes(`Remove ${fields.join(', ')}?`))) {
              process.stderr.write('Nothing changed.\n');
              return;
            }
          }
          const { change } = await client.call(routes.removeProfileFields, { fields, ...personaQuery(options) });
          const wait = options.wait && change.deliveries.length > 0;
          const final = wait ? await follow(client, change.version, timeoutMs, !ctx.globals().json && process.stderr.isTTY === true) : change;
          output(ctx.globals(), final, () => {
            const tail = final.done ? '' : client.inProcess ? '\nNot all companies answered; the rest go out the next time the agent runs (`kith serve`).' : '\nThe agent keeps retrying the rest in the background (`kith profile changes`).';
            return `${changeTable(final)}${tail}`;
          });
        }),
      ),
    );

  profile
    .command('changes')
    .description('recent profile changes and where each got to')
    .option('--limit <n>', 'how many', '10')
    .action((options: { limit: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { changes } = await client.call(routes.profileChanges, { limit: options.limit });
          output(ctx.globals(), changes, () => (changes.length === 0 ? 'No changes yet.' : changes.map(changeTable).join('\n\n')));
        }),
      ),
    );

  profile
    .command('import <file>')
    .description('set fields from a vCard (.vcf, vCard 4 or 3); changed fields fan out like `profile set`')
    .option(PERSONA_FLAG, PERSONA_HELP)
    .action((file: string, options: { persona?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const text = readFileSync(file, 'utf8');
          const result = await client.call(routes.importVcard, text, personaQuery(options));
          output(ctx.globals(), result, () =>
            [result.change ? changeTable(result.change) : 'Nothing changed.', result.ignored.length ? `Ignored: ${result.ignored.join(', ')}` : ''].filter(Boolean).join('\n'),
          );
        }),
      ),
    );

  profile
    .command('export [file]')
    .description('write your profile as a vCard 4 (or --jcard JSON); stdout without a file')
    .option('--jcard', 'jCard (RFC 7095) instead of vCard text')
    .option(PERSONA_FLAG, PERSONA_HELP)
    .action((file: string | undefined, options: { jcard?: boolean; persona?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const text = options.jcard
            ? `${JSON.stringify(await client.call(routes.exportJcard, { format: 'jcard', ...personaQuery(options) }), null, 2)}\n`
            : await client.call(routes.exportVcard, personaQuery(options));
          if (file) {
            writePrivateFile(file, text);
            output(ctx.globals(), { file }, () => `Wrote ${file}`);
          } else process.stdout.write(text);
        }),
      ),
    );
}
