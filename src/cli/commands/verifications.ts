import type { Command } from 'commander';
import { routes, type VerificationView } from '../../personal/http/apiContract.js';
import { formatTime, oneLine, output, run } from '../common.js';
import type { CommandContext } from './context.js';

function verificationText(v: VerificationView): string {
  const company = oneLine(v.companyName ?? 'A company', 80);
  const state =
    v.state === 'pending'
      ? `waiting for you until ${formatTime(v.expiresAt)}: kith verify approve|refuse ${v.id.slice(0, 8)}`
      : v.state === 'expired'
        ? 'expired (it can no longer be approved)'
        : `${v.state} ${formatTime(v.updatedAt)}`;
  return `${v.id.slice(0, 8)}  ${company} is asking you to confirm it is you on the phone. Code: ${v.code}  (asked by ${oneLine(v.agent, 60)})\n          ${state}`;
}

/** `kith verifications` and `kith verify approve|refuse <id>`: a company asks her to confirm she is the caller. */
export function registerVerificationCommands(program: Command, ctx: CommandContext): void {
  program
    .command('verifications')
    .description('companies asking you to confirm it is you on the phone, newest first')
    .option('--pending', 'only those waiting for your answer')
    .option('--relationship <rel>', 'one company only')
    .action((options: { pending?: boolean; relationship?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { verifications } = await client.call(routes.verifications, { ...(options.pending ? { pending: '1' as const } : {}), ...(options.relationship ? { relationship: options.relationship } : {}) });
          output(ctx.globals(), verifications, () => (verifications.length === 0 ? 'No caller verifications.' : verifications.map(verificationText).join('\n')));
        }),
      ),
    );

  const verify = program.command('verify').description('answer a caller verification (check that the code matches what the company’s agent reads to you)');
  for (const [name, decision, done] of [
    ['approve', 'approved', 'Approved: the company now holds your signed confirmation that you are the caller.'],
    ['refuse', 'refused', 'Refused: the company was told you did not confirm this call.'],
  ] as const) {
    verify
      .command(`${name} <id>`)
      .description(name === 'approve' ? 'confirm it is you on the phone' : 'say it is not you, or that you do not confirm')
      .action((id: string) =>
        run(ctx.globals, () =>
          ctx.withClient(async (client) => {
            const { verification } = await client.call(routes.answerVerification, { id }, { decision });
            output(ctx.globals(), verification, () => done);
          }),
        ),
      );
  }
}
