import type { Command } from 'commander';
import { routes, type ServiceCaseView } from '../../personal/http/apiContract.js';
import { formatTime, oneLine, output, run, table } from '../common.js';
import { terminalBlock, terminalLine, terminalLines } from '../terminalText.js';
import type { CommandContext } from './context.js';

const STATE_WORDS: Record<ServiceCaseView['state'], string> = { open: 'open (waiting for the company)', answered: 'answered', resolved: 'resolved' };

function casesTable(cases: ServiceCaseView[]): string {
  if (cases.length === 0) return 'No service cases.';
  return table([
    ['CASE', 'THING', 'COMPANY', 'STATE', 'WARRANTY', 'UPDATED'],
    ...cases.map((c) => [c.id.slice(0, 8), oneLine(c.thingName, 40), oneLine(c.companyName ?? c.relationshipId.slice(0, 8), 40), c.state, c.warrantyClaim ? 'claim' : '-', formatTime(c.updatedAt)]),
  ]);
}

/** One case with its thread; every text the company wrote goes through terminalText (no escapes reach her terminal). */
export function caseText(c: ServiceCaseView): string {
  const shared = Object.entries(c.shared).map(([field, value]) => `${field}=${typeof value === 'object' && value !== null ? `${(value as { amount: string }).amount} ${(value as { currency: string }).currency}` : String(value)}`);
  const head = [
    `Case ${c.id}: ${terminalLine(c.thingName)} with ${terminalLine(c.companyName ?? c.relationshipId)}`,
    `State         ${STATE_WORDS[c.state]}${c.warrantyClaim ? ', warranty claim' : ''}`,
    `Shared        ${shared.length === 0 ? '(nothing of the thing)' : terminalLine(shared.join(', '))}`,
    ...(c.identifier ? [`Identifier    ${c.identifier.kind} ${terminalLine(c.identifier.value)}`] : []),
  ].join('\n');
  const thread = c.thread.map((e) => `${formatTime(e.at)}  ${e.author === 'her' ? 'You' : 'Company'} ${e.kind === 'open' ? 'opened' : e.kind === 'resolve' ? 'resolved' : 'wrote'}${e.text === null ? '' : `:\n    ${terminalBlock(e.text, '    ')}`}`);
  return `${terminalLines(head)}\n\n${thread.join('\n')}`;
}

/**
 * `kith things service|cases|case|reply|resolve`: service cases about her things
 * (docs/protocol/service.md), under the `things` command registerThingCommands made.
 */
export function registerServiceCaseCommands(program: Command, ctx: CommandContext): void {
  const things = program.commands.find((c) => c.name() === 'things');
  if (!things) throw new Error('registerThingCommands must run first');
  const list = (text: string): string[] =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);

  things
    .command('service <thing> <text>')
    .description('open a service case with the company that services, made or sold the thing; it learns only the details you --share')
    .option('--with <relationship>', 'another company linked to the thing')
    .option('--share <fields>', 'details of the thing to share, comma-separated: name, brand, model, gtin, mpn, serial, purchaseDate, price, seller', list)
    .option('--ids <identifier>', 'one identifier the company knows you by (kith ids <company>): its id or its value')
    .action((reference: string, text: string, options: { with?: string; share?: string[]; ids?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const body = { text, ...(options.with === undefined ? {} : { with: options.with }), ...(options.share === undefined ? {} : { share: options.share }), ...(options.ids === undefined ? {} : { identifier: options.ids }) };
          const { case: opened } = await client.call(routes.openCase, { id: reference }, body);
          output(ctx.globals(), opened, () => `Opened case ${opened.id.slice(0, 8)} with ${terminalLine(opened.companyName ?? 'the company')}${opened.warrantyClaim ? ' (a warranty claim: the warranty is in force)' : ''}.`);
        }),
      ),
    );

  things
    .command('cases [thing]')
    .description('your service cases: all, or one thing’s')
    .action((reference: string | undefined) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { cases } = reference === undefined ? await client.call(routes.cases) : await client.call(routes.thingCases, { id: reference });
          output(ctx.globals(), cases, () => casesTable(cases));
        }),
      ),
    );

  things
    .command('case <case>')
    .description('one service case with its thread')
    .action((reference: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { case: found } = await client.call(routes.serviceCase, { id: reference });
          output(ctx.globals(), found, () => caseText(found));
        }),
      ),
    );

  things
    .command('reply <case> <text>')
    .description('write in a service case')
    .action((reference: string, text: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { case: updated } = await client.call(routes.replyCase, { id: reference }, { text });
          output(ctx.globals(), updated, () => `Sent. Case ${updated.id.slice(0, 8)} is ${STATE_WORDS[updated.state]}.`);
        }),
      ),
    );

  things
    .command('resolve <case> [text]')
    .description('close a service case, with an optional last word')
    .action((reference: string, text: string | undefined) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { case: updated } = await client.call(routes.resolveCase, { id: reference }, text === undefined ? {} : { text });
          output(ctx.globals(), updated, () => `Case ${updated.id.slice(0, 8)} is resolved.`);
        }),
      ),
    );
}
