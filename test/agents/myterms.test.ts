/**
 * The agreements IEEE 7012-2025 publishes (SD-BASE, SD-BASE-DP, PDC-*), between real agents over
 * real HTTP: a company policy and her default terms may name them by their published ids; the
 * company publishes what it accepts at /.well-known/myterms.json in the public implementations'
 * format; her connect preview reads that document from a site that publishes nothing else.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { exportVault } from '../../src/personal/vault/export.js';
import { myTermsDocumentSchema } from '../../src/protocol/terms/published.js';
import { connect, startCompany, startPersonal, type CompanyHandle, type PersonalHandle } from '../support/agents.js';
import { codeOfRejection } from '../support/errorCodes.js';

const handles: { cleanup(): Promise<void> }[] = [];
afterAll(async () => {
  for (const handle of handles.reverse()) await handle.cleanup();
});
async function companyWith(name: string, policy: unknown): Promise<CompanyHandle> {
  const company = await startCompany({ name, policy });
  handles.push(company);
  return company;
}
/** Her whole vault, but for the moment of the export. */
function snapshot(her: PersonalHandle): string {
  return JSON.stringify({ ...exportVault(her.vault), exportedAt: null });
}
async function personal(): Promise<PersonalHandle> {
  const her = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  handles.push(her);
  return her;
}

/** A static site that publishes only /.well-known/myterms.json (as tinyMyTerms does), nothing of Kith. */
async function staticSite(document: unknown): Promise<string> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/myterms.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(typeof document === 'string' ? document : JSON.stringify(document));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  handles.push({ cleanup: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/didcomm`;
}

describe('published MyTerms agreements between the agents', () => {
  it('a company accepting SD-BASE-DP by its published id accepts her proffer of SD-BASE-DP', async () => {
    const acme = await companyWith('Acme MyTerms', { terms: { accept: ['https://myterms.info/agreements/SD-BASE-DP'] } });
    const her = await personal();
    expect(await her.agent.terms.setDefault('SD-BASE-DP')).toBe('https://kith.invalid/terms/agreements/service-only');
    const link = await connect(her, acme);
    expect(link.view.terms).toMatchObject({ name: 'service-only' });
    const theirs = await acme.store.currentTermsAgreement(link.companyRelationship.id);
    expect(theirs?.agreementId).toBe('https://kith.invalid/terms/agreements/service-only');
  });

  it('the company publishes what it accepts at /.well-known/myterms.json, in the public format', async () => {
    const acme = await companyWith('Acme Publishes', { terms: { accept: ['SD-BASE', 'loyalty-program'] } });
    const response = await fetch(`${acme.url}/.well-known/myterms.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const document = (await response.json()) as Record<string, unknown>;
    expect(myTermsDocumentSchema.strict().safeParse(document).success).toBe(true);
    expect(document['agreements']).toEqual([
      { id: 'SD-BASE', url: 'https://myterms.info/agreements/SD-BASE' },
      { id: 'SD-BASE-DP', url: 'https://myterms.info/agreements/SD-BASE-DP' },
    ]);
    expect(document['effective_date']).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    // kith-terms beside it names the same policy by roster ids.
    const kith = (await (await fetch(`${acme.url}/.well-known/kith-terms`)).json()) as { accept: string[] };
    expect(kith.accept).toEqual(['https://kith.invalid/terms/agreements/service-only', 'https://kith.invalid/terms/agreements/loyalty-program']);

    const none = await companyWith('Acme Accepts None', {});
    expect(((await (await fetch(`${none.url}/.well-known/myterms.json`)).json()) as { agreements: unknown[] }).agreements).toEqual([]);
  });

  it('a policy naming a data-contribution agreement Kith cannot enforce is refused with terms.published_unsupported', async () => {
    const broken = await companyWith('Acme AI', { terms: { accept: ['PDC-AI'] } });
    expect(await codeOfRejection(broken.agent.publishedMyTerms())).toBe('terms.published_unsupported');
    for (const path of ['/.well-known/myterms.json', '/.well-known/kith-terms']) {
      const response = await fetch(`${broken.url}${path}`);
      expect(response.status).toBe(422);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('terms.published_unsupported');
    }
  });

  it('her roster view lists them beside the roster, each with what it is read as', async () => {
    const her = await personal();
    const view = await her.agent.terms.roster();
    expect(view.published.map((p) => [p.code, p.readAs])).toEqual([
      ['SD-BASE', 'https://kith.invalid/terms/agreements/service-only'],
      ['SD-BASE-DP', 'https://kith.invalid/terms/agreements/service-only'],
      ['PDC-AI', null],
      ['PDC-GOOD', null],
      ['PDC-INTENT', null],
    ]);
    expect(view.published.every((p) => p.textSha256 === null && p.meaning.length > 0 && p.reading.length > 0)).toBe(true);
  });

  it('her default terms cannot be set to one, and nothing in her vault changes', async () => {
    const her = await personal();
    const before = snapshot(her);
    await expect(her.agent.terms.setDefault('PDC-INTENT')).rejects.toMatchObject({ code: 'terms.published_unsupported' });
    expect(snapshot(her)).toBe(before);
  });
});

describe('her connect preview of a site that publishes only /.well-known/myterms.json', () => {
  it('predicts the answer to her terms from it', async () => {
    const her = await personal();
    await her.agent.terms.setDefault('SD-BASE');
    const endpoint = await staticSite({ effective_date: 'Mon, 01 Jan 2026 00:00:00 +0000', agreements: [{ id: 'SD-BASE', url: 'https://myterms.info/agreements/SD-BASE' }], tos_url: 'https://example.com/terms', tos: '' });
    const preview = await her.agent.terms.preview(endpoint);
    expect(preview).toMatchObject({ predicted: 'accepted', published: { accept: ['https://kith.invalid/terms/agreements/service-only'], preferred: null } });

    const other = await staticSite({ effective_date: 'Mon, 01 Jan 2026 00:00:00 +0000', agreements: [{ id: 'PDC-AI', url: 'https://myterms.info/agreements/PDC-AI' }] });
    // Nothing in it Kith can read: no roster in common, so no prediction.
    expect(await her.agent.terms.preview(other)).toMatchObject({ predicted: 'unknown', published: { accept: [] } });
  });

  it('a malformed myterms.json predicts nothing (rather than guess) and changes nothing', async () => {
    const her = await personal();
    await her.agent.terms.setDefault('SD-BASE');
    const before = snapshot(her);
    for (const document of ['{not json', { agreements: 'SD-BASE' }, { effective_date: '2026-01-01', agreements: [] }]) {
      const preview = await her.agent.terms.preview(await staticSite(document));
      expect(preview).toMatchObject({ predicted: 'unknown', published: null });
    }
    expect(snapshot(her)).toBe(before);
  });
});
