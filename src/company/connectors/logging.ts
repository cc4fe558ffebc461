import type { Logger } from '../../core/log.js';
import type { Connector } from './types.js';

/**
 * Writes one log line per event: the event, the relationship and the field *names*, never their
 * values (logs hold nothing personal). The stand-in for a company system until SCIM and webhooks.
 */
export function createLoggingConnector(logger: Logger): Connector {
  return {
    name: 'logging',
    async deliver(event) {
      logger.info('connector_event', {
        connector: 'logging',
        eventType: event.type,
        eventId: event.id,
        relationship: event.payload.relationshipId,
        fields: (event.payload.withdrawnFields ?? Object.keys(event.payload.fields ?? {})).join(','),
        ...(event.payload.version === undefined ? {} : { version: event.payload.version }),
      });
    },
  };
}
