import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { IntentError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { outgoing } from '../../protocol/buildMessage.js';
import { AVAILABILITY, amountSchema, calendarDateSchema, currencySchema, type Offer } from '../../protocol/families/intent.js';
import { Intent } from '../../protocol/families/index.js';
import { intentCategorySchema } from '../../protocol/intent/categories.js';
import type { CompanyMessaging } from '../messaging.js';
import type { CompanyRelationship, CompanyStore, CreatedKey, KeysetPage, OfferRow, ReceivedIntent, ReceivedIntentState } from '../store/types.js';
import type { CompanyOffers } from './offers.js';

/** An offer made by hand (admin API, `kith-vendor offer`): what, for how much, when. */
export const manualOfferSchema = z
  .object({
    name: z.string().min(1).max(200),
    description: z.string().min(1).max(2000).optional(),
    sku: z.string().min(1).max(100).optional(),
    gtin: z.string().regex(/^\d{8}$|^\d{12,14}$/, 'a GTIN-8, -12, -13 or -14').optional(),
    /** Default: the intent's category. */
    category: intentCategorySchema.optional(),
    price: amountSchema,
    currency: currencySchema,
    /** Default: what she asked for, or 1. */
    quantity: z.number().int().min(1).max(1_000_000).optional(),
    availability: z.enum(AVAILABILITY).default('InStock'),
    deliveryDate: calendarDateSchema.optional(),
    conditions: z.string().min(1).max(2000).optional(),
    /** Default: the policy's offerValidHours. */
    validHours: z.number().int().min(1).max(24 * 90).optional(),
  })
  .strict();
export type ManualOffer = z.input<typeof manualOfferSchema>;

export interface ReceivedIntentView extends ReceivedIntent {
  customerRef: string | null;
  offers: OfferRow[];
}

/** What the company's people do with the intents it received. */
export interface IntentCommands {
  /** Oldest first; a page of them with `after` and `limit` (store/keyset.ts). */
  list(options?: { relationshipId?: string; state?: ReceivedIntentState } & KeysetPage<CreatedKey>): Promise<ReceivedIntentView[]>;
  /** @throws IntentError `intent.unknown` */
  get(intentId: string): Promise<ReceivedIntentView>;
  /**
   * Makes an offer for an open intent, signed, queued for her and pushed when she is reachable.
   * @throws IntentError `intent.unknown` | `intent.closed` | `intent.expired`; RelationshipError for a cut-off relationship
   */
  offer(intentId: string, input: ManualOffer): Promise<{ offer: OfferRow; delivered: boolean }>;
  /** Withdraws an offer she has not answered; she is told. @throws IntentError `intent.offer_unknown` */
  withdraw(offerId: string, reason?: string): Promise<{ offer: OfferRow; delivered: boolean }>;
  /**
   * The sweep: open intents past their end become `expired` and their open offers `closed` (she
   * expires hers by the same clock, so nothing is sent). @returns how many intents expired
   */
  expireDue(): Promise<number>;
}

export function createIntentCommands(options: { store: CompanyStore; messaging: CompanyMessaging; offers: CompanyOffers; companyDid: string; clock: Clock; logger: Logger }): IntentCommands {
  const { store, messaging, clock, logger } = options;

  async function view(intent: ReceivedIntent): Promise<ReceivedIntentView> {
    const relationship = await store.getRelationship(intent.relationshipId);
    return { ...intent, customerRef: relationship?.customerRef ?? null, offers: await store.listOffers(intent.id) };
  }

  async function liveOf(relationshipId: string): Promise<CompanyRelationship> {
    const relationship = await store.getRelationship(relationshipId);
    if (!relationship || relationship.state === 'cut_off') throw new IntentError('intent.unknown', 'The relationship of this intent has ended');
    return relationship;
  }

  /** Queues for her and pushes at once when she is reachable and not muting the company. */
  async function send(relationship: CompanyRelationship, message: ReturnType<typeof outgoing>, write: (tx: CompanyStore) => Promise<void>): Promise<boolean> {
    const packed = await messaging.pack(relationship.theirDid, message);
    await store.transaction(async (tx) => {
      await write(tx);
      await messaging.enqueue(relationship, packed, tx);
    });
    return relationship.state === 'active' ? (await messaging.deliverQueued(relationship)) > 0 : false;
  }

  return {
    async expireDue() {
      const now = clock.now();
      let expired = 0;
      for (const intent of await store.listReceivedIntents({ state: 'open' })) {
        if (intent.expiresAt > now || !(await store.settleReceivedIntent(intent.id, 'expired', now))) continue;
        expired += 1;
        for (const offer of await store.listOffers(intent.id)) if (offer.state === 'offered') await store.settleOffer(offer.id, 'closed', now);
      }
      if (expired > 0) logger.info('intents_expired', { count: expired });
      return expired;
    },

    async list(listOptions = {}) {
      return Promise.all((await store.listReceivedIntents(listOptions)).map(view));
    },

    async get(intentId) {
      const intent = await store.getReceivedIntent(intentId);
      if (!intent) throw new IntentError('intent.unknown', 'No such intent');
      return view(intent);
    },

    async offer(intentId, input) {
      const parsed = manualOfferSchema.parse(input);
      const intent = await store.getReceivedIntent(intentId);
      if (!intent) throw new IntentError('intent.unknown', 'No such intent');
      const now = clock.now();
      if (intent.state !== 'open') throw new IntentError('intent.closed', `This intent was already ${intent.state}`);
      if (intent.expiresAt <= now) throw new IntentError('intent.expired', 'This intent has expired');
      const relationship = await liveOf(intent.relationshipId);
      const terms = (await store.currentTermsAgreement(relationship.id))?.agreementId ?? null;
      const draft: Parameters<CompanyOffers['sign']>[0] = {
        itemOffered: {
          name: parsed.name,
          ...(parsed.description ? { description: parsed.description } : {}),
          ...(parsed.sku ? { sku: parsed.sku } : {}),
          ...(parsed.gtin ? { gtin: parsed.gtin } : {}),
          category: parsed.category ?? intent.demand.category,
        },
        price: parsed.price,
        priceCurrency: parsed.currency,
        eligibleQuantity: { value: parsed.quantity ?? intent.demand.eligibleQuantity?.value ?? 1 },
        availability: parsed.availability,
        ...(parsed.deliveryDate ? { deliveryDate: parsed.deliveryDate } : {}),
        ...(intent.demand.eligibleRegion ? { areaServed: { addressCountry: intent.demand.eligibleRegion.addressCountry } } : {}),
        ...(parsed.conditions ? { conditions: parsed.conditions } : {}),
      } satisfies Partial<Offer>;
      const signed = options.offers.sign(draft, { intentId, seller: options.companyDid, customer: relationship.theirDid, terms, now, ...(parsed.validHours ? { validHours: parsed.validHours } : {}) });
      const row: OfferRow = { id: signed.offer.identifier, intentId, relationshipId: relationship.id, signed, state: 'offered', createdAt: now, updatedAt: now };
      const delivered = await send(relationship, outgoing(Intent.offer, { signed_offer: signed }), (tx) => tx.createOffer(row));
      logger.info('intent_offered', { relationship: relationship.id, intent: intentId, delivered });
      return { offer: row, delivered };
    },

    async withdraw(offerId, reason) {
      const offer = await store.getOffer(offerId);
      if (!offer) throw new IntentError('intent.offer_unknown', 'No such offer');
      if (offer.state !== 'offered') throw new IntentError('intent.offer_unknown', `This offer was already ${offer.state}`);
      const relationship = await liveOf(offer.relationshipId);
      const now = clock.now();
      const message = outgoing(Intent.offerWithdrawn, { intent_id: offer.intentId, offer_id: offer.id, ...(reason ? { reason } : {}) });
      const delivered = await send(relationship, message, async (tx) => {
        if (!(await tx.settleOffer(offer.id, 'withdrawn', now))) throw new IntentError('intent.offer_unknown', 'This offer was answered meanwhile');
      });
      return { offer: (await store.getOffer(offer.id)) ?? offer, delivered };
    },
  };
}
