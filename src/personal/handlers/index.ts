import { accountHandlers } from './account.js';
import { basicMessageHandlers } from './basicMessage.js';
import { callerVerificationHandlers } from './callerVerification.js';
import { connectHandlers } from './connect.js';
import { consentHandlers } from './consent.js';
import { dataRightsHandlers } from './dataRights.js';
import { discloseHandlers } from './disclose.js';
import { intentHandlers } from './intent.js';
import { pickupHandlers } from './pickup.js';
import { profileUpdateHandlers } from './profileUpdate.js';
import { relationshipHandlers } from './relationship.js';
import { reportProblemHandlers } from './reportProblem.js';
import { serviceHandlers } from './service.js';
import { termsHandlers } from './terms.js';
import { thingHandlers } from './thing.js';
import { trustPingHandlers } from './trustPing.js';
import type { AnyPersonalHandler } from './types.js';

/**
 * The one explicit list of her agent's message handlers, one module per family. The agent checks
 * it against the family list at start-up (protocol/handlerTable.ts).
 */
export const PERSONAL_HANDLERS: readonly AnyPersonalHandler[] = [
  ...trustPingHandlers,
  ...basicMessageHandlers,
  ...reportProblemHandlers,
  ...pickupHandlers,
  ...connectHandlers,
  ...relationshipHandlers,
  ...discloseHandlers,
  ...profileUpdateHandlers,
  ...termsHandlers,
  ...intentHandlers,
  ...consentHandlers,
  ...dataRightsHandlers,
  ...callerVerificationHandlers,
  ...accountHandlers,
  ...thingHandlers,
  ...serviceHandlers,
];
