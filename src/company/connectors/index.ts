import type { Logger } from '../../core/log.js';
import { ConfigError } from '../../core/errors.js';
import { createLoggingConnector } from './logging.js';
import type { Connector } from './types.js';

export interface ConnectorDeps {
  logger: Logger;
}

/** The one explicit list of connectors a company configuration may name. */
export const CONNECTORS = {
  logging: (deps: ConnectorDeps): Connector => createLoggingConnector(deps.logger),
} as const satisfies Record<string, (deps: ConnectorDeps) => Connector>;

export type ConnectorName = keyof typeof CONNECTORS;
export const CONNECTOR_NAMES = Object.keys(CONNECTORS) as [ConnectorName, ...ConnectorName[]];

/** @throws ConfigError `config.invalid` for a name not in {@link CONNECTORS}. */
export function createConnectors(names: readonly string[], deps: ConnectorDeps): Connector[] {
  return names.map((name) => {
    if (!Object.hasOwn(CONNECTORS, name)) throw new ConfigError('config.invalid', `Unknown connector "${name}" (known: ${CONNECTOR_NAMES.join(', ')})`);
    return CONNECTORS[name as ConnectorName](deps);
  });
}

export type { Connector, ConnectorDelivery, ConnectorEventPayload, ConnectorEventType } from './types.js';
