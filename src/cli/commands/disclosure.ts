import type { Command } from 'commander';
import { routes, type ConsentView, type RequestView } from '../../personal/http/apiContract.js';
import { formatTime, oneLine, output, run, table } from '../common.js';
import type { CommandContext } from './context.js';

function asked(request: RequestView): string {
  const fields = request.fields.map((f) => (f.available ? oneLine(f.name, 40) : `${oneLine(f.name, 40)} (you have none)`));
  const claims = request.credentials.flatMap((c) => c.claims.map((claim) => (c.available ? `${oneLine(claim, 40)} (credential)` : `${oneLine(claim, 40)} (no credential)`)));
  return [...fields, ...claims].join(', ');
}

export function requestText(request: RequestView): string {
  return [
    // The company's id: the one its people see, so that both sides name a request alike.
    `${oneLine(request.requestId.slice(0, 8), 8)}  ${oneLine(request.company ?? request.relationshipId.slice(0, 8), 80)} asks for: ${asked(request)}`,
    `          purpose: ${oneLine(request.purpose, 500)}`,
    `          keeps it: ${oneLine(request.retention ?? 'no limit stated', 40)}; legal basis: ${oneLine(request.legalBasis, 40)}${request.state === 'pending' ? '' : `; ${request.state}`}`,
    ...(request.answeredBy ? [`          ${request.state} by your rule ${oneLine(request.answeredBy.ruleId, 40)}: ${oneLine(request.answeredBy.ruleText, 300)}`] : []),
  ].join('\n');
}

function consentRows(consents: ConsentView[]): string {
  if (consents.length === 0) return 'No consent records.';
  return table([
    ['RECORD', 'COMPANY', 'STATE', 'FIELDS', 'PURPOSE', 'SINCE'],
    ...consents.map((c) => {
      const record = c.record as { processing?: { purposes?: string[]; pii_categories?: string[] }[] };
      const processing = record.processing?.[0];
      return [c.id.slice(0, 8), c.company ?? '-', c.state, (processing?.pii_categories ?? []).join(', ') || '-', processing?.purposes?.[0] ?? '-', formatTime(c.createdAt)];
    }),
  ]);
}

/** `kith requests | approve | decline | consents`. */
export function registerDisclosureCommands(program: Command, ctx: CommandContext): void {
  program
    .command('requests')
    .description('what companies ask you to disclose (pending; --all for answered ones too; --auto for those your rules answered)')
    .option('--all', 'include answered requests')
    .option('--auto', 'only the requests your rules answered, each with the rule')
    .option('--rel <rel>', 'only this relationship')
    .action((options: { all?: boolean; auto?: boolean; rel?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { requests } = await client.call(routes.requests, { ...(options.all ? { all: '1' } : {}), ...(options.auto ? { auto: '1' } : {}), relationship: options.rel });
          output(ctx.globals(), requests, () =>
            options.auto
              ? requests.length === 0
                ? 'Your rules have answered no request.'
                : requests.map(requestText).join('\n\n')
              : requests.length === 0
                ? 'No requests waiting.'
                : `${requests.map(requestText).join('\n\n')}\n\nAnswer with: kith approve <id> [--fields a,b]  or  kith decline <id>`,
          );
        }),
      ),
    );

  program
    .command('approve <id>')
    .description('disclose what a company asked for (or only --fields a,b) as a selective-disclosure SD-JWT')
    .option('--fields <list>', 'comma-separated subset of the requested fields')
    .action((id: string, options: { fields?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const fields = options.fields
            ?.split(',')
            .map((f) => f.trim())
            .filter(Boolean);
          const result = await client.call(routes.approve, { id }, fields ? { fields } : {});
          output(ctx.globals(), result, () => `Disclosed to ${oneLine(result.request.company ?? 'the company', 80)}: ${oneLine(result.fields.join(', '), 200)}\nConsent record ${result.consentRecordId} (kept on both sides).`);
        }),
      ),
    );

  program
    .command('decline <id>')
    .description('decline a disclosure request (recorded as refused on both sides)')
    .option('--reason <text>', 'tell the company why')
    .action((id: string, options: { reason?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const result = await client.call(routes.decline, { id }, options.reason ? { reason: options.reason } : {});
          output(ctx.globals(), result, () => `Declined. Consent record ${result.consentRecordId} says "refused" on both sides.`);
        }),
      ),
    );

  program
    .command('consents [rel]')
    .description('consent records (ISO/IEC TS 27560 shape): who holds what, why, for how long')
    .action((rel: string | undefined) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { consents } = await client.call(routes.consents, { relationship: rel });
          output(ctx.globals(), consents, () => consentRows(consents));
        }),
      ),
    );
}
