import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { kithType } from './uris.js';

/**
 * The binding code's alphabet: capitals and digits without the look-alikes (0/O, 1/I/L, 5/S, 8/B,
 * U/V), so it can be read aloud and typed back without doubt.
 */
export const BINDING_CODE_ALPHABET = 'ACDEFGHJKMNPQRTWXYZ234679';
export const BINDING_CODE_LENGTH = 6;
const bindingCodePattern = new RegExp(`^[${BINDING_CODE_ALPHABET}]{${BINDING_CODE_LENGTH}}$`);

/** A fresh binding code: 6 characters drawn uniformly (node:crypto randomInt) from the alphabet. */
export function newBindingCode(): string {
  let code = '';
  for (let i = 0; i < BINDING_CODE_LENGTH; i++) code += BINDING_CODE_ALPHABET[randomInt(BINDING_CODE_ALPHABET.length)];
  return code;
}

/** How a code is shown on both screens: two groups of three, `K7Q-4MX`. */
export function formatBindingCode(code: string): string {
  return `${code.slice(0, 3)}-${code.slice(3)}`;
}

export const bindingCodeSchema = z.string().regex(bindingCodePattern, `${BINDING_CODE_LENGTH} characters of ${BINDING_CODE_ALPHABET}`);

export const challengeBodySchema = z
  .object({
    /** The company's id for this challenge (a UUID); her answer names it. */
    challenge_id: z.uuid(),
    /** The binding code both screens show, so she knows the request is the call she is on (like OpenID CIBA's binding_message). */
    code: bindingCodeSchema,
    /** Who asks: the operator's label as the company shows it (e.g. "Sam, Acme support"). */
    agent: z.string().min(1).max(100),
    /** When the challenge ends (seconds since the epoch); an answer after it is refused. */
    expires_time: z.number().int().positive(),
  })
  .passthrough();
export type ChallengeBody = z.infer<typeof challengeBodySchema>;

export const verificationDecisionSchema = z.enum(['approved', 'refused']);
export type VerificationDecision = z.infer<typeof verificationDecisionSchema>;

export const answerBodySchema = z
  .object({
    /** The challenge answered. */
    challenge_id: z.uuid(),
    /** Approved: she is the caller. Refused: she is not, or does not want to confirm. */
    decision: verificationDecisionSchema,
  })
  .passthrough();
export type AnswerBody = z.infer<typeof answerBodySchema>;

/**
 * Kith caller-verification 1.0: during a phone call, the company's operator asks her agent to
 * confirm that the caller is her. Both screens show the same short code; her signed answer (the
 * JWS the company received) is its proof, signed by her pairwise DID.
 */
export const CallerVerification = {
  challenge: defineMessage(kithType('caller-verification', '1.0', 'challenge'), challengeBodySchema, TO_PERSON),
  answer: defineMessage(kithType('caller-verification', '1.0', 'answer'), answerBodySchema, TO_COMPANY),
} as const;
