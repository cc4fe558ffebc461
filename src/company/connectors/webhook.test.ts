import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, systemClock, type Clock } from '../../core/clock.js';
import { ConnectorError } from '../../core/errors.js';
import { capturingLogger, contractEvent, describeConnectorContract, PERSONAL_MARKER } from '../../../test/support/connectorContract.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/support/webhookReceiver.js';
import { connectorConfigSchema, createConnectors } from './index.js';
import type { ConnectorDelivery } from './types.js';
import { retryAfterMs, webhookConnector, webhookConnectorConfigSchema } from './webhook.js';

/*
 * The webhook connector against a real HTTP receiver on loopback that checks every request with
 * the `standardwebhooks` library, independently of our signing (which is node:crypto's HMAC).
 */

const newSecret = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;

function makeConnector(url: string, secrets: string[], options: { clock?: Clock; timeoutMs?: number } = {}) {
  const logger = capturingLogger();
  const config = webhookConnectorConfigSchema.parse({ type: 'webhook', url, secrets, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  return { logger, connector: webhookConnector.create(config, { logger, clock: options.clock ?? systemClock }) };
}

/** The error a delivery fails with (undefined when it went through). */
async function outcome(promise: Promise<void>): Promise<ConnectorError | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => {
      if (!(error instanceof ConnectorError)) throw error;
      return error;
    },
  );
}

describeConnectorContract('webhook', async () => {
  const secret = newSecret();
  const receiver = await startWebhookReceiver([secret]);
  const { connector, logger } = makeConnector(receiver.url, [secret]);
  return {
    connector,
    logger,
    seen: async () => receiver.verified.map((v) => v.id),
    stop: () => receiver.stop(),
    failNext: (status, headers) => receiver.failNext(status, headers),
    cleanup: () => receiver.close(),
  };
});

describe('the webhook connector', () => {
  const receivers: WebhookReceiver[] = [];
  const servers: Server[] = [];
  async function receiver(secrets: string[]) {
    const r = await startWebhookReceiver(secrets);
    receivers.push(r);
    return r;
  }
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.close();
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  it('posts the Standard Webhooks request: the event id, this attempt’s time, and { type, timestamp, data } signed over all three', async () => {
    const secret = newSecret();
    const r = await receiver([secret]);
    const clock = new ManualClock(Date.now());
    const { connector } = makeConnector(r.url, [secret], { clock });
    const event = contractEvent('profile.disclosed');
    await connector.deliver(event);

    const [got, ...more] = r.verified;
    expect(more).toEqual([]);
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['webhook-id']).toBe(event.id);
    expect(got!.headers['webhook-timestamp']).toBe(String(Math.floor(clock.now() / 1000)));
    expect(got!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    // The body as the library handed it over after verifying: the payload as it is, nothing added.
    expect(got!.payload).toEqual({ type: 'profile.disclosed', timestamp: new Date(event.createdAt).toISOString(), data: event.payload });
    expect(JSON.parse(got!.body)).toEqual(got!.payload);
  });

  it('sends a retry with the same webhook-id and the time of the new attempt, so the receiver can drop the repeat', async () => {
    const secret = newSecret();
    const r = await receiver([secret]);
    const clock = new ManualClock(Date.now() - 60_000);
    const { connector } = makeConnector(r.url, [secret], { clock });
    const event = contractEvent('profile.updated');
    r.failNext(503);
    expect(await outcome(connector.deliver(event))).toMatchObject({ code: 'connector.failed', retryable: true });
    clock.advance(60_000);
    await connector.deliver(event);
    expect(r.requests.map((q) => q.headers['webhook-id'])).toEqual([event.id, event.id]);
    const [first, second] = r.requests.map((q) => Number(q.headers['webhook-timestamp']));
    expect(second! - first!).toBe(60);
    // The body is the event's, not the attempt's: the same bytes both times.
    expect(r.requests[1]!.body).toBe(r.requests[0]!.body);
    expect(r.verified.map((v) => v.id)).toEqual([event.id]);
  });

  it('signs with every secret during a rotation: a receiver that knows only the new one or only the old one verifies', async () => {
    const [current, previous] = [newSecret(), newSecret(24)];
    const knowsNew = await receiver([current]);
    const knowsOld = await receiver([previous]);
    const knowsNeither = await receiver([newSecret()]);
    const event = contractEvent();
    for (const r of [knowsNew, knowsOld]) {
      await makeConnector(r.url, [current, previous]).connector.deliver(event);
      expect(r.verified.map((v) => v.id)).toEqual([event.id]);
      const signatures = r.verified[0]!.headers['webhook-signature']!.split(' ');
      expect(signatures).toHaveLength(2);
      for (const s of signatures) expect(s).toMatch(/^v1,/);
    }
    // Both entries are needed: each verifies under its own secret only.
    const [signedNew, signedOld] = knowsNew.verified[0]!.headers['webhook-signature']!.split(' ');
    const { headers, body } = knowsNew.verified[0]!;
    expect(() => new Webhook(current).verify(body, { ...headers, 'webhook-signature': signedNew! })).not.toThrow();
    expect(() => new Webhook(previous).verify(body, { ...headers, 'webhook-signature': signedNew! })).toThrow(/No matching signature/);
    expect(() => new Webhook(previous).verify(body, { ...headers, 'webhook-signature': signedOld! })).not.toThrow();

    // A receiver with another secret refuses it (401), which is no use retrying.
    expect(await outcome(makeConnector(knowsNeither.url, [current, previous]).connector.deliver(event))).toMatchObject({ code: 'connector.rejected', retryable: false, details: { status: 401 } });
    expect(knowsNeither.refusals).toEqual([expect.stringMatching(/No matching signature/)]);
  });

  it('covers the body, the id and the timestamp: a tampered body, another id or timestamp, or an old timestamp do not verify', async () => {
    const secret = newSecret();
    const r = await receiver([secret]);
    const event = contractEvent();
    await makeConnector(r.url, [secret]).connector.deliver(event);
    const { headers, body } = r.verified[0]!;
    const verifier = new Webhook(secret);
    expect(() => verifier.verify(body, headers)).not.toThrow();
    expect(() => verifier.verify(body.replace(PERSONAL_MARKER, 'Mallory'), headers)).toThrow(/No matching signature/);
    expect(() => verifier.verify(body, { ...headers, 'webhook-id': contractEvent().id })).toThrow(/No matching signature/);
    expect(() => verifier.verify(body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) })).toThrow(/No matching signature/);

    // Sent ten minutes late (the company's clock says so), the receiver refuses it as a possible replay.
    const late = new ManualClock(Date.now() - 10 * 60_000);
    expect(await outcome(makeConnector(r.url, [secret], { clock: late }).connector.deliver(contractEvent()))).toMatchObject({ code: 'connector.rejected', details: { status: 401 } });
    expect(r.refusals).toEqual([expect.stringMatching(/timestamp too old/)]);
    expect(r.verified).toHaveLength(1);
  });

  it('maps each answer: 2xx taken; 5xx and 408 retried; 429 throttled after Retry-After; 3xx and other 4xx refused for good', async () => {
    const secret = newSecret();
    const r = await receiver([secret]);
    // On a whole second, as HTTP dates are.
    const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
    const { connector, logger } = makeConnector(r.url, [secret], { clock });
    const answer = async (status: number, headers?: Record<string, string>) => {
      r.failNext(status, headers);
      return outcome(connector.deliver(contractEvent()));
    };
    for (const status of [200, 201, 202, 204]) expect(await answer(status)).toBeUndefined();
    for (const status of [500, 502, 504, 408]) expect(await answer(status)).toMatchObject({ code: 'connector.failed', retryable: true, retryAfterMs: undefined, details: { status } });
    expect(await answer(503, { 'retry-after': '120' })).toMatchObject({ code: 'connector.failed', retryable: true, retryAfterMs: 120_000 });
    expect(await answer(429)).toMatchObject({ code: 'connector.throttled', retryable: true, retryAfterMs: undefined });
    const inFiveMinutes = new Date(clock.now() + 5 * 60_000).toUTCString();
    expect(await answer(429, { 'retry-after': inFiveMinutes })).toMatchObject({ code: 'connector.throttled', retryable: true, retryAfterMs: 5 * 60_000 });
    for (const status of [301, 302, 307, 308]) {
      const redirected = await answer(status, { location: 'https://elsewhere.example/hook' });
      expect(redirected).toMatchObject({ code: 'connector.rejected', retryable: false, details: { status } });
      expect(redirected!.message).toMatch(/redirects are not followed/);
    }
    for (const status of [400, 401, 403, 404, 410, 413, 422]) expect(await answer(status)).toMatchObject({ code: 'connector.rejected', retryable: false, details: { status } });
    // No redirect was followed: every request went to the receiver, one per delivery.
    expect(r.requests).toHaveLength(4 + 4 + 1 + 2 + 4 + 7);

    // The log names the connector, the event, the status and the code: no value, no URL, no secret.
    const log = logger.lines.join('\n');
    expect(log).toContain('"status":503');
    expect(log).toContain('"code":"connector.throttled"');
    for (const secretPart of [PERSONAL_MARKER, r.url, String(r.port), secret.slice(6, 20), 'example.org']) expect(log).not.toContain(secretPart);
  });

  it('says a receiver that does not answer in time, or a host that does not resolve, is unreachable (worth retrying)', async () => {
    const silent = createServer(() => {});
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { connector, logger } = makeConnector(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, [newSecret()], { timeoutMs: 200 });
    const started = Date.now();
    expect(await outcome(connector.deliver(contractEvent()))).toMatchObject({ code: 'connector.unreachable', retryable: true, details: { code: 'ETIMEDOUT' } });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(logger.lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([expect.objectContaining({ event: 'webhook_unreachable', connector: 'webhook', code: 'ETIMEDOUT' })]);

    const nowhere = makeConnector('https://kith-webhook-test.invalid/hook', [newSecret()], { timeoutMs: 3_000 });
    expect(await outcome(nowhere.connector.deliver(contractEvent()))).toMatchObject({ code: 'connector.unreachable', retryable: true });
  });
});

describe('the example request of docs/connectors.md', () => {
  afterEach(() => void vi.useRealTimers());

  it('is what the connector sends for that event, and the library verifies it', async () => {
    const page = readFileSync(new URL('../../../docs/connectors.md', import.meta.url), 'utf8');
    const secret = /"secrets": \["(whsec_[A-Za-z0-9+/=]+)"\]/.exec(page)![1]!;
    const [, head, body] = /```http\n([\s\S]*?)\n\n(\{.*\})\n```/.exec(page)!;
    const documented = Object.fromEntries(head!.split('\n').slice(1).map((line) => line.split(': ', 2) as [string, string]));
    const data = (JSON.parse(body!) as { data: ConnectorDelivery['payload'] }).data;

    const r = await startWebhookReceiver([secret]);
    try {
      const clock = new ManualClock(Date.parse('2026-12-04T12:00:05Z'));
      const event: ConnectorDelivery = { id: documented['webhook-id']!, type: 'profile.disclosed', createdAt: Date.parse('2026-12-04T12:00:00Z'), payload: data };
      // Its receiver's clock is not that day's: it refuses, but the request is the documented one.
      await outcome(makeConnector(r.url, [secret], { clock }).connector.deliver(event));
      const [sent] = r.requests;
      expect(sent!.body).toBe(body);
      for (const name of ['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature']) expect(sent!.headers[name], name).toBe(documented[name]);
    } finally {
      await r.close();
    }
    vi.useFakeTimers({ now: Date.parse('2026-12-04T12:00:05Z') });
    expect(new Webhook(secret).verify(body!, documented)).toEqual(JSON.parse(body!));
  });
});

describe('the webhook connector’s settings', () => {
  const secret = newSecret();
  const parse = (config: Record<string, unknown>) => webhookConnectorConfigSchema.safeParse({ type: 'webhook', url: 'https://crm.example/hooks/kith', secrets: [secret], ...config });
  const messages = (config: Record<string, unknown>) => {
    const result = parse(config);
    expect(result.success).toBe(false);
    return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('takes an https URL and one or two secrets, with defaults for the id, the timeout and the attempts', () => {
    expect(parse({}).data).toEqual({ type: 'webhook', id: 'webhook', url: 'https://crm.example/hooks/kith', secrets: [secret], timeoutMs: 10_000, maxAttempts: 10 });
    expect(parse({ id: 'crm', secrets: [secret, newSecret(64)], timeoutMs: 30_000, maxAttempts: 3 }).success).toBe(true);
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://[::1]:9000/']) expect(parse({ url }).success).toBe(true);
    // Through the policy's list: the kind is known by its type.
    expect(connectorConfigSchema.safeParse({ type: 'webhook', url: 'https://crm.example/', secrets: [secret] }).success).toBe(true);
  });

  it('refuses plain http off loopback, other schemes, credentials in the URL and malformed, short, long, repeated or too many secrets, naming the rule and never the secret', () => {
    expect(messages({ url: 'http://crm.example/hook' })).toEqual(['url: must use https (plain http only to a loopback host)']);
    expect(messages({ url: 'http://10.0.0.5/hook' })).toEqual(['url: must use https (plain http only to a loopback host)']);
    expect(messages({ url: 'ftp://crm.example/' })).toEqual(['url: must be an http(s) URL']);
    expect(messages({ url: 'crm.example/hook' })).toEqual(['url: must be an absolute http(s) URL']);
    expect(messages({ url: 'https://user:pw@crm.example/' })).toEqual(['url: must not carry a user name or password']);
    const raw = randomBytes(32).toString('base64');
    expect(messages({ secrets: [raw] })).toEqual(['secrets.0: must be "whsec_" followed by the key in base64']);
    expect(messages({ secrets: [`whsec_${raw.slice(0, -1)}`] })).toEqual(['secrets.0: must be "whsec_" followed by the key in base64']);
    expect(messages({ secrets: [newSecret(16)] })).toEqual(['secrets.0: must hold 24 to 64 bytes of key']);
    expect(messages({ secrets: [newSecret(65)] })).toEqual(['secrets.0: must hold 24 to 64 bytes of key']);
    expect(messages({ secrets: [secret, secret] })).toEqual(['secrets: the two secrets are the same']);
    expect(messages({ secrets: [] })).toEqual([expect.stringMatching(/^secrets: /)]);
    expect(messages({ secrets: [secret, newSecret(), newSecret()] })).toEqual([expect.stringMatching(/^secrets: /)]);
    for (const timeoutMs of [0, 30_001, 1.5]) expect(messages({ timeoutMs })).toEqual([expect.stringMatching(/^timeoutMs: /)]);
    expect(messages({ headers: {} })).toEqual([expect.stringMatching(/headers/)]);

    // A policy with a bad webhook does not start: config.invalid, with no secret in what it says.
    const error = (() => {
      try {
        createConnectors([{ type: 'webhook', url: 'http://crm.example/', secrets: [secret.slice(0, -4)] }], { logger: capturingLogger(), clock: systemClock });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: 'config.invalid' });
    expect(JSON.stringify(error)).not.toContain(secret.slice(6, 30));
  });
});

describe('Retry-After', () => {
  const now = Date.UTC(2026, 11, 4, 12, 0, 0);
  it('reads delay-seconds and an HTTP date, capped at a day, and ignores what it cannot read', () => {
    expect(retryAfterMs('7', now)).toBe(7_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(retryAfterMs(new Date(now - 90_000).toUTCString(), now)).toBe(0);
    expect(retryAfterMs('9999999', now)).toBe(24 * 60 * 60_000);
    for (const bad of [undefined, '', '-5', '1.5', 'soon', '12 apples']) expect(retryAfterMs(bad, now)).toBeUndefined();
  });
});
