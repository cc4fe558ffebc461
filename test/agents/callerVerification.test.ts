/**
 * Caller verification (docs/protocol/caller-verification.md) between real agents over real HTTP on
 * loopback: the company's admin API sends a challenge, her agent keeps it and shows the same code,
 * her signed answer reaches the company, which keeps the JWS as proof. Every refusal names its code
 * and changes nothing on either side.
 */
import { generalVerify, importJWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { VerificationView as CompanyVerification } from '../../src/company/callerVerification.js';
import type { AgentEvent } from '../../src/personal/events.js';
import { CallerVerification } from '../../src/protocol/families/index.js';
import { connect, jsonApi, herIdentity, postEnvelopeRaw, startPair, startPersonal, type Pair, type PersonalHandle } from '../support/agents.js';
import { packAs, sendAs } from '../support/disclosure.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { systemClock } from '../../src/core/clock.js';
import { failure } from '../support/errorCodes.js';

const CODE = /^[ACDEFGHJKMNPQRTWXYZ234679]{3}-[ACDEFGHJKMNPQRTWXYZ234679]{3}$/;

describe('caller verification between the agents', () => {
  let pair: Pair;
  let clock: ManualClock;
  let events: AgentEvent[];
  let others: PersonalHandle[];

  beforeEach(async () => {
    // One clock for both sides, so a challenge can be made to expire on both at once.
    clock = new ManualClock(Date.now());
    pair = await startPair({ company: { clock }, personal: { clock } });
    events = [];
    others = [];
    pair.personal.agent.events.on((event) => events.push(event));
  });
  afterEach(async () => {
    for (const other of others) await other.cleanup();
    await pair?.cleanup();
  });

  const admin = async (method: string, path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${pair.company.url}${path}`, { method, headers: { authorization: `Bearer ${pair.company.adminToken}`, ...headers } });
    return { status: response.status, json: (await response.json()) as Record<string, any> };
  };
  const herApi = jsonApi(() => pair.personal.url, () => pair.personal.token);
  const challenge = async (): Promise<CompanyVerification> => {
    const started = await admin('POST', `/admin/relationships/${pair.link.companyRelationship.customerRef}/verifications`, { 'x-kith-operator': 'Sam, support' });
    expect(started.status).toBe(201);
    return started.json['verification'] as CompanyVerification;
  };
  const herVerification = async () => {
    const { json } = await herApi('GET', '/api/verifications');
    expect(json['verifications']).toHaveLength(1);
    return json['verifications'][0] as { id: string; code: string; state: string; agent: string; companyName: string };
  };
  /** Her answer sent by hand, signed with her pairwise keys (what a second answer or a forger would send). */
  const answerAs = async (identity = herIdentity(pair.personal, pair.link.view.id), body: Record<string, unknown>, thid?: string) =>
    sendAs(identity, pair.company, CallerVerification.answer.type, body, thid === undefined ? {} : { thid });
  const messageIdOf = async (id: string) => (await pair.company.store.getVerification(id))!.messageId;

  it('shows the same code on both sides; her approval reaches the company signed by her pairwise DID, kept as the proof', async () => {
    const sent = await challenge();
    expect(sent).toMatchObject({ state: 'pending', operator: 'Sam, support', delivered: true, signedBy: null });
    expect(sent.code).toMatch(CODE);
    expect(sent.expiresAt - clock.now()).toBeLessThanOrEqual(5 * 60_000);

    const hers = await herVerification();
    expect(hers).toMatchObject({ code: sent.code, state: 'pending', agent: 'Sam, support', companyName: pair.company.name });
    expect(events).toContainEqual({ type: 'verification.requested', verificationId: hers.id, relationshipId: pair.link.view.id });

    const answered = await herApi('POST', `/api/verifications/${hers.id}/answer`, { decision: 'approved' });
    expect(answered.status).toBe(200);
    expect(answered.json['verification']).toMatchObject({ id: hers.id, state: 'approved' });

    const { json } = await admin('GET', `/admin/verifications/${sent.id}`);
    const outcome = json['verification'] as CompanyVerification;
    expect(outcome).toMatchObject({ state: 'approved', signedBy: pair.link.record.myDid });
    expect(outcome.signerKid?.startsWith(`${pair.link.record.myDid}#`)).toBe(true);
    // The proof: her JWS verifies with her pairwise signing key, over her answer to this challenge.
    const signing = herIdentity(pair.personal, pair.link.view.id).signing;
    const verified = await generalVerify(JSON.parse(outcome.answerJws!), await importJWK(signing.publicJwk, 'EdDSA'));
    const plaintext = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, any>;
    expect(plaintext).toMatchObject({ type: CallerVerification.answer.type, from: pair.link.record.myDid, thid: await messageIdOf(sent.id), body: { challenge_id: sent.id, decision: 'approved' } });

    const audit = await admin('GET', `/admin/audit?relationship=${pair.link.companyRelationship.id}`);
    expect(audit.json['entries']).toEqual([expect.objectContaining({ operator: 'Sam, support', action: 'api.verify', relationshipId: pair.link.companyRelationship.id })]);
  });

  it('records her refusal as refused', async () => {
    const sent = await challenge();
    const hers = await herVerification();
    expect((await herApi('POST', `/api/verifications/${hers.id}/answer`, { decision: 'refused' })).json['verification']).toMatchObject({ state: 'refused' });
    expect((await admin('GET', `/admin/verifications/${sent.id}`)).json['verification']).toMatchObject({ state: 'refused', signedBy: pair.link.record.myDid });
  });

  it('refuses a second answer (verification.answered) and the same answer again (message.replayed), changing nothing', async () => {
    const sent = await challenge();
    const hers = await herVerification();
    await herApi('POST', `/api/verifications/${hers.id}/answer`, { decision: 'approved' });
    const [approvedEnvelope] = pair.company.inbound.slice(-1);
    const companyBefore = await pair.company.snapshot();
    const herBefore = pair.personal.snapshot();

    // Her agent refuses before sending anything.
    const again = await herApi('POST', `/api/verifications/${hers.id}/answer`, { decision: 'refused' });
    expect(again).toMatchObject({ status: 409, json: { error: { code: 'verification.answered' } } });
    // The company refuses a second answer sent with her keys.
    const second = await answerAs(undefined, { challenge_id: sent.id, decision: 'refused' }, await messageIdOf(sent.id));
    expect(second.response.status).toBe(409);
    expect(second.response.json.error?.code).toBe('verification.answered');
    // And the same envelope again.
    const replayed = await postEnvelopeRaw(pair.company.didcommUrl, approvedEnvelope!);
    expect(replayed.json.error?.code).toBe('message.replayed');

    expect(await pair.company.snapshot()).toEqual(companyBefore);
    expect(pair.personal.snapshot()).toEqual(herBefore);
    expect((await admin('GET', `/admin/verifications/${sent.id}`)).json['verification']).toMatchObject({ state: 'approved' });
  });

  it('refuses an answer after the challenge ended: her agent shows it expired and will not send, the company will not take it', async () => {
    const sent = await challenge();
    const hers = await herVerification();
    clock.advance(5 * 60_000 + 1_000);
    expect((await herVerification()).state).toBe('expired');
    const companyBefore = await pair.company.snapshot();
    const herBefore = pair.personal.snapshot();

    const mine = await herApi('POST', `/api/verifications/${hers.id}/answer`, { decision: 'approved' });
    expect(mine).toMatchObject({ status: 409, json: { error: { code: 'verification.expired' } } });
    const late = await answerAs(undefined, { challenge_id: sent.id, decision: 'approved' }, await messageIdOf(sent.id));
    expect(late.response.status).toBe(409);
    expect(late.response.json.error?.code).toBe('verification.expired');

    expect(await pair.company.snapshot()).toEqual(companyBefore);
    expect(pair.personal.snapshot()).toEqual(herBefore);
    expect((await admin('GET', `/admin/verifications/${sent.id}`)).json['verification']).toMatchObject({ state: 'expired', answerJws: null });
  });

  it('refuses the company’s refusal on her side too: her challenge stays pending when the company will not take her answer', async () => {
    const sent = await challenge();
    const hers = await herVerification();
    // The company ends it first (its clock alone: here, by answering it with her keys behind her agent's back).
    await answerAs(undefined, { challenge_id: sent.id, decision: 'refused' }, await messageIdOf(sent.id));
    const herBefore = pair.personal.snapshot();
    const refused = await failure(() => pair.personal.agent.verifications.answer(hers.id, 'approved'));
    expect(refused?.code).toBe('verification.answered');
    expect(pair.personal.snapshot()).toEqual(herBefore);
    expect((await herVerification()).state).toBe('pending');
  });

  it('refuses an answer to an unknown challenge, or on another thread (verification.unknown), changing nothing', async () => {
    const sent = await challenge();
    const before = await pair.company.snapshot();
    const unknown = await answerAs(undefined, { challenge_id: randomUUID(), decision: 'approved' }, await messageIdOf(sent.id));
    expect(unknown.response.status).toBe(404);
    expect(unknown.response.json.error?.code).toBe('verification.unknown');
    const offThread = await answerAs(undefined, { challenge_id: sent.id, decision: 'approved' }, randomUUID());
    expect(offThread.response.json.error?.code).toBe('verification.unknown');
    const noThread = await answerAs(undefined, { challenge_id: sent.id, decision: 'approved' });
    expect(noThread.response.json.error?.code).toBe('verification.unknown');
    expect(await pair.company.snapshot()).toEqual(before);
    expect((await admin('GET', `/admin/verifications/${sent.id}`)).json['verification']).toMatchObject({ state: 'pending' });
  });

  it('refuses an answer from another relationship as unknown, changing nothing', async () => {
    const sent = await challenge();
    const mallory = await startPersonal({ clock });
    others.push(mallory);
    const link = await connect(mallory, pair.company);
    const before = await pair.company.snapshot();
    const forged = await answerAs(herIdentity(mallory, link.view.id), { challenge_id: sent.id, decision: 'approved' }, await messageIdOf(sent.id));
    expect(forged.response.status).toBe(404);
    expect(forged.response.json.error?.code).toBe('verification.unknown');
    expect(await pair.company.snapshot()).toEqual(before);
    expect((await admin('GET', `/admin/verifications/${sent.id}`)).json['verification']).toMatchObject({ state: 'pending', signedBy: null });
  });

  it('her agent keeps a challenge once: the same challenge under a new message id adds nothing; a bad code is refused, changing nothing', async () => {
    const sent = await challenge();
    const hers = await herVerification();
    const before = pair.personal.snapshot();
    const requested = () => events.filter((e) => e.type === 'verification.requested').length;
    const requested0 = requested();
    /** A challenge the company signs (its own keys), pushed to her route. */
    const push = async (body: Record<string, unknown>) => {
      const message = buildMessage({ type: CallerVerification.challenge.type, from: pair.company.did, to: pair.link.record.myDid, body }, systemClock);
      return postEnvelopeRaw(pair.personal.didcommUrl(pair.link.view.id), await packAs(pair.company.identity, message));
    };
    const stored = (await pair.company.store.getVerification(sent.id))!;
    const body = { challenge_id: sent.id, code: stored.code, agent: 'Sam, support', expires_time: Math.floor(stored.expiresAt / 1000) };
    expect((await push(body)).status).toBeLessThan(300);
    expect(pair.personal.agent.verifications.list()).toEqual([expect.objectContaining({ id: hers.id, code: sent.code, state: 'pending' })]);
    expect(requested()).toBe(requested0);

    const afterRedelivery = pair.personal.snapshot();
    for (const bad of [{ ...body, challenge_id: randomUUID(), code: 'K0Q4MX' }, { ...body, challenge_id: randomUUID(), agent: '' }]) {
      const refused = await push(bad);
      expect(refused.json.error?.code).toBe('message.body_invalid');
    }
    expect(pair.personal.snapshot()).toEqual(afterRedelivery);
    // Only the seen-message record of the redelivery was added by it.
    expect(Object.keys(afterRedelivery)).toEqual(Object.keys(before));
  });

  it('answers unknown ids in the admin API and refuses a bad operator header', async () => {
    expect(await admin('GET', `/admin/verifications/${randomUUID()}`)).toMatchObject({ status: 404, json: { error: { code: 'verification.unknown' } } });
    const before = await pair.company.snapshot();
    const bad = await admin('POST', `/admin/relationships/${pair.link.companyRelationship.id}/verifications`, { 'x-kith-operator': 'x'.repeat(61) });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'api.bad_request' } } });
    expect(await pair.company.snapshot()).toEqual(before);
    expect((await herApi('POST', `/api/verifications/${randomUUID()}/answer`, { decision: 'approved' })).json).toMatchObject({ error: { code: 'verification.unknown' } });
    expect((await herApi('POST', `/api/verifications/x/answer`, { decision: 'maybe' })).json).toMatchObject({ error: { code: 'api.bad_request' } });
  });
});
