import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { KithError, RelationshipError, ThingError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { outgoing } from '../protocol/buildMessage.js';
import { buildConsentRecord } from '../protocol/consentRecord.js';
import { Thing } from '../protocol/families/index.js';
import { REGISTRATION_CLAIMS, THING_REGISTRATION_VCT, type ReceiptDocument, type RegistrationClaim } from '../protocol/families/thing.js';
import { presentSelfIssued } from '../protocol/sdjwt/index.js';
import type { Contract } from '../protocol/things/fields.js';
import type { AgentCore } from './core.js';
import type { ThingsFeature, ThingView } from './things.js';
import type { ThingReceiptRecord } from './vault/thingReceiptRepo.js';
import type { ThingRecord } from './vault/thingRepo.js';

/*
 * Her side of Kith thing 1.0 (docs/protocol/thing.md, decision 0023): the signed receipts sellers
 * send her, which she accepts into her things or declines, and the registration of a thing with
 * its maker, sharing only the fields she picks. Recalls arrive through the handler
 * (personal/handlers/thing.ts) and are kept on the things.
 */

/** A receipt as her web app and CLI show it. */
export interface ThingReceiptView {
  id: string;
  relationshipId: string;
  companyName: string | null;
  state: 'pending' | 'accepted' | 'declined';
  /** The thing she made of it, once accepted. */
  thingId: string | null;
  receipt: ReceiptDocument;
  createdAt: number;
  updatedAt: number;
}

export interface ThingReceiptAnswer {
  receipt: ThingReceiptView;
  /** The thing made of it (accept only). */
  thing?: ThingView;
  /** Her answer reached the company now, or waits in her outbox. */
  answer: 'sent' | 'queued';
}

/** What she shares when she registers a thing: field names as her things name them or as the claims do. */
export const registerInputSchema = z.strictObject({
  /** The maker's relationship: id, id prefix or company name. */
  with: z.string().min(1).max(200),
  fields: z.array(z.string().min(1).max(64)).min(1).max(8),
  purpose: z.string().trim().min(1).max(500).optional(),
});
export type RegisterInput = z.input<typeof registerInputSchema>;

export interface ThingProtocolFeature {
  /** Receipts, oldest first: pending only unless `all`. */
  receipts(options?: { all?: boolean }): ThingReceiptView[];
  /** @throws ThingError `thing.receipt_unknown` */
  receipt(reference: string): ThingReceiptView;
  /**
   * Makes a thing of a pending receipt (seller link, warranty contract, the signed receipt kept as
   * proof of purchase) and tells the seller.
   * @throws ThingError `thing.receipt_unknown` | `thing.receipt_answered`; RelationshipError `relationship.cut_off`
   */
  accept(reference: string): Promise<ThingReceiptAnswer>;
  /** @throws as accept */
  decline(reference: string): Promise<ThingReceiptAnswer>;
  /**
   * Registers a thing with its maker: the fields she picks (and, when she names neither, the
   * thing's GTIN and model: what identifies the product), as a self-issued SD-JWT, under a consent
   * record both sides keep; once the maker acknowledged, the thing is linked to it as `maker` and
   * marked registered.
   * @throws ThingError `thing.unknown` | `thing.invalid`; RelationshipError `relationship.unknown` | `relationship.cut_off` | `relationship.not_active` (muted)
   */
  register(thingReference: string, input: unknown): Promise<ThingView>;
}

/** Field names she may give (`serial`, `serialNumber`, `serial_number`...) -> the claim they travel as. */
const FIELD_ALIASES: Record<string, RegistrationClaim> = {
  ...Object.fromEntries(Object.keys(REGISTRATION_CLAIMS).map((c) => [c, c as RegistrationClaim])),
  ...Object.fromEntries(Object.entries(REGISTRATION_CLAIMS).map(([claim, field]) => [field, claim as RegistrationClaim])),
  serial: 'serial_number',
  purchase: 'purchase_date',
};

const DEFAULT_PURPOSE = 'Product registration: warranty service and safety recalls';

export function createThingProtocolFeature(core: AgentCore, things: ThingsFeature): ThingProtocolFeature {
  const { vault, clock, logger } = core;

  function view(record: ThingReceiptRecord): ThingReceiptView {
    return {
      id: record.id,
      relationshipId: record.relationshipId,
      companyName: vault.relationships.get(record.relationshipId)?.vendorName ?? null,
      state: record.state,
      thingId: record.thingId,
      receipt: record.signed.receipt,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }

  /** By id or a unique id prefix of at least 4 characters. */
  function find(reference: string): ThingReceiptRecord {
    const exact = vault.thingReceipts.get(reference);
    if (exact) return exact;
    const matches = reference.length >= 4 ? vault.thingReceipts.ids().filter((id) => id.startsWith(reference)) : [];
    const record = matches.length === 1 && matches[0] ? vault.thingReceipts.get(matches[0]) : undefined;
    if (!record) throw new ThingError('thing.receipt_unknown', matches.length > 1 ? 'Ambiguous receipt reference' : 'No such receipt');
    return record;
  }

  /** The receipt, pending, and its live relationship. */
  function pending(reference: string) {
    const record = find(reference);
    if (record.state !== 'pending') throw new ThingError('thing.receipt_answered', `This receipt was already ${record.state}`);
    const relationship = vault.relationships.get(record.relationshipId);
    if (!relationship) throw new ThingError('thing.receipt_unknown', 'No such receipt');
    core.requireLive(relationship);
    return { record, relationship };
  }

  async function tell(relationshipId: string, receiptId: string, state: 'accepted' | 'declined'): Promise<'sent' | 'queued'> {
    const relationship = vault.relationships.get(relationshipId);
    if (!relationship) return 'queued';
    const outcome = await core.sendOrQueue(relationship, outgoing(Thing.receiptAnswer, { receipt_id: receiptId, state }));
    return outcome.status;
  }

  return {
    receipts(options = {}) {
      return vault.thingReceipts.list(options.all ? undefined : 'pending').map(view);
    },

    receipt(reference) {
      return view(find(reference));
    },

    async accept(reference) {
      const { record, relationship } = pending(reference);
      const { receipt } = record.signed;
      const now = clock.now();
      const contracts: Contract[] =
        receipt.warranty === undefined
          ? []
          : [{ id: newId(), kind: 'warranty', start: receipt.warranty.start, duration: receipt.warranty.duration, ...(receipt.warranty.scope === undefined ? {} : { scope: receipt.warranty.scope }), ...(receipt.warranty.provider === undefined ? {} : { provider: receipt.warranty.provider }) }];
      // The thing and the receipt's new state in one transaction: accepted twice makes one thing.
      const thingId = vault.transaction(() => {
        const thing = vault.things.insert({
          ...receipt.product,
          purchaseDate: receipt.purchase_date,
          ...(receipt.price === undefined ? {} : { price: receipt.price }),
          seller: receipt.seller_name,
          contracts,
          links: [{ relationshipId: relationship.id, role: 'seller' }],
          proofOfPurchase: { relationshipId: relationship.id, signed: JSON.stringify(record.signed), receivedAt: record.createdAt },
        });
        if (!vault.thingReceipts.settle(record.id, 'accepted', thing.id, now)) throw new ThingError('thing.receipt_answered', 'This receipt was already answered');
        return thing.id;
      });
      logger.info('thing_receipt_accepted', { relationship: relationship.id });
      const answer = await tell(relationship.id, receipt.receipt_id, 'accepted');
      return { receipt: view(find(record.id)), thing: things.get(thingId), answer };
    },

    async decline(reference) {
      const { record, relationship } = pending(reference);
      if (!vault.thingReceipts.settle(record.id, 'declined', null, clock.now())) throw new ThingError('thing.receipt_answered', 'This receipt was already answered');
      logger.info('thing_receipt_declined', { relationship: relationship.id });
      const answer = await tell(relationship.id, record.signed.receipt.receipt_id, 'declined');
      return { receipt: view(find(record.id)), answer };
    },

    async register(thingReference, input) {
      const parsed = registerInputSchema.safeParse(input);
      if (!parsed.success) throw new ThingError('thing.invalid', `Invalid registration: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      const thingView = things.get(thingReference);
      const thing = vault.things.get(thingView.id) as ThingRecord;
      const relationship = core.find(parsed.data.with);
      core.requireLive(relationship);
      // Muted means she is not talking to this company now: registering is talking to it.
      if (relationship.state !== 'active') throw new RelationshipError('relationship.not_active', 'This relationship is muted: unmute it to register a thing with this company');
      const claims: Record<string, unknown> = {};
      for (const name of parsed.data.fields) {
        const claim = FIELD_ALIASES[name];
        if (claim === undefined) throw new ThingError('thing.invalid', `Unknown field "${name}": one of ${Object.values(REGISTRATION_CLAIMS).join(', ')}`, { details: { fields: [name] } });
        const value = thing[REGISTRATION_CLAIMS[claim]];
        if (value === undefined) throw new ThingError('thing.invalid', `This thing has no ${REGISTRATION_CLAIMS[claim]} to share`, { details: { fields: [name] } });
        claims[claim] = value;
      }
      // Registering is telling the maker which product she owns: when she names neither the GTIN
      // nor the model, the ones the thing has are shared with what she picked (a recall names them).
      if (claims['gtin'] === undefined && claims['model'] === undefined) {
        if (thing.gtin !== undefined) claims['gtin'] = thing.gtin;
        if (thing.model !== undefined) claims['model'] = thing.model;
        if (claims['gtin'] === undefined && claims['model'] === undefined) {
          throw new ThingError('thing.invalid', 'This thing has no GTIN or model to register it by: add one first (kith things edit)', { details: { fields: ['gtin', 'model'] } });
        }
      }
      const fields = Object.keys(claims) as RegistrationClaim[];
      const purpose = parsed.data.purpose ?? DEFAULT_PURPOSE;
      const messageId = randomUUID();
      const registrationId = randomUUID();
      const consentRecordId = randomUUID();
      const issuedAt = Math.floor(clock.now() / 1000);
      const sdJwt = await presentSelfIssued(core.identityOf(relationship), claims, { audience: relationship.theirDid, nonce: messageId, issuedAt, vct: THING_REGISTRATION_VCT });
      const reply = await core.exchange(
        relationship,
        outgoing(Thing.register, { registration_id: registrationId, consent_record_id: consentRecordId, fields, purpose, presentation: { format: 'dc+sd-jwt' as const, sd_jwt: sdJwt } }),
        { returnRoute: true, id: messageId, expects: [Thing.registerAck], unexpectedReply: { code: 'message.unexpected', message: 'The company did not acknowledge the registration' } },
      );
      if (reply === undefined) throw new KithError('message.unexpected', 'The company did not acknowledge the registration');
      const now = clock.now();
      const record = buildConsentRecord({
        recordId: consentRecordId,
        principalDid: relationship.myDid,
        controller: { name: relationship.vendorName ?? relationship.theirDid, did: relationship.theirDid },
        requestId: registrationId,
        termsRef: null,
        purpose,
        legalBasis: 'consent',
        retention: null,
        categories: fields.map((category) => ({ category, source: 'pii_principal' as const, issuer: null })),
        state: 'active',
        requestedAt: now,
        answeredAt: now,
      });
      vault.transaction(() => {
        vault.consents.insert({ id: consentRecordId, relationshipId: relationship.id, requestId: null, state: 'active', record, createdAt: now });
        const current = vault.things.get(thing.id);
        if (!current) throw new ThingError('thing.unknown', 'No such thing');
        const { createdAt: _c, updatedAt: _u, ...rest } = current;
        const linked = current.links.some((l) => l.relationshipId === relationship.id && l.role === 'maker');
        vault.things.update(
          {
            ...rest,
            links: linked ? current.links : [...current.links, { relationshipId: relationship.id, role: 'maker' }],
            registrations: [...current.registrations, { relationshipId: relationship.id, consentRecordId, fields, at: now }].slice(-20),
          },
          now,
        );
      });
      logger.info('thing_registered', { relationship: relationship.id, fields: fields.length });
      return things.get(thing.id);
    },
  };
}
