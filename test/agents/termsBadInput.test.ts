/**
 * The bad-input matrix of terms: proffers, accepts, declines and responses crafted by hand (signed
 * and encrypted as her, POSTed over real HTTP to the company's DIDComm endpoint), company proffers
 * crafted as the company and pushed to her endpoint, and a fake company answering her connect with
 * bad terms. Each is wrong in exactly one way, is refused with its own terms.* code, and changes
 * nothing on either side: every row of the company store and of her vault stays as it was, and a
 * connect that fails leaves no relationship behind.
 */
import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { KithErrorCode } from '../../src/core/errors.js';
import { presentError } from '../../src/core/errorTable.js';
import { createPeerIdentity, signingKeyOf, type LocalIdentity } from '../../src/protocol/agent/identity.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import type { ReceivedMessage } from '../../src/protocol/envelope/receive.js';
import { Connect, Terms } from '../../src/protocol/families/index.js';
import { KITH_CONNECT_GOAL_CODE, OOB_INVITATION_TYPE, invitationUrl } from '../../src/protocol/families/outOfBand.js';
import {
  buildAgreementRecord,
  countersign,
  signAgreement,
  signedAgreementSchema,
  type AgreementRecord,
  type PartyRole,
  type SignedAgreement,
} from '../../src/protocol/terms/agreementRecord.js';
import { signDetached } from '../../src/protocol/terms/detachedJws.js';
import { bundledRoster, type Roster } from '../../src/protocol/terms/roster.js';
import { connect, herIdentity, startPersonal, startCompany, type HttpResult, type Link, type PersonalHandle, type CompanyHandle } from '../support/agents.js';
import { openReply, packAs, sendAs, type Sent } from '../support/disclosure.js';
import { codeOfRejection } from '../support/errorCodes.js';

const ID = (name: string): string => `https://kith.invalid/terms/agreements/${name}`;
const ANOTHER_TEXT_HASH = createHash('sha256').update('Some other text than the roster pins', 'utf8').digest('hex');

let roster: Roster;

/** A detached signature by `by`, under `kid`, made with `privateKey` (which need not be the kid's). */
function signatureOf(record: unknown, by: PartyRole, kid: string, privateKey: KeyObject) {
  return { by, kid, jws: signDetached(record, { kid, privateKey }) };
}

/** A plain proffer record of `agreement` between two DIDs, then changed by `change` (the change is not validated). */
function profferRecord(input: { person: string; company: string; supersedes: string | null; agreement?: string; profferedBy?: PartyRole }, change: Record<string, unknown> = {}): AgreementRecord {
  const agreementId = ID(input.agreement ?? 'service-only');
  const record = buildAgreementRecord({
    roster,
    agreementId,
    proffered: agreementId,
    person: input.person,
    company: input.company,
    agreedAt: Date.now(),
    supersedes: input.supersedes,
    profferedBy: input.profferedBy ?? 'person',
  });
  return { ...record, ...change } as AgreementRecord;
}

const keyOf = (identity: LocalIdentity): KeyObject => signingKeyOf(identity).privateKey;

describe('terms the company agent refuses, changing nothing on either side', () => {
  let company: CompanyHandle;
  let personal: PersonalHandle;
  /** Intent-only-contact agreed. */
  let main: Link;
  let her: LocalIdentity;
  let inForce: string;
  /** Her proffer of service-only countered with loyalty-program, waiting for her. */
  let waiting: Link;
  let herWaiting: LocalIdentity;
  let waitingCounter: SignedAgreement;
  /** A counter she already declined. */
  let answered: Link;
  let answeredCounter: SignedAgreement;
  /** The company proposed loyalty-program; it waits for her. */
  let proposed: Link;
  let companyProffer: SignedAgreement;
  /** A new pairwise DID of hers, connecting for the first time (every such connect fails). */
  const newcomer = createPeerIdentity('http://127.0.0.1:9/didcomm/newcomer').identity;
  const stranger = createPeerIdentity('http://127.0.0.1:9/didcomm').identity;

  async function companyRow(link: Link, state: string): Promise<SignedAgreement> {
    const row = (await company.agent.termsHistory(link.companyRelationship.id)).find((r) => r.proposedBy === 'company' && r.state === state);
    if (!row) throw new Error(`no company record in state ${state}`);
    return signedAgreementSchema.parse(row.signed);
  }

  beforeAll(async () => {
    roster = (await bundledRoster()).roster;
    company = await startCompany({ name: 'Strict Terms Ltd', policy: { terms: { accept: ['intent-only-contact'], preferred: 'loyalty-program' } } });
    personal = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });

    await personal.agent.terms.setDefault('intent-only-contact');
    main = await connect(personal, company);
    her = herIdentity(personal, main.view.id);
    inForce = personal.vault.agreements.current(main.view.id)!.id;
    expect((await company.store.currentTermsAgreement(main.companyRelationship.id))?.id).toBe(inForce);

    await personal.agent.terms.setDefault('service-only');
    waiting = await connect(personal, company);
    expect(waiting.view.terms.awaitingHer).toBe(true);
    herWaiting = herIdentity(personal, waiting.view.id);
    waitingCounter = await companyRow(waiting, 'proffered');

    answered = await connect(personal, company);
    await personal.agent.terms.reject(answered.view.id);
    answeredCounter = await companyRow(answered, 'declined');

    await personal.agent.terms.setDefault('intent-only-contact');
    proposed = await connect(personal, company);
    const proposal = await company.agent.proposeTerms(proposed.companyRelationship.id, 'loyalty-program');
    expect(proposal.delivered).toBe(true);
    expect(personal.vault.agreements.get(proposal.recordId)?.state).toBe('proffered');
    companyProffer = signedAgreementSchema.parse((await company.store.getTermsAgreement(proposal.recordId))!.signed);
  });
  afterAll(async () => {
    await personal?.cleanup();
    await company?.cleanup();
  });

  /** Sends, then checks the status and code, and that neither side changed at all. */
  async function expectRefused(send: () => Promise<Sent | HttpResult>, code: KithErrorCode): Promise<void> {
    const companyBefore = await company.snapshot();
    const hersBefore = personal.snapshot();
    const sent = await send();
    const response = 'response' in sent ? sent.response : sent;
    expect({ status: response.status, code: response.json.error?.code }).toEqual({ status: presentError(code).status, code });
    expect(await company.snapshot()).toEqual(companyBefore);
    expect(personal.snapshot()).toEqual(hersBefore);
  }

  interface Carrier {
    name: string;
    /** Her DID in the record, the key she signs with, and what `supersedes` must be. */
    identity(): LocalIdentity;
    supersedes(): string | null;
    send(agreement: unknown): Promise<Sent>;
  }
  const carriers: Carrier[] = [
    {
      name: 'terms/proffer on a relationship with terms in force',
      identity: () => her,
      supersedes: () => inForce,
      send: (agreement) => sendAs(her, company, Terms.proffer.type, { agreement }),
    },
    {
      name: 'connect/request from a new pairwise DID',
      identity: () => newcomer,
      supersedes: () => null,
      send: (agreement) => sendAs(newcomer, company, Connect.request.type, { terms: { agreement } }),
    },
  ];

  /** Her valid proffer of service-only for the carrier, then changed by `change`. */
  const base = (c: Carrier, change: Record<string, unknown> = {}) => profferRecord({ person: c.identity().did, company: company.did, supersedes: c.supersedes() }, change);
  /** Signed by her, validly, whatever the record says. */
  const signedByHer = (c: Carrier, record: unknown) => ({ record, signatures: [signatureOf(record, 'person', c.identity().signing.kid, keyOf(c.identity()))] });

  const proffers: [string, (c: Carrier) => unknown, KithErrorCode][] = [
    ['signed by another key under her kid', (c) => ({ record: base(c), signatures: [signatureOf(base(c), 'person', c.identity().signing.kid, keyOf(stranger))] }), 'terms.signature_invalid'],
    ['signed with a key of another DID', (c) => ({ record: base(c), signatures: [signatureOf(base(c), 'person', stranger.signing.kid, keyOf(stranger))] }), 'terms.signature_invalid'],
    ['signed over another record', (c) => ({ record: base(c), signatures: [signatureOf(base(c, { agreedAt: '2020-01-01T00:00:00.000Z' }), 'person', c.identity().signing.kid, keyOf(c.identity()))] }), 'terms.signature_invalid'],
    ['without any signature', (c) => ({ record: base(c), signatures: [] }), 'terms.countersignature_missing'],
    ['signed by the company as well', (c) => {
      const record = base(c);
      return { record, signatures: [signatureOf(record, 'person', c.identity().signing.kid, keyOf(c.identity())), signatureOf(record, 'company', company.identity.signing.kid, keyOf(company.identity))] };
    }, 'terms.record_invalid'],
    ['pinning another text than the roster', (c) => signedByHer(c, base(c, { textSha256: ANOTHER_TEXT_HASH })), 'terms.text_mismatch'],
    ['of a roster version nobody published', (c) => signedByHer(c, base(c, { rosterVersion: 2 })), 'terms.unknown_roster'],
    ['of an unknown roster', (c) => signedByHer(c, base(c, { rosterId: 'https://kith.invalid/terms/another-roster' })), 'terms.unknown_roster'],
    ['of an agreement the roster does not have', (c) => signedByHer(c, base(c, { agreementId: ID('no-such-agreement'), proffered: ID('no-such-agreement') })), 'terms.unknown_agreement'],
    ['of another version of the agreement', (c) => signedByHer(c, base(c, { agreementVersion: 2 })), 'terms.unknown_agreement'],
    ['between her and another company', (c) => signedByHer(c, base(c, { parties: { person: c.identity().did, company: stranger.did } })), 'terms.record_mismatch'],
    ['between another person and the company', (c) => ({ record: base(c, { parties: { person: stranger.did, company: company.did } }), signatures: [signatureOf(base(c, { parties: { person: stranger.did, company: company.did } }), 'person', stranger.signing.kid, keyOf(stranger))] }), 'terms.record_mismatch'],
    ['superseding an agreement that is not in force', (c) => signedByHer(c, base(c, { supersedes: randomUUID() })), 'terms.record_mismatch'],
    ['missing a member (agreedAt)', (c) => {
      const { agreedAt: _dropped, ...record } = base(c);
      return signedByHer(c, record);
    }, 'terms.record_invalid'],
    ['with a member too many', (c) => signedByHer(c, { ...base(c), note: 'extra' }), 'terms.record_invalid'],
    ['proffered by the company', (c) => signedByHer(c, base(c, { profferedBy: 'company' })), 'terms.record_invalid'],
    ['already countered', (c) => signedByHer(c, base(c, { proffered: ID('intent-only-contact'), outcome: 'countered-accepted' })), 'terms.record_invalid'],
  ];

  for (const carrier of carriers) {
    describe(`a proffer in ${carrier.name}`, () => {
      it.each(proffers)('refuses one %s', async (_what, build, code) => {
        await expectRefused(() => carrier.send(build(carrier)), code);
      });
    });
  }

  it('on her proffer on the existing relationship, "supersedes" null while terms are in force is terms.record_mismatch', async () => {
    await expectRefused(() => sendAs(her, company, Terms.proffer.type, { agreement: signAgreement(profferRecord({ person: her.did, company: company.did, supersedes: null }), signingKeyOf(her)) }), 'terms.record_mismatch');
  });

  it('a failed connect leaves no relationship with the company', async () => {
    expect(await company.store.findRelationshipByDid(newcomer.did)).toBeUndefined();
  });

  describe('her accept or decline of a counter', () => {
    const herSignature = (record: AgreementRecord) => signatureOf(record, 'person', herWaiting.signing.kid, keyOf(herWaiting));
    const accept = (agreement: unknown, recordId = waitingCounter.record.id, from = herWaiting) =>
      sendAs(from, company, Terms.accept.type, { record_id: recordId, agreement }, { thid: waitingCounter.record.id });

    it('without the company’s signature is terms.countersignature_missing', async () => {
      await expectRefused(() => accept({ record: waitingCounter.record, signatures: [herSignature(waitingCounter.record)] }), 'terms.countersignature_missing');
    });

    it('with a forged company signature is terms.signature_invalid', async () => {
      const record = waitingCounter.record;
      await expectRefused(() => accept({ record, signatures: [herSignature(record), signatureOf(record, 'company', company.identity.signing.kid, keyOf(stranger))] }), 'terms.signature_invalid');
    });

    it('with a forged signature of hers is terms.signature_invalid', async () => {
      const record = waitingCounter.record;
      await expectRefused(() => accept({ record, signatures: [signatureOf(record, 'person', herWaiting.signing.kid, keyOf(stranger)), waitingCounter.signatures[0]] }), 'terms.signature_invalid');
    });

    it('carrying another record than the counter is terms.record_mismatch', async () => {
      const record = { ...waitingCounter.record, agreedAt: '2020-01-01T00:00:00.000Z' };
      await expectRefused(() => accept({ record, signatures: [herSignature(record), waitingCounter.signatures[0]] }), 'terms.record_mismatch');
    });

    it('of a record the company never proposed is terms.record_mismatch', async () => {
      await expectRefused(() => accept(countersign(waitingCounter, signingKeyOf(herWaiting)), randomUUID()), 'terms.record_mismatch');
    });

    it('from another relationship than the counter’s is terms.record_mismatch', async () => {
      await expectRefused(() => accept(countersign(waitingCounter, signingKeyOf(herWaiting)), waitingCounter.record.id, her), 'terms.record_mismatch');
    });

    it('of a counter already answered is terms.counter_loop', async () => {
      const herAnswered = herIdentity(personal, answered.view.id);
      const both = countersign(answeredCounter, signingKeyOf(herAnswered));
      await expectRefused(() => sendAs(herAnswered, company, Terms.accept.type, { record_id: answeredCounter.record.id, agreement: both }), 'terms.counter_loop');
      await expectRefused(() => sendAs(herAnswered, company, Terms.decline.type, { record_id: answeredCounter.record.id }), 'terms.counter_loop');
    });

    it('answering the counter with a counter of hers is terms.counter_loop', async () => {
      const mine = signAgreement(profferRecord({ person: herWaiting.did, company: company.did, supersedes: null, agreement: 'service-only' }), signingKeyOf(herWaiting));
      await expectRefused(
        () => sendAs(herWaiting, company, Terms.response.type, { record_id: waitingCounter.record.id, decision: 'countered', alternatives: [mine] }, { thid: waitingCounter.record.id }),
        'terms.counter_loop',
      );
    });
  });

  describe('her answer to the company’s own proffer', () => {
    it('countering it is terms.counter_loop', async () => {
      const herProposed = herIdentity(personal, proposed.view.id);
      const mine = signAgreement(profferRecord({ person: herProposed.did, company: company.did, supersedes: companyProffer.record.supersedes, agreement: 'service-only' }), signingKeyOf(herProposed));
      await expectRefused(
        () => sendAs(herProposed, company, Terms.response.type, { record_id: companyProffer.record.id, decision: 'countered', alternatives: [mine] }, { thid: companyProffer.record.id }),
        'terms.counter_loop',
      );
    });

    it('"accepting" it as if it were a counter is terms.counter_loop', async () => {
      const herProposed = herIdentity(personal, proposed.view.id);
      await expectRefused(
        () => sendAs(herProposed, company, Terms.accept.type, { record_id: companyProffer.record.id, agreement: countersign(companyProffer, signingKeyOf(herProposed)) }),
        'terms.counter_loop',
      );
    });

    it('accepting it without her signature is terms.countersignature_missing', async () => {
      const herProposed = herIdentity(personal, proposed.view.id);
      await expectRefused(
        () => sendAs(herProposed, company, Terms.response.type, { record_id: companyProffer.record.id, decision: 'accepted', agreement: companyProffer }, { thid: companyProffer.record.id }),
        'terms.countersignature_missing',
      );
    });
  });

  it('a disclosure request outside the agreed terms is refused by the admin API as terms.outside_terms', async () => {
    await expectRefused(async () => {
      const response = await fetch(`${company.url}/admin/relationships/${main.companyRelationship.customerRef}/disclosure-requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${company.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ fields: ['email'], purpose: 'Offers', purposeCode: 'marketing', retention: 'P30D' }),
      });
      return { status: response.status, text: '', json: (await response.json()) as HttpResult['json'] };
    }, 'terms.outside_terms');
  });

  describe('company proffers her agent refuses (crafted as the company, pushed to her endpoint)', () => {
    /** The company's proffer of service-only on `main`, changed by `change`, signed by the company. */
    const companyRecord = (change: Record<string, unknown> = {}) =>
      profferRecord({ person: her.did, company: company.did, supersedes: inForce, profferedBy: 'company' }, change);
    const signedByCompany = (record: unknown) => ({ record, signatures: [signatureOf(record, 'company', company.identity.signing.kid, keyOf(company.identity))] });
    const push = (agreement: unknown) => sendAs(company.identity, { did: her.did, didcommUrl: personal.didcommUrl(main.view.id) }, Terms.proffer.type, { agreement });

    const cases: [string, () => unknown, KithErrorCode][] = [
      ['superseding an agreement that is not in force', () => signedByCompany(companyRecord({ supersedes: randomUUID() })), 'terms.record_mismatch'],
      ['superseding nothing while terms are in force', () => signedByCompany(companyRecord({ supersedes: null })), 'terms.record_mismatch'],
      ['between the company and another person', () => signedByCompany(companyRecord({ parties: { person: stranger.did, company: company.did } })), 'terms.record_mismatch'],
      ['signed by another key under the company’s kid', () => ({ record: companyRecord(), signatures: [signatureOf(companyRecord(), 'company', company.identity.signing.kid, keyOf(stranger))] }), 'terms.signature_invalid'],
      ['without a signature', () => ({ record: companyRecord(), signatures: [] }), 'terms.countersignature_missing'],
      ['proffered by her', () => signedByCompany(companyRecord({ profferedBy: 'person' })), 'terms.record_invalid'],
      ['pinning another text', () => signedByCompany(companyRecord({ textSha256: ANOTHER_TEXT_HASH })), 'terms.text_mismatch'],
      ['of a roster she does not hold', () => signedByCompany(companyRecord({ rosterVersion: 7 })), 'terms.unknown_roster'],
      ['of an agreement not in the roster', () => signedByCompany(companyRecord({ agreementId: ID('no-such-agreement'), proffered: ID('no-such-agreement') })), 'terms.unknown_agreement'],
      ['missing a member (parties)', () => {
        const { parties: _dropped, ...record } = companyRecord();
        return signedByCompany(record);
      }, 'terms.record_invalid'],
    ];

    it.each(cases)('refuses one %s', async (_what, build, code) => {
      await expectRefused(() => push(build()), code);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Her side at connect: a fake company answers her connect request with bad terms.

interface FakeCompany {
  identity: LocalIdentity;
  invitationUrl: string;
  /** The connect requests it received, opened. */
  requests: ReceivedMessage[];
  /** The `terms` member of its connect response, given her signed proffer. */
  answer: (mine: SignedAgreement) => unknown;
  close(): Promise<void>;
}

/** A tiny company that answers any connect request with a connect response carrying `answer(proffer)`. */
async function startFakeCompany(): Promise<FakeCompany> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const { identity } = createPeerIdentity(`http://127.0.0.1:${port}/didcomm`);
  const invitation = { type: OOB_INVITATION_TYPE, id: randomUUID(), from: identity.did, body: { goal_code: KITH_CONNECT_GOAL_CODE, goal: 'Connect with Fake Terms Co', accept: ['didcomm/v2'] } };
  const fake: FakeCompany = {
    identity,
    invitationUrl: invitationUrl(`http://127.0.0.1:${port}/invite`, invitation),
    requests: [],
    answer: () => undefined,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const received = await openReply(Buffer.concat(chunks).toString('utf8'), identity);
      fake.requests.push(received);
      const mine = signedAgreementSchema.parse((received.message.body['terms'] as { agreement: unknown }).agreement);
      const message = buildMessage(
        { type: Connect.response.type, from: identity.did, to: received.senderDid, body: { vendor: { name: 'Fake Terms Co' }, customer_ref: 'C-12345678', terms: fake.answer(mine) }, thid: received.message.id },
        systemClock,
      );
      response.writeHead(200, { 'content-type': 'application/didcomm-encrypted+json' }).end(await packAs(identity, message));
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    }
  }
  server.on('request', (request: IncomingMessage, response: ServerResponse) => void handle(request, response));
  return fake;
}

describe('bad answers to her proffer at connect: refused, and the connect leaves no trace in her vault', () => {
  let personal: PersonalHandle;
  let fake: FakeCompany;
  const stranger = createPeerIdentity('http://127.0.0.1:9/didcomm').identity;

  beforeAll(async () => {
    roster = (await bundledRoster()).roster;
    personal = await startPersonal();
    await personal.agent.terms.setDefault('intent-only-contact');
    fake = await startFakeCompany();
  });
  afterAll(async () => {
    await fake?.close();
    await personal?.cleanup();
  });

  /** The company's counter to her proffer `mine`: loyalty-program, changed by `change`, not yet signed. */
  function counterRecord(mine: SignedAgreement, change: Record<string, unknown> = {}): AgreementRecord {
    const record = buildAgreementRecord({
      roster,
      agreementId: ID('loyalty-program'),
      proffered: mine.record.agreementId,
      person: mine.record.parties.person,
      company: fake.identity.did,
      agreedAt: Date.now(),
      supersedes: mine.record.supersedes,
    });
    return { ...record, ...change } as AgreementRecord;
  }
  const byFake = (record: unknown) => signatureOf(record, 'company', fake.identity.signing.kid, keyOf(fake.identity));
  const signedByFake = (record: unknown) => ({ record, signatures: [byFake(record)] });
  const countered = (mine: SignedAgreement, ...alternatives: unknown[]) => ({ record_id: mine.record.id, decision: 'countered', alternatives });

  it('a well-formed counter from the same fake company is kept (the control)', async () => {
    fake.answer = (mine) => countered(mine, signedByFake(counterRecord(mine)));
    const view = await personal.agent.connect(fake.invitationUrl);
    expect(view.terms).toMatchObject({ awaitingHer: true, name: null });
    expect(personal.agent.terms.history(view.id).map((t) => [t.proposedBy, t.state])).toEqual([
      ['person', 'countered'],
      ['company', 'proffered'],
    ]);
  });

  const cases: [string, (mine: SignedAgreement) => unknown, KithErrorCode][] = [
    ['a counter whose alternative is not in the roster', (mine) => countered(mine, signedByFake(counterRecord(mine, { agreementId: ID('not-in-the-roster') }))), 'terms.not_in_roster'],
    ['a counter from another version of the roster', (mine) => countered(mine, signedByFake(counterRecord(mine, { rosterVersion: 2 }))), 'terms.not_in_roster'],
    ['a counter with two alternatives', (mine) => countered(mine, signedByFake(counterRecord(mine)), signedByFake(counterRecord(mine, { agreementId: ID('service-plus-billing') }))), 'terms.counter_loop'],
    ['a counter naming her own proffer again', (mine) => countered(mine, signedByFake(counterRecord(mine, { agreementId: mine.record.agreementId, outcome: 'accepted' }))), 'terms.counter_loop'],
    ['a counter without the company’s signature', (mine) => countered(mine, { record: counterRecord(mine), signatures: [] }), 'terms.countersignature_missing'],
    ['a counter with a forged company signature', (mine) => countered(mine, { record: counterRecord(mine), signatures: [signatureOf(counterRecord(mine), 'company', fake.identity.signing.kid, keyOf(stranger))] }), 'terms.signature_invalid'],
    ['a counter pinning another text', (mine) => countered(mine, signedByFake(counterRecord(mine, { textSha256: ANOTHER_TEXT_HASH }))), 'terms.text_mismatch'],
    ['a counter between other parties', (mine) => countered(mine, signedByFake(counterRecord(mine, { parties: { person: mine.record.parties.person, company: stranger.did } }))), 'terms.record_mismatch'],
    ['a counter replacing another agreement than her proffer', (mine) => countered(mine, signedByFake(counterRecord(mine, { supersedes: randomUUID() }))), 'terms.record_mismatch'],
    ['a counter answering another proffer than hers', (mine) => countered(mine, signedByFake(counterRecord(mine, { proffered: ID('service-only') }))), 'terms.record_invalid'],
    ['a counter reusing her proffer’s record id', (mine) => countered(mine, signedByFake(counterRecord(mine, { id: mine.record.id }))), 'terms.record_invalid'],
    ['a counter missing a member (agreedAt)', (mine) => {
      const { agreedAt: _dropped, ...record } = counterRecord(mine);
      return countered(mine, signedByFake(record));
    }, 'terms.record_invalid'],
    ['an answer to another proffer', (mine) => ({ ...countered(mine, signedByFake(counterRecord(mine))), record_id: randomUUID() }), 'terms.record_mismatch'],
    ['an acceptance of another record than hers', (mine) => {
      const record = { ...mine.record, agreedAt: '2020-01-01T00:00:00.000Z' };
      return { record_id: mine.record.id, decision: 'accepted', agreement: { record, signatures: [mine.signatures[0], byFake(record)] } };
    }, 'terms.record_mismatch'],
    ['an acceptance without the company’s countersignature', (mine) => ({ record_id: mine.record.id, decision: 'accepted', agreement: mine }), 'terms.countersignature_missing'],
    ['an acceptance with a forged countersignature', (mine) => ({
      record_id: mine.record.id,
      decision: 'accepted',
      agreement: { record: mine.record, signatures: [mine.signatures[0], signatureOf(mine.record, 'company', fake.identity.signing.kid, keyOf(stranger))] },
    }), 'terms.signature_invalid'],
  ];

  it.each(cases)('refuses %s', async (_what, answer, code) => {
    fake.answer = answer;
    const before = personal.snapshot();
    const relationships = personal.agent.relationships().length;
    const requests = fake.requests.length;
    expect(await codeOfRejection(personal.agent.connect(fake.invitationUrl))).toBe(code);
    expect(fake.requests.length).toBe(requests + 1); // it did reach the company, with her proffer
    expect(personal.agent.relationships()).toHaveLength(relationships);
    expect(personal.snapshot()).toEqual(before);
  });

  it('the fake company only ever saw her signed proffer of her default terms', () => {
    for (const request of fake.requests) {
      const mine = signedAgreementSchema.parse((request.message.body['terms'] as { agreement: unknown }).agreement);
      expect(mine.record).toMatchObject({ agreementId: ID('intent-only-contact'), profferedBy: 'person', supersedes: null, parties: { person: request.senderDid, company: fake.identity.did } });
      expect(mine.signatures.map((s) => s.by)).toEqual(['person']);
    }
  });

  it('her agent refuses a connect response whose terms answer is unreadable as message.body_invalid, and stores nothing', async () => {
    fake.answer = (mine) => ({ record_id: mine.record.id, decision: 'countered' });
    const before = personal.snapshot();
    expect(await codeOfRejection(personal.agent.connect(fake.invitationUrl))).toBe('message.body_invalid');
    expect(personal.snapshot()).toEqual(before);
  });
});
