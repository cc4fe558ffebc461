import { z } from 'zod';
import { DirectoryError } from '../../core/errors.js';
import type { DidResolver } from '../did/types.js';
import type { SigningKey } from '../envelope/engine.js';
import { dateTimeSchema } from '../families/intent.js';
import { parseInvitation } from '../families/outOfBand.js';
import { didSchema, signDetached } from '../terms/detachedJws.js';
import { intentCategorySchema } from './categories.js';
import { SIGNATURE_FAULT_TEXT, signatureFault } from './signedDocument.js';

/*
 * How a company says, without knowing who asks, which intents it answers (docs/protocol/intent.md,
 * "Anonymous recipients"): a description shaped after schema.org Organization, published at
 * `<its URL>/.well-known/kith-company` and signed by its DID like its offers (JCS + detached
 * EdDSA JWS, decision 0010), so that a directory that lists it cannot change what it says. A
 * directory is only a list of such URLs; she fetches and checks each description herself.
 */

export const COMPANY_DESCRIPTION_PATH = '/.well-known/kith-company';

const httpUrlSchema = z
  .string()
  .max(2000)
  .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'an http(s) URL');

export const companyDescriptionSchema = z.strictObject({
  '@type': z.literal('Organization'),
  name: z.string().min(1).max(200),
  /** Its DID: it signs the description and its offers, and receives the casts. */
  identifier: didSchema,
  /** Its public base URL. */
  url: httpUrlSchema,
  /** The intent categories it answers (a parent covers its children). */
  categories: z.array(intentCategorySchema).min(1).max(50),
  /** The agreements (roster URIs) it accepts as proffered. */
  accepts: z.array(z.string().min(1).max(2000)).max(50),
  /** Its out-of-band invitation URL, for connecting without an intent. */
  invitation: httpUrlSchema.max(16_384),
  /** When it signed this description. */
  issued: dateTimeSchema,
});
export type CompanyDescription = z.infer<typeof companyDescriptionSchema>;

export const signedCompanyDescriptionSchema = z.strictObject({ description: companyDescriptionSchema, signature: z.string().min(1).max(8192) });
export type SignedCompanyDescription = z.infer<typeof signedCompanyDescriptionSchema>;

/** A directory: URLs of companies (their base URLs), each describing itself. Not signed: each description is. */
export const directoryListSchema = z.strictObject({
  '@type': z.literal('KithDirectory'),
  name: z.string().min(1).max(200).optional(),
  companies: z.array(httpUrlSchema).max(1000),
});
export type DirectoryList = z.infer<typeof directoryListSchema>;

export function signCompanyDescription(description: CompanyDescription, signer: SigningKey): SignedCompanyDescription {
  return { description, signature: signDetached(description, signer) };
}

/**
 * Checks a company description: its shape, that its DID signed exactly it, and that its invitation
 * comes from the same DID.
 * @throws DirectoryError `directory.invalid`; DidError from resolving its DID
 */
export async function verifyCompanyDescription(signed: unknown, resolver: DidResolver): Promise<CompanyDescription> {
  const parsed = signedCompanyDescriptionSchema.safeParse(signed);
  if (!parsed.success) {
    throw new DirectoryError('directory.invalid', `Not a company description: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const { description, signature } = parsed.data;
  const fault = await signatureFault(description, signature, description.identifier, resolver);
  if (fault !== undefined) throw new DirectoryError('directory.invalid', `The company description is refused: ${SIGNATURE_FAULT_TEXT[fault]}`);
  let invitationFrom: string;
  try {
    invitationFrom = parseInvitation(description.invitation).from;
  } catch (error) {
    throw new DirectoryError('directory.invalid', 'The company description’s invitation is not a Kith invitation', { cause: error });
  }
  if (invitationFrom !== description.identifier) throw new DirectoryError('directory.invalid', 'The company description’s invitation comes from another DID');
  return description;
}
