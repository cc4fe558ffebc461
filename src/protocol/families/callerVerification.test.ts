import { describe, expect, it } from 'vitest';
import { BINDING_CODE_ALPHABET, BINDING_CODE_LENGTH, CallerVerification, formatBindingCode, newBindingCode } from './callerVerification.js';
import { createMessageRegistry } from './index.js';

const CHALLENGE = { challenge_id: 'e0a4c2d9-7f61-4b3a-9c58-1d2e3f4a5b6c', code: 'K7Q4MX', agent: 'Sam', expires_time: 1_767_259_080 };

describe('caller-verification 1.0', () => {
  it('draws binding codes of 6 characters from the unambiguous alphabet only, and they vary', () => {
    const codes = Array.from({ length: 500 }, () => newBindingCode());
    for (const code of codes) {
      expect(code).toHaveLength(BINDING_CODE_LENGTH);
      expect([...code].every((ch) => BINDING_CODE_ALPHABET.includes(ch))).toBe(true);
      expect(CallerVerification.challenge.body.safeParse({ ...CHALLENGE, code }).success).toBe(true);
    }
    expect(new Set(codes).size).toBeGreaterThan(490);
    // Every character of the alphabet turns up: no character is left out by an off-by-one.
    expect(new Set(codes.join('')).size).toBe(BINDING_CODE_ALPHABET.length);
    for (const lookalike of '0O1IL5S8BUV') expect(BINDING_CODE_ALPHABET).not.toContain(lookalike);
  });

  it('shows a code as two groups of three', () => {
    expect(formatBindingCode('K7Q4MX')).toBe('K7Q-4MX');
  });

  it('refuses a challenge whose code is of another length, lower case, or has a look-alike, and one without an agent label', () => {
    const body = CallerVerification.challenge.body;
    expect(body.safeParse(CHALLENGE).success).toBe(true);
    for (const code of ['K7Q4M', 'K7Q4MXA', 'k7q4mx', 'K0Q4MX', 'K7Q-4MX']) expect(body.safeParse({ ...CHALLENGE, code }).success, code).toBe(false);
    expect(body.safeParse({ ...CHALLENGE, agent: '' }).success).toBe(false);
    expect(body.safeParse({ ...CHALLENGE, agent: 'x'.repeat(101) }).success).toBe(false);
    expect(body.safeParse({ ...CHALLENGE, expires_time: 1.5 }).success).toBe(false);
    expect(body.safeParse({ ...CHALLENGE, challenge_id: 'not-a-uuid' }).success).toBe(false);
  });

  it('takes approved or refused as the answer, nothing else', () => {
    const body = CallerVerification.answer.body;
    for (const decision of ['approved', 'refused']) expect(body.safeParse({ challenge_id: CHALLENGE.challenge_id, decision }).success).toBe(true);
    for (const decision of ['yes', 'APPROVED', '', null]) expect(body.safeParse({ challenge_id: CHALLENGE.challenge_id, decision }).success).toBe(false);
  });

  it('is registered: the challenge goes to her, the answer to the company', () => {
    const registry = createMessageRegistry();
    expect(registry.definition(CallerVerification.challenge.type)?.receivers).toEqual(['person']);
    expect(registry.definition(CallerVerification.answer.type)?.receivers).toEqual(['company']);
  });
});
