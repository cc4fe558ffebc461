import { ManualClock } from '../../core/clock.js';
import { capturingLogger, describeConnectorContract } from '../../../test/support/connectorContract.js';
import { loggingConnector, loggingConnectorConfigSchema } from './logging.js';

// The logging connector's "system" is its log: what it took is what it wrote.
describeConnectorContract('logging', async () => {
  const logger = capturingLogger();
  const connector = loggingConnector.create(loggingConnectorConfigSchema.parse({ type: 'logging' }), { logger, clock: new ManualClock() });
  return {
    connector,
    logger,
    seen: async () => logger.lines.map((line) => (JSON.parse(line) as { eventId?: string }).eventId).filter((id): id is string => id !== undefined),
    cleanup: async () => {},
  };
});
