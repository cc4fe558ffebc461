import { describe, expect, it } from 'vitest';
import { TermsError } from '../../core/errors.js';
import { isAtLeastAsProtective } from './compare.js';
import {
  PUBLISHED_AGREEMENTS,
  acceptedFromMyTerms,
  buildMyTermsDocument,
  myTermsDocumentSchema,
  parseMyTermsDocument,
  publishedAgreement,
  publishedReadAs,
} from './published.js';
import { loadRosterSet } from './rosterSet.js';
import { obligationLines } from './words.js';

const KITH = (name: string): string => `https://kith.invalid/terms/agreements/${name}`;
const set = await loadRosterSet();

function thrown(fn: () => unknown): TermsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TermsError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('the agreements IEEE 7012-2025 publishes', () => {
  it('are the five, each by its published URL and code, with no text hash pinned', () => {
    expect(PUBLISHED_AGREEMENTS.map((a) => [a.code, a.id])).toEqual([
      ['SD-BASE', 'https://myterms.info/agreements/SD-BASE'],
      ['SD-BASE-DP', 'https://myterms.info/agreements/SD-BASE-DP'],
      ['PDC-AI', 'https://myterms.info/agreements/PDC-AI'],
      ['PDC-GOOD', 'https://myterms.info/agreements/PDC-GOOD'],
      ['PDC-INTENT', 'https://myterms.info/agreements/PDC-INTENT'],
    ]);
    // The texts were not obtained: a hash here would be invented.
    expect(PUBLISHED_AGREEMENTS.every((a) => a.textSha256 === null)).toBe(true);
  });

  it('a published id or code is understood as the roster agreement Kith reads it as', () => {
    for (const reference of ['https://myterms.info/agreements/SD-BASE', 'SD-BASE', 'SD-BASE-DP']) {
      expect(set.agreement(reference).agreement.id).toBe(KITH('service-only'));
    }
    // Roster names still resolve as before.
    expect(set.agreement('intent-only-contact').agreement.id).toBe(KITH('intent-only-contact'));
    expect(publishedReadAs(KITH('service-only')).map((a) => a.code)).toEqual(['SD-BASE', 'SD-BASE-DP']);
  });

  it('each readable one is read at least as protectively as it says: nothing shared, no tracking, deleted on leaving, and portability for SD-BASE-DP', () => {
    for (const published of PUBLISHED_AGREEMENTS.filter((a) => a.readAs !== null)) {
      const { obligations } = set.agreement(published.id).agreement;
      expect(obligations).toMatchObject({ thirdPartySharing: 'none', crossSiteTracking: false, deleteOnTermination: true });
      expect(obligations.allowedPurposes.every((p) => p === 'service-delivery' || p === 'support')).toBe(true);
      if (published.code === 'SD-BASE-DP') expect(obligations.dataPortability).toBe(true);
    }
    // Compared like any roster agreement: every other bundled agreement protects her less than SD-BASE-DP.
    const sdBaseDp = set.agreement('SD-BASE-DP').agreement.obligations;
    const loyalty = set.agreement('loyalty-program').agreement.obligations;
    expect(isAtLeastAsProtective(loyalty, sdBaseDp)).toEqual({ ok: false, weaker: ['allowedPurposes', 'maxRetention', 'thirdPartySharing', 'contactOnlyOnIntent'] });
    expect(isAtLeastAsProtective(sdBaseDp, loyalty).ok).toBe(true);
  });

  it('is shown in words: its meaning, Kith\'s reading, and the obligations it is read as', () => {
    const published = publishedAgreement('SD-BASE-DP')!;
    expect(published.meaning).toMatch(/portability/);
    const lines = obligationLines(set.agreement(published.id).agreement.obligations).map((l) => l.text);
    expect(lines).toContain('Shares it with no one');
    expect(lines).toContain('Gives your data back when you ask');
  });

  it('a data-contribution agreement Kith cannot express is refused by name, never mapped to something else', () => {
    for (const code of ['PDC-AI', 'PDC-GOOD', 'https://myterms.info/agreements/PDC-INTENT']) {
      const error = thrown(() => set.agreement(code));
      expect(error.code).toBe('terms.published_unsupported');
      expect(error.details).toEqual({ agreementId: publishedAgreement(code)!.id });
    }
    // Something that only looks published is just unknown.
    expect(thrown(() => set.agreement('https://myterms.info/agreements/SD-NOPE')).code).toBe('terms.unknown_agreement');
  });
});

describe('/.well-known/myterms.json', () => {
  // The format of dmarti/tinyMyTerms (templates/myterms.json, docs/consent-dialog-spec.md).
  const PUBLIC_EXAMPLE = {
    effective_date: 'Mon, 01 Jan 2026 00:00:00 +0000',
    agreements: [{ id: 'SD-BASE', url: 'https://myterms.info/agreements/SD-BASE' }],
    tos_url: 'https://example.com/terms',
    tos: '<p>terms</p>',
  };

  it('reads the public implementations\' document', () => {
    expect(parseMyTermsDocument(PUBLIC_EXAMPLE)).toEqual(PUBLIC_EXAMPLE);
    expect(acceptedFromMyTerms(parseMyTermsDocument(PUBLIC_EXAMPLE))).toEqual([KITH('service-only')]);
  });

  it('what a company writes has the public shape, lists only what it accepts, by code and URL', () => {
    const document = buildMyTermsDocument([KITH('service-only'), KITH('loyalty-program')], Date.UTC(2026, 11, 4, 21, 0, 0));
    expect(document).toEqual({
      effective_date: 'Fri, 04 Dec 2026 21:00:00 +0000',
      agreements: [
        { id: 'SD-BASE', url: 'https://myterms.info/agreements/SD-BASE' },
        { id: 'SD-BASE-DP', url: 'https://myterms.info/agreements/SD-BASE-DP' },
      ],
    });
    expect(myTermsDocumentSchema.safeParse(document).success).toBe(true);
    expect(buildMyTermsDocument([KITH('loyalty-program')], 0).agreements).toEqual([]);
  });

  it('entries Kith does not know or cannot express are left out of what it accepts', () => {
    const document = parseMyTermsDocument({
      ...PUBLIC_EXAMPLE,
      agreements: [
        { id: 'PDC-AI', url: 'https://myterms.info/agreements/PDC-AI' },
        { id: 'X-OTHER', url: 'https://example.org/agreements/X-OTHER' },
      ],
    });
    expect(acceptedFromMyTerms(document)).toEqual([]);
  });

  it.each([
    ['not an object', 'SD-BASE', ['(root)']],
    ['no agreements', { effective_date: PUBLIC_EXAMPLE.effective_date }, ['agreements']],
    ['an ISO date instead of RFC 2822', { ...PUBLIC_EXAMPLE, effective_date: '2026-01-01T00:00:00Z' }, ['effective_date']],
    ['an agreement without url', { ...PUBLIC_EXAMPLE, agreements: [{ id: 'SD-BASE' }] }, ['agreements.0.url']],
    ['an http url', { ...PUBLIC_EXAMPLE, agreements: [{ id: 'SD-BASE', url: 'http://myterms.info/agreements/SD-BASE' }] }, ['agreements.0.url']],
    ['agreements not a list', { ...PUBLIC_EXAMPLE, agreements: { id: 'SD-BASE' } }, ['agreements']],
  ])('a malformed document (%s) is terms.myterms_invalid naming the member', (_what, json, paths) => {
    const error = thrown(() => parseMyTermsDocument(json));
    expect(error.code).toBe('terms.myterms_invalid');
    expect(error.details).toEqual({ paths });
  });
});
