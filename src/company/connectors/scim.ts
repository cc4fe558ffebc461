/**
 * The SCIM 2.0 connector (RFC 7643/7644): keeps one User per relationship in the company's
 * directory or CRM, as a SCIM client. docs/connectors.md ("## scim") says what it sends and when.
 *
 * The User is found by `externalId`, the relationship's id (our own, stable id for her, kept when
 * everything else about her is erased), never by anything the provider assigned, so a resend or a
 * second process finds the User the first one made instead of making another. Its `userName`,
 * which SCIM requires and keeps unique, is her customer number.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, ConnectorError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { isLoopbackHost } from '../../protocol/did/web.js';
import { connectorIdSchema, defineConnectorKind, maxAttemptsSchema, type Connector, type ConnectorDelivery } from './types.js';
import {
  DEFAULT_SCIM_MAPPING,
  SCIM_CORE_USER_SCHEMA,
  SCIM_PATCH_OP_SCHEMA,
  mapFields,
  mappedTargets,
  newResource,
  removeOperations,
  scimMappingSchema,
  upsertOperations,
  type MappedField,
  type PatchOperation,
} from './scimMapping.js';

const baseUrlSchema = z
  .string()
  .max(2000)
  .superRefine((value, ctx) => {
    const url = URL.canParse(value) ? new URL(value) : undefined;
    if (!url) ctx.addIssue({ code: 'custom', message: 'must be a URL' });
    else if (!(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)))) ctx.addIssue({ code: 'custom', message: 'must be https (plain http only on a loopback host)' });
    else if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      ctx.addIssue({ code: 'custom', message: 'must have no query, fragment or credentials (the token goes in "token" or "tokenFile")' });
    }
  })
  .transform((value) => value.replace(/\/+$/, ''));

export const scimConnectorConfigSchema = z
  .object({
    type: z.literal('scim'),
    id: connectorIdSchema.default('scim'),
    maxAttempts: maxAttemptsSchema,
    /** The service provider's base URL, the one its `/Users` endpoint is under. */
    baseUrl: baseUrlSchema,
    /** The bearer token (RFC 6750); or `tokenFile`, a file holding it (kept out of the policy file). */
    token: z.string().min(1).max(8192).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional(),
    tokenFile: z.string().min(1).optional(),
    /** The resource type's endpoint (RFC 7644 §3.2) and its core schema. */
    resourceType: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/).default('Users'),
    schema: z.string().regex(/^urn:[A-Za-z0-9:._-]+$/).default(SCIM_CORE_USER_SCHEMA),
    /** Profile field -> SCIM attribute path; only the fields it names are ever sent. */
    mapping: scimMappingSchema.default({ ...DEFAULT_SCIM_MAPPING }),
    /** How long one request may take before the provider counts as unreachable. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  })
  .strict()
  .refine((c) => (c.token === undefined) !== (c.tokenFile === undefined), { message: 'give the bearer token as exactly one of "token" or "tokenFile"', path: ['token'] });
export type ScimConnectorConfig = z.infer<typeof scimConnectorConfigSchema>;

function readToken(config: ScimConnectorConfig): string {
  if (config.token !== undefined) return config.token;
  let text: string;
  try {
    text = readFileSync(config.tokenFile!, 'utf8').trim();
  } catch {
    throw new ConfigError('config.invalid', `SCIM connector "${config.id}": its tokenFile cannot be read`, { details: { connector: config.id } });
  }
  if (!/^[\x21-\x7e]{1,8192}$/.test(text)) throw new ConfigError('config.invalid', `SCIM connector "${config.id}": its tokenFile holds no usable bearer token`, { details: { connector: config.id } });
  return text;
}

/** Retry-After (RFC 9110 §10.2.3): seconds, or an HTTP date; at most a day. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  const ms = /^\d{1,9}$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 24 * 3600_000) : undefined;
}

/** A write refused because the resource moved under it (412, a 404 on a User just found, a 409 on create): read again, once. */
class Moved extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

interface ScimResponse {
  status: number;
  body: unknown;
}

/** RFC 7644 §3.4.2: totalResults is required; Resources may be absent when there are none. */
const listResponseSchema = z.object({ totalResults: z.number().int().min(0), Resources: z.array(z.record(z.string(), z.unknown())).optional() });

type Resource = Record<string, unknown>;

function idOf(resource: Resource): string | undefined {
  return typeof resource['id'] === 'string' && resource['id'] !== '' ? resource['id'] : undefined;
}

function versionOf(resource: Resource): string | undefined {
  const meta = resource['meta'];
  const version = typeof meta === 'object' && meta !== null ? (meta as { version?: unknown }).version : undefined;
  return typeof version === 'string' && version !== '' ? version : undefined;
}

/** A SCIM error's scimType (RFC 7644 §3.12), a keyword: safe to keep; its `detail` may echo a value and is never kept. */
function scimTypeOf(body: unknown): string | undefined {
  const t = typeof body === 'object' && body !== null ? (body as { scimType?: unknown }).scimType : undefined;
  return typeof t === 'string' && /^[A-Za-z]{1,40}$/.test(t) ? t : undefined;
}

class ScimClient {
  readonly #config: ScimConnectorConfig;
  readonly #token: string;
  readonly #logger: Logger;
  readonly #clock: Clock;

  constructor(config: ScimConnectorConfig, token: string, logger: Logger, clock: Clock) {
    this.#config = config;
    this.#token = token;
    this.#logger = logger;
    this.#clock = clock;
  }

  get #endpoint(): string {
    return `${this.#config.baseUrl}/${this.#config.resourceType}`;
  }

  /**
   * One request. Answers 2xx and the statuses in `expected` (the caller handles those); throws
   * ConnectorError for the rest: 429 throttled (Retry-After), 408 and 5xx failed, other refusals
   * rejected, no answer unreachable.
   */
  async #request(event: ConnectorDelivery, method: string, url: string, body: unknown, expected: readonly number[], ifMatch?: string): Promise<ScimResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept: 'application/scim+json, application/json' };
    if (body !== undefined) headers['content-type'] = 'application/scim+json';
    if (ifMatch !== undefined) headers['if-match'] = ifMatch;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        // A redirect would carry the bearer token elsewhere: the base URL must be the final one.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#config.timeoutMs),
      });
      text = await response.text();
    } catch (cause) {
      this.#logger.warn('scim_unreachable', { connector: this.#config.id, eventId: event.id, method });
      // Only the cause's kind is kept: its message names the URL, and with it her relationship's id.
      throw new ConnectorError('connector.unreachable', `SCIM provider did not answer ${method} (no connection or timed out after ${this.#config.timeoutMs} ms)`, { cause: cause instanceof Error ? new Error(cause.name) : undefined });
    }
    const status = response.status;
    this.#logger.info('scim_request', { connector: this.#config.id, eventId: event.id, method, status });
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if ((status >= 200 && status < 300) || expected.includes(status)) return { status, body: parsed };
    const scimType = scimTypeOf(parsed);
    const said = `SCIM provider answered ${method} with HTTP ${status}${scimType === undefined ? '' : ` (${scimType})`}`;
    if (status === 429) {
      const after = retryAfterMs(response.headers.get('retry-after'), this.#clock.now());
      throw new ConnectorError('connector.throttled', said, after === undefined ? {} : { retryAfterMs: after });
    }
    if (status >= 500 || status === 408) throw new ConnectorError('connector.failed', said);
    if (status >= 300 && status < 400) throw new ConnectorError('connector.rejected', `${said}: a redirect; configure the final URL as baseUrl`);
    throw new ConnectorError('connector.rejected', said);
  }

  /** The Users whose externalId is this one (RFC 7644 §3.4.2.2 filter; string literals as JSON). */
  async find(event: ConnectorDelivery, externalId: string): Promise<Resource[]> {
    const filter = `externalId eq ${JSON.stringify(externalId)}`;
    const { body } = await this.#request(event, 'GET', `${this.#endpoint}?filter=${encodeURIComponent(filter)}`, undefined, []);
    const list = listResponseSchema.safeParse(body);
    if (!list.success) throw new ConnectorError('connector.rejected', 'SCIM provider answered the search with something that is not a ListResponse');
    // The provider did the filtering; what it returned is checked again rather than trusted.
    return (list.data.Resources ?? []).filter((r) => r['externalId'] === externalId && idOf(r) !== undefined);
  }

  #resourceUrl(resource: Resource): string {
    return `${this.#endpoint}/${encodeURIComponent(idOf(resource)!)}`;
  }

  async create(event: ConnectorDelivery, resource: Resource): Promise<void> {
    const { status } = await this.#request(event, 'POST', this.#endpoint, resource, [409]);
    if (status === 409) throw new Moved(409);
  }

  async patch(event: ConnectorDelivery, resource: Resource, operations: PatchOperation[]): Promise<void> {
    if (operations.length === 0) return;
    const body = { schemas: [SCIM_PATCH_OP_SCHEMA], Operations: operations };
    const { status } = await this.#request(event, 'PATCH', this.#resourceUrl(resource), body, [404, 412], versionOf(resource));
    if (status === 404 || status === 412) throw new Moved(status);
  }

  /** @returns without error when the User is gone, whether by this request or before it. */
  async remove(event: ConnectorDelivery, resource: Resource): Promise<void> {
    const { status } = await this.#request(event, 'DELETE', this.#resourceUrl(resource), undefined, [404, 412], versionOf(resource));
    if (status === 412) throw new Moved(412);
  }
}

/** Runs `attempt`, and once more when a write found the User moved under it; twice moved is a failure. */
async function withOneReread(attempt: () => Promise<void>): Promise<void> {
  try {
    await attempt();
    return;
  } catch (error) {
    if (!(error instanceof Moved)) throw error;
  }
  try {
    await attempt();
  } catch (error) {
    if (!(error instanceof Moved)) throw error;
    // A 409 again after reading by externalId: the userName is taken by a User that is not hers.
    if (error.status === 409) throw new ConnectorError('connector.rejected', 'SCIM provider refused to create the User (HTTP 409): its userName is taken by a User without this externalId');
    throw new ConnectorError('connector.failed', `SCIM provider's User changed during the delivery twice (HTTP ${error.status}); trying later`);
  }
}

export const scimConnector = defineConnectorKind({
  type: 'scim',
  config: scimConnectorConfigSchema,
  create(config, { logger, clock }): Connector {
    const client = new ScimClient(config, readToken(config), logger, clock);
    const log = (event: ConnectorDelivery, what: string, extra: Record<string, string | number> = {}) =>
      logger.info(what, { connector: config.id, eventId: event.id, eventType: event.type, ...extra });

    async function upsert(event: ConnectorDelivery, mapped: MappedField[]): Promise<void> {
      const { relationshipId, customerRef } = event.payload;
      await withOneReread(async () => {
        const found = await client.find(event, relationshipId);
        if (found.length > 1) throw new ConnectorError('connector.rejected', `SCIM provider holds ${found.length} Users with this externalId; an operator must merge them`);
        if (found.length === 0) {
          // SCIM requires a userName, unique: her customer number (her relationship's id if an event has none).
          await client.create(event, newResource(config.schema, relationshipId, customerRef ?? relationshipId, mapped));
          return;
        }
        await client.patch(event, found[0]!, upsertOperations(found[0]!, mapped));
      });
    }

    return {
      id: config.id,
      type: 'scim',
      async deliver(event) {
        switch (event.type) {
          case 'profile.disclosed':
          case 'profile.updated': {
            const { mapped, skipped } = mapFields(config.mapping, event.payload.fields ?? {});
            if (skipped.length > 0) logger.warn('scim_fields_skipped', { connector: config.id, eventId: event.id, fields: skipped.join(',') });
            if (mapped.length === 0) return log(event, 'scim_nothing_mapped');
            return upsert(event, mapped);
          }
          case 'consent.withdrawn': {
            const targets = mappedTargets(config.mapping, event.payload.withdrawnFields ?? []);
            if (targets.length === 0) return log(event, 'scim_nothing_mapped');
            // Every User with her externalId: what she took back leaves each of them.
            return withOneReread(async () => {
              for (const user of await client.find(event, event.payload.relationshipId)) await client.patch(event, user, removeOperations(user, targets));
            });
          }
          case 'relationship.erased':
            // Every User with her externalId goes; none left (or a 404) is what was asked.
            return withOneReread(async () => {
              for (const user of await client.find(event, event.payload.relationshipId)) await client.remove(event, user);
            });
          default:
            // Terms, intents, offers, declines: nothing a User resource holds.
            return undefined;
        }
      },
    };
  },
});
