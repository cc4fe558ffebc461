import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { ApiError, RelationshipError, ThingError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { describeZodIssues } from '../core/json.js';
import type { Logger } from '../core/log.js';
import { outgoing } from '../protocol/buildMessage.js';
import { buildConsentRecord } from '../protocol/consentRecord.js';
import type { DidResolver } from '../protocol/did/types.js';
import type { SigningKey } from '../protocol/envelope/engine.js';
import type { ReceivedMessage } from '../protocol/envelope/receive.js';
import { calendarDateSchema } from '../protocol/families/intent.js';
import {
  Thing,
  THING_REGISTRATION_VCT,
  receiptDocumentSchema,
  recallBodySchema,
  registrationClaimsSchema,
  type RecallBody,
  type RegistrationClaims,
  type RegisterBody,
  type SignedReceipt,
} from '../protocol/families/thing.js';
import { verifySdJwtPresentation } from '../protocol/sdjwt/index.js';
import { boundedText, durationSchema, gtinSchema, priceSchema, productFieldsSchema } from '../protocol/things/fields.js';
import { signReceipt } from '../protocol/things/receipt.js';
import type { Outgoing } from '../protocol/buildMessage.js';
import { liveRelationship } from './liveRelationship.js';
import type { CompanyMessaging } from './messaging.js';
import type { CompanyRelationship, CompanyStore, ThingReceiptRow, ThingRegistrationRow } from './store/types.js';

/*
 * The company's side of Kith thing 1.0 (docs/protocol/thing.md, decision 0023): it signs receipts
 * for what it sold, keeps the registrations she chooses to send it as a maker, and sends recalls to
 * the relationships that registered the product recalled, and to no other.
 */

const text = boundedText;

/** What the admin API and `kith-vendor things receipt` take: the sale, as the till knows it. */
export const receiptInputSchema = productFieldsSchema.extend({
  /** Today (UTC) when left out. */
  purchaseDate: calendarDateSchema.optional(),
  price: priceSchema.optional(),
  /** The warranty's length (`P2Y`); it starts on the purchase date unless `warrantyStart` says otherwise. */
  warranty: durationSchema.optional(),
  warrantyStart: calendarDateSchema.optional(),
  warrantyScope: text(500).optional(),
  warrantyProvider: text(200).optional(),
});
export type ReceiptInput = z.input<typeof receiptInputSchema>;

/** What the admin API and `kith-vendor things recall` take: the product by GTIN or model, and the notice. */
export const recallInputSchema = z
  .strictObject({
    gtin: gtinSchema.optional(),
    model: text(200).optional(),
    text: z.string().trim().min(1).max(4000),
    url: z.url({ protocol: /^https$/ }).max(2000).optional(),
  })
  .refine((r) => r.gtin !== undefined || r.model !== undefined, { message: 'name a gtin or a model' });
export type RecallInput = z.input<typeof recallInputSchema>;

export interface ReceiptResult {
  receipt: ThingReceiptRow;
  /** Her agent took it at once (else it waits in the outbox for push or pickup). */
  delivered: boolean;
}

export interface RecallResult {
  recallId: string;
  /** The relationships it was sent to: those that registered the product, not cut off (each once). */
  relationships: { relationshipId: string; delivered: boolean }[];
}

export interface CompanyThings {
  /** Signs a receipt for a sale to her and sends it. @throws ApiError `api.bad_request`; RelationshipError `relationship.unknown` | `relationship.cut_off` */
  sendReceipt(relationshipId: string, input: unknown): Promise<ReceiptResult>;
  receipts(relationshipId?: string): Promise<ThingReceiptRow[]>;
  registrations(filter?: { relationshipId?: string; gtin?: string; model?: string }): Promise<ThingRegistrationRow[]>;
  /** Sends a recall to every relationship that registered the product. @throws ApiError `api.bad_request` */
  recall(input: unknown): Promise<RecallResult>;
}

function badRequest(what: string, error: z.ZodError): ApiError {
  return new ApiError('api.bad_request', `Invalid ${what}: ${describeZodIssues(error).join('; ')}`, {
    details: { fields: Object.fromEntries(error.issues.map((i) => [i.path.join('.') || 'body', i.message])) },
  });
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isoSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

export function createCompanyThings(options: { store: CompanyStore; messaging: CompanyMessaging; clock: Clock; logger: Logger; companyDid: string; companyName: string; signer: SigningKey }): CompanyThings {
  const { store, messaging, clock, logger, companyDid, companyName, signer } = options;

  async function deliver(relationship: CompanyRelationship): Promise<boolean> {
    // Muted: it waits like every message (she sees it when she picks up).
    return relationship.state === 'active' ? (await messaging.deliverQueued(relationship)) > 0 : false;
  }

  return {
    async sendReceipt(relationshipId, input) {
      const parsed = receiptInputSchema.safeParse(input);
      if (!parsed.success) throw badRequest('receipt', parsed.error);
      const relationship = await store.getRelationship(relationshipId);
      if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
      if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
      const now = clock.now();
      const i = parsed.data;
      const purchaseDate = i.purchaseDate ?? isoDay(now);
      const candidate = {
        receipt_id: newId(),
        seller: companyDid,
        seller_name: companyName,
        buyer: relationship.theirDid,
        issued_at: isoSecond(now),
        purchase_date: purchaseDate,
        ...(i.price === undefined ? {} : { price: i.price }),
        product: Object.fromEntries(Object.entries({ name: i.name, brand: i.brand, model: i.model, gtin: i.gtin, mpn: i.mpn, serialNumber: i.serialNumber }).filter(([, v]) => v !== undefined)),
        ...(i.warranty === undefined
          ? {}
          : {
              warranty: {
                start: i.warrantyStart ?? purchaseDate,
                duration: i.warranty,
                ...(i.warrantyScope === undefined ? {} : { scope: i.warrantyScope }),
                provider: i.warrantyProvider ?? companyName,
              },
            }),
      };
      const checked = receiptDocumentSchema.safeParse(candidate);
      if (!checked.success) throw badRequest('receipt', checked.error);
      const signed: SignedReceipt = signReceipt(checked.data, signer);
      const row = await store.transaction(async (tx) => {
        const packed = await messaging.pack(relationship.theirDid, outgoing(Thing.receipt, { signed }));
        const receipt: ThingReceiptRow = { id: signed.receipt.receipt_id, relationshipId: relationship.id, messageId: packed.id, signed, state: 'sent', createdAt: now, answeredAt: null };
        await tx.createThingReceipt(receipt);
        await tx.addMessage({ id: newId(), relationshipId: relationship.id, messageId: packed.id, direction: 'out', type: Thing.receipt.type, body: { signed }, createdAt: now });
        await messaging.enqueue(relationship, packed, tx);
        return receipt;
      });
      logger.info('thing_receipt_sent', { relationship: relationship.id });
      return { receipt: row, delivered: await deliver(relationship) };
    },

    receipts: (relationshipId) => store.listThingReceipts(relationshipId),
    registrations: (filter) => store.listThingRegistrations(filter),

    async recall(input) {
      const parsed = recallInputSchema.safeParse(input);
      if (!parsed.success) throw badRequest('recall', parsed.error);
      const { gtin, model, text: notice, url } = parsed.data;
      const registered = [
        ...(gtin === undefined ? [] : await store.listThingRegistrations({ gtin })),
        ...(model === undefined ? [] : await store.listThingRegistrations({ model })),
      ];
      const recallId = newId();
      const body: RecallBody = recallBodySchema.parse({
        recall_id: recallId,
        ...(gtin === undefined ? {} : { gtin }),
        ...(model === undefined ? {} : { model }),
        text: notice,
        issued_at: isoSecond(clock.now()),
        ...(url === undefined ? {} : { url }),
      });
      const sent: RecallResult['relationships'] = [];
      // Each relationship once, however many of its registrations match; only to those that registered it.
      for (const relationshipId of [...new Set(registered.map((r) => r.relationshipId))]) {
        const relationship = await store.getRelationship(relationshipId);
        if (!relationship || relationship.state === 'cut_off') continue;
        await store.transaction(async (tx) => {
          const packed = await messaging.pack(relationship.theirDid, outgoing(Thing.recall, body));
          await tx.addMessage({ id: newId(), relationshipId: relationship.id, messageId: packed.id, direction: 'out', type: Thing.recall.type, body, createdAt: clock.now() });
          await messaging.enqueue(relationship, packed, tx);
        });
        sent.push({ relationshipId: relationship.id, delivered: await deliver(relationship) });
      }
      logger.info('thing_recall_sent', { recall: recallId, relationships: sent.length });
      return { recallId, relationships: sent };
    },
  };
}

/** Her registration, verified outside the store transaction. */
export interface VerifiedRegistration {
  body: RegisterBody;
  claims: RegistrationClaims;
}

/**
 * Her registration's presentation: issued by the sender's pairwise DID as a thing registration,
 * for this company, key-bound to this very message, disclosing exactly the fields it names, each
 * value of its field's shape.
 * @throws ThingError `thing.registration_invalid`; SdJwtError / DisclosureError codes of the presentation's checks; RelationshipError
 */
export async function verifyRegistration(received: ReceivedMessage<RegisterBody>, deps: { store: CompanyStore; resolver: DidResolver; companyDid: string; now: number }): Promise<VerifiedRegistration> {
  const body = received.message.body;
  await liveRelationship(deps.store, received.senderDid);
  const verified = await verifySdJwtPresentation(body.presentation.sd_jwt, {
    resolver: deps.resolver,
    audience: deps.companyDid,
    nonce: received.message.id,
    now: deps.now,
    trustIssuer: (iss) => iss === received.senderDid,
    expectedVct: THING_REGISTRATION_VCT,
    allowedClaims: body.fields,
  });
  const names = Object.keys(verified.disclosed);
  if (names.length !== body.fields.length || !body.fields.every((f) => names.includes(f))) {
    throw new ThingError('thing.registration_invalid', 'The presentation does not disclose exactly the fields the registration names');
  }
  const claims = registrationClaimsSchema.safeParse(verified.disclosed);
  if (!claims.success) throw new ThingError('thing.registration_invalid', `The registration's values are not of their fields' shape: ${describeZodIssues(claims.error).join('; ')}`);
  return { body, claims: claims.data };
}

/**
 * Stores a verified registration inside the inbound transaction, with the company's consent record
 * (the same id as hers) and a connector event; the same registration again (her agent lost the
 * ack) is acknowledged and nothing is stored twice.
 */
export async function applyRegistration(
  verified: VerifiedRegistration,
  received: ReceivedMessage<RegisterBody>,
  relationship: CompanyRelationship,
  tx: CompanyStore,
  deps: { companyDid: string; companyName: string; now: number },
): Promise<Outgoing> {
  const { body, claims } = verified;
  const ack = outgoing(Thing.registerAck, { registration_id: body.registration_id, consent_record_id: body.consent_record_id, state: 'registered' as const });
  const existing = await tx.getThingRegistration(body.registration_id);
  if (existing) {
    if (existing.relationshipId !== relationship.id) throw new ThingError('thing.registration_invalid', 'This registration id is taken');
    return ack;
  }
  const now = deps.now;
  const record = buildConsentRecord({
    recordId: body.consent_record_id,
    principalDid: received.senderDid,
    controller: { name: deps.companyName, did: deps.companyDid },
    requestId: body.registration_id,
    termsRef: null,
    purpose: body.purpose,
    legalBasis: 'consent',
    retention: null,
    categories: Object.keys(claims).map((category) => ({ category, source: 'pii_principal' as const, issuer: null })),
    state: 'active',
    requestedAt: now,
    answeredAt: now,
  });
  await tx.saveConsentRecord({ id: body.consent_record_id, relationshipId: relationship.id, requestId: null, state: 'active', record, createdAt: now, updatedAt: now });
  await tx.addThingRegistration({
    id: body.registration_id,
    relationshipId: relationship.id,
    consentRecordId: body.consent_record_id,
    messageId: received.message.id,
    gtin: claims.gtin ?? null,
    model: claims.model ?? null,
    claims,
    sdJwt: body.presentation.sd_jwt,
    createdAt: now,
  });
  await tx.addPresentation({ id: newId(), relationshipId: relationship.id, messageId: received.message.id, kind: 'disclosure', sdJwt: body.presentation.sd_jwt, receivedAt: now });
  await tx.enqueueEvent({
    id: newId(),
    relationshipId: relationship.id,
    type: 'thing.registered',
    payload: { relationshipId: relationship.id, customerRef: relationship.customerRef, registrationId: body.registration_id, fields: claims, consentRecordId: body.consent_record_id, purpose: body.purpose },
    createdAt: now,
    nextAttemptAt: now,
    attempts: 0,
    dispatchedAt: null,
  });
  return ack;
}
