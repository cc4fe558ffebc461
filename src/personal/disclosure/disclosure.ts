import { randomUUID } from 'node:crypto';
import { DisclosureError, MessageError, TransportError } from '../../core/errors.js';
import { neverReachedPeer } from '../../protocol/agent/transport.js';
import { toEpochSeconds } from '../../core/clock.js';
import { buildConsentRecord, type ConsentRecord } from '../../protocol/consentRecord.js';
import { outgoing } from '../../protocol/buildMessage.js';
import type { DiscloseAckBody } from '../../protocol/families/disclose.js';
import { Disclose } from '../../protocol/families/index.js';
import { privateKeyObject } from '../../protocol/keys.js';
import { presentSdJwt, presentSelfIssued } from '../../protocol/sdjwt/index.js';
import type { AgentCore } from '../core.js';
import type { CredentialRecord } from '../vault/credentialRepo.js';
import { personaOf } from '../vault/personaRepo.js';
import type { AnsweredBy, DisclosureRequestRecord } from '../vault/disclosureRequestRepo.js';
import type { RelationshipRecord } from '../vault/relationshipRepo.js';

export interface RequestView {
  id: string;
  /** The company's id for this request: what its people see (kith-vendor request prints it). Either id finds the request. */
  requestId: string;
  relationshipId: string;
  company: string | null;
  state: DisclosureRequestRecord['state'];
  purpose: string;
  /** The purpose as a roster term, what her rules judge; null when the company named none. */
  purposeCode: string | null;
  retention: string | null;
  legalBasis: string;
  termsRef: string | null;
  /** Profile fields asked for, with whether she has a value for each. */
  fields: { name: string; available: boolean }[];
  /** Credential claims asked for, with whether a held credential can present them. */
  credentials: { vct: string; claims: string[]; available: boolean }[];
  answeredFields: string[] | null;
  consentRecordId: string | null;
  /** The rule of hers that answered it by itself (its id and its words then); null when she answered, or it waits. */
  answeredBy: AnsweredBy | null;
  createdAt: number;
}

export interface ConsentView {
  id: string;
  relationshipId: string;
  company: string | null;
  state: string;
  record: ConsentRecord;
  createdAt: number;
  updatedAt: number;
}

export interface AnswerOutcome {
  request: RequestView;
  consentRecordId: string;
  /** What the company acknowledged holding under this consent. */
  fields: string[];
}

export interface DisclosureFeature {
  /** Pending ones; `all`: answered ones too; `auto`: only those her rules answered (any state). */
  requests(options?: { all?: boolean; auto?: boolean; relationship?: string }): RequestView[];
  /** One request, by her id or the company's (or a unique prefix). @throws DisclosureError `disclosure.unknown_request` */
  request(reference: string): DisclosureRequestRecord;
  /** Answers with SD-JWTs holding only the approved fields (default: all requested). */
  approve(requestRef: string, fields?: readonly string[]): Promise<AnswerOutcome>;
  decline(requestRef: string, reason?: string): Promise<AnswerOutcome>;
  /** Her rule's answer: the same path as hers, with the rule recorded on the request. */
  answerByRule(requestRef: string, decision: 'approved' | 'declined', fields: readonly string[] | undefined, rule: AnsweredBy): Promise<AnswerOutcome>;
  consents(relationshipRef?: string): ConsentView[];
  /**
   * Approvals sent whose ack was never recorded (the agent locked or stopped while it waited):
   * the request is hers to answer again, and her pending consent record stays, so answering again
   * resends under the same id and the company acks it if it stored the first. @returns how many.
   */
  reopenUnacknowledged(): number;
}

interface CredentialChoice {
  credential: CredentialRecord;
  claims: string[];
}

export function createDisclosureFeature(core: AgentCore): DisclosureFeature {
  const { vault, clock, logger, events } = core;

  function credentialFor(vct: string, claims: readonly string[], issuers: readonly string[] | undefined): CredentialRecord | undefined {
    return vault.credentials
      .list()
      .find((c) => c.vct === vct && (issuers === undefined || issuers.includes(c.issuer)) && claims.every((claim) => c.claims.includes(claim)));
  }

  function view(request: DisclosureRequestRecord): RequestView {
    const relationship = vault.relationships.get(request.relationshipId);
    return {
      id: request.id,
      requestId: request.requestId,
      relationshipId: request.relationshipId,
      company: relationship?.vendorName ?? null,
      state: request.state,
      purpose: request.purpose,
      purposeCode: request.purposeCode ?? null,
      retention: request.retention,
      legalBasis: request.legalBasis,
      termsRef: request.termsRef,
      // Available from the persona this company knows her by, never from another of her selves.
      fields: request.fields.map((name) => ({ name, available: vault.profile.get(name, personaOf(relationship ?? {})) !== undefined })),
      credentials: request.credentials.map((c) => ({ vct: c.vct, claims: c.claims, available: credentialFor(c.vct, c.claims, c.issuers) !== undefined })),
      answeredFields: request.answeredFields ?? null,
      consentRecordId: request.consentRecordId ?? null,
      answeredBy: request.answeredBy ?? null,
      createdAt: request.createdAt,
    };
  }

  /**
   * By her id or the company's (what its clerk reads out), or a unique prefix of either (at least 4
   * characters), like relationships.
   */
  function findRequest(reference: string): DisclosureRequestRecord {
    const exact = vault.disclosureRequests.get(reference);
    if (exact) return exact;
    const all = vault.disclosureRequests.list();
    const theirs = all.filter((r) => r.requestId === reference);
    if (theirs.length === 1 && theirs[0]) return theirs[0];
    const matches = reference.length >= 4 ? all.filter((r) => r.id.startsWith(reference) || r.requestId.startsWith(reference)) : [];
    if (matches.length !== 1 || !matches[0]) {
      throw new DisclosureError('disclosure.unknown_request', matches.length > 1 ? `"${reference}" matches several requests` : `No disclosure request "${reference}"`);
    }
    return matches[0];
  }

  function pendingRequest(reference: string): { request: DisclosureRequestRecord; relationship: RelationshipRecord } {
    const request = findRequest(reference);
    if (request.state !== 'pending') throw new DisclosureError('disclosure.not_pending', `This request was already ${request.state}`);
    const relationship = core.find(request.relationshipId);
    core.requireLive(relationship);
    return { request, relationship };
  }

  /** Splits her choice into profile fields and credential claims, checking each was asked for and is at hand. */
  function choose(request: DisclosureRequestRecord, chosen: readonly string[]): { fields: string[]; credentials: CredentialChoice[] } {
    const asked = new Set([...request.fields, ...request.credentials.flatMap((c) => c.claims)]);
    const notAsked = chosen.filter((name) => !asked.has(name));
    if (notAsked.length > 0) throw new DisclosureError('disclosure.not_requested', `Not asked for: ${notAsked.join(', ')}`, { details: { fields: notAsked } });
    const fields = request.fields.filter((f) => chosen.includes(f));
    const persona = personaOf(vault.relationships.get(request.relationshipId) ?? {});
    const missing = fields.filter((f) => vault.profile.get(f, persona) === undefined);
    const credentials: CredentialChoice[] = [];
    for (const ask of request.credentials) {
      const claims = ask.claims.filter((c) => chosen.includes(c));
      if (claims.length === 0) continue;
      const credential = credentialFor(ask.vct, claims, ask.issuers);
      if (!credential) missing.push(...claims);
      else credentials.push({ credential, claims });
    }
    if (missing.length > 0) {
      throw new DisclosureError('disclosure.field_unavailable', `You have no value for: ${missing.join(', ')} (set it with \`kith profile set\`, or approve without it using --fields)`, {
        details: { fields: missing },
      });
    }
    return { fields, credentials };
  }

  async function presentations(relationship: RelationshipRecord, nonce: string, fields: string[], credentials: CredentialChoice[]): Promise<string[]> {
    const issuedAt = toEpochSeconds(clock.now());
    const out: string[] = [];
    if (fields.length > 0) {
      const claims = Object.fromEntries(fields.map((f) => [f, vault.profile.get(f, personaOf(relationship))?.value]));
      out.push(await presentSelfIssued(core.identityOf(relationship), claims, { audience: relationship.theirDid, nonce, issuedAt }));
    }
    for (const { credential, claims } of credentials) {
      const holder = vault.keys.getById(credential.holderKeyId);
      if (!holder) throw new DisclosureError('disclosure.field_unavailable', 'The key this credential is bound to is missing');
      out.push(await presentSdJwt(credential.sdJwt, { disclose: claims, holderKey: privateKeyObject(holder.privateJwk), audience: relationship.theirDid, nonce, issuedAt }));
    }
    return out;
  }

  async function answer(reference: string, decision: 'approved' | 'declined', chosen: readonly string[] | undefined, reason?: string, by?: AnsweredBy): Promise<AnswerOutcome> {
    const { request, relationship } = pendingRequest(reference);
    const choice = decision === 'approved' ? choose(request, chosen ?? [...request.fields, ...request.credentials.flatMap((c) => c.claims)]) : { fields: [], credentials: [] };
    if (decision === 'approved' && choice.fields.length + choice.credentials.length === 0) {
      throw new DisclosureError('disclosure.not_requested', 'Approve at least one field, or decline the request');
    }
    // A consent record left by an answer whose reply never came (the company may have stored it):
    // answering again reuses its id, which is how the company recognises the resend and acks it.
    const leftover = vault.consents.list(relationship.id).find((c) => c.requestId === request.id);
    const consentRecordId = leftover?.id ?? randomUUID();
    const now = clock.now();
    const record: ConsentRecord = buildConsentRecord({
      recordId: consentRecordId,
      principalDid: relationship.myDid,
      controller: { name: relationship.vendorName, did: relationship.theirDid },
      requestId: request.requestId,
      termsRef: request.termsRef,
      purpose: request.purpose,
      legalBasis: request.legalBasis as ConsentRecord['processing'][number]['legal_basis'],
      retention: request.retention,
      categories: [
        ...choice.fields.map((category) => ({ category, source: 'pii_principal' as const, issuer: null })),
        ...choice.credentials.flatMap(({ credential, claims }) => claims.map((category) => ({ category, source: 'issuer' as const, issuer: credential.issuer }))),
      ],
      state: decision === 'approved' ? 'pending' : 'refused',
      requestedAt: request.createdAt,
      answeredAt: now,
    });
    const answeredFields = [...choice.fields, ...choice.credentials.flatMap((c) => c.claims)];
    const profileVersion = vault.profile.currentVersion();
    const body =
      decision === 'approved'
        ? outgoing(Disclose.present, {
            request_id: request.requestId,
            consent_record_id: consentRecordId,
            approved: choice.fields,
            profile_version: profileVersion,
            presentations: (await presentations(relationship, request.nonce, choice.fields, choice.credentials)).map((sd_jwt) => ({ format: 'dc+sd-jwt' as const, sd_jwt })),
          })
        : outgoing(Disclose.decline, { request_id: request.requestId, consent_record_id: consentRecordId, ...(reason ? { reason } : {}) });

    // Written before sending, as "pending": if the agent dies after the company stored the answer
    // but before its acknowledgement, her record still shows she may have disclosed.
    vault.transaction(() => {
      if (leftover) vault.consents.remove(leftover.id);
      vault.consents.insert({ id: consentRecordId, relationshipId: relationship.id, requestId: request.id, state: record.state, record, createdAt: now });
      vault.disclosureRequests.settle(request.id, decision, { answeredFields, consentRecordId, ...(by ? { answeredBy: by } : {}) }, now);
    });
    let acknowledged: string[] = [];
    try {
      // The ack's handler (personal/handlers/disclose.ts) makes the consent active and records what the company holds.
      const reply = await core.exchange(relationship, body, { returnRoute: true, thid: request.messageId, expects: [Disclose.ack] });
      if (reply?.message.type !== Disclose.ack.type) throw new MessageError('message.unexpected', 'The company did not acknowledge this answer');
      acknowledged = (reply.message.body as DiscloseAckBody).fields;
    } catch (error) {
      // Sent but no answer (a timeout, the reply lost): the company may have stored it. Her pending
      // record stays, so she still sees she may have disclosed and answering again resends under
      // the same id. Refused, or never sent (connection refused): nothing was disclosed and the
      // record goes. Either way the request is hers to answer again.
      const outcomeUnknown = error instanceof TransportError && error.code === 'transport.unreachable' && !neverReachedPeer(error);
      vault.transaction(() => {
        if (!outcomeUnknown) vault.consents.remove(consentRecordId);
        vault.disclosureRequests.reopen(request.id);
      });
      throw error;
    }
    logger.info('disclosure_answered', { relationship: relationship.id, request: request.id, decision, fields: answeredFields.length, ...(by ? { rule: by.ruleId } : {}) });
    events.emit({ type: 'disclosure.answered', requestId: request.id, relationshipId: relationship.id, state: decision });
    return { request: view(findRequest(request.id)), consentRecordId, fields: acknowledged };
  }

  return {
    requests(options = {}) {
      const relationshipId = options.relationship === undefined ? undefined : core.find(options.relationship).id;
      const cutOff = new Set(vault.relationships.list().filter((r) => r.state === 'cut_off').map((r) => r.id));
      return (
        vault.disclosureRequests
          .list({ ...(relationshipId ? { relationshipId } : {}), ...(options.all || options.auto ? {} : { state: 'pending' as const }) })
          .filter((r) => !options.auto || r.answeredBy !== undefined)
          // A company she cut off can no longer be answered: its open requests are moot.
          .filter((r) => options.all || options.auto || !cutOff.has(r.relationshipId))
          .map(view)
      );
    },
    request: findRequest,
    approve: (reference, fields) => answer(reference, 'approved', fields),
    reopenUnacknowledged() {
      return vault.transaction(() => {
        let reopened = 0;
        for (const request of vault.disclosureRequests.list({ state: 'approved' })) {
          const consent = request.consentRecordId ? vault.consents.get(request.consentRecordId) : undefined;
          if (consent?.state === 'pending' && vault.disclosureRequests.reopen(request.id)) reopened++;
        }
        return reopened;
      });
    },
    decline: (reference, reason) => answer(reference, 'declined', undefined, reason),
    // No reason goes to the company: which rule of hers said no is her business.
    answerByRule: (reference, decision, fields, rule) => answer(reference, decision, fields, undefined, rule),
    consents(relationshipRef) {
      const relationshipId = relationshipRef === undefined ? undefined : core.find(relationshipRef).id;
      return vault.consents.list(relationshipId).map((c) => ({
        id: c.id,
        relationshipId: c.relationshipId,
        company: vault.relationships.get(c.relationshipId)?.vendorName ?? null,
        state: c.state,
        record: c.record,
        createdAt: c.createdAt,
        updatedAt: c.updatedAt,
      }));
    },
  };
}
