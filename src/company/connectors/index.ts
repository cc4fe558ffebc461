import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { describeIssues, ruleOf } from '../../core/describeIssues.js';
import { loggingConnector } from './logging.js';
import { webhookConnector } from './webhook.js';
import { scimConnector } from './scim.js';
import type { DispatchTarget } from './dispatcher.js';
import type { ConnectorConfigBase, ConnectorDeps, ConnectorKind } from './types.js';

/** The one explicit list of connector kinds a company policy may configure: one line per kind. */
export const CONNECTOR_KINDS: readonly ConnectorKind<never>[] = [
  loggingConnector,
  webhookConnector,
  scimConnector,
] as unknown as readonly ConnectorKind<never>[];

function kindOf(type: string): ConnectorKind<ConnectorConfigBase> | undefined {
  return CONNECTOR_KINDS.find((kind) => kind.type === type) as ConnectorKind<ConnectorConfigBase> | undefined;
}

export const CONNECTOR_TYPES = CONNECTOR_KINDS.map((kind) => kind.type);

/** A configured connector as the policy file holds it, checked by its kind's own schema. */
export type ConnectorConfig = ConnectorConfigBase & Record<string, unknown>;

/**
 * One entry of `policy.connectors`: `{ type, id?, maxAttempts?, ...settings }`, checked by the
 * schema of its kind. A bare name (`"logging"`) is read as `{ "type": "logging" }`, as policy files
 * written before connectors took settings say it.
 */
export const connectorConfigSchema: z.ZodType<ConnectorConfig, unknown> = z.preprocess(
  (value) => (typeof value === 'string' ? { type: value } : value),
  z.unknown().transform((value, ctx): ConnectorConfig => {
    const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
    const kind = typeof type === 'string' ? kindOf(type) : undefined;
    if (!kind) {
      ctx.addIssue({ code: 'custom', message: `unknown connector type ${JSON.stringify(type)} (known: ${CONNECTOR_TYPES.join(', ')})`, path: ['type'] });
      return z.NEVER;
    }
    const parsed = kind.config.safeParse(value);
    if (!parsed.success) {
      // Re-raised with the rule in words, so the policy error says what the setting must be.
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: ruleOf(issue), path: issue.path });
      return z.NEVER;
    }
    return parsed.data as ConnectorConfig;
  }),
) as z.ZodType<ConnectorConfig, unknown>;

/** The connector list of a policy: ids unique (each keeps its own delivery state). */
export const connectorListSchema = z
  .array(connectorConfigSchema)
  .max(20)
  .default([{ type: 'logging', id: 'logging', maxAttempts: 10 }])
  .refine((list) => new Set(list.map((c) => c.id)).size === list.length, 'two connectors have the same id: give each its own "id"');

/**
 * Makes the configured connectors.
 * @throws ConfigError `config.invalid` for a configuration its kind does not accept
 */
export function createConnectors(configs: readonly unknown[], deps: ConnectorDeps): DispatchTarget[] {
  return configs.map((raw, index) => {
    const parsed = connectorConfigSchema.safeParse(raw);
    if (!parsed.success) throw new ConfigError('config.invalid', `Connector ${index + 1} is not valid`, { details: { issues: parsed.error.issues.map((issue) => describeIssues([issue])) } });
    return { connector: kindOf(parsed.data.type)!.create(parsed.data, deps), maxAttempts: parsed.data.maxAttempts };
  });
}

export type { DispatchTarget } from './dispatcher.js';
export type { Connector, ConnectorDelivery, ConnectorDeps, ConnectorEventPayload, ConnectorEventType } from './types.js';
export { ConnectorError } from '../../core/errors.js';
