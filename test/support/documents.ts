import { createPeerIdentity, signingKeyOf, type LocalIdentity } from '../../src/protocol/agent/identity.js';
import { buildConsentRecord, type ConsentRecord, type NewConsentRecord } from '../../src/protocol/consentRecord.js';
import { demandSchema, offerSchema, type Demand, type Offer, type SignedOffer } from '../../src/protocol/families/intent.js';
import { signOffer } from '../../src/protocol/intent/signedOffer.js';
import { buildAgreementRecord, countersign, signAgreement, type SignedAgreement } from '../../src/protocol/terms/agreementRecord.js';
import { bundledRoster, findAgreement, TERMS_BASE, type Obligations } from '../../src/protocol/terms/roster.js';

/*
 * Real protocol documents for store and vault tests. Both stores parse a row's documents (signed
 * agreements, obligations, consent records, demands, signed offers) with the protocol schemas as
 * they read it, so a fixture must be a document the protocol itself would build: these come from
 * its builders and the bundled roster (docs/terms/kith-roster-1.json).
 */

/** The full id of an agreement of the bundled roster from its short name (`service-only`). */
export const agreementUri = (short: string): string => `${TERMS_BASE}agreements/${short}`;

const AGREED_AT = Date.UTC(2026, 0, 1, 12, 0, 0, 0);

export interface AgreementOptions {
  /** Short name of the agreement of the bundled roster; default `service-only`. */
  agreement?: string;
  /** Short name of the agreement she proffered; default the agreement itself (a counter otherwise). */
  proffered?: string;
  /** Default: her signature only. */
  signedBy?: 'person' | 'both';
  supersedes?: string | null;
  /** Epoch ms; default 2026-01-01T12:00:00Z. */
  agreedAt?: number;
}

export interface TestDocuments {
  /** Her pairwise DID and the company's, the two parties of every agreement built here. */
  personDid: string;
  companyDid: string;
  /** The agreement record `id` (a UUID) of the bundled roster, signed as asked. Same input, same document. */
  agreement(id: string, options?: AgreementOptions): SignedAgreement;
  /** The obligations of an agreement of the bundled roster, by short name. */
  obligations(short: string): Obligations;
  /** An offer (identifier `id`, for the intent `intentId`) from the company to her, signed by the company; `overrides` change the offer before it is signed. */
  offer(id: string, intentId: string, overrides?: Partial<Offer>): SignedOffer;
}

/** Loads (and verifies) the bundled roster and makes the two parties' keys. */
export async function loadTestDocuments(): Promise<TestDocuments> {
  const { roster } = await bundledRoster();
  const person = createPeerIdentity().identity;
  const company = createPeerIdentity().identity;
  return {
    personDid: person.did,
    companyDid: company.did,
    agreement(id, options = {}) {
      const agreementId = agreementUri(options.agreement ?? 'service-only');
      const record = buildAgreementRecord({
        id,
        roster,
        agreementId,
        proffered: options.proffered === undefined ? agreementId : agreementUri(options.proffered),
        person: person.did,
        company: company.did,
        agreedAt: options.agreedAt ?? AGREED_AT,
        supersedes: options.supersedes ?? null,
      });
      // A counter is the company's record; anything else starts with her signature.
      const first = signAgreement(record, signingKeyOf(record.outcome === 'countered-accepted' ? company : person));
      if (options.signedBy !== 'both') return first;
      return countersign(first, signingKeyOf(record.outcome === 'countered-accepted' ? person : company));
    },
    obligations: (short) => findAgreement(roster, agreementUri(short)).obligations,
    offer: (id, intentId, overrides = {}) => signedOfferDocument({ id, intentId, seller: company, customer: person.did }, overrides),
  };
}

/** What she wants, as her agent casts it (protocol/families/intent.ts); `overrides` replace members. */
export function demandDocument(overrides: Partial<Demand> = {}): Demand {
  return demandSchema.parse({
    '@type': 'Demand',
    description: 'Waterproof trail shoes, size 39',
    category: 'clothing',
    priceSpecification: { maxPrice: '150.00', priceCurrency: 'EUR' },
    eligibleQuantity: { value: 1 },
    eligibleRegion: { addressCountry: 'DE' },
    availabilityEnds: '2027-01-20',
    ...overrides,
  });
}

/**
 * An offer of trail shoes for the recipient intent id `intentId`, as a company's agent signs it
 * (protocol/intent/signedOffer.ts) with the `seller`'s key; `overrides` replace members.
 */
export function signedOfferDocument(
  parties: { id: string; intentId: string; seller: LocalIdentity; customer: string },
  overrides: Partial<Offer> = {},
): SignedOffer {
  const offer = offerSchema.parse({
    '@type': 'Offer',
    identifier: parties.id,
    intent_id: parties.intentId,
    seller: parties.seller.did,
    customer: parties.customer,
    itemOffered: { name: 'Trail shoe, size 39', category: 'clothing', gtin: '4006381333931' },
    price: '129.90',
    priceCurrency: 'EUR',
    eligibleQuantity: { value: 1 },
    availability: 'InStock',
    validThrough: new Date(AGREED_AT + 7 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    terms: agreementUri('intent-only-contact'),
    ...overrides,
  });
  return signOffer(offer, signingKeyOf(parties.seller));
}

/** A consent record as both agents build it (protocol/consentRecord.ts); `overrides` change the builder's input. */
export function consentDocument(recordId: string, overrides: Partial<NewConsentRecord> = {}): ConsentRecord {
  return buildConsentRecord({
    recordId,
    principalDid: 'did:peer:2.customer',
    controller: { name: 'Shop', did: 'did:web:shop.example' },
    requestId: 'req-1',
    termsRef: null,
    purpose: 'Order updates',
    legalBasis: 'consent',
    retention: 'P1Y',
    categories: [{ category: 'email', source: 'pii_principal', issuer: null }],
    state: 'active',
    requestedAt: AGREED_AT,
    answeredAt: AGREED_AT + 1000,
    ...overrides,
  });
}
