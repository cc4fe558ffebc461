import { z } from 'zod';
import { RelationshipError } from '../../core/errors.js';
import { tryParseJson } from '../../core/json.js';
import { standardType } from './uris.js';

export const OOB_INVITATION_TYPE = standardType('out-of-band', '2.0', 'invitation');
export const KITH_CONNECT_GOAL_CODE = 'kith.connect';

/** Out-of-Band 2.0 invitation: a plaintext message, carried in a URL's `_oob` parameter. */
export const invitationSchema = z.object({
  type: z.literal(OOB_INVITATION_TYPE),
  id: z.string().min(1).max(256),
  from: z.string().startsWith('did:').max(4096),
  body: z
    .object({
      goal_code: z.string().max(200).optional(),
      goal: z.string().max(500).optional(),
      accept: z.array(z.string()).optional(),
    })
    .passthrough(),
  attachments: z.array(z.unknown()).optional(),
});
export type Invitation = z.infer<typeof invitationSchema>;

export function invitationUrl(baseUrl: string, invitation: Invitation): string {
  const url = new URL(baseUrl);
  url.searchParams.set('_oob', Buffer.from(JSON.stringify(invitation)).toString('base64url'));
  return url.toString();
}

/**
 * Accepts an invitation URL (`...?_oob=<base64url JSON>`) or the invitation JSON itself.
 * @throws RelationshipError `invitation.invalid`
 */
export function parseInvitation(input: string): Invitation {
  const trimmed = input.trim();
  let json: string;
  if (trimmed.startsWith('{')) {
    json = trimmed;
  } else {
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new RelationshipError('invitation.invalid', 'Invitation is neither a URL nor JSON');
    }
    const oob = url.searchParams.get('_oob');
    if (!oob) throw new RelationshipError('invitation.invalid', 'Invitation URL has no _oob parameter');
    json = Buffer.from(oob, 'base64url').toString('utf8');
  }
  const parsed = tryParseJson(json);
  const invitation = parsed.ok ? invitationSchema.safeParse(parsed.value) : undefined;
  if (!invitation?.success) throw new RelationshipError('invitation.invalid', 'Invitation does not match Out-of-Band 2.0');
  if (invitation.data.body.accept && !invitation.data.body.accept.includes('didcomm/v2')) {
    throw new RelationshipError('invitation.invalid', 'Invitation does not accept didcomm/v2');
  }
  return invitation.data;
}
