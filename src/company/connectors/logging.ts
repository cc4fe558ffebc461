import { z } from 'zod';
import { connectorIdSchema, defineConnectorKind, maxAttemptsSchema } from './types.js';

export const loggingConnectorConfigSchema = z
  .object({
    type: z.literal('logging'),
    id: connectorIdSchema.default('logging'),
    maxAttempts: maxAttemptsSchema,
  })
  .strict();
export type LoggingConnectorConfig = z.infer<typeof loggingConnectorConfigSchema>;

/**
 * Writes one log line per event: the event, the relationship and the field *names*, never their
 * values (logs hold nothing personal). What a company without other systems configured gets.
 */
export const loggingConnector = defineConnectorKind({
  type: 'logging',
  config: loggingConnectorConfigSchema,
  create(config, { logger }) {
    return {
      id: config.id,
      type: 'logging',
      async deliver(event) {
        logger.info('connector_event', {
          connector: config.id,
          eventType: event.type,
          eventId: event.id,
          relationship: event.payload.relationshipId,
          fields: (event.payload.withdrawnFields ?? Object.keys(event.payload.fields ?? {})).join(','),
          ...(event.payload.version === undefined ? {} : { version: event.payload.version }),
        });
      },
    };
  },
});
