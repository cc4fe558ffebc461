import { Account } from './account.js';
import { BasicMessage } from './basicMessage.js';
import { CallerVerification } from './callerVerification.js';
import { Connect } from './connect.js';
import { Consent } from './consent.js';
import { DataRights } from './dataRights.js';
import { Disclose } from './disclose.js';
import { Intent } from './intent.js';
import { Pickup } from './pickup.js';
import { ProfileUpdate } from './profileUpdate.js';
import { MessageRegistry, type MessageDefinition } from './registry.js';
import { Relationship } from './relationship.js';
import { ReportProblem } from './reportProblem.js';
import { Service } from './service.js';
import { Terms } from './terms.js';
import { Thing } from './thing.js';
import { TrustPing } from './trustPing.js';

/** The one explicit list of message families Kith speaks. A new family is one file plus one line here. */
export const MESSAGE_FAMILIES = [TrustPing, BasicMessage, ReportProblem, Pickup, Connect, Relationship, Disclose, ProfileUpdate, Terms, Intent, Consent, DataRights, CallerVerification, Account, Thing, Service] as const;

export function allMessageDefinitions(): MessageDefinition[] {
  return MESSAGE_FAMILIES.flatMap((family) => Object.values(family) as MessageDefinition[]);
}

export function createMessageRegistry(): MessageRegistry {
  return new MessageRegistry(allMessageDefinitions());
}

export { Account, BasicMessage, CallerVerification, Connect, Consent, DataRights, Disclose, Intent, Pickup, ProfileUpdate, Relationship, ReportProblem, Service, Terms, Thing, TrustPing };
