import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { routes } from '../../personal/http/apiContract.js';
import { formatTime, oneLine, output, run, table } from '../common.js';
import type { CommandContext } from './context.js';

/** `kith credentials key | add | list`: SD-JWT VCs that issuers gave her. */
export function registerCredentialCommands(program: Command, ctx: CommandContext): void {
  const credentials = program.command('credentials').description('credentials others issued you (SD-JWT VC), presented a claim at a time');

  credentials
    .command('key')
    .description('make a fresh holder key and print its public JWK for an issuer to bind a credential to')
    .action(() =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const key = await client.call(routes.newHolderKey);
          output(ctx.globals(), key, () => JSON.stringify(key.publicJwk));
        }),
      ),
    );

  credentials
    .command('add <file>')
    .description('keep a credential (a file holding the SD-JWT, or - for stdin) after checking it')
    .action((file: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const sdJwt = readFileSync(file === '-' ? 0 : file, 'utf8').trim();
          const { credential } = await client.call(routes.addCredential, { sdJwt });
          output(ctx.globals(), credential, () => `Kept ${oneLine(credential.vct, 120)} from ${oneLine(credential.issuer, 40)}…: ${oneLine(credential.claims.join(', '), 200)}`);
        }),
      ),
    );

  credentials
    .command('list')
    .description('the credentials you hold')
    .action(() =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { credentials: list } = await client.call(routes.credentials);
          output(ctx.globals(), list, () =>
            list.length === 0 ? 'No credentials.' : table([['ID', 'TYPE', 'CLAIMS', 'ADDED'], ...list.map((c) => [c.id.slice(0, 8), c.vct, c.claims.join(', '), formatTime(c.createdAt)])]),
          );
        }),
      ),
    );
}
