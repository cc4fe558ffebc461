import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { companyPolicySchema } from '../../company/config.js';
import { createCompanyAgent } from '../../company/createCompanyAgent.js';
import { openSqliteCompanyStore } from '../../company/store/sqlite.js';
import type { CompanyStore } from '../../company/store/types.js';
import { createPeerIdentity, localIdentitySchema, signingKeyOf } from '../agent/identity.js';
import { DEFAULT_MESSAGE_TTL_MS, buildMessage, type MessageInput } from '../buildMessage.js';
import { createPeerDid2 } from '../did/peer2.js';
import { createDidResolver } from '../did/resolver.js';
import type { EnvelopeEngine } from '../envelope/engine.js';
import { fastEngine } from '../envelope/fastEngine.js';
import { MEDIA_TYPE } from '../envelope/format.js';
import { joseEngine } from '../envelope/joseEngine.js';
import { cekLength, ivLength, type ContentEncryption } from '../envelope/joseParts.js';
import { packMessage } from '../envelope/pack.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, receiveMessage } from '../envelope/receive.js';
import { okpPrivateJwkSchema, privateKeyObject, publicKeyObject, toPrivateJwk } from '../keys.js';
import { didcommMessageSchema, type DidcommMessage } from '../message.js';
import { PROFILE_VCT, presentSelfIssued, verifySdJwtPresentation } from '../sdjwt/index.js';
import { buildAgreementRecord, countersign, signAgreement, type SignedAgreement } from '../terms/agreementRecord.js';
import { checkCountersigned, checkProffer, checkResponse } from '../terms/negotiate.js';
import { bundledRoster, type Roster } from '../terms/roster.js';
import { createRosterSet } from '../terms/rosterSet.js';
import { parseDetached } from '../terms/detachedJws.js';
import { judgeOffer } from '../intent/verdict.js';
import { signOffer, verifySignedOffer } from '../intent/signedOffer.js';
import { Account, BasicMessage, CallerVerification, Connect, Consent, DataRights, Disclose, Intent, Pickup, ProfileUpdate, Relationship, ReportProblem, Service, Terms, Thing, TrustPing, createMessageRegistry } from './index.js';
import { THING_REGISTRATION_VCT, type ReceiptDocument } from './thing.js';
import { signReceipt, verifySignedReceipt } from '../things/receipt.js';
import { demandSchema, type Demand, type Offer } from './intent.js';
import type { TermsResponseBody } from './terms.js';
import { invitationSchema, parseInvitation, type Invitation } from './outOfBand.js';

/*
 * Golden vectors of every message type in the registry: docs/protocol/vectors/families.json.
 * Each is a plaintext built with buildMessage from fixed ids, times and DIDs, its signed JWS, and
 * its packed JWE made with a fixed ephemeral key, CEK and IV.
 *
 * By default this test only checks the stored file. To write it:
 *   KITH_WRITE_VECTORS=1 npx vitest run src/protocol/families/vectors
 * Writing keeps the stored keys and each stored entry's fixed parameters, so an unchanged message
 * keeps its bytes and a new family only adds entries. Delete the file to start over with new keys.
 * Review the diff: a changed vector means the wire format changed.
 *
 * The family pages in docs/protocol/ show the same plaintexts in blocks marked
 * `<!-- vector <type URI> -->` (and `invitation`, `invitation-url`); this test checks them
 * against the file, and writing rewrites them.
 */

const WRITE = process.env['KITH_WRITE_VECTORS'] === '1';
const FILE = new URL('../../../docs/protocol/vectors/families.json', import.meta.url);
const DOCS = new URL('../../../docs/protocol/', import.meta.url);
const PAGES = ['out-of-band.md', 'connect.md', 'trust-ping.md', 'basicmessage.md', 'report-problem.md', 'pickup.md', 'relationship.md', 'disclose.md', 'profile-update.md', 'terms.md', 'intent.md', 'consent.md', 'data-rights.md', 'caller-verification.md', 'account.md', 'thing.md', 'service.md'] as const;
const DOC_BLOCK = /<!-- vector (\S+) -->\n```(json|text)\n[\s\S]*?```/g;
const ENC = 'A256CBC-HS512' as const satisfies ContentEncryption;
const ENGINES: readonly (readonly [string, EnvelopeEngine])[] = [
  ['fast', fastEngine],
  ['jose', joseEngine],
];

const COMPANY_NAME = 'Acme Outfitters';
const COMPANY_PUBLIC_URL = 'https://vendor.example'; // in the golden vectors' DIDs and invitation URL: stays
const COMPANY_ENDPOINT = `${COMPANY_PUBLIC_URL}/didcomm`;
/** Her agent listens on loopback; each relationship has its own route token. */
const CUSTOMER_ENDPOINT = 'http://127.0.0.1:7400/didcomm/fPmROUePPAbno3JABJ40vQ';
/** 2026-01-01T09:00:00Z, in seconds. Every message is created at T0 + its offset. */
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0) / 1000;
/** Each message is received this long after it was created. */
const TRANSIT_MS = 2_000;

const partySchema = localIdentitySchema.extend({ serviceEndpoint: z.string() });
type Party = z.infer<typeof partySchema>;
/** The two sides, named as the vector files name them (`vendor` is the company: the files stay byte-identical). */
type Side = 'customer' | 'vendor';

const vectorSchema = z.object({
  type: z.string(),
  sender: z.enum(['customer', 'vendor']),
  recipient: z.enum(['customer', 'vendor']),
  receivedAt: z.object({ epochMs: z.number().int(), iso: z.string() }),
  // A record, not didcommMessageSchema: zod would rebuild the object in its schema's member order,
  // and the member order is part of the signed bytes.
  plaintext: z.record(z.string(), z.unknown()),
  plaintextJson: z.string(),
  signedJws: z.string(),
  packed: z.object({
    enc: z.literal(ENC),
    ephemeralPrivateJwk: okpPrivateJwkSchema,
    cek: z.string(),
    iv: z.string(),
    jwe: z.string(),
  }),
});
type Vector = z.infer<typeof vectorSchema>;

const fileSchema = z.object({
  description: z.string(),
  generatedBy: z.string(),
  parties: z.object({ customer: partySchema, vendor: partySchema }),
  invitation: z.object({ plaintext: z.record(z.string(), z.unknown()), url: z.string() }),
  vectors: z.array(vectorSchema),
});
type VectorFile = z.infer<typeof fileSchema>;

interface BuildContext {
  customer: Party;
  vendor: Party;
  invitation: Invitation;
  /** An earlier vector of this file, by type. */
  vector(type: string): Vector;
  /** The SD-JWT presentation a message of this type carries (made once, then kept in the file). */
  presentation(type: string): string;
  /** The bundled terms roster (docs/terms/kith-roster-1.json), verified. */
  roster: Roster;
}

interface Spec {
  type: string;
  sender: Side;
  id: string;
  /** Seconds after T0. */
  at: number;
  input(ctx: BuildContext): Pick<MessageInput, 'body' | 'thid' | 'pthid' | 'returnRoute' | 'attachments'>;
}

const idOf = (ctx: BuildContext, type: string): string => ctx.vector(type).plaintext['id'] as string;
/** The disclose/request's nonce: the key-binding JWT of the answer must carry it. */
const REQUEST_NONCE = 'e-yYgDbKy6c9UERc8YK7WsdLYwEs6TujaiwMDB_l4NM';

/*
 * The terms exchange of the vectors (docs/protocol/terms.md): she proffers service-only; the
 * company counters with intent-only-contact (it also needs order-fulfilment), which protects her
 * less, so it waits for her; she accepts it. Record ids are fixed, agreedAt is the time of the
 * message that proposes the record, and Ed25519 is deterministic: the same inputs sign to the
 * same bytes.
 */
const TERMS_AGREEMENTS = {
  proffered: 'https://kith.invalid/terms/agreements/service-only',
  counter: 'https://kith.invalid/terms/agreements/intent-only-contact',
} as const;
const TERMS_IDS = {
  /** Her proffer's record, and so the thread of the counter's accept and ack. */
  proffer: 'df7f14bd-6484-4699-8c2c-e9cfad19ffc3',
  counter: '3d7616bf-8384-4437-b204-1a63ce5f4d7b',
} as const;
const TERMS_AT = { proffer: 285, accept: 290 } as const;

/** A record of the vector thread answering her proffer (at T0 + proffer time), signed by `signer`. */
function termsRecord(ctx: BuildContext, id: string, agreementId: string, signer: Party): SignedAgreement {
  const record = buildAgreementRecord({
    id,
    roster: ctx.roster,
    agreementId,
    proffered: TERMS_AGREEMENTS.proffered,
    profferedBy: 'person',
    supersedes: null,
    person: ctx.customer.did,
    company: ctx.vendor.did,
    agreedAt: (T0 + TERMS_AT.proffer) * 1000,
  });
  return signAgreement(record, signingKeyOf(signer));
}

/** Her proffer, signed by her. */
const herProffer = (ctx: BuildContext): SignedAgreement => termsRecord(ctx, TERMS_IDS.proffer, TERMS_AGREEMENTS.proffered, ctx.customer);

/** The company's one alternative, signed by it. */
const companyCounter = (ctx: BuildContext): SignedAgreement => termsRecord(ctx, TERMS_IDS.counter, TERMS_AGREEMENTS.counter, ctx.vendor);

const asJson = (signed: SignedAgreement): Record<string, unknown> => JSON.parse(JSON.stringify(signed)) as Record<string, unknown>;

/*
 * The intent thread of the vectors (docs/protocol/intent.md), after the relationship above ended:
 * she casts "waterproof trail shoes, size 39" to the company as an anonymous recipient, so the cast
 * opens the relationship and carries her terms (intent-only-contact, nothing agreed before:
 * supersedes null) and no disclosure. The company answers on the same HTTP response with a signed
 * offer and its terms answer (accepted, countersigned); the ack vector is the other answer it could
 * have given (no offer now). Later it withdraws a second offer, she declines a third, accepts the
 * first (her answers name the intent by its id and start their own thread, as her agent sends them),
 * and closes another intent she bought elsewhere. The vectors keep the file's two parties.
 */
const INTENT_AT = { cast: 480, withdrawn: 540, decline: 560, accept: 600, closed: 660 } as const;
const INTENT_IDS = {
  /** Her id for the intent, for this recipient only. */
  intent: '26b1f4ed-0ce1-4e8b-acc6-18b8ef62b3fe',
  /** Her proffer's record. */
  proffer: '610c74a5-4d83-4835-a741-c78825ec8ff0',
  /** The offer of the offer vector, which she accepts. */
  offer: '40db00d1-c685-4a15-809f-3ded5c1fbba7',
  /** A second offer (not shown) the company withdraws. */
  withdrawnOffer: '84f0a256-7e88-4ae5-8525-54351f52d4cc',
  /** A third offer (not shown) she declines. */
  declinedOffer: '8d266b8a-e94d-459c-9b27-406e8ef08e4b',
  /** Another intent she cast to the company, which she closes. */
  otherIntent: '99949cb8-63e3-4aac-8294-3cf3d72b3f18',
} as const;

const INTENT_DEMAND: Demand = {
  '@type': 'Demand',
  description: 'Waterproof trail shoes, size 39',
  category: 'clothing',
  priceSpecification: { minPrice: '60.00', maxPrice: '150.00', priceCurrency: 'EUR' },
  eligibleQuantity: { value: 1, unitText: 'pair' },
  eligibleRegion: { addressCountry: 'DE', postalCode: '10115' },
  availabilityEnds: '2026-01-20',
  // 14 days after T0, on the hour (her agent rounds it so that it does not single her out).
  validThrough: '2026-01-15T09:00:00Z',
};

/** Her proffer in the cast: intent-only-contact as it stands, signed by her, nothing agreed before. */
function intentProffer(ctx: BuildContext): SignedAgreement {
  const record = buildAgreementRecord({
    id: INTENT_IDS.proffer,
    roster: ctx.roster,
    agreementId: TERMS_AGREEMENTS.counter,
    proffered: TERMS_AGREEMENTS.counter,
    profferedBy: 'person',
    supersedes: null,
    person: ctx.customer.did,
    company: ctx.vendor.did,
    agreedAt: (T0 + INTENT_AT.cast) * 1000,
  });
  return signAgreement(record, signingKeyOf(ctx.customer));
}

/** The company's answer to it, in the offer (and in the ack, the answer it could have given instead). */
const intentTermsAnswer = (ctx: BuildContext): Record<string, unknown> => ({
  record_id: INTENT_IDS.proffer,
  decision: 'accepted',
  agreement: asJson(countersign(intentProffer(ctx), signingKeyOf(ctx.vendor))),
});

/** The offer she accepts: valid for 72 hours (the company policy's default offerValidHours), signed by the company. */
function intentOffer(ctx: BuildContext): Offer {
  return {
    '@type': 'Offer',
    identifier: INTENT_IDS.offer,
    intent_id: INTENT_IDS.intent,
    seller: ctx.vendor.did,
    customer: ctx.customer.did,
    itemOffered: {
      name: 'Ridge GTX trail shoe, women, EU 39',
      description: 'Waterproof membrane, 310 g a shoe',
      sku: 'RDG-GTX-W-39',
      gtin: '4006381333931',
      category: 'clothing',
    },
    price: '129.90',
    priceCurrency: 'EUR',
    eligibleQuantity: { value: 1 },
    availability: 'InStock',
    deliveryDate: '2026-01-07',
    areaServed: { addressCountry: 'DE' },
    validThrough: new Date((T0 + INTENT_AT.cast + 72 * 3600) * 1000).toISOString().replace('.000Z', 'Z'),
    conditions: '30 days free returns; 2-year warranty.',
    terms: TERMS_AGREEMENTS.counter,
  };
}

/*
 * The thing thread of the vectors (docs/protocol/thing.md): a signed receipt for a trail bike with a
 * two-year warranty, her acceptance, her registration of it (GTIN and serial number only) and the
 * company's recall of that GTIN.
 */
const THING_AT = { receipt: 900, answer: 960, register: 1_000, recall: 1_200 } as const;
const THING_GTIN = '4006381333931';
const THING_IDS = {
  receipt: '1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b',
  registration: '2c3d4e5f-6071-4829-9bac-1d2e3f4a5b6c',
  consentRecord: '3d4e5f60-7182-493a-8cbd-2e3f4a5b6c7d',
  recall: '4e5f6071-8293-4a4b-9dce-3f4a5b6c7d8e',
} as const;

/** The receipt the company signs in the vectors. */
function thingReceipt(ctx: BuildContext): ReceiptDocument {
  return {
    receipt_id: THING_IDS.receipt,
    seller: ctx.vendor.did,
    seller_name: COMPANY_NAME,
    buyer: ctx.customer.did,
    issued_at: new Date((T0 + THING_AT.receipt) * 1000).toISOString(),
    purchase_date: '2026-01-01',
    price: { amount: '899.00', currency: 'EUR' },
    product: { name: 'Trail bike TR-1', brand: 'Acme', model: 'TR-1', gtin: THING_GTIN, serialNumber: 'AO-TR1-000317' },
    warranty: { start: '2026-01-01', duration: 'P2Y', scope: 'Frame, gears and brakes', provider: COMPANY_NAME },
  };
}

/** One relationship's life, in order: what Kith's agents send, with the headers they set. */
const SPECS: readonly Spec[] = [
  {
    type: Connect.request.type,
    sender: 'customer',
    id: '682ae9c6-78b6-4f8f-98dd-20b968b3af62',
    at: 0,
    input: (ctx) => ({ body: {}, pthid: ctx.invitation.id, returnRoute: 'all' }),
  },
  {
    type: Connect.response.type,
    sender: 'vendor',
    id: '37a1f5a1-ba8e-4e6b-926f-133866937fb1',
    at: 0,
    input: (ctx) => ({ body: { vendor: { name: COMPANY_NAME }, customer_ref: 'C-48213377' }, thid: idOf(ctx, Connect.request.type) }),
  },
  {
    type: BasicMessage.message.type,
    sender: 'vendor',
    id: '25ccb8f8-72d6-4ae0-89f5-31715009b216',
    at: 1,
    input: () => ({ body: { content: 'Welcome to Acme Outfitters. Reply here any time.' } }),
  },
  {
    type: TrustPing.ping.type,
    sender: 'customer',
    id: '740425b1-4b32-44b3-994e-90da144e5a3f',
    at: 60,
    input: () => ({ body: { response_requested: true }, returnRoute: 'all' }),
  },
  {
    type: TrustPing.pingResponse.type,
    sender: 'vendor',
    id: 'a64425af-8d9a-479b-8d1d-9e425d7f22d1',
    at: 60,
    input: (ctx) => ({ body: {}, thid: idOf(ctx, TrustPing.ping.type) }),
  },
  {
    type: Pickup.statusRequest.type,
    sender: 'customer',
    id: '858c7957-0fe5-4941-a5f7-4dd919f17cb1',
    at: 120,
    input: (ctx) => ({ body: { recipient_did: ctx.customer.did }, returnRoute: 'all' }),
  },
  {
    type: Pickup.status.type,
    sender: 'vendor',
    id: '34271524-4135-4cb1-8820-647fd873a351',
    at: 120,
    input: (ctx) => ({ body: { message_count: 1, live_delivery: false }, thid: idOf(ctx, Pickup.statusRequest.type) }),
  },
  {
    type: Pickup.deliveryRequest.type,
    sender: 'customer',
    id: 'f59ac671-2ae1-4b53-8888-a1f756df0282',
    at: 180,
    input: (ctx) => ({ body: { limit: 50, recipient_did: ctx.customer.did }, returnRoute: 'all' }),
  },
  {
    type: Pickup.delivery.type,
    sender: 'vendor',
    id: 'bd4157a1-d04f-4609-8676-1db228778cf9',
    at: 180,
    input: (ctx) => {
      const waiting = ctx.vector(BasicMessage.message.type);
      return {
        body: {},
        thid: idOf(ctx, Pickup.deliveryRequest.type),
        attachments: [{ id: waiting.plaintext['id'] as string, media_type: MEDIA_TYPE.encrypted, data: { json: JSON.parse(waiting.packed.jwe) as unknown } }],
      };
    },
  },
  {
    type: Pickup.messagesReceived.type,
    sender: 'customer',
    id: '51dae450-a9a7-479c-923c-24b3acd5e6b2',
    at: 181,
    input: (ctx) => ({ body: { message_id_list: [idOf(ctx, BasicMessage.message.type)] } }),
  },
  {
    type: ReportProblem.problemReport.type,
    sender: 'vendor',
    id: '4d5c42b8-5042-483f-9968-edadf9ec1ee0',
    at: 240,
    input: (ctx) => ({
      body: { code: 'e.p.xfer.cant-use-endpoint', comment: 'Unable to use the {1} endpoint for {2}.', args: [ctx.customer.serviceEndpoint, ctx.customer.did] },
      pthid: idOf(ctx, BasicMessage.message.type),
    }),
  },
  {
    type: Disclose.request.type,
    sender: 'vendor',
    id: '91486124-a871-4c50-a10f-bce99e1fd8e0',
    at: 250,
    input: () => ({
      body: {
        request_id: '0f772820-ca48-48dd-bb83-5e803b17cfe8',
        nonce: REQUEST_NONCE,
        fields: ['email', 'address'],
        credentials: [],
        purpose: 'Order confirmations and deliveries',
        purpose_code: 'order-fulfilment',
        retention: 'P1Y',
        legal_basis: 'contract',
        terms_ref: null,
      },
    }),
  },
  {
    type: Disclose.present.type,
    sender: 'customer',
    id: '536d5add-a1eb-4a45-9811-fd0c006e91bb',
    at: 260,
    input: (ctx) => ({
      body: {
        request_id: '0f772820-ca48-48dd-bb83-5e803b17cfe8',
        consent_record_id: '4951202b-7305-41e0-9181-06da5b661b84',
        approved: ['address'],
        profile_version: 3,
        presentations: [{ format: 'dc+sd-jwt', sd_jwt: ctx.presentation(Disclose.present.type) }],
      },
      thid: idOf(ctx, Disclose.request.type),
      returnRoute: 'all',
    }),
  },
  {
    type: Disclose.ack.type,
    sender: 'vendor',
    id: '3a3c2d03-7b76-4b1e-96ba-d4265af5e246',
    at: 260,
    input: (ctx) => ({
      body: { request_id: '0f772820-ca48-48dd-bb83-5e803b17cfe8', consent_record_id: '4951202b-7305-41e0-9181-06da5b661b84', state: 'active', fields: ['address'] },
      thid: idOf(ctx, Disclose.request.type),
    }),
  },
  {
    type: Disclose.decline.type,
    sender: 'customer',
    id: '7d653353-9829-4058-a0f5-31e3b4d1acb4',
    at: 265,
    input: () => ({
      body: { request_id: 'f7b99945-f436-406d-b8a8-b1cc1a00f718', consent_record_id: 'cbfa0f15-d677-46a3-831a-a0274671d606', reason: 'Not for marketing, thanks.' },
      thid: '87cc4cf2-10b7-4342-ae4b-c045c251b683',
      returnRoute: 'all',
    }),
  },
  {
    type: ProfileUpdate.notice.type,
    sender: 'customer',
    id: 'c1e5e0f4-3a5b-4d77-9b1e-2f6d8a4c9e01',
    at: 280,
    input: (ctx) => ({
      body: { version: 4, fields: ['address'], presentation: { format: 'dc+sd-jwt', sd_jwt: ctx.presentation(ProfileUpdate.notice.type) } },
      returnRoute: 'all',
    }),
  },
  {
    type: ProfileUpdate.ack.type,
    sender: 'vendor',
    id: 'a7d2c3b4-5e6f-4a1b-8c9d-0e1f2a3b4c5d',
    at: 280,
    input: (ctx) => ({ body: { version: 4, applied: true, fields: ['address'] }, thid: idOf(ctx, ProfileUpdate.notice.type) }),
  },
  {
    type: Terms.proffer.type,
    sender: 'customer',
    id: 'a4f2f707-9a26-4d5d-853d-b47b36fb07dc',
    at: TERMS_AT.proffer,
    input: (ctx) => ({ body: { agreement: asJson(herProffer(ctx)) }, returnRoute: 'all' }),
  },
  {
    type: Terms.response.type,
    sender: 'vendor',
    id: 'f180af48-ed35-4ec8-9f9c-c16be8d36962',
    at: TERMS_AT.proffer,
    input: (ctx) => ({
      body: { record_id: TERMS_IDS.proffer, decision: 'countered', alternatives: [asJson(companyCounter(ctx))] },
      thid: idOf(ctx, Terms.proffer.type),
    }),
  },
  {
    type: Terms.accept.type,
    sender: 'customer',
    id: '9b5ec77f-419f-4e8b-9d04-5d3ec9cf2b8f',
    at: TERMS_AT.accept,
    input: (ctx) => ({
      body: { record_id: TERMS_IDS.counter, agreement: asJson(countersign(companyCounter(ctx), signingKeyOf(ctx.customer))) },
      thid: TERMS_IDS.proffer,
      returnRoute: 'all',
    }),
  },
  {
    type: Terms.ack.type,
    sender: 'vendor',
    id: '130f10d2-4bcf-4bc4-9b7d-9ce57f595594',
    at: TERMS_AT.accept,
    input: () => ({ body: { record_id: TERMS_IDS.counter, state: 'agreed' }, thid: TERMS_IDS.proffer }),
  },
  {
    // Another exchange (one vector per type): she declines a counter in the thread of her proffer
    // a49390d8-…, whose counter record is 2e4a9532-….
    type: Terms.decline.type,
    sender: 'customer',
    id: 'c865a67d-85a4-4d90-a8a0-a7fd9d993a82',
    at: 295,
    input: () => ({
      body: { record_id: '2e4a9532-c9de-4e03-aa18-103ebfd5547b', reason: 'I keep to service-only.' },
      thid: 'a49390d8-dc87-4c39-a078-f9d187899077',
      returnRoute: 'all',
    }),
  },
  {
    type: Relationship.mute.type,
    sender: 'customer',
    id: 'fda6a8da-dbb7-4f50-a08a-0bb3071370dd',
    at: 300,
    input: () => ({ body: {} }),
  },
  {
    type: Relationship.unmute.type,
    sender: 'customer',
    id: '203438ef-07cf-408a-b882-9f2551ffe28e',
    at: 360,
    input: () => ({ body: {} }),
  },
  {
    type: Relationship.terminate.type,
    sender: 'customer',
    id: '18cf3d35-fecd-4262-9b24-5d4bc410e152',
    at: 420,
    input: () => ({ body: { erasure_requested: true }, returnRoute: 'all' }),
  },
  {
    type: Relationship.erasureReceipt.type,
    sender: 'vendor',
    id: '683762fa-12d3-4f7b-9621-011d27925fc2',
    at: 420,
    input: (ctx) => ({
      body: {
        relationship: ctx.customer.did,
        terminated_at: T0 + 420,
        erased_at: T0 + 420,
        erased: [
          { category: 'messages', count: 1, where: 'vendor-store:sqlite' },
          { category: 'outbox', count: 0, where: 'vendor-store:sqlite' },
          { category: 'relationship', count: 1, where: 'vendor-store:sqlite' },
        ],
      },
      thid: idOf(ctx, Relationship.terminate.type),
    }),
  },
  {
    type: Intent.cast.type,
    sender: 'customer',
    id: '0d3dd853-dbe1-4cf2-8115-1a23c635ea53',
    at: INTENT_AT.cast,
    input: (ctx) => ({
      body: {
        intent_id: INTENT_IDS.intent,
        demand: INTENT_DEMAND,
        outcome: 'Dry feet on winter hikes',
        currency_required: true,
        terms: { agreement: asJson(intentProffer(ctx)) },
      },
      returnRoute: 'all',
    }),
  },
  {
    type: Intent.offer.type,
    sender: 'vendor',
    id: 'af619091-19cf-420e-a99c-88c38e2e367e',
    at: INTENT_AT.cast,
    input: (ctx) => ({
      body: { signed_offer: signOffer(intentOffer(ctx), signingKeyOf(ctx.vendor)), terms: intentTermsAnswer(ctx) },
      thid: idOf(ctx, Intent.cast.type),
    }),
  },
  {
    // The other answer to the same cast (one vector per type): no offer now, and the terms answer.
    type: Intent.ack.type,
    sender: 'vendor',
    id: '17f0011d-4685-4cca-be9f-7dbbaecdf663',
    at: INTENT_AT.cast,
    input: (ctx) => ({ body: { intent_id: INTENT_IDS.intent, terms: intentTermsAnswer(ctx) }, thid: idOf(ctx, Intent.cast.type) }),
  },
  {
    type: Intent.offerWithdrawn.type,
    sender: 'vendor',
    id: '39a51abe-9241-4117-9555-d11ac6eb45eb',
    at: INTENT_AT.withdrawn,
    input: (ctx) => ({
      body: { intent_id: INTENT_IDS.intent, offer_id: INTENT_IDS.withdrawnOffer, reason: 'Sold out in size 39.' },
      thid: idOf(ctx, Intent.cast.type),
    }),
  },
  {
    type: Intent.decline.type,
    sender: 'customer',
    id: '8a9f05f1-454c-47c3-b7ce-766b92e4507e',
    at: INTENT_AT.decline,
    input: () => ({
      body: { intent_id: INTENT_IDS.intent, offer_id: INTENT_IDS.declinedOffer, reason: 'Too heavy for me.' },
      returnRoute: 'all',
    }),
  },
  {
    type: Intent.accept.type,
    sender: 'customer',
    id: '4d9feb3b-5349-40c2-a74d-144637ad1c46',
    at: INTENT_AT.accept,
    input: () => ({ body: { intent_id: INTENT_IDS.intent, offer_id: INTENT_IDS.offer }, returnRoute: 'all' }),
  },
  {
    type: Intent.answerAck.type,
    sender: 'vendor',
    id: '1083e3b0-5171-4563-95db-1732d48b206c',
    at: INTENT_AT.accept,
    input: (ctx) => ({ body: { intent_id: INTENT_IDS.intent, offer_id: INTENT_IDS.offer, state: 'accepted' }, thid: idOf(ctx, Intent.accept.type) }),
  },
  {
    // Another intent she cast to the company: she bought elsewhere and closes it.
    type: Intent.closed.type,
    sender: 'customer',
    id: 'f4dcc6d4-124e-498a-9df4-7d6ed8aa1728',
    at: INTENT_AT.closed,
    input: () => ({ body: { intent_id: INTENT_IDS.otherIntent, reason: 'accepted-elsewhere' }, returnRoute: 'all' }),
  },
  {
    // She keeps her address but takes it back from this company: it erases it and records the withdrawal in the consent record of her disclosure.
    type: Consent.withdraw.type,
    sender: 'customer',
    id: '9b5fa204-ca78-43bb-bf65-7a3b3a0f5a76',
    at: 720,
    input: () => ({ body: { fields: ['address'], reason: 'withdrawn' }, returnRoute: 'all' }),
  },
  {
    type: Consent.withdrawAck.type,
    sender: 'vendor',
    id: 'e78da0f4-0021-4ff9-bb91-442b12a6d93f',
    at: 720,
    input: (ctx) => ({ body: { fields: ['address'], erased: ['address'], consent_records: ['4951202b-7305-41e0-9181-06da5b661b84'] }, thid: idOf(ctx, Consent.withdraw.type) }),
  },
  {
    // The retention she agreed to for a disclosure ended: the company deleted her phone number, held under it.
    type: Consent.expired.type,
    sender: 'vendor',
    id: '9235718d-4101-4d5c-b81e-517464e7bb46',
    at: 740,
    input: () => ({ body: { consent_records: ['cbfa0f15-d677-46a3-831a-a0274671d606'], fields: ['phone_number'] } }),
  },
  {
    // She asks what the company holds (before taking her address back).
    type: DataRights.request.type,
    sender: 'customer',
    id: '2a834a95-ec9c-4a06-a24e-1a0e2e3126d4',
    at: 700,
    input: () => ({ body: { request_id: 'd28c0d36-bac6-4a46-8e1c-7029060c9b87', exercise: 'access', regime: 'gdpr' }, returnRoute: 'all' }),
  },
  {
    type: DataRights.response.type,
    sender: 'vendor',
    id: '2747f015-49b1-4645-bb17-aac198666973',
    at: 700,
    input: (ctx) => ({ body: accessAnswer(ctx), thid: idOf(ctx, DataRights.request.type) }),
  },
  {
    // She calls the company; the operator asks her agent to confirm it is her: both screens show K7Q-4MX, for 5 minutes.
    type: CallerVerification.challenge.type,
    sender: 'vendor',
    id: '3f1d6c0e-8b7a-4f55-9a3e-2c4b1e7d9a60',
    at: 780,
    input: () => ({ body: { challenge_id: CHALLENGE_ID, code: 'K7Q4MX', agent: 'Sam, Acme Outfitters support', expires_time: T0 + 780 + 300 } }),
  },
  {
    // She approves; her signed answer is the company's proof.
    type: CallerVerification.answer.type,
    sender: 'customer',
    id: 'b8e2f4a1-5c3d-4e9f-8a7b-6d1c0e2f3a94',
    at: 810,
    input: (ctx) => ({ body: { challenge_id: CHALLENGE_ID, decision: 'approved' }, thid: idOf(ctx, CallerVerification.challenge.type) }),
  },
  {
    // Her home insurance starts: the company tells her agent everything it now knows her by (its second list; the first held the customer number alone).
    type: Account.identifiers.type,
    sender: 'vendor',
    id: '5c0e9d7a-2b41-4f8e-9a63-7d15e2c4b8f0',
    at: 840,
    input: (ctx) => ({
      body: {
        subject: ctx.customer.did,
        sequence: 2,
        identifiers: [
          { kind: 'customer_number', value: 'AO-100042', issued_at: new Date(T0 * 1000).toISOString() },
          { kind: 'policy_number', value: '88-123', label: 'Home insurance', issued_at: new Date((T0 + 840) * 1000).toISOString() },
        ],
      },
    }),
  },
  {
    // Her agent holds list 2 now.
    type: Account.ack.type,
    sender: 'customer',
    id: 'a7e3b1c9-4d2f-4e6a-8b05-93f1c2d4e6a7',
    at: 842,
    input: (ctx) => ({ body: { sequence: 2 }, thid: idOf(ctx, Account.identifiers.type) }),
  },
  {
    // She buys a trail bike in the shop: the company sends her agent the receipt, signed as a document of its own.
    type: Thing.receipt.type,
    sender: 'vendor',
    id: 'c3a1e5d7-9b2f-4c6e-8a10-2f4b6d8e0a13',
    at: THING_AT.receipt,
    input: (ctx) => ({ body: { signed: signReceipt(thingReceipt(ctx), signingKeyOf(ctx.vendor)) } }),
  },
  {
    // She accepts it into her things.
    type: Thing.receiptAnswer.type,
    sender: 'customer',
    id: 'd4b2f6e8-0c3a-4d7f-9b21-3a5c7e9f1b24',
    at: THING_AT.answer,
    input: (ctx) => ({ body: { receipt_id: THING_IDS.receipt, state: 'accepted' }, thid: idOf(ctx, Thing.receipt.type) }),
  },
  {
    // She registers the bike with the company as its maker, sharing its GTIN and serial number only.
    type: Thing.register.type,
    sender: 'customer',
    id: 'e5c3a7f9-1d4b-4e80-8c32-4b6d8f0a2c35',
    at: THING_AT.register,
    input: (ctx) => ({
      body: {
        registration_id: THING_IDS.registration,
        consent_record_id: THING_IDS.consentRecord,
        fields: ['gtin', 'serial_number'],
        purpose: 'Product registration: warranty service and safety recalls',
        presentation: { format: 'dc+sd-jwt', sd_jwt: ctx.presentation(Thing.register.type) },
      },
      returnRoute: 'all',
    }),
  },
  {
    type: Thing.registerAck.type,
    sender: 'vendor',
    id: 'f6d4b8a0-2e5c-4f91-9d43-5c7e9a1b3d46',
    at: THING_AT.register,
    input: (ctx) => ({ body: { registration_id: THING_IDS.registration, consent_record_id: THING_IDS.consentRecord, state: 'registered' }, thid: idOf(ctx, Thing.register.type) }),
  },
  {
    // A brake lever of that GTIN is faulty: the recall reaches the relationships that registered it.
    type: Thing.recall.type,
    sender: 'vendor',
    id: 'a7e5c9b1-3f6d-4a02-8e54-6d8f0b2c4e57',
    at: THING_AT.recall,
    input: () => ({
      body: {
        recall_id: THING_IDS.recall,
        gtin: THING_GTIN,
        text: 'Stop riding: the front brake lever may crack. A free replacement is on its way; any Acme shop fits it.',
        issued_at: new Date((T0 + THING_AT.recall) * 1000).toISOString(),
        url: 'https://vendor.example/recalls/tr-1-brake-lever',
      },
    }),
  },
  {
    // Her fridge's freezer stays warm two months after she bought it, under its 2-year warranty: she opens a case with the
    // company that sold it, sharing its model, serial number and purchase date, and her policy number.
    type: Service.caseOpen.type,
    sender: 'customer',
    id: '0b8f3d2e-6a14-4c79-9e05-2d7a1f4b6c83',
    at: 900,
    input: () => ({
      body: {
        case_id: SERVICE_CASE_ID,
        thing: { model: 'CF-300', serialNumber: 'SN-20260315-0042', purchaseDate: '2025-11-02' },
        text: 'The freezer compartment no longer gets below -5 °C since last week; the fridge part is fine.',
        warranty_claim: true,
        identifier: { kind: 'policy_number', value: '88-123', label: 'Home insurance' },
      },
      returnRoute: 'all',
    }),
  },
  {
    // The company took the case (on the same response).
    type: Service.ack.type,
    sender: 'vendor',
    id: 'c4e7a915-3f28-4b6d-8a0c-5e9b2d1f7a46',
    at: 900,
    input: (ctx) => ({ body: { case_id: SERVICE_CASE_ID, state: 'open' }, thid: idOf(ctx, Service.caseOpen.type) }),
  },
  {
    // The company answers in the case's thread.
    type: Service.caseReply.type,
    sender: 'vendor',
    id: '7d2c9b4a-1e6f-4a38-b5d0-8f3e6c2a9b17',
    at: 960,
    input: () => ({ body: { case_id: SERVICE_CASE_ID, text: 'A technician will come on Monday between 9 and 12. The repair is covered by the warranty.' } }),
  },
  {
    // The technician replaced the thermostat: the company resolves the case.
    type: Service.caseResolve.type,
    sender: 'vendor',
    id: 'e91f6a3c-5b2d-4e87-9c14-3a6d8b0f2e59',
    at: 1020,
    input: () => ({ body: { case_id: SERVICE_CASE_ID, text: 'Thermostat replaced under warranty.' } }),
  },
];

/** Her id for the service case of the vectors, named by every message of it. */
const SERVICE_CASE_ID = '5a3e8c1d-9f47-4b2a-8e6c-0d1f7b3a9c52';

/** The company's answer to her access request in the vectors: her address after the move, under the consent record of her disclosure. */
function accessAnswer(ctx: BuildContext): Record<string, unknown> {
  const iso = (offset: number) => new Date((T0 + offset) * 1000).toISOString();
  const recordId = '4951202b-7305-41e0-9181-06da5b661b84';
  return {
    request_id: 'd28c0d36-bac6-4a46-8e1c-7029060c9b87',
    exercise: 'access',
    status: 'fulfilled',
    received_at: iso(700),
    data: {
      relationship: { customer_ref: 'AO-100042', state: 'active', created_at: iso(0) },
      fields: [{ field: 'address', value: ADDRESS_AFTER, version: 4, consent_record_id: recordId, source: 'self', issuer: null, updated_at: iso(280) }],
      consent_records: [
        {
          schema_version: 'kith-27560/1.0',
          record_id: recordId,
          pii_principal_id: ctx.customer.did,
          record_created_at: iso(260),
          pii_controllers: [{ name: COMPANY_NAME, id: ctx.vendor.did }],
          notice: { request_id: '0f772820-ca48-48dd-bb83-5e803b17cfe8', terms_ref: null },
          processing: [{ purposes: ['Deliveries'], legal_basis: 'contract', pii_categories: ['address'], retention: 'P1Y' }],
          pii_sources: [{ category: 'address', source: 'pii_principal', issuer: null }],
          events: [
            { type: 'requested', at: iso(250), by: 'pii_controller' },
            { type: 'given', at: iso(260), by: 'pii_principal' },
          ],
          state: 'active',
        },
      ],
      agreements: [],
      messages: 2,
      intents: 2,
      offers: 3,
    },
  };
}

/** The caller verification's challenge id, named by her answer. */
const CHALLENGE_ID = 'e0a4c2d9-7f61-4b3a-9c58-1d2e3f4a5b6c';

/** What she discloses in the vectors: her address before (present) and after (notice) a move. */
const ADDRESS_BEFORE = { street_address: '12 St James Square', locality: 'London', postal_code: 'SW1Y 4JH', country: 'GB' };
const ADDRESS_AFTER = { street_address: '1 Sea Road', locality: 'Hove', postal_code: 'BN3 2AA', country: 'GB' };

/** Her self-issued presentations, bound to the company (aud) and to the request nonce or the notice id. */
async function makePresentation(type: string, parties: VectorFile['parties']): Promise<string> {
  const spec = SPECS.find((s) => s.type === type);
  if (!spec) throw new Error(`no spec for ${type}`);
  const { customer, vendor: company } = parties;
  if (type === Thing.register.type) {
    const registered = { gtin: THING_GTIN, serial_number: 'AO-TR1-000317' };
    return presentSelfIssued(localIdentitySchema.parse(customer), registered, { audience: company.did, nonce: spec.id, issuedAt: T0 + spec.at, vct: THING_REGISTRATION_VCT });
  }
  const claims = { address: type === Disclose.present.type ? ADDRESS_BEFORE : ADDRESS_AFTER };
  const nonce = type === Disclose.present.type ? REQUEST_NONCE : spec.id;
  return presentSelfIssued(localIdentitySchema.parse(customer), claims, { audience: company.did, nonce, issuedAt: T0 + spec.at });
}

const PRESENTING_TYPES = [Disclose.present.type, ProfileUpdate.notice.type, Thing.register.type] as const;

/** The presentation a stored vector carries. */
function storedPresentation(vector: Vector): string {
  const body = vector.plaintext['body'] as { presentations?: { sd_jwt: string }[]; presentation?: { sd_jwt: string } };
  const found = body.presentations?.[0]?.sd_jwt ?? body.presentation?.sd_jwt;
  if (!found) throw new Error(`vector ${vector.type} carries no presentation`);
  return found;
}

const other = (side: Side): Side => (side === 'customer' ? 'vendor' : 'customer');

function newParty(serviceEndpoint: string): Party {
  return { ...createPeerIdentity(serviceEndpoint).identity, serviceEndpoint };
}

function buildPlaintext(spec: Spec, ctx: BuildContext): DidcommMessage {
  const from = ctx[spec.sender];
  const to = ctx[other(spec.sender)];
  return buildMessage({ type: spec.type, from: from.did, to: to.did, id: spec.id, ...spec.input(ctx) }, new ManualClock(spec.at * 1000 + T0 * 1000));
}

function contextOf(parties: VectorFile['parties'], invitation: Invitation, built: ReadonlyMap<string, Vector>, presentations: ReadonlyMap<string, string>, roster: Roster): BuildContext {
  return {
    ...parties,
    invitation,
    roster,
    presentation(type) {
      const found = presentations.get(type);
      if (!found) throw new Error(`no presentation for ${type}`);
      return found;
    },
    vector(type) {
      const vector = built.get(type);
      if (!vector) throw new Error(`vector ${type} is needed before it is built`);
      return vector;
    },
  };
}

async function pack(vector: Pick<Vector, 'plaintextJson' | 'sender' | 'recipient' | 'packed'>, parties: VectorFile['parties'], engine: EnvelopeEngine): Promise<string> {
  const sender = parties[vector.sender];
  const recipient = parties[vector.recipient];
  return packMessage({
    message: JSON.parse(vector.plaintextJson) as DidcommMessage,
    signer: { kid: sender.signing.kid, privateKey: privateKeyObject(sender.signing.privateJwk) },
    recipients: [{ kid: recipient.agreement.kid, publicKey: publicKeyObject(recipient.agreement.publicJwk) }],
    engine,
    enc: vector.packed.enc,
    fixed: {
      ephemeralPrivateKey: privateKeyObject(vector.packed.ephemeralPrivateJwk),
      cek: Buffer.from(vector.packed.cek, 'base64url'),
      iv: Buffer.from(vector.packed.iv, 'base64url'),
    },
  });
}

/** The invitation the company agent itself emits for the stored company identity. */
async function companyInvitation(company: Party): Promise<{ plaintext: Invitation; url: string }> {
  const store: CompanyStore = await openSqliteCompanyStore(':memory:');
  try {
    const identity = localIdentitySchema.parse(company);
    const agent = createCompanyAgent({ name: COMPANY_NAME, publicUrl: COMPANY_PUBLIC_URL, store, identity, policy: companyPolicySchema.parse({}) });
    return { plaintext: agent.invitation(), url: agent.invitationUrl() };
  } finally {
    await store.close();
  }
}

let rosterLoad: Promise<Roster> | undefined;
/** The bundled roster, verified against its publisher and texts (loaded once). */
function termsRoster(): Promise<Roster> {
  rosterLoad ??= bundledRoster().then((b) => b.roster);
  return rosterLoad;
}

async function generate(previous: VectorFile | undefined): Promise<VectorFile> {
  const parties = previous?.parties ?? { customer: newParty(CUSTOMER_ENDPOINT), vendor: newParty(COMPANY_ENDPOINT) };
  const invitation = await companyInvitation(parties.vendor);
  const built = new Map<string, Vector>();
  // Salts are random, so a presentation is made once and then kept from the previous file.
  const presentations = new Map<string, string>();
  for (const type of PRESENTING_TYPES) {
    const kept = previous?.vectors.find((v) => v.type === type);
    presentations.set(type, kept ? storedPresentation(kept) : await makePresentation(type, parties));
  }
  const ctx = contextOf(parties, invitation.plaintext, built, presentations, await termsRoster());
  for (const spec of SPECS) {
    const plaintext = buildPlaintext(spec, ctx);
    const plaintextJson = JSON.stringify(plaintext);
    const sender = parties[spec.sender];
    const old = previous?.vectors.find((v) => v.type === spec.type)?.packed;
    const fixed = old ?? {
      enc: ENC,
      ephemeralPrivateJwk: toPrivateJwk(generateKeyPairSync('x25519').privateKey),
      cek: randomBytes(cekLength(ENC)).toString('base64url'),
      iv: randomBytes(ivLength(ENC)).toString('base64url'),
      jwe: '',
    };
    const receivedAt = spec.at * 1000 + T0 * 1000 + TRANSIT_MS;
    const draft: Vector = {
      type: spec.type,
      sender: spec.sender,
      recipient: other(spec.sender),
      receivedAt: { epochMs: receivedAt, iso: new Date(receivedAt).toISOString() },
      plaintext: JSON.parse(plaintextJson) as Record<string, unknown>,
      plaintextJson,
      signedJws: await fastEngine.sign(Buffer.from(plaintextJson, 'utf8'), { kid: sender.signing.kid, privateKey: privateKeyObject(sender.signing.privateJwk) }),
      packed: { ...fixed, jwe: '' },
    };
    const jwe = await pack(draft, parties, joseEngine);
    // Never store bytes the two engines disagree on.
    expect(await pack(draft, parties, fastEngine)).toBe(jwe);
    built.set(spec.type, { ...draft, packed: { ...draft.packed, jwe } });
  }
  return fileSchema.parse({
    description:
      'One golden vector per Kith message type, in the order of one relationship: plaintext (buildMessage with fixed ids and times), signed JWS (EdDSA), and packed JWE (ECDH-ES+A256KW over X25519, A256CBC-HS512) with a fixed ephemeral key, CEK and IV. Parties are did:peer:2 with the private JWKs below. See docs/protocol/README.md.',
    generatedBy: 'src/protocol/families/vectors.test.ts with KITH_WRITE_VECTORS=1',
    parties,
    invitation,
    vectors: [...built.values()],
  });
}

function readFile(): VectorFile {
  return fileSchema.parse(JSON.parse(readFileSync(FILE, 'utf8')));
}

/** What a page's block `<!-- vector key -->` must hold. */
function docBlockText(file: VectorFile, key: string): string {
  if (key === 'invitation') return JSON.stringify(file.invitation.plaintext, null, 2);
  if (key === 'invitation-url') return file.invitation.url;
  const vector = file.vectors.find((v) => v.type === key);
  if (!vector) throw new Error(`a page shows a vector for ${key}, which the file does not have`);
  return JSON.stringify(vector.plaintext, null, 2);
}

/** The page with every vector block filled from the file, and the keys it shows. */
function renderPage(text: string, file: VectorFile): { text: string; keys: string[] } {
  const keys: string[] = [];
  const rendered = text.replace(DOC_BLOCK, (_block, key: string, lang: string) => {
    keys.push(key);
    return `<!-- vector ${key} -->\n\`\`\`${lang}\n${docBlockText(file, key)}\n\`\`\``;
  });
  return { text: rendered, keys };
}

if (WRITE) {
  beforeAll(async () => {
    const previous = existsSync(FILE) ? readFile() : undefined;
    const file = await generate(previous);
    mkdirSync(new URL('.', FILE), { recursive: true });
    writeFileSync(FILE, `${JSON.stringify(file, null, 2)}\n`);
    for (const page of PAGES) {
      const url = new URL(page, DOCS);
      if (existsSync(url)) writeFileSync(url, renderPage(readFileSync(url, 'utf8'), file).text);
    }
  });
}

let cached: VectorFile | undefined;
function stored(): VectorFile {
  cached ??= readFile();
  return cached;
}
function storedVector(type: string): Vector {
  const vector = stored().vectors.find((v) => v.type === type);
  if (!vector) throw new Error(`docs/protocol/vectors/families.json has no vector for ${type}`);
  return vector;
}

describe('golden vectors docs/protocol/vectors/families.json', () => {
  it('has exactly one vector for every message type in the registry, and the spec list covers the registry', () => {
    const registryTypes = createMessageRegistry().types().sort();
    expect(SPECS.map((s) => s.type).sort()).toEqual(registryTypes);
    expect(stored().vectors.map((v) => v.type).sort()).toEqual(registryTypes);
  });

  it('stores parties whose DIDs are the did:peer:2 of their keys', () => {
    for (const party of Object.values(stored().parties)) {
      const { did } = createPeerDid2({ authentication: party.signing.publicJwk, keyAgreement: party.agreement.publicJwk, serviceEndpoint: party.serviceEndpoint });
      expect(did).toBe(party.did);
      expect(party.signing.kid).toBe(`${did}#key-2`);
      expect(party.agreement.kid).toBe(`${did}#key-1`);
      for (const key of [party.signing, party.agreement]) {
        expect(publicKeyObject(key.publicJwk).export({ format: 'jwk' })).toEqual(
          expect.objectContaining({ x: toPrivateJwk(privateKeyObject(key.privateJwk)).x }),
        );
      }
    }
  });

  describe('the out-of-band invitation', () => {
    it('is what the company agent emits for the stored identity, and its URL parses back to it', async () => {
      const { invitation, parties } = stored();
      expect(await companyInvitation(parties.vendor)).toEqual(invitation);
      expect(invitationSchema.parse(invitation.plaintext)).toEqual(invitation.plaintext);
      expect(parseInvitation(invitation.url)).toEqual(invitation.plaintext);
      expect(parseInvitation(JSON.stringify(invitation.plaintext))).toEqual(invitation.plaintext);
    });
  });

  describe.each(SPECS.map((spec) => [spec.type, spec] as const))('%s', (type, spec) => {
    let vector: Vector;
    beforeAll(() => {
      vector = storedVector(type);
    });

    it('is the plaintext buildMessage makes from the fixed inputs, and plaintextJson is its serialisation', async () => {
      const file = stored();
      const built = new Map(file.vectors.map((v) => [v.type, v]));
      const presentations = new Map(PRESENTING_TYPES.map((t) => [t, storedPresentation(storedVector(t))] as const));
      const rebuilt = buildPlaintext(spec, contextOf(file.parties, file.invitation.plaintext as Invitation, built, presentations, await termsRoster()));
      expect(JSON.stringify(rebuilt)).toBe(vector.plaintextJson);
      expect(JSON.stringify(vector.plaintext)).toBe(vector.plaintextJson);
      expect(vector.sender).toBe(spec.sender);
      expect(vector.recipient).toBe(other(spec.sender));
    });

    it('follows the conventions: UUID v4 id, times in seconds, default TTL of 30 days', () => {
      const message = didcommMessageSchema.parse(vector.plaintext);
      expect(message.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(message.created_time).toBe(T0 + spec.at);
      expect((message.expires_time ?? 0) - (message.created_time ?? 0)).toBe(DEFAULT_MESSAGE_TTL_MS / 1000);
    });

    it('has a body the registry validates', () => {
      const registry = createMessageRegistry();
      expect(() => registry.validate(didcommMessageSchema.parse(vector.plaintext))).not.toThrow();
    });

    it.each(ENGINES)('signs to the stored JWS with the %s engine', async (_name, engine) => {
      const sender = stored().parties[vector.sender];
      const signed = await engine.sign(Buffer.from(vector.plaintextJson, 'utf8'), { kid: sender.signing.kid, privateKey: privateKeyObject(sender.signing.privateJwk) });
      expect(signed).toBe(vector.signedJws);
    });

    it.each(ENGINES)('packs to exactly the stored bytes with the %s engine and the fixed parameters', async (_name, engine) => {
      expect(await pack(vector, stored().parties, engine)).toBe(vector.packed.jwe);
    });

    it.each(ENGINES)('unpacks the stored bytes through receiveMessage with the %s engine to the stored plaintext', async (_name, engine) => {
      const { parties } = stored();
      const recipient = parties[vector.recipient];
      const recipientKey = { kid: recipient.agreement.kid, privateKey: privateKeyObject(recipient.agreement.privateJwk) };
      const clock = new ManualClock();
      clock.set(vector.receivedAt.epochMs);
      const received = await receiveMessage(vector.packed.jwe, {
        maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
        engine,
        resolver: createDidResolver(),
        registry: createMessageRegistry(),
        clock,
        clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
        findRecipientKey: (kid) => (kid === recipientKey.kid ? recipientKey : undefined),
        hasSeen: () => false,
      });
      expect(received.message).toEqual(vector.plaintext);
      expect(received.signedJws).toBe(vector.signedJws);
      expect(received.senderDid).toBe(parties[vector.sender].did);
      expect(received.recipientDid).toBe(recipient.did);
    });
  });

  it('is what the family pages show, and every message type is shown on one', () => {
    const shown: string[] = [];
    for (const page of PAGES) {
      const text = readFileSync(new URL(page, DOCS), 'utf8');
      const rendered = renderPage(text, stored());
      expect(text, `docs/protocol/${page} differs from the vectors (KITH_WRITE_VECTORS=1 rewrites it)`).toBe(rendered.text);
      shown.push(...rendered.keys);
    }
    expect(new Set(shown)).toEqual(new Set(['invitation', 'invitation-url', ...createMessageRegistry().types()]));
  });

  it('carries in thing/register a registration presentation that verifies for the company, this nonce and exactly the GTIN and serial number', async () => {
    const vector = storedVector(Thing.register.type);
    const { parties } = stored();
    const verified = await verifySdJwtPresentation(storedPresentation(vector), {
      resolver: createDidResolver(),
      audience: parties.vendor.did,
      nonce: vector.plaintext['id'] as string,
      now: vector.receivedAt.epochMs,
      trustIssuer: (iss) => iss === parties.customer.did,
      expectedVct: THING_REGISTRATION_VCT,
      allowedClaims: ['gtin', 'serial_number'],
    });
    expect(verified.disclosed).toEqual({ gtin: THING_GTIN, serial_number: 'AO-TR1-000317' });
  });

  it('carries in thing/receipt a receipt the company signed, naming her as the buyer', async () => {
    const vector = storedVector(Thing.receipt.type);
    const { parties } = stored();
    const body = vector.plaintext['body'] as { signed: unknown };
    const signed = await verifySignedReceipt(body.signed, parties.vendor.did, createDidResolver());
    expect(signed.receipt.buyer).toBe(parties.customer.did);
  });

  it.each([Disclose.present.type, ProfileUpdate.notice.type])('carries in %s an SD-JWT presentation that verifies for the company, this nonce and exactly the address', async (type) => {
    const vector = storedVector(type);
    const { parties } = stored();
    const nonce = type === Disclose.present.type ? REQUEST_NONCE : (vector.plaintext['id'] as string);
    const verified = await verifySdJwtPresentation(storedPresentation(vector), {
      resolver: createDidResolver(),
      audience: parties.vendor.did,
      nonce,
      now: vector.receivedAt.epochMs,
      trustIssuer: (iss) => iss === parties.customer.did,
      expectedVct: PROFILE_VCT,
      allowedClaims: ['address'],
    });
    expect(verified.disclosed).toEqual({ address: type === Disclose.present.type ? ADDRESS_BEFORE : ADDRESS_AFTER });
  });

  it('carries agreement records that pass the checks of the other side: proffer, counter, countersigned counter', async () => {
    const { parties } = stored();
    const rosters = createRosterSet([await termsRoster()]);
    const resolver = createDidResolver();
    const bodyOf = (type: string): Record<string, unknown> => storedVector(type).plaintext['body'] as Record<string, unknown>;
    const proffer = await checkProffer(bodyOf(Terms.proffer.type)['agreement'], {
      rosters,
      resolver,
      parties: { person: parties.customer.did, company: parties.vendor.did },
      proposer: 'person',
    });
    expect(proffer.record.id).toBe(TERMS_IDS.proffer);
    const response = await checkResponse(bodyOf(Terms.response.type) as TermsResponseBody, proffer.signed, { rosters, resolver });
    expect(response.decision).toBe('countered');
    if (response.decision !== 'countered') return;
    expect(response.signed.record.id).toBe(TERMS_IDS.counter);
    expect(response.agreement.id).toBe(TERMS_AGREEMENTS.counter);
    const agreed = await checkCountersigned(bodyOf(Terms.accept.type)['agreement'], response.signed, resolver);
    expect(agreed.signatures.map((s) => s.by)).toEqual(['person', 'company']);
    expect(bodyOf(Terms.accept.type)['record_id']).toBe(TERMS_IDS.counter);
    expect(bodyOf(Terms.ack.type)['record_id']).toBe(TERMS_IDS.counter);
  });

  it('carries in the intent thread her proffer, the company\'s terms answer and an offer signed by the company that meets her demand', async () => {
    const { parties } = stored();
    const rosters = createRosterSet([await termsRoster()]);
    const resolver = createDidResolver();
    const bodyOf = (type: string): Record<string, unknown> => storedVector(type).plaintext['body'] as Record<string, unknown>;
    const cast = bodyOf(Intent.cast.type);
    expect(cast['intent_id']).toBe(INTENT_IDS.intent);
    expect(cast).not.toHaveProperty('disclosure');
    const demand = demandSchema.parse(cast['demand']);
    // The cast opens the relationship: her proffer, as it stands, with nothing agreed before.
    const proffer = await checkProffer((cast['terms'] as Record<string, unknown>)['agreement'], {
      rosters,
      resolver,
      parties: { person: parties.customer.did, company: parties.vendor.did },
      proposer: 'person',
    });
    expect(proffer.record).toMatchObject({ id: INTENT_IDS.proffer, agreementId: TERMS_AGREEMENTS.counter, supersedes: null });
    // Both answers the company could give carry the same terms answer: her record, signed by both.
    for (const type of [Intent.offer.type, Intent.ack.type]) {
      const response = await checkResponse(bodyOf(type)['terms'] as TermsResponseBody, proffer.signed, { rosters, resolver });
      expect(response.decision).toBe('accepted');
    }
    expect(bodyOf(Intent.ack.type)['intent_id']).toBe(INTENT_IDS.intent);
    const offerVector = storedVector(Intent.offer.type);
    const { offer } = await verifySignedOffer(bodyOf(Intent.offer.type)['signed_offer'], resolver);
    expect(offer).toMatchObject({ identifier: INTENT_IDS.offer, intent_id: INTENT_IDS.intent, seller: parties.vendor.did, customer: parties.customer.did, terms: proffer.record.agreementId });
    expect(Date.parse(offer.validThrough) / 1000).toBeGreaterThan(offerVector.plaintext['created_time'] as number);
    expect(Date.parse(offer.validThrough)).toBeLessThanOrEqual(Date.parse(demand.validThrough ?? ''));
    expect(judgeOffer(demand, offer)).toEqual({ meets: true, reasons: [] });
    // Signed by the company's DIDComm signing key: the same key signs the envelope.
    expect(parseDetached((bodyOf(Intent.offer.type)['signed_offer'] as { signature: string }).signature)?.header).toEqual({ alg: 'EdDSA', kid: parties.vendor.signing.kid });
    // Her answers and the company's name offers of this intent; she accepts the offer it signed.
    expect(bodyOf(Intent.accept.type)).toEqual({ intent_id: INTENT_IDS.intent, offer_id: offer.identifier });
    expect(bodyOf(Intent.answerAck.type)).toEqual({ intent_id: INTENT_IDS.intent, offer_id: offer.identifier, state: 'accepted' });
    // The company's messages continue the cast's thread; her answers name the intent by its id, and are answered in their own thread.
    for (const type of [Intent.offerWithdrawn.type, Intent.decline.type, Intent.accept.type, Intent.answerAck.type]) expect(bodyOf(type)['intent_id']).toBe(INTENT_IDS.intent);
    for (const type of [Intent.offer.type, Intent.ack.type, Intent.offerWithdrawn.type]) expect(storedVector(type).plaintext['thid']).toBe(storedVector(Intent.cast.type).plaintext['id']);
    expect(storedVector(Intent.answerAck.type).plaintext['thid']).toBe(storedVector(Intent.accept.type).plaintext['id']);
  });

  it('carries, in the delivery, the stored packed basic message byte for byte once re-serialised', () => {
    const delivery = storedVector(Pickup.delivery.type);
    const waiting = storedVector(BasicMessage.message.type);
    const attachments = delivery.plaintext['attachments'] as { id: string; data: { json: unknown } }[];
    expect(attachments.map((a) => a.id)).toEqual([waiting.plaintext['id']]);
    expect(JSON.stringify(attachments[0]?.data.json)).toBe(waiting.packed.jwe);
  });
});
