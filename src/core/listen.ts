import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer, getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { guardRequests, type HttpLimitCounts, type HttpLimits } from './httpLimits.js';

export interface Listening {
  server: Server;
  port: number;
  /** What the limits refused or cut so far (all zero without limits). */
  limitCounts: HttpLimitCounts;
  close(): Promise<void>;
}

/**
 * Serves a Hono app on node:http; resolves once listening (port 0 picks a free port). With `limits`
 * (core/httpLimits.ts) the server keeps deadlines, sizes and budgets; both agents' servers pass them,
 * the inbound bench's bare comparison does not.
 */
export function listen(app: Hono, port: number, host: string, limits?: HttpLimits): Promise<Listening> {
  let server: Server;
  let limitCounts: HttpLimitCounts = { rateLimited: 0, overloaded: 0, tooLarge: 0, bodyTimeouts: 0 };
  if (limits) {
    // node checks its head and request deadlines on this interval: a second at most, so they hold to the second.
    server = createServer({ connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))) });
    const handle = getRequestListener(app.fetch);
    const guarded = guardRequests(server, limits, (request, response) => void handle(request, response));
    limitCounts = guarded.counts;
    server.on('request', guarded.listener);
  } else server = createAdaptorServer({ fetch: app.fetch }) as Server;
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolvePromise({
        server,
        port: address.port,
        limitCounts,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
