import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiptResult } from '../../src/company/things.js';
import type { ThingRegistrationRow } from '../../src/company/store/types.js';
import type { ThingReceiptAnswer, ThingReceiptView } from '../../src/personal/thingProtocol.js';
import type { ThingView } from '../../src/personal/things.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { startConnectedCliPair, type CliPair } from '../support/cliPair.js';
import { ensureBuilt, runCli, runCliOk, waitFor, type CliResult } from '../support/processes.js';

/**
 * The thing family with the real processes and their CLIs only (docs/protocol/thing.md):
 * `kith-vendor things receipt` signs and sends a receipt; `kith things receipts` lists it and
 * `kith things accept` makes a thing of it; `kith things register --with --fields` registers it with
 * the company, which lists the registration; a second accept is refused and changes nothing;
 * `kith-vendor things recall` reaches her and `kith things show` prints the recall first.
 */

const PASSPHRASE = 'thing protocol e2e passphrase';
const STEP_TIMEOUT = 45_000;
const GTIN = '4006381333931';

let pair: CliPair;
let meHome: string;
let companyHome: string;
let relationship: RelationshipView;

const kith = (args: string[]): Promise<CliResult> => runCli('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
const kithOk = (args: string[]): Promise<CliResult> => runCliOk('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
const vendorOk = (args: string[]): Promise<CliResult> => runCliOk('kith-vendor', ['--json', ...args], { home: companyHome });

beforeAll(async () => {
  ensureBuilt(['dist/src/cli/kith.js', 'dist/src/cli/kith-vendor.js', 'dist/src/cli/commands/things.js', 'dist/src/company/things.js', 'dist/src/personal/thingProtocol.js']);
  pair = await startConnectedCliPair({ prefix: 'kith-e2e-thingproto-', companyName: 'Acme Outfitters', passphrase: PASSPHRASE });
  ({ meHome, companyHome, relationship } = pair);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
}, 60_000);

describe('receipt, accept and register through both CLIs', { sequential: true }, () => {
  let receipt: ThingReceiptView;
  let thing: ThingView;

  it('kith-vendor things receipt signs and sends a receipt; kith things receipts lists it', { timeout: STEP_TIMEOUT }, async () => {
    const sent = (
      await vendorOk(['things', 'receipt', relationship.customerRef!, '--name', 'Trail bike TR-1', '--brand', 'Acme', '--model', 'TR-1', '--gtin', GTIN, '--serial', 'AO-TR1-000317', '--purchase-date', '2026-03-15', '--price', '899.00', '--currency', 'EUR', '--warranty', 'P2Y'])
    ).json<ReceiptResult>();
    expect(sent.receipt).toMatchObject({ state: 'sent', signed: { receipt: { product: { name: 'Trail bike TR-1', gtin: GTIN, serialNumber: 'AO-TR1-000317' }, warranty: { duration: 'P2Y', start: '2026-03-15' } } } });
    receipt = await waitFor('the receipt at her agent', async () => (await kithOk(['things', 'receipts', '--json'])).json<ThingReceiptView[]>()[0], { timeoutMs: 20_000, intervalMs: 300 });
    expect(receipt).toMatchObject({ state: 'pending', companyName: 'Acme Outfitters', receipt: { receipt_id: sent.receipt.id, price: { amount: '899.00', currency: 'EUR' } } });
    expect((await kithOk(['things', 'receipts'])).stdout).toMatch(/Acme Outfitters\s+Trail bike TR-1 #AO-TR1-000317\s+2026-03-15\s+899\.00 EUR\s+P2Y\s+pending/);
  });

  it('kith things accept makes a thing of it, linked to the seller, with the warranty and the receipt as proof', { timeout: STEP_TIMEOUT }, async () => {
    const accepted = (await kithOk(['things', 'accept', receipt.id.slice(0, 8), '--json'])).json<ThingReceiptAnswer>();
    expect(accepted).toMatchObject({ answer: 'sent', receipt: { state: 'accepted' } });
    thing = accepted.thing!;
    expect(thing).toMatchObject({ name: 'Trail bike TR-1', gtin: GTIN, links: [{ role: 'seller', companyName: 'Acme Outfitters' }], contracts: [{ kind: 'warranty', end: '2028-03-14' }], proofOfPurchase: { companyName: 'Acme Outfitters' } });
    const shown = (await kithOk(['things', 'show', thing.id.slice(0, 8)])).stdout;
    expect(shown).toContain('Receipt       signed by Acme Outfitters (kept as proof of purchase)');
    await waitFor('her answer at the company', async () => {
      const receipts = (await vendorOk(['things', 'receipts'])).json<{ state: string }[]>();
      return receipts[0]?.state === 'accepted' ? receipts : undefined;
    }, { timeoutMs: 20_000, intervalMs: 300 });
  });

  it('a second accept is refused with thing.receipt_answered and changes nothing', { timeout: STEP_TIMEOUT }, async () => {
    const before = (await kithOk(['things', 'list', '--json'])).stdout;
    const again = await kith(['things', 'accept', receipt.id, '--json']);
    expect(again.code).not.toBe(0);
    expect(again.stderr + again.stdout).toContain('thing.receipt_answered');
    expect((await kithOk(['things', 'list', '--json'])).stdout).toBe(before);
  });

  it('kith things register shares only the fields named; the company lists the registration', { timeout: STEP_TIMEOUT }, async () => {
    // She names the serial number and the purchase date; the product's GTIN and model go with them.
    const registered = (await kithOk(['things', 'register', thing.id.slice(0, 8), '--with', 'Acme Outfitters', '--fields', 'serial,purchaseDate', '--json'])).json<ThingView>();
    expect(registered.links.map((l) => l.role).sort()).toEqual(['maker', 'seller']);
    expect(registered.registrations).toEqual([expect.objectContaining({ companyName: 'Acme Outfitters', fields: ['serial_number', 'purchase_date', 'gtin', 'model'] })]);
    const registrations = (await vendorOk(['things', 'registrations', '--gtin', GTIN])).json<ThingRegistrationRow[]>();
    expect(registrations).toEqual([expect.objectContaining({ gtin: GTIN, model: 'TR-1', claims: { serial_number: 'AO-TR1-000317', purchase_date: '2026-03-15', gtin: GTIN, model: 'TR-1' } })]);
    expect((await kithOk(['things', 'show', thing.id.slice(0, 8)])).stdout).toContain('Registered    with Acme Outfitters');
  });

  it('kith-vendor things recall reaches her; kith things show prints the recall first', { timeout: STEP_TIMEOUT }, async () => {
    const recalled = (await vendorOk(['things', 'recall', '--gtin', GTIN, 'Stop riding: the front brake lever may crack.'])).json<{ relationships: { relationshipId: string }[] }>();
    expect(recalled.relationships).toHaveLength(1);
    const shown = await waitFor('the recall at her agent', async () => {
      const text = (await kithOk(['things', 'show', thing.id.slice(0, 8)])).stdout;
      return text.startsWith('RECALL') ? text : undefined;
    }, { timeoutMs: 20_000, intervalMs: 300 });
    expect(shown.split('\n')[0]).toMatch(/^RECALL \d{4}-\d{2}-\d{2} from Acme Outfitters: Stop riding: the front brake lever may crack\.$/);
  });
});
