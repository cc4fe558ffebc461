import type { Command } from 'commander';
import { IDENTIFIER_KINDS } from '../../protocol/families/account.js';
import { routes, type AccountIdView } from '../../personal/http/apiContract.js';
import { oneLine, output, run, table } from '../common.js';
import type { CommandContext } from './context.js';

/** The rows of `kith ids` and `kith ids find`: every cell of the company's text through terminalText (table). */
function idsTable(identifiers: AccountIdView[]): string {
  return table([
    ['ID', 'COMPANY', 'KIND', 'VALUE', 'LABEL', 'FROM'],
    ...identifiers.map((i) => [
      i.id.slice(0, 8),
      oneLine(i.companyName ?? '(unnamed)', 40) + (i.relationshipState === 'cut_off' ? ' (cut off)' : ''),
      i.kind,
      i.value,
      i.label ?? '-',
      i.source === 'company' ? `company (signed, list ${i.sequence ?? 0})` : 'you',
    ]),
  ]);
}

/** `kith ids [<rel>]`, `kith ids add|remove|find`: what each company knows her by (docs/protocol/account.md). */
export function registerAccountIdCommands(program: Command, ctx: CommandContext): void {
  const ids = program
    .command('ids [rel]')
    .description('what each company knows you by: customer, login, loyalty, membership, policy and contract numbers')
    .action((rel: string | undefined) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { identifiers } = await client.call(routes.accountIds, rel === undefined ? {} : { relationship: rel });
          output(ctx.globals(), identifiers, () => (identifiers.length === 0 ? 'No identifiers yet.' : idsTable(identifiers)));
        }),
      ),
    );

  ids
    .command('add <rel>')
    .description('note what a company knows you by (marked as entered by you)')
    .requiredOption('--kind <kind>', IDENTIFIER_KINDS.join(' | '))
    .requiredOption('--value <value>', 'the identifier, as you would quote it (1–100 characters)')
    .option('--label <label>', 'what it is, e.g. "Home insurance"')
    .action((rel: string, options: { kind: string; value: string; label?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          // The kind is checked by the API (api.bad_request naming it), like every other field.
          const body = { relationship: rel, kind: options.kind as AccountIdView['kind'], value: options.value, ...(options.label === undefined ? {} : { label: options.label }) };
          const { identifier } = await client.call(routes.addAccountId, body);
          output(ctx.globals(), identifier, () => `Added ${identifier.id.slice(0, 8)}: ${oneLine(identifier.companyName ?? 'the company', 60)} knows you by ${identifier.kind} ${oneLine(identifier.value, 100)}.`);
        }),
      ),
    );

  ids
    .command('remove <id>')
    .description('remove one you entered (one a company sent changes only with its next list)')
    .action((id: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { identifier } = await client.call(routes.removeAccountId, { id });
          output(ctx.globals(), identifier, () => `Removed ${identifier.kind} ${oneLine(identifier.value, 100)}.`);
        }),
      ),
    );

  ids
    .command('find <value>')
    .description('which company knows you by this value, and as what ("88 123" finds 88-123)')
    .action((value: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { identifiers } = await client.call(routes.findAccountId, { value });
          output(ctx.globals(), identifiers, () => (identifiers.length === 0 ? 'No company knows you by that.' : idsTable(identifiers)));
          // A script can tell: nothing found exits 1.
          if (identifiers.length === 0) process.exitCode = 1;
        }),
      ),
    );
}
