import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationView as CompanyVerification } from '../../src/company/callerVerification.js';
import type { VerificationView } from '../../src/personal/verifications.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { startConnectedCliPair, type CliPair } from '../support/cliPair.js';
import { ensureBuilt, runCli, runCliOk, waitFor, type CliResult } from '../support/processes.js';

/**
 * Caller verification with the real processes and their CLIs only: `kith-vendor verify <customer>`
 * sends the challenge and waits; `kith verifications` shows her the same code; `kith verify
 * approve` answers; the company's command prints "Verified: signed by <her pairwise DID>" and exits
 * 0. A second round she refuses exits 1; answering it again is refused with verification.answered.
 */

const PASSPHRASE = 'verify e2e passphrase';
const STEP_TIMEOUT = 45_000;

let pair: CliPair;
let meHome: string;
let companyHome: string;
let relationship: RelationshipView;

const kith = (args: string[]): Promise<CliResult> => runCli('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
const kithOk = (args: string[]): Promise<CliResult> => runCliOk('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });

beforeAll(async () => {
  ensureBuilt(['dist/src/cli/kith.js', 'dist/src/cli/kith-vendor.js', 'dist/src/cli/commands/verifications.js']);
  pair = await startConnectedCliPair({ prefix: 'kith-e2e-verify-', companyName: 'Acme Outfitters', passphrase: PASSPHRASE });
  ({ meHome, companyHome, relationship } = pair);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
}, 60_000);

/** Waits for her pending verification to show in `kith verifications --pending --json`. */
function herPending(): Promise<VerificationView> {
  return waitFor('her pending caller verification', async () => (await kithOk(['verifications', '--pending', '--json'])).json<VerificationView[]>()[0], { timeoutMs: 20_000, intervalMs: 300 });
}

describe('caller verification through both CLIs', { sequential: true }, () => {
  it('kith-vendor verify waits for her approval and prints Verified, signed by her pairwise DID', { timeout: STEP_TIMEOUT }, async () => {
    const waiting = runCli('kith-vendor', ['verify', relationship.customerRef!, '--operator', 'Sam'], { home: companyHome, timeoutMs: 40_000 });
    const pending = await herPending();
    expect(pending).toMatchObject({ state: 'pending', agent: 'Sam', companyName: 'Acme Outfitters' });
    const listed = (await kithOk(['verifications'])).stdout;
    expect(listed).toContain(`Acme Outfitters is asking you to confirm it is you on the phone. Code: ${pending.code}`);
    expect((await kithOk(['verify', 'approve', pending.id.slice(0, 8)])).stdout).toContain('Approved');

    const result = await waiting;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`Code: ${pending.code}`);
    expect(result.stdout).toContain(`Verified: signed by ${relationship.myDid}`);
  });

  it('exits 1 when she refuses, and her second answer is refused with verification.answered', { timeout: STEP_TIMEOUT }, async () => {
    const waiting = runCli('kith-vendor', ['--json', 'verify', relationship.customerRef!], { home: companyHome, timeoutMs: 40_000 });
    const pending = await herPending();
    await kithOk(['verify', 'refuse', pending.id]);
    const result = await waiting;
    expect(result.code).toBe(1);
    expect(result.json<CompanyVerification>()).toMatchObject({ state: 'refused', signedBy: relationship.myDid, operator: 'kith-vendor-cli' });

    const again = await kith(['verify', 'approve', pending.id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('[verification.answered]');
    const audit = (await runCliOk('kith-vendor', ['--json', 'audit'], { home: companyHome })).json<{ action: string; operator: string }[]>();
    expect(audit.map((e) => [e.operator, e.action])).toEqual([
      ['kith-vendor-cli', 'cli.verify'],
      ['Sam', 'cli.verify'],
    ]);
  });
});
