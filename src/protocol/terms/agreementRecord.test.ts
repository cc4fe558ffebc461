import { beforeAll, describe, expect, it } from 'vitest';
import { KithError, type KithErrorCode } from '../../core/errors.js';
import { createPeerIdentity, signingKeyOf, type LocalIdentity } from '../agent/identity.js';
import { createDidResolver } from '../did/resolver.js';
import type { SigningKey } from '../envelope/engine.js';
import {
  AGREEMENT_RECORD_TYPE,
  buildAgreementRecord,
  countersign,
  sameRecord,
  signAgreement,
  signRecord,
  validateCounter,
  verifyRecordSignature,
  verifySignedAgreement,
  type AgreementRecord,
  type SignedAgreement,
} from './agreementRecord.js';
import { jcs, parseDetached } from './detachedJws.js';
import { bundledRoster, type Roster } from './roster.js';
import { codeOfRejection as codeOf } from '../../../test/support/errorCodes.js';

const resolver = createDidResolver();
const her = createPeerIdentity('http://127.0.0.1:7400/didcomm/route').identity;
const company = createPeerIdentity('https://company.example/didcomm').identity;
const stranger = createPeerIdentity().identity;
const AGREED_AT = Date.UTC(2026, 10, 23, 12, 0, 0, 123);

const SERVICE_ONLY = 'https://kith.invalid/terms/agreements/service-only';
const BILLING = 'https://kith.invalid/terms/agreements/service-plus-billing';
let roster: Roster;
beforeAll(async () => {
  roster = (await bundledRoster()).roster;
});

function failure(run: () => unknown): { code: KithErrorCode; details: unknown } | 'returned' {
  try {
    run();
    return 'returned';
  } catch (err) {
    expect(err).toBeInstanceOf(KithError);
    return { code: (err as KithError).code, details: (err as KithError).details };
  }
}

const RECORD_ID = '5b0f3a52-8a0e-4d43-9d3c-4f6f1f0b7a11';

function record(overrides: { agreementId?: string; proffered?: string; agreedAt?: number } = {}): AgreementRecord {
  return buildAgreementRecord({
    id: RECORD_ID,
    roster,
    agreementId: overrides.agreementId ?? SERVICE_ONLY,
    proffered: overrides.proffered ?? overrides.agreementId ?? SERVICE_ONLY,
    person: her.did,
    company: company.did,
    agreedAt: overrides.agreedAt ?? AGREED_AT,
  });
}

const key = (identity: LocalIdentity): SigningKey => signingKeyOf(identity);

/** Her agent signs, the company countersigns. */
function bothSigned(r: AgreementRecord = record()): SignedAgreement {
  return countersign(signAgreement(r, key(her)), key(company));
}

/** A JSON round trip, as the agreement travels and is stored. */
const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('buildAgreementRecord', () => {
  it('pins the roster, the agreement version and text hash, the parties and the time', () => {
    const r = record();
    const agreement = roster.agreements.find((a) => a.id === SERVICE_ONLY)!;
    expect(r).toEqual({
      type: AGREEMENT_RECORD_TYPE,
      id: RECORD_ID,
      rosterId: roster.id,
      rosterVersion: roster.version,
      agreementId: SERVICE_ONLY,
      agreementVersion: agreement.version,
      textSha256: agreement.textSha256,
      outcome: 'accepted',
      proffered: SERVICE_ONLY,
      profferedBy: 'person',
      supersedes: null,
      parties: { person: her.did, company: company.did },
      agreedAt: '2026-11-23T12:00:00.123Z',
    });
    expect(record({ agreementId: BILLING, proffered: SERVICE_ONLY }).outcome).toBe('countered-accepted');
  });

  it('refuses agreements the roster does not have, and records that break the format', () => {
    expect(failure(() => record({ agreementId: 'https://kith.invalid/terms/agreements/nope' }))).toMatchObject({ code: 'terms.unknown_agreement' });
    expect(failure(() => record({ proffered: 'https://kith.invalid/terms/agreements/nope' }))).toMatchObject({ code: 'terms.unknown_agreement' });
    const same = { roster, agreementId: SERVICE_ONLY, proffered: SERVICE_ONLY, person: her.did, company: her.did, agreedAt: AGREED_AT };
    expect(failure(() => buildAgreementRecord(same))).toMatchObject({ code: 'terms.record_invalid' });
    expect(failure(() => buildAgreementRecord({ ...same, company: 'not a DID' }))).toMatchObject({ code: 'terms.record_invalid' });
    expect(failure(() => buildAgreementRecord({ ...same, company: company.did, agreedAt: Number.NaN }))).toMatchObject({ code: 'terms.record_invalid' });
    expect(failure(() => buildAgreementRecord({ ...same, company: company.did, agreedAt: 1e20 }))).toMatchObject({ code: 'terms.record_invalid' });
    // The company's own proffer is accepted or rejected as it stands: it cannot be a counter.
    const countered = { ...same, company: company.did, agreementId: BILLING, profferedBy: 'company' as const };
    expect(failure(() => buildAgreementRecord(countered))).toMatchObject({ code: 'terms.record_invalid' });
    expect(failure(() => buildAgreementRecord({ ...same, company: company.did, id: RECORD_ID, supersedes: RECORD_ID }))).toMatchObject({ code: 'terms.record_invalid' });
    expect(failure(() => buildAgreementRecord({ ...same, company: company.did, id: 'not-a-uuid' }))).toMatchObject({ code: 'terms.record_invalid' });
  });
});

describe('signed agreements', () => {
  it('round trip: she signs, the company countersigns, anyone verifies both against the DIDs', async () => {
    const signed = bothSigned();
    expect(signed.signatures.map((s) => [s.by, s.kid])).toEqual([
      ['person', her.signing.kid],
      ['company', company.signing.kid],
    ]);
    expect(await verifySignedAgreement(wire(signed), { resolver })).toEqual(record());
    // Either may sign first; both end up holding the same JSON.
    const companyFirst = countersign(signAgreement(record(), key(company)), key(her));
    expect(JSON.stringify(companyFirst)).toBe(JSON.stringify(signed));
  });

  it('signs the JCS bytes, so member order in transit does not matter', async () => {
    const signed = bothSigned();
    const reordered = { signatures: signed.signatures, record: Object.fromEntries(Object.entries(signed.record).reverse()) };
    expect(await codeOf(verifySignedAgreement(wire(reordered), { resolver }))).toBe('resolved');
    const jws = parseDetached(signRecord(record(), key(her)))!;
    expect(jws.header).toEqual({ alg: 'EdDSA', kid: her.signing.kid });
    expect(signRecord(record(), key(her))).toBe(signed.signatures[0]!.jws);
  });

  it('lets the countersigner check the first signature before adding its own', async () => {
    const first = signAgreement(record(), key(her));
    await expect(verifyRecordSignature(first.record, first.signatures[0]!, resolver)).resolves.toBeUndefined();
    const forged = { ...first.signatures[0]!, jws: signRecord(record(), { kid: her.signing.kid, privateKey: key(stranger).privateKey }) };
    expect(await codeOf(verifyRecordSignature(first.record, forged, resolver))).toBe('terms.signature_invalid');
  });

  it('refuses an agreement missing a signature: terms.countersignature_missing', async () => {
    const onlyHers = signAgreement(record(), key(her));
    await expect(verifySignedAgreement(wire(onlyHers), { resolver })).rejects.toMatchObject({ code: 'terms.countersignature_missing', details: { missing: ['company'] } });
    const onlyTheirs = signAgreement(record(), key(company));
    await expect(verifySignedAgreement(wire(onlyTheirs), { resolver })).rejects.toMatchObject({ code: 'terms.countersignature_missing', details: { missing: ['person'] } });
    await expect(verifySignedAgreement({ record: record(), signatures: [] }, { resolver })).rejects.toMatchObject({
      code: 'terms.countersignature_missing',
      details: { missing: ['person', 'company'] },
    });
  });

  it('refuses a wrong signature: another key, another record, swapped, garbled: terms.signature_invalid', async () => {
    const signed = bothSigned();
    const [hers, theirs] = signed.signatures as [SignedAgreement['signatures'][number], SignedAgreement['signatures'][number]];
    const byStrangerKey = signRecord(record(), { kid: company.signing.kid, privateKey: key(stranger).privateKey });
    const otherRecord = signRecord(record({ agreedAt: AGREED_AT + 1 }), key(company));
    const cases: ReadonlyArray<readonly [string, SignedAgreement['signatures']]> = [
      ['key not the DID’s', [hers, { ...theirs, jws: byStrangerKey }]],
      ['over another record', [hers, { ...theirs, jws: otherRecord }]],
      ['swapped jws', [{ ...hers, jws: theirs.jws }, { ...theirs, jws: hers.jws }]],
      ['header kid differs', [hers, { ...theirs, kid: `${company.did}#key-1` }]],
      ['keyAgreement kid', [hers, { ...theirs, kid: company.agreement.kid, jws: signRecord(record(), { kid: company.agreement.kid, privateKey: key(company).privateKey }) }]],
      ['unknown kid', [hers, { ...theirs, kid: `${company.did}#key-9`, jws: signRecord(record(), { kid: `${company.did}#key-9`, privateKey: key(company).privateKey }) }]],
      ['not a JWS', [hers, { ...theirs, jws: 'garbage' }]],
      ['attached payload', [hers, { ...theirs, jws: theirs.jws.replace('..', `.${Buffer.from(jcs(record())).toString('base64url')}.`) }]],
    ];
    for (const [name, signatures] of cases) {
      await expect(verifySignedAgreement(wire({ record: signed.record, signatures }), { resolver }), name).rejects.toMatchObject({ code: 'terms.signature_invalid' });
    }
  });

  it('refuses a record changed after signing, naming the first party whose signature fails', async () => {
    const signed = bothSigned();
    const changed = { ...signed, record: { ...signed.record, agreedAt: '2026-11-23T12:00:00.124Z' } };
    await expect(verifySignedAgreement(wire(changed), { resolver })).rejects.toMatchObject({ code: 'terms.signature_invalid', details: { by: 'person' } });
    const countered = { ...signed, record: { ...signed.record, agreementId: BILLING, outcome: 'countered-accepted' } };
    await expect(verifySignedAgreement(wire(countered), { resolver })).rejects.toMatchObject({ code: 'terms.signature_invalid' });
  });

  it('refuses a kid of a third DID, in verification and when countersigning', async () => {
    const first = signAgreement(record(), key(her));
    const third = { by: 'company' as const, kid: stranger.signing.kid, jws: signRecord(record(), key(stranger)) };
    await expect(verifySignedAgreement(wire({ record: first.record, signatures: [...first.signatures, third] }), { resolver })).rejects.toMatchObject({
      code: 'terms.signature_invalid',
      details: { by: 'company' },
    });
    expect(failure(() => countersign(first, key(stranger)))).toMatchObject({ code: 'terms.signature_invalid' });
    expect(failure(() => countersign(first, key(her)))).toMatchObject({ code: 'terms.signature_invalid', details: { by: 'person' } });
  });

  it('refuses malformed agreements: terms.record_invalid', async () => {
    const signed = bothSigned();
    const bad: unknown[] = [
      null,
      {},
      { record: signed.record },
      { ...signed, extra: 1 },
      { ...signed, record: { ...signed.record, type: 'kith-agreement-record/2.0' } },
      { ...signed, record: { ...signed.record, outcome: 'countered-accepted' } },
      { ...signed, record: { ...signed.record, proffered: BILLING } },
      { ...signed, record: { ...signed.record, note: 'x' } },
      { ...signed, record: { ...signed.record, parties: { ...signed.record.parties, company: her.did } } },
      { ...signed, record: { ...signed.record, rosterVersion: '1' } },
      { ...signed, record: { ...signed.record, textSha256: 'x' } },
      { ...signed, record: { ...signed.record, agreedAt: '2026-11-23' } },
      { ...signed, signatures: [signed.signatures[0], signed.signatures[0]] },
      { ...signed, signatures: [...signed.signatures, signed.signatures[0]] },
      { ...signed, signatures: [{ ...signed.signatures[0], by: 'witness' }] },
      { ...signed, signatures: [{ ...signed.signatures[0], extra: true }, signed.signatures[1]] },
    ];
    for (const value of bad) expect(await codeOf(verifySignedAgreement(wire(value), { resolver })), JSON.stringify(value)).toBe('terms.record_invalid');
  });

  it('lets a DID resolution failure through as it is', async () => {
    const webDid = 'did:web:company.example';
    const r = { ...record(), parties: { person: her.did, company: webDid } };
    const companyKey = { kid: `${webDid}#key-1`, privateKey: key(company).privateKey };
    const signed = countersign(signAgreement(r, key(her)), companyKey);
    const offline = createDidResolver({ fetch: () => Promise.reject(new Error('offline')) });
    expect(await codeOf(verifySignedAgreement(wire(signed), { resolver: offline }))).toBe('did.not_found');
  });
});

describe('sameRecord', () => {
  it('accepts the same record whatever its member order', () => {
    const r = record();
    expect(failure(() => sameRecord(r, Object.fromEntries(Object.entries(r).reverse()) as AgreementRecord))).toBe('returned');
  });

  it('refuses two different records, naming the members that differ: terms.record_mismatch', () => {
    expect(failure(() => sameRecord(record(), record({ agreedAt: AGREED_AT + 1000 })))).toEqual({ code: 'terms.record_mismatch', details: { members: ['agreedAt'] } });
    expect(failure(() => sameRecord(record(), record({ agreementId: BILLING, proffered: SERVICE_ONLY })))).toEqual({
      code: 'terms.record_mismatch',
      details: { members: ['agreementId', 'outcome', 'textSha256'] },
    });
    const other = { ...record(), parties: { person: stranger.did, company: company.did } };
    expect(failure(() => sameRecord(record(), other))).toEqual({ code: 'terms.record_mismatch', details: { members: ['parties'] } });
  });
});

describe('validateCounter', () => {
  it('takes no alternative as acceptance and one alternative of the roster as the counter', () => {
    expect(validateCounter({ roster, agreementId: SERVICE_ONLY }, { alternatives: [] })).toMatchObject({ outcome: 'accepted', agreement: { id: SERVICE_ONLY }, proffered: { id: SERVICE_ONLY } });
    expect(validateCounter({ roster, agreementId: SERVICE_ONLY }, { alternatives: [BILLING] })).toMatchObject({ outcome: 'countered', agreement: { id: BILLING }, proffered: { id: SERVICE_ONLY } });
  });

  it('refuses more than one alternative, or the proffer itself: terms.counter_loop', () => {
    const proffer = { roster, agreementId: SERVICE_ONLY };
    expect(failure(() => validateCounter(proffer, { alternatives: [BILLING, SERVICE_ONLY] }))).toMatchObject({ code: 'terms.counter_loop' });
    expect(failure(() => validateCounter(proffer, { alternatives: [BILLING, BILLING] }))).toMatchObject({ code: 'terms.counter_loop' });
    expect(failure(() => validateCounter(proffer, { alternatives: [SERVICE_ONLY] }))).toMatchObject({ code: 'terms.counter_loop', details: { reason: 'same_as_proffered' } });
  });

  it('refuses an alternative from outside the roster: terms.not_in_roster', () => {
    for (const alternative of ['https://kith.invalid/terms/agreements/anything-goes', 'https://company.example/terms', '']) {
      expect(failure(() => validateCounter({ roster, agreementId: SERVICE_ONLY }, { alternatives: [alternative] })), alternative).toMatchObject({ code: 'terms.not_in_roster' });
    }
  });

  it('refuses a proffer of an agreement the roster does not have: terms.unknown_agreement', () => {
    expect(failure(() => validateCounter({ roster, agreementId: 'https://kith.invalid/terms/agreements/nope' }, { alternatives: [] }))).toMatchObject({ code: 'terms.unknown_agreement' });
  });
});
