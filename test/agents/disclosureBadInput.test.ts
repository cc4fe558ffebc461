/**
 * The bad-input matrix of selective disclosure: presentations and profile updates crafted by hand
 * (signed and encrypted as her, POSTed over real HTTP to the company's DIDComm endpoint), each
 * wrong in exactly one way, are refused with the right status and error code and change nothing
 * on either side: every row of the company store and every row of her vault stay as they were.
 * Then the same for her own side: answers and profile changes she should not be able to make.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { isKithError, type KithErrorCode } from '../../src/core/errors.js';
import { AGE_VCT, ageClaims, createDemoIssuer, issueCredential } from '../../src/issuer/demoIssuer.js';
import { createPeerIdentity, type LocalIdentity } from '../../src/protocol/agent/identity.js';
import { Disclose, ProfileUpdate } from '../../src/protocol/families/index.js';
import { generateKeyPair, privateKeyObject } from '../../src/protocol/keys.js';
import { PROFILE_VCT, issueSdJwt } from '../../src/protocol/sdjwt/index.js';
import type { DisclosureRequest } from '../../src/company/store/types.js';
import { connect, herIdentity, startPersonal, startCompany, type HttpResult, type Link, type PersonalHandle, type CompanyHandle, herRequestFor } from '../support/agents.js';
import {
  encodeDisclosure,
  nowSeconds,
  openReply,
  present,
  selfIssue,
  selfPresentation,
  sendAs,
  signKeyBinding,
  signingKeyObject,
  withoutKeyBinding,
  type Sent,
} from '../support/disclosure.js';

const ADA = {
  name: 'Ada Lovelace',
  email: 'ada@example.org',
  address: { street_address: '12 St James Square', locality: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
  nickname: 'Ada',
};
const HOVE = { street_address: '1 Sea Road', locality: 'Hove', country: 'GB' };
const BRIGHTON = { street_address: '7 Pier Parade', locality: 'Brighton', country: 'GB' };

/** Replaces one character in the middle of `text` with another base64url character. */
function changeOneCharacter(text: string): string {
  const at = Math.floor(text.length / 2);
  const replacement = text[at] === 'A' ? 'B' : 'A';
  return `${text.slice(0, at)}${replacement}${text.slice(at + 1)}`;
}

describe('the company agent refuses bad disclosures and profile updates and changes nothing', () => {
  let company: CompanyHandle;
  let personal: PersonalHandle;
  let main: Link;
  /** Her pairwise identity (private keys included) for `main`. */
  let her: LocalIdentity;
  /** Asks for name and email; stays pending throughout. */
  let pending: DisclosureRequest;
  /** Asks for name and an age credential's age_over_18; stays pending throughout. */
  let ageCheck: DisclosureRequest;
  /** Asks for name; the replay case answers it once. */
  let greeting: DisclosureRequest;
  /** A request of another relationship of hers with the same company. */
  let otherRequest: DisclosureRequest;
  /** Her identity on a relationship that held her address and that she then cut off. */
  let cutOffIdentity: LocalIdentity;
  /** The profile version the company applied last for `main`. */
  let applied: number;
  const stranger = createPeerIdentity('http://127.0.0.1:9/didcomm').identity;

  beforeAll(async () => {
    company = await startCompany({ name: 'Strict Checks Ltd' });
    personal = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    personal.agent.profile.set(ADA);
    main = await connect(personal, company);
    her = herIdentity(personal, main.view.id);
    const requestOn = async (link: Link, ask: Parameters<CompanyHandle['agent']['requestDisclosure']>[1]) =>
      (await company.agent.requestDisclosure(link.companyRelationship.id, ask)).request;

    pending = await requestOn(main, { fields: ['name', 'email'], purpose: 'Order confirmations' });
    ageCheck = await requestOn(main, { fields: ['name'], credentials: [{ vct: AGE_VCT, claims: ['age_over_18'] }], purpose: 'Age check' });
    greeting = await requestOn(main, { fields: ['name'], purpose: 'Greeting cards' });

    // The company holds her name, email and address, and has applied two updates of the address.
    const deliveries = await requestOn(main, { fields: ['name', 'email', 'address'], purpose: 'Deliveries' });
    await personal.agent.disclosure.approve(herRequestFor(personal, deliveries.id));
    personal.agent.profile.set({ address: HOVE });
    expect((await personal.agent.profile.deliver()).acked).toBe(1);
    personal.agent.profile.set({ address: BRIGHTON });
    expect((await personal.agent.profile.deliver()).acked).toBe(1);
    applied = (await company.agent.holdings(main.companyRelationship.id)).profileVersion;
    expect(applied).toBe(3);

    const other = await connect(personal, company);
    otherRequest = await requestOn(other, { fields: ['email'], purpose: 'Another account' });

    const cut = await connect(personal, company);
    const cutRequest = await requestOn(cut, { fields: ['address'], purpose: 'Deliveries' });
    await personal.agent.disclosure.approve(herRequestFor(personal, cutRequest.id));
    cutOffIdentity = herIdentity(personal, cut.view.id);
    await personal.agent.cutOff(cut.view.id);

    expect(personal.agent.disclosure.requests({ relationship: main.view.id }).map((r) => personal.vault.disclosureRequests.get(r.id)?.requestId).sort()).toEqual(
      [pending.id, ageCheck.id, greeting.id].sort(),
    );
  });
  afterAll(async () => {
    await personal?.cleanup();
    await company?.cleanup();
  });

  /** Sends, then checks the status and code, and that neither side changed at all. */
  async function expectRefused(send: () => Promise<Sent | HttpResult>, status: number, code: KithErrorCode): Promise<void> {
    const companyBefore = await company.snapshot();
    const hersBefore = personal.snapshot();
    const sent = await send();
    const response = 'response' in sent ? sent.response : sent;
    expect({ status: response.status, code: response.json.error?.code }).toEqual({ status, code });
    expect(await company.snapshot()).toEqual(companyBefore);
    expect(personal.snapshot()).toEqual(hersBefore);
  }

  const kbFor = (request: DisclosureRequest) => ({ audience: company.did, nonce: request.nonce });

  function sendPresent(
    request: Pick<DisclosureRequest, 'id' | 'messageId'>,
    approved: string[],
    presentations: string[],
    options: { from?: LocalIdentity; id?: string } = {},
  ): Promise<Sent> {
    const body = {
      request_id: request.id,
      consent_record_id: randomUUID(),
      approved,
      profile_version: applied,
      presentations: presentations.map((sd_jwt) => ({ format: 'dc+sd-jwt', sd_jwt })),
    };
    return sendAs(options.from ?? her, company, Disclose.present.type, body, { thid: request.messageId, ...(options.id ? { id: options.id } : {}) });
  }

  /** A notice whose presentation's nonce is its own message id, unless `nonce` says otherwise. */
  async function sendNotice(
    version: number,
    fields: string[],
    claims: Record<string, unknown>,
    options: { from?: LocalIdentity; nonce?: string; disclose?: string[] } = {},
  ): Promise<Sent> {
    const from = options.from ?? her;
    const id = randomUUID();
    const presentation = await selfPresentation(from, claims, options.disclose ?? Object.keys(claims), { audience: company.did, nonce: options.nonce ?? id });
    return sendAs(from, company, ProfileUpdate.notice.type, { version, fields, presentation: { format: 'dc+sd-jwt', sd_jwt: presentation } }, { id });
  }

  describe('disclose/present', () => {
    it('refuses a presentation disclosing a field she did not approve as disclosure.not_requested', async () => {
      const presentation = await selfPresentation(her, { name: ADA.name, email: ADA.email }, ['name', 'email'], kbFor(pending));
      await expectRefused(() => sendPresent(pending, ['name'], [presentation]), 422, 'disclosure.not_requested');
    });

    it('refuses an approved field the request did not ask for as disclosure.not_requested', async () => {
      const presentation = await selfPresentation(her, { name: ADA.name, address: ADA.address }, ['name', 'address'], kbFor(pending));
      await expectRefused(() => sendPresent(pending, ['name', 'address'], [presentation]), 422, 'disclosure.not_requested');
    });

    it('refuses a presentation that leaves out an approved field, or approved fields without her own presentation, as disclosure.malformed', async () => {
      const nameOnly = await selfPresentation(her, { name: ADA.name, email: ADA.email }, ['name'], kbFor(pending));
      await expectRefused(() => sendPresent(pending, ['name', 'email'], [nameOnly]), 400, 'disclosure.malformed');
      const registry = createDemoIssuer('Some Registry');
      const credential = await issueCredential(registry.identity, { holderPublicJwk: her.signing.publicJwk, vct: AGE_VCT, claims: ageClaims('1990-04-01', new Date()) }, systemClock);
      // Only a credential, yet "name" approved: the company would hold a field nobody presented.
      const trusted = await startCompany({ name: 'Trusting Ltd', policy: { trustedIssuers: [registry.identity.did] } });
      try {
        const link = await connect(personal, trusted);
        const ask = (await trusted.agent.requestDisclosure(link.companyRelationship.id, { fields: ['name'], credentials: [{ vct: AGE_VCT, claims: ['age_over_18'] }], purpose: 'Age check' })).request;
        const identity = herIdentity(personal, link.view.id);
        const age = await present(credential, her, ['age_over_18'], { audience: trusted.did, nonce: ask.nonce });
        const before = await trusted.snapshot();
        const body = { request_id: ask.id, consent_record_id: randomUUID(), approved: ['name'], presentations: [{ format: 'dc+sd-jwt', sd_jwt: age }] };
        const { response } = await sendAs(identity, trusted, Disclose.present.type, body, { thid: ask.messageId });
        expect([response.status, response.json.error?.code]).toEqual([400, 'disclosure.malformed']);
        expect(await trusted.snapshot()).toEqual(before);
      } finally {
        await trusted.cleanup();
      }
    });

    it('refuses a presentation with one character of a disclosure changed as disclosure.tampered', async () => {
      const presentation = await selfPresentation(her, { name: ADA.name, email: ADA.email }, ['name', 'email'], kbFor(pending));
      const parts = presentation.split('~');
      const emailAt = parts.findIndex((part, i) => i > 0 && i < parts.length - 1 && Buffer.from(part, 'base64url').toString('utf8').includes('"email"'));
      expect(emailAt).toBeGreaterThan(0);
      parts[emailAt] = changeOneCharacter(parts[emailAt]!);
      await expectRefused(() => sendPresent(pending, ['name', 'email'], [parts.join('~')]), 400, 'disclosure.tampered');
    });

    it('refuses a stray disclosure appended to a presentation (with a valid key binding over it) as disclosure.tampered', async () => {
      const presentation = await selfPresentation(her, { name: ADA.name }, ['name'], kbFor(pending));
      const withStray = `${withoutKeyBinding(presentation)}${encodeDisclosure('email', 'mallory@example.org')}~`;
      const rebound = `${withStray}${signKeyBinding(withStray, signingKeyObject(her), { aud: company.did, nonce: pending.nonce })}`;
      await expectRefused(() => sendPresent(pending, ['name'], [rebound]), 400, 'disclosure.tampered');
    });

    it('refuses a key-binding JWT signed with another key as disclosure.key_binding_invalid', async () => {
      const presentation = await selfPresentation(her, { name: ADA.name }, ['name'], kbFor(pending));
      const bare = withoutKeyBinding(presentation);
      const forged = `${bare}${signKeyBinding(bare, privateKeyObject(generateKeyPair('Ed25519').privateJwk), { aud: company.did, nonce: pending.nonce })}`;
      await expectRefused(() => sendPresent(pending, ['name'], [forged]), 400, 'disclosure.key_binding_invalid');
    });

    it('refuses a presentation without a key-binding JWT as disclosure.key_binding_invalid', async () => {
      const issued = await selfIssue(her, { name: ADA.name });
      expect(issued.endsWith('~')).toBe(true);
      await expectRefused(() => sendPresent(pending, ['name'], [issued]), 400, 'disclosure.key_binding_invalid');
    });

    it('refuses a presentation key-bound for another audience as disclosure.wrong_audience', async () => {
      const presentation = await selfPresentation(her, { name: ADA.name }, ['name'], { audience: stranger.did, nonce: pending.nonce });
      await expectRefused(() => sendPresent(pending, ['name'], [presentation]), 400, 'disclosure.wrong_audience');
    });

    it('refuses a presentation key-bound to another nonce as disclosure.nonce_mismatch', async () => {
      const presentation = await selfPresentation(her, { name: ADA.name }, ['name'], { audience: company.did, nonce: randomBytes(32).toString('base64url') });
      await expectRefused(() => sendPresent(pending, ['name'], [presentation]), 400, 'disclosure.nonce_mismatch');
      // The nonce of another of the company's own requests is just as wrong.
      const lifted = await selfPresentation(her, { name: ADA.name }, ['name'], kbFor(greeting));
      await expectRefused(() => sendPresent(pending, ['name'], [lifted]), 400, 'disclosure.nonce_mismatch');
    });

    it('accepts a well-formed answer once, and refuses a second answer to the same request (same nonce, new message) as disclosure.replayed', async () => {
      const first = await sendPresent(greeting, ['name'], [await selfPresentation(her, { name: ADA.name }, ['name'], kbFor(greeting))]);
      expect(first.response.status).toBe(200);
      const ack = await openReply(first.response.text, her);
      expect(ack.message).toMatchObject({ type: Disclose.ack.type, thid: greeting.messageId, body: { request_id: greeting.id, state: 'active', fields: ['name'] } });
      expect((await company.store.getDisclosureRequest(greeting.id))?.state).toBe('fulfilled');

      const again = await selfPresentation(her, { name: ADA.name }, ['name'], kbFor(greeting));
      await expectRefused(() => sendPresent(greeting, ['name'], [again]), 409, 'disclosure.replayed');
      // A decline cannot take the answer back either.
      await expectRefused(
        () => sendAs(her, company, Disclose.decline.type, { request_id: greeting.id, consent_record_id: randomUUID() }, { thid: greeting.messageId }),
        409,
        'disclosure.not_pending',
      );
    });

    it('refuses a "self-issued" SD-JWT naming her DID but signed with another key as disclosure.signature_invalid', async () => {
      // iss and kid say "her", the signature says otherwise: the issuer signature is checked
      // against the key her DID document lists for that kid, and fails.
      const forged = await selfIssue(her, { name: ADA.name }, privateKeyObject(stranger.signing.privateJwk));
      const presentation = await present(forged, her, ['name'], kbFor(pending));
      await expectRefused(() => sendPresent(pending, ['name'], [presentation]), 400, 'disclosure.signature_invalid');
    });

    it('treats an SD-JWT issued by another DID as a credential: not_requested when no credential of its type was asked, untrusted_issuer when one was', async () => {
      // Validly signed by the stranger's own DID and bound to her key. Its issuer is not the
      // sender, so the company reads it as a third party's credential, never as her own fields.
      const strangerIssued = (vct: string, claims: Record<string, unknown>) =>
        issueSdJwt({
          issuer: { did: stranger.did, kid: stranger.signing.kid, privateKey: privateKeyObject(stranger.signing.privateJwk) },
          holderPublicJwk: her.signing.publicJwk,
          vct,
          claims,
          issuedAt: nowSeconds(),
        });
      // Her profile type from someone else: no credential of that type was requested, and the
      // "self-issued" answer the approved field needs is missing.
      const profile = await present(await strangerIssued(PROFILE_VCT, { name: 'Mallory' }), her, ['name'], kbFor(pending));
      await expectRefused(() => sendPresent(pending, ['name'], [profile]), 422, 'disclosure.not_requested');

      // An age credential, which the request did ask for, from an issuer the company does not trust.
      const age = await present(await strangerIssued(AGE_VCT, ageClaims('1990-04-01', new Date())), her, ['age_over_18'], kbFor(ageCheck));
      await expectRefused(() => sendPresent(ageCheck, [], [age]), 422, 'disclosure.untrusted_issuer');
      // The same from the demo issuer, equally untrusted by this company.
      const registry = createDemoIssuer('Unknown Registry');
      const fromRegistry = await issueCredential(registry.identity, { holderPublicJwk: her.signing.publicJwk, vct: AGE_VCT, claims: ageClaims('1990-04-01', new Date()) }, systemClock);
      const name = await selfPresentation(her, { name: ADA.name }, ['name'], kbFor(ageCheck));
      const ageFromRegistry = await present(fromRegistry, her, ['age_over_18'], kbFor(ageCheck));
      await expectRefused(() => sendPresent(ageCheck, ['name'], [name, ageFromRegistry]), 422, 'disclosure.untrusted_issuer');
    });

    it('refuses an answer to a request that does not exist as disclosure.unknown_request', async () => {
      const presentation = await selfPresentation(her, { name: ADA.name }, ['name'], kbFor(pending));
      await expectRefused(() => sendPresent({ id: randomUUID(), messageId: randomUUID() }, ['name'], [presentation]), 404, 'disclosure.unknown_request');
    });

    it('refuses an answer to another relationship’s request as disclosure.unknown_request', async () => {
      const presentation = await selfPresentation(her, { email: ADA.email }, ['email'], kbFor(otherRequest));
      await expectRefused(() => sendPresent(otherRequest, ['email'], [presentation]), 404, 'disclosure.unknown_request');
    });

    it('refuses a malformed SD-JWT as disclosure.malformed', async () => {
      await expectRefused(() => sendPresent(pending, ['name'], ['this is not an SD-JWT']), 400, 'disclosure.malformed');
      await expectRefused(() => sendPresent(pending, ['name'], ['eyJhbGciOiJFZERTQSJ9.e30.c2ln~']), 400, 'disclosure.malformed');
    });

    it('refuses an SD-JWT over 64 KiB as message.body_invalid', async () => {
      const presentation = await selfPresentation(her, { name: ADA.name }, ['name'], kbFor(pending));
      const bare = withoutKeyBinding(presentation);
      const padded = `${bare}${'A'.repeat(64 * 1024)}~`;
      const oversized = `${padded}${signKeyBinding(padded, signingKeyObject(her), { aud: company.did, nonce: pending.nonce })}`;
      expect(oversized.length).toBeGreaterThan(64 * 1024);
      await expectRefused(() => sendPresent(pending, ['name'], [oversized]), 422, 'message.body_invalid');
    });
  });

  describe('profile-update/notice', () => {
    it('refuses a version older than the one the company applied as profile.stale_version', async () => {
      await expectRefused(() => sendNotice(applied - 1, ['address'], { address: HOVE }), 409, 'profile.stale_version');
    });

    it('refuses an update of a field she never disclosed to the company as profile.field_not_held', async () => {
      await expectRefused(() => sendNotice(applied + 1, ['nickname'], { nickname: 'Countess' }), 422, 'profile.field_not_held');
    });

    it('refuses an update on a relationship she cut off as relationship.cut_off', async () => {
      await expectRefused(() => sendNotice(applied + 1, ['address'], { address: HOVE }, { from: cutOffIdentity }), 410, 'relationship.cut_off');
    });

    it('refuses a presentation whose nonce is not the notice’s message id as disclosure.nonce_mismatch', async () => {
      // Lifted from elsewhere: here, bound to one of the company's own request nonces.
      await expectRefused(() => sendNotice(applied + 1, ['address'], { address: HOVE }, { nonce: pending.nonce }), 400, 'disclosure.nonce_mismatch');
      await expectRefused(() => sendNotice(applied + 1, ['address'], { address: HOVE }, { nonce: randomUUID() }), 400, 'disclosure.nonce_mismatch');
    });

    it('refuses a presentation disclosing a field the notice does not list as disclosure.not_requested', async () => {
      await expectRefused(() => sendNotice(applied + 1, ['address'], { address: HOVE, email: 'new@example.org' }), 422, 'disclosure.not_requested');
    });

    it('refuses a value of the wrong shape as profile.invalid_value', async () => {
      await expectRefused(() => sendNotice(applied + 1, ['email'], { email: 'ada.example.org' }), 400, 'profile.invalid_value');
      await expectRefused(() => sendNotice(applied + 1, ['address'], { address: { planet: 'Mars' } }), 400, 'profile.invalid_value');
    });

    it('refuses a malformed SD-JWT in a notice as disclosure.malformed', async () => {
      await expectRefused(
        () => sendAs(her, company, ProfileUpdate.notice.type, { version: applied + 1, fields: ['address'], presentation: { format: 'dc+sd-jwt', sd_jwt: 'not~an~sd-jwt' } }),
        400,
        'disclosure.malformed',
      );
    });
  });
});

describe('her agent refuses answers and profile changes she cannot make, and changes nothing', () => {
  let company: CompanyHandle;
  let personal: PersonalHandle;
  let link: Link;
  let answeredId: string;

  beforeAll(async () => {
    company = await startCompany({ name: 'Plain Dealing Ltd' });
    personal = await startPersonal();
    personal.agent.profile.set(ADA);
    link = await connect(personal, company);
    await company.agent.requestDisclosure(link.companyRelationship.id, { fields: ['email'], purpose: 'Receipts' });
    const [request] = personal.agent.disclosure.requests();
    answeredId = request!.id;
    await personal.agent.disclosure.approve(answeredId);
  });
  afterAll(async () => {
    await personal?.cleanup();
    await company?.cleanup();
  });

  async function expectRejected(work: () => Promise<unknown> | unknown, code: KithErrorCode): Promise<void> {
    const companyBefore = await company.snapshot();
    const hersBefore = personal.snapshot();
    let caught: unknown;
    try {
      await work();
    } catch (error) {
      caught = error;
    }
    expect(isKithError(caught) ? caught.code : caught).toBe(code);
    expect(personal.snapshot()).toEqual(hersBefore);
    expect(await company.snapshot()).toEqual(companyBefore);
  }

  it('refuses to approve a request she never received as disclosure.unknown_request', async () => {
    await expectRejected(() => personal.agent.disclosure.approve(randomUUID()), 'disclosure.unknown_request');
    await expectRejected(() => personal.agent.disclosure.decline('nope'), 'disclosure.unknown_request');
  });

  it('refuses to answer a request she already answered as disclosure.not_pending', async () => {
    await expectRejected(() => personal.agent.disclosure.approve(answeredId), 'disclosure.not_pending');
    await expectRejected(() => personal.agent.disclosure.decline(answeredId), 'disclosure.not_pending');
  });

  it('refuses an unknown profile field as profile.unknown_field and a bad value as profile.invalid_value, writing nothing', async () => {
    await expectRejected(() => personal.agent.profile.set({ shirt_size: 38 }), 'profile.unknown_field');
    await expectRejected(() => personal.agent.profile.set({ email: 'ada.example.org' }), 'profile.invalid_value');
    await expectRejected(() => personal.agent.profile.set({ address: { planet: 'Mars' } }), 'profile.invalid_value');
    // One bad value spoils the whole change: the good one is not written either.
    await expectRejected(() => personal.agent.profile.set({ name: 'Augusta Ada King', birthdate: '1815-13-10' }), 'profile.invalid_value');
    expect(personal.agent.profile.profile().fields.find((f) => f.field === 'name')?.value).toBe(ADA.name);
  });

  it('refuses PUT /api/profile with a bad body as 400 api.bad_request', async () => {
    const put = (body: string) =>
      fetch(`${personal.url}/api/profile`, { method: 'PUT', headers: { authorization: `Bearer ${personal.token}`, 'content-type': 'application/json' }, body });
    for (const body of ['not json', '{}', '{"fields": {}}', '{"fields": "address"}', '{"fields": ["email"]}', '[]']) {
      const companyBefore = await company.snapshot();
      const hersBefore = personal.snapshot();
      const response = await put(body);
      const json = (await response.json()) as { error?: { code?: string } };
      expect({ body, status: response.status, code: json.error?.code }).toEqual({ body, status: 400, code: 'api.bad_request' });
      expect(personal.snapshot()).toEqual(hersBefore);
      expect(await company.snapshot()).toEqual(companyBefore);
    }
    // A well-formed body naming an unknown field gets the profile's own code.
    const unknown = await put(JSON.stringify({ fields: { shirt_size: 38 } }));
    expect([unknown.status, ((await unknown.json()) as { error?: { code?: string } }).error?.code]).toEqual([400, 'profile.unknown_field']);
  });
});
