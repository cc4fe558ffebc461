/**
 * The Standard Webhooks connector (https://www.standardwebhooks.com, spec 1.0.0): one signed HTTP
 * POST per event to a company system, so a CRM or any receiver with a Standard Webhooks library
 * can take Kith's events without code of ours. The settings and each event type's JSON Schema are
 * in docs/connectors.md and docs/connectors/events.schema.json.
 */
import { createHmac } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { ConnectorError } from '../../core/errors.js';
import { isLoopbackHost } from '../../protocol/did/web.js';
import { connectorIdSchema, defineConnectorKind, maxAttemptsSchema, type ConnectorDelivery } from './types.js';

/** The spec's serialisation of a symmetric secret: `whsec_` and the key's bytes in base64. */
const SECRET = /^whsec_((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/;
/** The spec asks for 24 to 64 random bytes (192 to 512 bits). */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

// Messages name the rule, never the secret: config errors end up in logs and terminals.
const secretSchema = z
  .string()
  .regex(SECRET, 'must be "whsec_" followed by the key in base64')
  .refine((secret) => {
    const bytes = secretBytes(secret).length;
    return bytes >= MIN_SECRET_BYTES && bytes <= MAX_SECRET_BYTES;
  }, `must hold ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes of key`);

const urlSchema = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute http(s) URL' });
      return;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL' });
    // The body carries the values she disclosed: in clear only to the company's own machine.
    else if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) ctx.addIssue({ code: 'custom', message: 'must use https (plain http only to a loopback host)' });
    // Credentials in a URL end up wherever URLs are shown; the signature is what authenticates.
    if (url.username !== '' || url.password !== '') ctx.addIssue({ code: 'custom', message: 'must not carry a user name or password' });
  });

export const webhookConnectorConfigSchema = z
  .object({
    type: z.literal('webhook'),
    id: connectorIdSchema.default('webhook'),
    /** Where each event is POSTed. */
    url: urlSchema,
    /**
     * Signing secrets, the current one first. Each request is signed with every one given, so a
     * receiver still holding the previous secret keeps verifying while it is rotated.
     */
    secrets: z
      .array(secretSchema)
      .min(1)
      .max(2)
      .refine((secrets) => new Set(secrets).size === secrets.length, 'the two secrets are the same'),
    /**
     * How long one attempt may take, from connecting to the answer's status. At most 30 s, the
     * spec's upper bound and the dispatcher's default lease on the events it claims.
     */
    timeoutMs: z.number().int().min(100).max(30_000).default(10_000),
    maxAttempts: maxAttemptsSchema,
  })
  .strict();
export type WebhookConnectorConfig = z.infer<typeof webhookConnectorConfigSchema>;

function secretBytes(secret: string): Buffer {
  return Buffer.from(secret.slice('whsec_'.length), 'base64');
}

/** What the receiver gets as the body: the spec's recommended `{ type, timestamp, data }`. */
export interface WebhookBody {
  type: ConnectorDelivery['type'];
  /** When the event happened (ISO 8601), not when this attempt was made. */
  timestamp: string;
  /** The event's payload as the store holds it: docs/connectors/events.schema.json per type. */
  data: ConnectorDelivery['payload'];
}

export function webhookBody(event: ConnectorDelivery): string {
  const body: WebhookBody = { type: event.type, timestamp: new Date(event.createdAt).toISOString(), data: event.payload };
  return JSON.stringify(body);
}

/**
 * The `webhook-signature` header: `v1,<base64 HMAC-SHA256>` of `<id>.<timestamp>.<body>` under each
 * key, space-separated. The id is a UUID and the timestamp digits, so neither holds the `.`
 * delimiter (the spec's condition for the scheme to be unambiguous).
 */
export function webhookSignature(keys: readonly Buffer[], id: string, timestamp: number, body: string): string {
  return keys.map((key) => `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`).join(' ');
}

/** A receiver waiting more than this is parked for at most this long; the dispatcher's backoff takes over after. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60_000;
/** Of the answer, only the status counts; a body beyond this is not even drained. */
const MAX_DRAINED_BYTES = 64 * 1024;

/** `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value) * 1000;
  else {
    const at = Date.parse(value);
    // Only the IMF-fixdate shape (and the obsolete ones Date.parse reads) counts, never a bare number.
    if (Number.isNaN(at) || !/[A-Za-z]/.test(value)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
}

/** One POST, no redirect followed (node:http never follows one); resolves with the status once the answer's head is in. */
function post(url: URL, headers: Record<string, string>, body: Buffer, timeoutMs: number, agent: http.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (response) => {
      clearTimeout(timer);
      const retryAfter = response.headers['retry-after'];
      resolve({ status: response.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter });
      // Drain a short answer so the connection can be reused; cut a long one off.
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_DRAINED_BYTES) response.destroy();
      });
      response.on('error', () => {});
    });
    const timer = setTimeout(() => request.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}

/** A network error's code (ECONNREFUSED, ENOTFOUND, ETIMEDOUT, a TLS code): safe to log, unlike its message. */
function networkCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'ERROR';
}

/** The outcome of an answer, as the dispatcher reads it (docs/connectors.md, "Webhook"). */
export function classifyStatus(status: number, retryAfter: string | undefined, clock: Clock): ConnectorError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const details = { status };
  const after = retryAfterMs(retryAfter, clock.now());
  const wait = after === undefined ? {} : { retryAfterMs: after };
  if (status === 429) return new ConnectorError('connector.throttled', 'The webhook receiver asked to slow down (HTTP 429)', { details, ...wait });
  // A server error or a request timeout may pass; the spec also asks to honour Retry-After on a 503.
  if (status >= 500 || status === 408) return new ConnectorError('connector.failed', `The webhook receiver failed (HTTP ${status})`, { details, ...wait });
  // The spec counts a redirect as a failure: the URL is to be updated, not followed.
  if (status >= 300 && status < 400) return new ConnectorError('connector.rejected', `The webhook receiver redirected (HTTP ${status}); redirects are not followed, update the URL`, { details });
  return new ConnectorError('connector.rejected', `The webhook receiver refused the event (HTTP ${status})`, { details });
}

/**
 * POSTs each event, signed with every configured secret, to one URL. `webhook-id` is the event id,
 * the same on every attempt, so the receiver can drop a repeat (delivery is at least once);
 * `webhook-timestamp` is this attempt's time, which the receiver checks against its clock.
 * Logs carry the connector id, event id, status and error codes only: never the body or the URL.
 */
export const webhookConnector = defineConnectorKind({
  type: 'webhook',
  config: webhookConnectorConfigSchema,
  create(config, { logger, clock }) {
    const url = new URL(config.url);
    const keys = config.secrets.map(secretBytes);
    // Kept-alive connections: a busy company sends its receiver a stream of events.
    const agent = new (url.protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 8 });
    return {
      id: config.id,
      type: 'webhook',
      async deliver(event) {
        const body = webhookBody(event);
        const timestamp = Math.floor(clock.now() / 1000);
        const headers = {
          'content-type': 'application/json',
          'user-agent': 'kith-vendor',
          'webhook-id': event.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': webhookSignature(keys, event.id, timestamp, body),
        };
        let answer: Answer;
        try {
          answer = await post(url, headers, Buffer.from(body, 'utf8'), config.timeoutMs, agent);
        } catch (cause) {
          const code = networkCode(cause);
          logger.warn('webhook_unreachable', { connector: config.id, eventId: event.id, code });
          throw new ConnectorError('connector.unreachable', `The webhook receiver could not be reached (${code})`, { details: { code } });
        }
        const failure = classifyStatus(answer.status, answer.retryAfter, clock);
        if (failure) {
          logger.warn('webhook_refused', { connector: config.id, eventId: event.id, status: answer.status, code: failure.code });
          throw failure;
        }
        logger.info('webhook_delivered', { connector: config.id, eventId: event.id, status: answer.status });
      },
    };
  },
});
