import { DisclosureError, ProfileError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { buildConsentRecord } from '../protocol/consentRecord.js';
import type { DidResolver } from '../protocol/did/types.js';
import type { ReceivedMessage } from '../protocol/envelope/receive.js';
import type { DisclosePresentBody } from '../protocol/families/disclose.js';
import { Disclose, ProfileUpdate } from '../protocol/families/index.js';
import type { DiscloseDeclineBody } from '../protocol/families/disclose.js';
import type { IntentDisclosure } from '../protocol/families/intent.js';
import type { ProfileUpdateNoticeBody } from '../protocol/families/profileUpdate.js';
import { outgoing, type Outgoing } from '../protocol/buildMessage.js';
import { parseFieldValue, isProfileField } from '../protocol/profile/fields.js';
import { PROFILE_VCT, inspectSdJwt, verifySdJwtPresentation } from '../protocol/sdjwt/index.js';
import type { ConnectorEventPayload, ConnectorEventType } from './connectors/index.js';
import type { CompanyContext } from './handlers/types.js';
import { liveRelationship } from './liveRelationship.js';
import type { DisclosureRequest, CompanyRelationship, CompanyStore } from './store/types.js';

/*
 * The company's side of disclose and profile-update (docs/protocol/disclose.md, profile-update.md):
 * every presentation is verified before the transaction (verify*), then stored inside it (apply*).
 */

/** What the company needs to check presentations: who it is, whom it trusts, what time it is. */
export interface DisclosureDeps {
  store: CompanyStore;
  resolver: DidResolver;
  companyDid: string;
  companyName: string;
  trustedIssuers: readonly string[];
  now(): number;
}

/** The disclosure dependencies out of the company's handler context. */
export function disclosureDeps(context: CompanyContext): DisclosureDeps {
  return {
    store: context.store,
    resolver: context.resolver,
    companyDid: context.companyDid,
    companyName: context.companyName,
    trustedIssuers: context.policy.trustedIssuers,
    now: () => context.clock.now(),
  };
}

interface HeldValue {
  value: unknown;
  source: 'self' | 'credential';
  issuer: string | null;
}

/** Her answer to a request, checked outside the store transaction (crypto and DID resolution may wait). */
export type VerifiedAnswer =
  | { kind: 'present'; request: DisclosureRequest; body: DisclosePresentBody; values: Map<string, HeldValue> }
  | { kind: 'decline'; request: DisclosureRequest }
  /** The same answer again, under the consent record id already stored for it: her agent lost our ack. */
  | { kind: 'resent'; request: DisclosureRequest; ack: Outgoing };

/** A profile update, checked outside the store transaction. */
export interface VerifiedNotice {
  body: ProfileUpdateNoticeBody;
  values: Map<string, unknown>;
}

/** Values of known profile fields must have their field's shape; unknown claims pass as JSON. */
function checkValue(field: string, value: unknown): unknown {
  return isProfileField(field) ? parseFieldValue(field, value) : value;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

async function requestOf(store: CompanyStore, relationship: CompanyRelationship, requestId: string): Promise<DisclosureRequest> {
  const request = await store.getDisclosureRequest(requestId);
  // Another relationship's request is as unknown to this sender as one that never existed.
  if (!request || request.relationshipId !== relationship.id) throw new DisclosureError('disclosure.unknown_request', 'No such disclosure request for this relationship');
  return request;
}

/** @throws DisclosureError, SdJwtError codes, RelationshipError for an unknown or ended sender */
export async function verifyPresent(received: ReceivedMessage<DisclosePresentBody>, deps: DisclosureDeps): Promise<VerifiedAnswer> {
  const body = received.message.body;
  const relationship = await liveRelationship(deps.store, received.senderDid);
  const request = await requestOf(deps.store, relationship, body.request_id);
  if (request.state !== 'pending') {
    const resent = await resentAnswer(deps.store, relationship, request, body.consent_record_id, body.approved);
    if (resent) return resent;
    throw new DisclosureError('disclosure.replayed', 'This request was already answered: its nonce is spent');
  }
  const notAsked = body.approved.filter((f) => !request.fields.includes(f));
  if (notAsked.length > 0) throw new DisclosureError('disclosure.not_requested', 'Approved fields the request did not ask for', { details: { fields: notAsked } });

  const credentialAsks = new Map<string, readonly string[]>();
  const issuersAsked = new Map<string, readonly string[] | undefined>();
  for (const ask of request.credentials) {
    credentialAsks.set(ask.vct, ask.claims);
    issuersAsked.set(ask.vct, ask.issuers);
  }

  const values = new Map<string, HeldValue>();
  let selfSeen = false;
  const common = { resolver: deps.resolver, audience: deps.companyDid, nonce: request.nonce, now: deps.now() };
  for (const { sd_jwt: presentation } of body.presentations) {
    const inspected = await inspectSdJwt(presentation);
    if (inspected.issuer === received.senderDid) {
      if (selfSeen) throw new DisclosureError('disclosure.malformed', 'More than one self-issued presentation');
      selfSeen = true;
      const verified = await verifySdJwtPresentation(presentation, {
        ...common,
        trustIssuer: (iss) => iss === received.senderDid,
        expectedVct: PROFILE_VCT,
        allowedClaims: body.approved,
      });
      if (!sameSet(Object.keys(verified.disclosed), body.approved)) {
        throw new DisclosureError('disclosure.malformed', 'The presentation does not disclose exactly the approved fields');
      }
      for (const [field, value] of Object.entries(verified.disclosed)) values.set(field, { value: checkValue(field, value), source: 'self', issuer: null });
    } else {
      const claims = credentialAsks.get(inspected.vct);
      if (!claims) throw new DisclosureError('disclosure.not_requested', 'A credential of a type the request did not ask for', { details: { vct: inspected.vct } });
      const acceptable = issuersAsked.get(inspected.vct);
      const verified = await verifySdJwtPresentation(presentation, {
        ...common,
        trustIssuer: (iss) => deps.trustedIssuers.includes(iss) && (acceptable === undefined || acceptable.includes(iss)),
        expectedVct: inspected.vct,
        allowedClaims: claims,
      });
      for (const [claim, value] of Object.entries(verified.disclosed)) {
        if (values.has(claim)) throw new DisclosureError('disclosure.malformed', 'A claim disclosed twice', { details: { claim } });
        values.set(claim, { value, source: 'credential', issuer: verified.issuer });
      }
    }
  }
  if (body.approved.length > 0 && !selfSeen) throw new DisclosureError('disclosure.malformed', 'Approved fields without a self-issued presentation');
  return { kind: 'present', request, body, values };
}

/** @throws ProfileError `profile.field_not_held`, DisclosureError, SdJwtError codes, RelationshipError */
export async function verifyNotice(received: ReceivedMessage<ProfileUpdateNoticeBody>, deps: DisclosureDeps): Promise<VerifiedNotice> {
  const body = received.message.body;
  const relationship = await liveRelationship(deps.store, received.senderDid);
  const held = new Map((await deps.store.listHeldFields(relationship.id)).map((f) => [f.field, f]));
  const notHeld = body.fields.filter((f) => held.get(f)?.source !== 'self');
  if (notHeld.length > 0) throw new ProfileError('profile.field_not_held', 'Update for fields this company was never given', { details: { fields: notHeld } });
  const values = await selfIssuedValues(received, body.presentation.sd_jwt, body.fields, 'the updated fields', deps);
  return { body, values };
}

/**
 * The values of a self-issued presentation carried by a message: issued by the sender's pairwise
 * DID, for this company, key-bound to this very message (a presentation lifted into another does
 * not verify), disclosing exactly `fields` (`what` names them in the error).
 * @throws DisclosureError `disclosure.malformed`, SdJwtError codes
 */
async function selfIssuedValues(received: ReceivedMessage, sdJwt: string, fields: readonly string[], what: string, deps: DisclosureDeps): Promise<Map<string, unknown>> {
  const verified = await verifySdJwtPresentation(sdJwt, {
    resolver: deps.resolver,
    audience: deps.companyDid,
    nonce: received.message.id,
    now: deps.now(),
    trustIssuer: (iss) => iss === received.senderDid,
    expectedVct: PROFILE_VCT,
    allowedClaims: fields,
  });
  if (!sameSet(Object.keys(verified.disclosed), fields)) throw new DisclosureError('disclosure.malformed', `The presentation does not disclose exactly ${what}`);
  return new Map(Object.entries(verified.disclosed).map(([field, value]) => [field, checkValue(field, value)] as const));
}

/** Fields disclosed with an intent cast, checked outside the store transaction. */
export interface VerifiedIntentDisclosure {
  disclosure: IntentDisclosure;
  values: Map<string, unknown>;
}

/**
 * The fields she disclosed up front with a cast: a self-issued presentation by the sender's DID,
 * for this company, key-bound to this very cast, disclosing exactly the fields it names.
 * @throws DisclosureError `disclosure.malformed`, SdJwtError codes
 */
export async function verifyIntentDisclosure(received: ReceivedMessage, disclosure: IntentDisclosure, deps: DisclosureDeps): Promise<VerifiedIntentDisclosure> {
  return { disclosure, values: await selfIssuedValues(received, disclosure.presentation.sd_jwt, disclosure.fields, 'the fields the cast names', deps) };
}

/**
 * Keeps what she disclosed with a cast under a consent record of the company's own (the same id as
 * hers), inside the inbound transaction: a field it already holds at this version or a newer one
 * stays as it is (and under the consent it was given with).
 */
export async function applyIntentDisclosure(
  verified: VerifiedIntentDisclosure,
  received: ReceivedMessage,
  intent: { id: string; agreementId: string | null },
  relationship: CompanyRelationship,
  tx: CompanyStore,
  deps: DisclosureDeps,
): Promise<void> {
  const now = deps.now();
  const { disclosure, values } = verified;
  const record = buildConsentRecord({
    recordId: disclosure.consent_record_id,
    principalDid: received.senderDid,
    controller: { name: deps.companyName, did: deps.companyDid },
    // Her intent stands for the request: she disclosed to be answered about it.
    requestId: intent.id,
    termsRef: intent.agreementId,
    purpose: disclosure.purpose,
    legalBasis: 'consent',
    retention: disclosure.retention,
    categories: [...values.keys()].map((category) => ({ category, source: 'pii_principal' as const, issuer: null })),
    state: 'active',
    requestedAt: now,
    answeredAt: now,
  });
  await tx.saveConsentRecord({ id: disclosure.consent_record_id, relationshipId: relationship.id, requestId: null, state: 'active', record, createdAt: now, updatedAt: now });
  const held = new Map((await tx.listHeldFields(relationship.id)).map((f) => [f.field, f]));
  const kept: Record<string, unknown> = {};
  for (const [field, value] of values) {
    if ((held.get(field)?.version ?? -1) >= disclosure.profile_version) continue;
    await tx.upsertHeldField({ relationshipId: relationship.id, field, value, version: disclosure.profile_version, consentRecordId: disclosure.consent_record_id, source: 'self', issuer: null, updatedAt: now });
    kept[field] = value;
  }
  await tx.addPresentation({ id: newId(), relationshipId: relationship.id, messageId: received.message.id, kind: 'disclosure', sdJwt: disclosure.presentation.sd_jwt, receivedAt: now });
  await emit(tx, 'profile.disclosed', { relationshipId: relationship.id, customerRef: relationship.customerRef, fields: kept, consentRecordId: disclosure.consent_record_id, purpose: disclosure.purpose }, now);
}

/** @throws DisclosureError `disclosure.unknown_request` | `disclosure.not_pending`, RelationshipError */
export async function verifyDecline(received: ReceivedMessage<DiscloseDeclineBody>, deps: DisclosureDeps): Promise<VerifiedAnswer> {
  const relationship = await liveRelationship(deps.store, received.senderDid);
  const request = await requestOf(deps.store, relationship, received.message.body.request_id);
  if (request.state !== 'pending') {
    const resent = await resentAnswer(deps.store, relationship, request, received.message.body.consent_record_id, undefined);
    if (resent) return resent;
    throw new DisclosureError('disclosure.not_pending', 'This request was already answered');
  }
  return { kind: 'decline', request };
}

/**
 * Her answer presented again under the consent record id this request's answer is stored under,
 * with the same decision (and, for an approval, the same fields): the company stored it but its
 * ack never reached her. It is answered with the ack it sent the first time and nothing is stored
 * again; any other answer to a settled request stays refused. `approved` is undefined for a decline.
 */
async function resentAnswer(
  store: CompanyStore,
  relationship: CompanyRelationship,
  request: DisclosureRequest,
  consentRecordId: string,
  approved: readonly string[] | undefined,
): Promise<VerifiedAnswer | undefined> {
  const stored = await store.getConsentRecord(consentRecordId);
  if (!stored || stored.relationshipId !== relationship.id || stored.requestId !== request.id) return undefined;
  const categories = stored.record.processing.flatMap((p) => p.pii_categories);
  if (approved === undefined) {
    if (request.state !== 'declined' || stored.state !== 'refused') return undefined;
    return { kind: 'resent', request, ack: outgoing(Disclose.ack, { request_id: request.id, consent_record_id: consentRecordId, state: 'refused', fields: [] }) };
  }
  const selfIssued = stored.record.pii_sources.filter((s) => s.source === 'pii_principal').map((s) => s.category);
  if (request.state !== 'fulfilled' || stored.state !== 'active' || !sameSet(selfIssued, approved)) return undefined;
  return { kind: 'resent', request, ack: outgoing(Disclose.ack, { request_id: request.id, consent_record_id: consentRecordId, state: 'active', fields: categories }) };
}

async function emit(tx: CompanyStore, type: ConnectorEventType, payload: ConnectorEventPayload, at: number): Promise<void> {
  await tx.enqueueEvent({ id: newId(), relationshipId: payload.relationshipId, type, payload, createdAt: at, nextAttemptAt: at, attempts: 0, dispatchedAt: null });
}

/**
 * Applies a verified profile update inside the inbound transaction: each version once, never an
 * older one, only to fields the company holds.
 * @throws ProfileError `profile.stale_version`
 */
export async function applyNotice(verified: VerifiedNotice, received: ReceivedMessage, relationship: CompanyRelationship, tx: CompanyStore, deps: DisclosureDeps): Promise<Outgoing> {
  const now = deps.now();
  const { body } = verified;
  const current = await tx.getProfileVersion(relationship.id);
  if (body.version < current) {
    throw new ProfileError('profile.stale_version', 'This update is older than the version the company holds', { details: { version: body.version, held: current } });
  }
  const ack = (applied: boolean): Outgoing => outgoing(ProfileUpdate.ack, { version: body.version, applied, fields: body.fields });
  // The same version again is a resend (her agent lost our ack): acknowledge, apply nothing.
  if (body.version === current) return ack(false);
  const held = new Map((await tx.listHeldFields(relationship.id)).map((f) => [f.field, f]));
  const applied: Record<string, unknown> = {};
  for (const [field, value] of verified.values) {
    const before = held.get(field);
    if (!before || before.version >= body.version) continue;
    await tx.upsertHeldField({ ...before, value, version: body.version, updatedAt: now });
    applied[field] = value;
  }
  await tx.setProfileVersion(relationship.id, body.version, now);
  await tx.addPresentation({ id: newId(), relationshipId: relationship.id, messageId: received.message.id, kind: 'update', sdJwt: body.presentation.sd_jwt, receivedAt: now });
  if (Object.keys(applied).length > 0) {
    await emit(tx, 'profile.updated', { relationshipId: relationship.id, customerRef: relationship.customerRef, fields: applied, version: body.version }, now);
  }
  return ack(true);
}

/**
 * Stores a verified answer, inside the inbound transaction. The request leaves `pending` by
 * compare-and-set, so of two answers racing each other exactly one is stored.
 */
export async function applyAnswer(
  verified: VerifiedAnswer,
  received: ReceivedMessage<DisclosePresentBody | DiscloseDeclineBody>,
  relationship: CompanyRelationship,
  tx: CompanyStore,
  deps: DisclosureDeps,
): Promise<Outgoing> {
  const now = deps.now();
  if (verified.kind === 'resent') return verified.ack;

  const { request } = verified;
  const answer = verified.kind === 'present' ? 'fulfilled' : 'declined';
  if (!(await tx.settleDisclosureRequest(request.id, answer, now))) {
    throw verified.kind === 'present'
      ? new DisclosureError('disclosure.replayed', 'This request was already answered: its nonce is spent')
      : new DisclosureError('disclosure.not_pending', 'This request was already answered');
  }
  const consentRecordId = received.message.body.consent_record_id;
  const values = verified.kind === 'present' ? verified.values : new Map<string, HeldValue>();
  const record = buildConsentRecord({
    recordId: consentRecordId,
    principalDid: received.senderDid,
    controller: { name: deps.companyName, did: deps.companyDid },
    requestId: request.id,
    termsRef: request.termsRef,
    purpose: request.purpose,
    legalBasis: request.legalBasis as Parameters<typeof buildConsentRecord>[0]['legalBasis'],
    retention: request.retention,
    categories: [...values].map(([category, held]) => ({ category, source: held.source === 'self' ? 'pii_principal' : 'issuer', issuer: held.issuer })),
    state: verified.kind === 'present' ? 'active' : 'refused',
    requestedAt: request.createdAt,
    answeredAt: now,
  });
  await tx.saveConsentRecord({ id: consentRecordId, relationshipId: relationship.id, requestId: request.id, state: record.state === 'active' ? 'active' : 'refused', record, createdAt: now, updatedAt: now });

  if (verified.kind === 'decline') {
    await emit(tx, 'disclosure.declined', { relationshipId: relationship.id, customerRef: relationship.customerRef, consentRecordId, purpose: request.purpose }, now);
    return outgoing(Disclose.ack, { request_id: request.id, consent_record_id: consentRecordId, state: 'refused', fields: [] });
  }
  const version = verified.body.profile_version;
  for (const [field, held] of values) {
    await tx.upsertHeldField({ relationshipId: relationship.id, field, value: held.value, version, consentRecordId, source: held.source, issuer: held.issuer, updatedAt: now });
  }
  for (const { sd_jwt } of verified.body.presentations) {
    await tx.addPresentation({ id: newId(), relationshipId: relationship.id, messageId: received.message.id, kind: 'disclosure', sdJwt: sd_jwt, receivedAt: now });
  }
  await emit(
    tx,
    'profile.disclosed',
    { relationshipId: relationship.id, customerRef: relationship.customerRef, fields: Object.fromEntries([...values].map(([f, h]) => [f, h.value])), consentRecordId, purpose: request.purpose },
    now,
  );
  return outgoing(Disclose.ack, { request_id: request.id, consent_record_id: consentRecordId, state: 'active', fields: [...values.keys()] });
}
