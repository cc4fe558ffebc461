import type { Command } from 'commander';
import { routes, type AgreementView, type RosterView } from '../../personal/http/apiContract.js';
import { agreementShortName } from '../../protocol/terms/roster.js';
import { obligationLines, obligationName } from '../../protocol/terms/words.js';
import { formatTime, oneLine, output, run, table } from '../common.js';
import type { CommandContext } from './context.js';

/** An agreement's obligations in the web app's words (protocol/terms/words.ts), on one line. */
function obligationsLine(o: AgreementView['obligations']): string {
  return obligationLines(o)
    .map((line) => line.text)
    .join('; ');
}

function rosterText(view: RosterView): string {
  const lines = view.rosters.flatMap((roster) => [
    `Roster ${oneLine(roster.id, 120)} v${roster.version}`,
    ...roster.agreements.map((a) => `  ${oneLine(a.short, 40).padEnd(22)} ${oneLine(a.title, 120)} (v${a.version})\n  ${' '.repeat(22)} ${oneLine(obligationsLine(a.obligations), 1000)}`),
  ]);
  // The published agreements, in words: what each says, and what Kith holds a company to for it.
  if (view.published.length > 0) {
    lines.push('', 'Published by IEEE 7012-2025 (MyTerms), usable by code or URL:');
    for (const p of view.published) {
      const readAs = p.readAs === null ? 'not enforceable by Kith' : `read as ${agreementShortName(p.readAs)}`;
      lines.push(`  ${oneLine(p.code, 40).padEnd(22)} ${oneLine(p.meaning, 300)}\n  ${' '.repeat(22)} ${readAs}: ${oneLine(p.reading, 300)}`);
    }
  }
  lines.push('', view.default ? `Your default terms: ${agreementShortName(view.default)} (proffered on every new connection)` : 'No default terms: new connections proffer none. Set them with: kith terms set <agreement>');
  return lines.join('\n');
}

export function historyText(terms: AgreementView[]): string {
  if (terms.length === 0) return 'No terms proffered or agreed with this company.';
  const rows = table([
    ['RECORD', 'AGREEMENT', 'BY', 'STATE', 'OUTCOME', 'SINCE'],
    ...terms.map((t) => [t.recordId.slice(0, 8), agreementShortName(t.agreementId), t.proposedBy === 'person' ? 'you' : 'company', t.state, t.state === 'agreed' || t.state === 'superseded' ? (t.outcome ?? '-') : '-', formatTime(t.updatedAt)]),
  ]);
  const waiting = terms.filter((t) => t.awaitingHer);
  const notes = waiting.map(
    (t) =>
      `\nWaiting for you: ${t.proposedBy === 'company' && t.outcome === 'countered-accepted' ? 'the company countered with' : 'the company proposes'} ${oneLine(agreementShortName(t.agreementId), 80)}` +
      (t.weaker.length > 0 ? `, which protects you less on: ${t.weaker.map(obligationName).join(', ')}` : '') +
      `\n${obligationsList(t.obligations)}` +
      `\nAnswer with: kith terms accept <rel>  or  kith terms reject <rel>`,
  );
  const current = terms.find((t) => t.state === 'agreed');
  const inForce = current
    ? `\nIn force: ${oneLine(current.title ?? agreementShortName(current.agreementId), 120)}, signed by both of you (record ${current.recordId.slice(0, 8)}). The company:\n${obligationsList(current.obligations)}`
    : '\nNo agreement in force with this company.';
  return rows + inForce + notes.join('');
}

/** The obligations in words, one per line, marked + where they protect her and - where they allow more. */
function obligationsList(obligations: AgreementView['obligations']): string {
  return obligationLines(obligations)
    .map((line) => `  ${line.protective === null ? ' ' : line.protective ? '+' : '-'} ${oneLine(line.text, 300)}`)
    .join('\n');
}

/** `kith terms show|set|history|accept|reject`. */
export function registerTermsCommands(program: Command, ctx: CommandContext): void {
  const terms = program.command('terms').description('your terms (IEEE 7012 agreements): defaults, per company, counters');

  terms
    .command('show [rel]')
    .description('the roster of standard agreements and your default; with <rel>, the terms with that company')
    .action((rel: string | undefined) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          if (rel) {
            const { terms: history } = await client.call(routes.terms, { ref: rel });
            output(ctx.globals(), history, () => historyText(history));
            return;
          }
          const view = await client.call(routes.roster);
          output(ctx.globals(), view, () => rosterText(view));
        }),
      ),
    );

  terms
    .command('set <agreement>')
    .description('set your default terms (an agreement or "none"); with --for <rel>, proffer them to that company now')
    .option('--for <rel>', 'proffer to this company now instead of changing the default')
    .action((agreement: string, options: { for?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          if (options.for) {
            const { terms: history } = await client.call(routes.profferTerms, { ref: options.for }, { agreement });
            output(ctx.globals(), history, () => historyText(history));
            return;
          }
          const result = await client.call(routes.setDefaultTerms, { agreement: agreement === 'none' ? null : agreement });
          output(ctx.globals(), result, () => (result.default ? `Default terms: ${agreementShortName(result.default)}. New connections proffer them.` : 'No default terms.'));
        }),
      ),
    );

  for (const [name, verb] of [
    ['accept', 'accept'],
    ['reject', 'reject'],
  ] as const) {
    terms
      .command(`${name} <rel>`)
      .description(`${verb} the counter or company proposal waiting for you`)
      .option('--reason <text>', 'tell the company why (reject)')
      .action((rel: string, options: { reason?: string }) =>
        run(ctx.globals, () =>
          ctx.withClient(async (client) => {
            const { terms: history } =
              name === 'reject' ? await client.call(routes.rejectTerms, { ref: rel }, options.reason ? { reason: options.reason } : {}) : await client.call(routes.acceptTerms, { ref: rel });
            output(ctx.globals(), history, () => historyText(history));
          }),
        ),
      );
  }
}
