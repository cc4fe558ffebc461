import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KithError, TermsError, type KithErrorCode } from '../../core/errors.js';
import { createPeerIdentity, localIdentitySchema, signingKeyOf, type LocalIdentity } from '../agent/identity.js';
import { createDidResolver } from '../did/resolver.js';
import type { SigningKey } from '../envelope/engine.js';
import { signDetached } from './detachedJws.js';
import { codeOfRejection as codeOf } from '../../../test/support/errorCodes.js';
import {
  BUNDLED_ROSTER_PATH,
  bundledFileOf,
  bundledRoster,
  DEFAULT_ROSTER_PUBLISHERS,
  findAgreement,
  KITH_DEMO_ROSTER_PUBLISHER,
  loadRoster,
  packageRoot,
  signRoster,
  textSha256,
  verifyAgreementText,
  type Agreement,
  type Roster,
  type SignedRoster,
} from './roster.js';

/*
 * The bundled roster (docs/terms/kith-roster-1.json) is signed with the demo publisher key in
 * test/fixtures/terms/roster-publisher.json. By default this test checks the committed file is
 * exactly what signing its content with that key gives. After editing the roster's content or a
 * text in docs/terms/texts/, rewrite it (text hashes, publisher and signature are recomputed):
 *   KITH_WRITE_ROSTER=1 npx vitest run src/protocol/terms/roster
 * Without the fixture file, writing makes a new publisher key; pin its DID in roster.ts
 * (KITH_DEMO_ROSTER_PUBLISHER) as the failure message says.
 */

const WRITE = process.env['KITH_WRITE_ROSTER'] === '1';
const ROOT = packageRoot();
const ROSTER_FILE = new URL(BUNDLED_ROSTER_PATH, ROOT);
const PUBLISHER_FIXTURE = new URL('test/fixtures/terms/roster-publisher.json', ROOT);
const resolver = createDidResolver();

function syncCodeOf(run: () => unknown): KithErrorCode | 'returned' {
  try {
    run();
    return 'returned';
  } catch (err) {
    expect(err).toBeInstanceOf(KithError);
    return (err as KithError).code;
  }
}

// ---------------------------------------------------------------------------------------------
// Rosters built here, with fresh keys

const publisher = createPeerIdentity().identity;
const stranger = createPeerIdentity().identity;
const trust = { publishers: [publisher.did], resolver };

function agreement(slug: string, overrides: Partial<Agreement> = {}): Agreement {
  return {
    id: `https://kith.invalid/terms/agreements/${slug}`,
    title: `Test ${slug}`,
    version: 1,
    textUrl: `https://example.org/terms/${slug}.md`,
    textSha256: textSha256(`# ${slug}\n`),
    obligations: {
      allowedPurposes: ['service-delivery', 'support'],
      maxRetention: 'P30D',
      thirdPartySharing: 'none',
      crossSiteTracking: false,
      dataPortability: true,
      contactOnlyOnIntent: true,
      deleteOnTermination: true,
    },
    ...overrides,
  };
}

function roster(overrides: Partial<Roster> = {}, by: LocalIdentity = publisher): Roster {
  return {
    id: 'https://kith.invalid/terms/test-roster',
    version: 3,
    publisher: by.did,
    issuedAt: '2026-11-23T10:00:00Z',
    agreements: [agreement('a'), agreement('b', { title: 'Bé — ünïcode ✓' })],
    ...overrides,
  };
}

const signed = (body: Roster = roster(), signer: SigningKey = signingKeyOf(publisher)): SignedRoster => signRoster(body, signer);

/** A signature made without signRoster's checks, over anything. */
function rawSigned(body: unknown, signer: SigningKey = signingKeyOf(publisher)): unknown {
  return { roster: body, signature: { alg: 'EdDSA', kid: signer.kid, jws: signDetached(body, signer) } };
}

describe('loadRoster', () => {
  it('returns the roster a trusted publisher signed, deeply frozen', async () => {
    const file = JSON.parse(JSON.stringify(signed())) as unknown;
    const loaded = await loadRoster(file, trust);
    expect(loaded).toEqual(roster());
    expect(Object.isFrozen(loaded.agreements[0]!.obligations.allowedPurposes)).toBe(true);
  });

  it('verifies over the JCS bytes, so member order and whitespace in the file do not matter', async () => {
    const s = signed();
    const reordered = {
      signature: s.signature,
      roster: Object.fromEntries(Object.entries(s.roster).reverse()),
    };
    expect(await codeOf(loadRoster(JSON.parse(JSON.stringify(reordered, null, 7)), trust))).toBe('resolved');
  });

  it('refuses a roster with any one character of its content changed', async () => {
    const text = JSON.stringify(signed());
    const start = '{"roster":'.length;
    const end = start + JSON.stringify(signed().roster).length;
    expect(text.slice(end, end + 13)).toBe(',"signature":');
    let checked = 0;
    for (let i = start; i < end; i += 1) {
      const tampered = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1);
      let json: unknown;
      try {
        json = JSON.parse(tampered);
      } catch {
        continue; // not JSON any more: no roster to load
      }
      checked += 1;
      expect(await codeOf(loadRoster(json, trust)), `character ${i}`).toBe('terms.roster_invalid');
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('refuses a changed or re-encoded signature', async () => {
    const s = signed();
    const { jws } = s.signature;
    const last = jws.at(-1)!;
    for (const bad of [
      jws.slice(0, -1) + (last === 'A' ? 'B' : 'A'),
      jws.slice(0, -2) + 'xy',
      jws + '=',
      jws.replace('..', '.e30.'),
      signDetached({ ...s.roster, version: 4 }, signingKeyOf(publisher)),
    ]) {
      expect(await codeOf(loadRoster({ ...s, signature: { ...s.signature, jws: bad } }, trust)), bad).toBe('terms.roster_invalid');
    }
  });

  it('refuses a roster from a publisher it does not trust: terms.unknown_roster', async () => {
    const byStranger = signed(roster({}, stranger), signingKeyOf(stranger));
    expect(await codeOf(loadRoster(byStranger, trust))).toBe('terms.unknown_roster');
    expect(await codeOf(loadRoster(byStranger, { publishers: [], resolver }))).toBe('terms.unknown_roster');
    expect(await codeOf(loadRoster(byStranger, { publishers: [stranger.did], resolver }))).toBe('resolved');
  });

  it("refuses a signature by another DID's key, even a trusted one's", async () => {
    const claimsPublisher = rawSigned(roster(), signingKeyOf(stranger));
    expect(await codeOf(loadRoster(claimsPublisher, { publishers: [publisher.did, stranger.did], resolver }))).toBe('terms.roster_invalid');
    expect(() => signRoster(roster(), signingKeyOf(stranger))).toThrow(TermsError);
  });

  it("refuses a publisher's kid that is not one of its authentication keys, or a key it does not hold", async () => {
    const agreementKid = { kid: publisher.agreement.kid, privateKey: signingKeyOf(publisher).privateKey };
    expect(await codeOf(loadRoster(rawSigned(roster(), agreementKid), trust))).toBe('terms.roster_invalid');
    const forged = { kid: publisher.signing.kid, privateKey: signingKeyOf(stranger).privateKey };
    expect(await codeOf(loadRoster(rawSigned(roster(), forged), trust))).toBe('terms.roster_invalid');
    const s = signed();
    expect(await codeOf(loadRoster({ ...s, signature: { ...s.signature, kid: `${publisher.did}#key-9` } }, trust))).toBe('terms.roster_invalid');
  });

  it('refuses a version of the wrong shape, even correctly signed', async () => {
    for (const version of ['1', 0, -1, 1.5, null, 2 ** 53]) {
      expect(await codeOf(loadRoster(rawSigned({ ...roster(), version }), trust)), String(version)).toBe('terms.roster_invalid');
      expect(await codeOf(loadRoster(rawSigned(roster({ agreements: [{ ...agreement('a'), version } as unknown as Agreement] })), trust))).toBe(
        'terms.roster_invalid',
      );
      expect(syncCodeOf(() => signRoster({ ...roster(), version } as unknown as Roster, signingKeyOf(publisher)))).toBe('terms.roster_invalid');
    }
  });

  it('refuses every other deviation from the format, even correctly signed', async () => {
    const obligations = agreement('a').obligations;
    const bad: unknown[] = [
      { ...roster(), extra: true },
      { ...roster(), id: 'https://example.org/terms/roster' },
      { ...roster(), id: 'https://kith.invalid/terms/../x' },
      { ...roster(), publisher: 'not a did' },
      { ...roster(), issuedAt: '23 Nov 2026' },
      { ...roster(), issuedAt: '2026-11-23T10:00:00+01:00' },
      roster({ agreements: [] }),
      roster({ agreements: [agreement('a'), agreement('a')] }),
      roster({ agreements: [{ ...agreement('a'), textUrl: 'http://example.org/a.md' }] }),
      roster({ agreements: [{ ...agreement('a'), textSha256: 'AB'.repeat(32) }] }),
      roster({ agreements: [{ ...agreement('a'), note: 'x' } as Agreement] }),
      roster({ agreements: [agreement('a', { obligations: { ...obligations, allowedPurposes: ['selling'] } as never })] }),
      roster({ agreements: [agreement('a', { obligations: { ...obligations, allowedPurposes: [] } })] }),
      roster({ agreements: [agreement('a', { obligations: { ...obligations, allowedPurposes: ['support', 'support'] } })] }),
      roster({ agreements: [agreement('a', { obligations: { ...obligations, maxRetention: '30 days' } })] }),
      roster({ agreements: [agreement('a', { obligations: { ...obligations, maxRetention: 'P' } })] }),
      roster({ agreements: [agreement('a', { obligations: { ...obligations, thirdPartySharing: 'partners' } as never })] }),
      roster({ agreements: [agreement('a', { obligations: { ...obligations, crossSiteTracking: 'no' } as never })] }),
      roster({ agreements: [agreement('a', { obligations: { ...obligations, deleteOnTermination: undefined } as never })] }),
    ];
    for (const body of bad) expect(await codeOf(loadRoster(rawSigned(body), trust)), JSON.stringify(body)).toBe('terms.roster_invalid');
    for (const file of [null, 'text', [], {}, { roster: roster() }, { ...signed(), extra: 1 }, { ...signed(), signature: { ...signed().signature, alg: 'ES256' } }]) {
      expect(await codeOf(loadRoster(file, trust))).toBe('terms.roster_invalid');
    }
  });

  it('lets a DID resolution failure through as it is', async () => {
    const broken = 'did:peer:2.Vz6Mbroken';
    const file = rawSigned(roster({ publisher: broken }), { kid: `${broken}#key-1`, privateKey: signingKeyOf(publisher).privateKey });
    expect(await codeOf(loadRoster(file, { publishers: [broken], resolver }))).toBe('did.invalid');
  });
});

describe('agreements and their texts', () => {
  it('finds an agreement by id, or terms.unknown_agreement', () => {
    expect(findAgreement(roster(), 'https://kith.invalid/terms/agreements/b').title).toBe('Bé — ünïcode ✓');
    expect(syncCodeOf(() => findAgreement(roster(), 'https://kith.invalid/terms/agreements/c'))).toBe('terms.unknown_agreement');
  });

  it('hashes the UTF-8 bytes of the text, as lower-case hex', () => {
    expect(textSha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(textSha256('é')).toBe(createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest('hex'));
  });

  it('accepts the text the roster pins and nothing else: terms.text_mismatch', () => {
    const a = agreement('a');
    expect(syncCodeOf(() => verifyAgreementText(a, '# a\n'))).toBe('returned');
    for (const other of ['# a', '# a\r\n', '# A\n', '\ufeff# a\n', '# a\n\n', '']) {
      expect(syncCodeOf(() => verifyAgreementText(a, other)), JSON.stringify(other)).toBe('terms.text_mismatch');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The bundled roster

function publisherFixture(): LocalIdentity {
  const json = JSON.parse(readFileSync(PUBLISHER_FIXTURE, 'utf8')) as { identity: unknown };
  return localIdentitySchema.parse(json.identity);
}

/** The committed roster file as signing its content (with fresh text hashes) by `identity` writes it. */
function renderBundledRoster(identity: LocalIdentity): string {
  const source = JSON.parse(readFileSync(ROSTER_FILE, 'utf8')) as { roster: Roster };
  const body: Roster = {
    ...source.roster,
    publisher: identity.did,
    agreements: source.roster.agreements.map((a) => {
      const file = bundledFileOf(a.textUrl);
      if (file === undefined) throw new Error(`${a.textUrl} is not under docs/terms/`);
      return { ...a, textSha256: textSha256(readFileSync(file, 'utf8')) };
    }),
  };
  return `${JSON.stringify(signRoster(body, signingKeyOf(identity)), null, 2)}\n`;
}

// Only declared when writing, so a normal run has no skipped test.
if (WRITE) {
  describe.runIf(WRITE)('writing the bundled roster (KITH_WRITE_ROSTER=1)', () => {
    it('writes docs/terms/kith-roster-1.json (and the demo publisher key if there is none)', () => {
      if (!existsSync(PUBLISHER_FIXTURE)) {
        const { identity } = createPeerIdentity();
        mkdirSync(new URL('.', PUBLISHER_FIXTURE), { recursive: true });
        const fixture = {
          description:
            'DEMO / TEST KEY, published on purpose: the private key of the demo roster publisher that signs docs/terms/kith-roster-1.json. Anyone can sign as this DID. Never trust it outside demos and tests. See docs/terms/README.md.',
          generatedBy: 'src/protocol/terms/roster.test.ts with KITH_WRITE_ROSTER=1',
          identity,
        };
        writeFileSync(PUBLISHER_FIXTURE, `${JSON.stringify(fixture, null, 2)}\n`);
      }
      const identity = publisherFixture();
      writeFileSync(ROSTER_FILE, renderBundledRoster(identity));
      expect(identity.did, `pin this DID as KITH_DEMO_ROSTER_PUBLISHER in src/protocol/terms/roster.ts`).toBe(KITH_DEMO_ROSTER_PUBLISHER);
    });
  });
}

describe.skipIf(WRITE)('the bundled roster', () => {
  it('is signed by the pinned demo publisher, and its texts are the ones it pins', async () => {
    const { roster: bundled, texts } = await bundledRoster();
    expect(DEFAULT_ROSTER_PUBLISHERS).toEqual([KITH_DEMO_ROSTER_PUBLISHER]);
    expect(bundled.publisher).toBe(KITH_DEMO_ROSTER_PUBLISHER);
    expect(bundled.id).toBe('https://kith.invalid/terms/kith-roster');
    expect(bundled.version).toBe(1);
    expect(bundled.agreements.map((a) => a.id.replace('https://kith.invalid/terms/agreements/', ''))).toEqual([
      'service-only',
      'intent-only-contact',
      'service-plus-billing',
      'loyalty-program',
      'data-for-research',
    ]);
    expect(texts.size).toBe(bundled.agreements.length);
    for (const a of bundled.agreements) {
      // Hashed here from the file's bytes, independently of textSha256 and of the UTF-8 decoding.
      const bytes = readFileSync(bundledFileOf(a.textUrl)!);
      expect(createHash('sha256').update(bytes).digest('hex'), a.id).toBe(a.textSha256);
      expect(texts.get(a.id)).toBe(bytes.toString('utf8'));
      expect(texts.get(a.id)!.startsWith(`# ${a.title} (version ${a.version})\n`), a.id).toBe(true);
    }
  });

  it('is exactly what signing its content with the demo publisher key writes (KITH_WRITE_ROSTER=1 rewrites it)', () => {
    const identity = publisherFixture();
    expect(identity.did).toBe(KITH_DEMO_ROSTER_PUBLISHER);
    expect(readFileSync(ROSTER_FILE, 'utf8')).toBe(renderBundledRoster(identity));
  });
});

describe('bundledFileOf', () => {
  it('maps URLs under https://kith.invalid/terms/ into docs/terms/, and nothing else', () => {
    expect(bundledFileOf('https://kith.invalid/terms/texts/a-1.md')?.href).toBe(new URL('docs/terms/texts/a-1.md', ROOT).href);
    for (const url of [
      'https://kith.invalid/terms/../package.json',
      'https://kith.invalid/terms/%2e%2e/package.json',
      'https://kith.invalid/terms/texts/a.md?x=1',
      'https://kith.invalid/terms/texts/a.md#x',
      'https://kith.invalid/terms/',
      'https://kith.invalid/other/a.md',
      'http://kith.invalid/terms/a.md',
      'https://evil.example/terms/a.md',
      'not a url',
    ]) {
      expect(bundledFileOf(url), url).toBeUndefined();
    }
  });
});
