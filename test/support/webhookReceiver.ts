/**
 * A company system that receives Standard Webhooks: a real node:http server on loopback that
 * verifies every request with the `standardwebhooks` library (the spec authors' own verifier, not
 * our signing code), answers 204 to what verifies and 401 to what does not, and can be told to
 * answer a given status instead, or to go down and come back on the same port.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

const LOOPBACK = '127.0.0.1';

export interface ReceivedRequest {
  headers: Record<string, string>;
  /** The body exactly as it came. */
  body: string;
}

export interface VerifiedWebhook extends ReceivedRequest {
  id: string;
  /** The body as the library returned it after verifying. */
  payload: unknown;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  /** Every request, verified or not, in order. */
  requests: ReceivedRequest[];
  /** The requests that verified (and were answered 2xx), in order. */
  verified: VerifiedWebhook[];
  /** Why requests were refused: the library's error message. */
  refusals: string[];
  /** Answers the next request with this status (and headers), without looking at it. */
  failNext(status: number, headers?: Record<string, string>): void;
  /** Answers every request with this status from now on (undefined: verify again). */
  answerAlways(status: number | undefined): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

/** Starts a receiver that knows `secrets` (a request verifying under any one of them is taken). */
export async function startWebhookReceiver(secrets: readonly string[]): Promise<WebhookReceiver> {
  const verifiers = secrets.map((secret) => new Webhook(secret));
  const requests: ReceivedRequest[] = [];
  const verified: VerifiedWebhook[] = [];
  const refusals: string[] = [];
  const queued: { status: number; headers: Record<string, string> }[] = [];
  let always: number | undefined;

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received = { headers: flatHeaders(request.headers), body: Buffer.concat(chunks).toString('utf8') };
      requests.push(received);
      const next = queued.shift();
      if (next) return void response.writeHead(next.status, next.headers).end();
      if (always !== undefined) return void response.writeHead(always).end();
      const errors: string[] = [];
      for (const verifier of verifiers) {
        try {
          const payload: unknown = verifier.verify(received.body, received.headers);
          verified.push({ ...received, id: received.headers['webhook-id']!, payload });
          return void response.writeHead(204).end();
        } catch (error) {
          errors.push(error instanceof Error ? error.message : String(error));
        }
      }
      refusals.push(errors.join('; '));
      response.writeHead(401).end();
    });
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, LOOPBACK, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return {
    url: `http://${LOOPBACK}:${port}/hooks/kith`,
    port,
    requests,
    verified,
    refusals,
    failNext: (status, headers = {}) => void queued.push({ status, headers }),
    answerAlways: (status) => void (always = status),
    stop,
    start: async () => {
      if (!server.listening) await listen(port);
    },
    close: stop,
  };
}
