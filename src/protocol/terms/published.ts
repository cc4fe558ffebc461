import { z } from 'zod';
import { termsError } from './roster.js';

/*
 * The five agreements IEEE 7012-2025 ("MyTerms", January 2026) publishes, recognised by their
 * published ids beside Kith's signed roster (decision 0018). Each is read, in Kith's vocabulary,
 * as an agreement of the bundled roster that protects her at least as well, or not at all: a
 * proffer, a company policy or a command naming a published id then means that roster agreement,
 * and everything downstream (record, comparison, words) is the roster's, unchanged.
 *
 * No text hash is pinned: Kith has not obtained the published texts (only their ids, URLs and the
 * one-line summaries the public implementations give), so `textSha256` is null and must stay null
 * until a text is actually fetched and kept beside the roster texts.
 */

export const MYTERMS_AGREEMENTS_BASE = 'https://myterms.info/agreements/';

export const PUBLISHED_CODES = ['SD-BASE', 'SD-BASE-DP', 'PDC-AI', 'PDC-GOOD', 'PDC-INTENT'] as const;
export type PublishedCode = (typeof PUBLISHED_CODES)[number];

export interface PublishedAgreement {
  code: PublishedCode;
  /** The published id: the agreement's URL at myterms.info. */
  id: string;
  /** Service delivery (the relationship itself) or personal data contribution (an addition to one). */
  kind: 'service-delivery' | 'data-contribution';
  /** What it says, in one sentence, as the public implementations summarise it (not the text). */
  meaning: string;
  /** Always null: the published text was not obtained, so no hash can honestly be pinned. */
  textSha256: null;
  /**
   * The bundled roster agreement whose obligations are Kith's reading of it (at least as
   * protective of her), or null when Kith's vocabulary cannot express it.
   */
  readAs: string | null;
  /** Why it is read so, or why it is not expressible. */
  reading: string;
}

const KITH = 'https://kith.invalid/terms/agreements/';

export const PUBLISHED_AGREEMENTS: readonly PublishedAgreement[] = Object.freeze(
  (
    [
      {
        code: 'SD-BASE',
        kind: 'service-delivery',
        meaning: 'The base service-delivery agreement: the company uses her data only to provide the service.',
        readAs: `${KITH}service-only`,
        reading: 'Read as service-only, which adds data portability: stricter than SD-BASE, so it never protects her less.',
      },
      {
        code: 'SD-BASE-DP',
        kind: 'service-delivery',
        meaning: 'SD-BASE plus data portability: she can take her data with her.',
        readAs: `${KITH}service-only`,
        reading: 'Read as service-only: service delivery and support only, no sharing, no tracking, portability, deletion on termination.',
      },
      {
        code: 'PDC-AI',
        kind: 'data-contribution',
        meaning: 'A personal data contribution for training or operating AI.',
        readAs: null,
        reading: 'Kith has no purpose for AI training or operation, so it cannot enforce this agreement.',
      },
      {
        code: 'PDC-GOOD',
        kind: 'data-contribution',
        meaning: 'A personal data contribution for the public good (data-for-good).',
        readAs: null,
        reading: 'Kith has no purpose for contributions to the public good, so it cannot enforce this agreement.',
      },
      {
        code: 'PDC-INTENT',
        kind: 'data-contribution',
        meaning: 'A personal data contribution expressing her intent to buy (the intention economy).',
        readAs: null,
        reading: 'Kith carries intent as intent casts (their own family), not as terms, so it cannot enforce this agreement.',
      },
    ] as const
  ).map((a) => Object.freeze({ ...a, id: `${MYTERMS_AGREEMENTS_BASE}${a.code}`, textSha256: null })),
);

/** The published agreement a reference names (its URL or its code, e.g. "SD-BASE"), or undefined. */
export function publishedAgreement(reference: string): PublishedAgreement | undefined {
  return PUBLISHED_AGREEMENTS.find((a) => a.id === reference || a.code === reference);
}

/**
 * The roster agreement id a published reference is read as; undefined if `reference` names no
 * published agreement.
 * @throws TermsError terms.published_unsupported for a published agreement Kith cannot express
 */
export function readPublished(reference: string): string | undefined {
  const published = publishedAgreement(reference);
  if (published === undefined) return undefined;
  if (published.readAs === null) {
    throw termsError('terms.published_unsupported', `${published.code} is a published MyTerms agreement Kith cannot enforce: ${published.reading}`, { details: { agreementId: published.id } });
  }
  return published.readAs;
}

/** The published agreements read as `agreementId` (a roster agreement id), in table order. */
export function publishedReadAs(agreementId: string): PublishedAgreement[] {
  return PUBLISHED_AGREEMENTS.filter((a) => a.readAs === agreementId);
}

// ---------------------------------------------------------------------------------------------
// /.well-known/myterms.json, the discovery document of the public implementations
// (dmarti/tinyMyTerms docs/consent-dialog-spec.md: effective_date, agreements [{id, url}], tos_url, tos).

/** RFC 2822 date-time as Date#toUTCString writes it, or with a numeric zone: "Mon, 01 Jan 2026 00:00:00 +0000". */
const RFC_2822 = /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}(?::\d{2})? (?:[+-]\d{4}|GMT|UT)$/;

export const myTermsDocumentSchema = z.object({
  effective_date: z.string().max(100).regex(RFC_2822, 'an RFC 2822 date-time'),
  agreements: z
    .array(
      z.object({
        id: z.string().min(1).max(200),
        url: z
          .string()
          .max(2000)
          .refine((u) => URL.canParse(u) && new URL(u).protocol === 'https:', 'an https URL'),
      }),
    )
    .max(100),
  /** The human-readable terms page; optional here, as a company may have none besides its agent. */
  tos_url: z.string().max(2000).optional(),
  tos: z.string().max(200_000).optional(),
});
export type MyTermsDocument = z.infer<typeof myTermsDocumentSchema>;

/**
 * A /.well-known/myterms.json document, parsed: only member paths are reported, never values.
 * @throws TermsError terms.myterms_invalid
 */
export function parseMyTermsDocument(json: unknown): MyTermsDocument {
  const parsed = myTermsDocumentSchema.safeParse(json);
  if (!parsed.success) {
    throw termsError('terms.myterms_invalid', 'Not a MyTerms discovery document (/.well-known/myterms.json)', {
      details: { paths: parsed.error.issues.map((i) => i.path.map(String).join('.') || '(root)') },
    });
  }
  return parsed.data;
}

/**
 * The roster agreement ids a myterms.json document accepts: each published agreement it lists,
 * read as Kith reads it. Entries Kith does not know or cannot express are left out (a company may
 * accept more than Kith can agree to), never guessed.
 */
export function acceptedFromMyTerms(document: MyTermsDocument): string[] {
  const ids = new Set<string>();
  for (const entry of document.agreements) {
    const published = publishedAgreement(entry.url) ?? publishedAgreement(entry.id);
    if (published?.readAs) ids.add(published.readAs);
  }
  return [...ids];
}

/** The myterms.json a company publishes: every published agreement read as one it accepts. */
export function buildMyTermsDocument(accept: readonly string[], effectiveAt: number, tosUrl?: string): MyTermsDocument {
  const agreements = PUBLISHED_AGREEMENTS.filter((a) => a.readAs !== null && accept.includes(a.readAs)).map((a) => ({ id: a.code, url: a.id }));
  return { effective_date: new Date(effectiveAt).toUTCString().replace(/GMT$/, '+0000'), agreements, ...(tosUrl === undefined ? {} : { tos_url: tosUrl }) };
}
