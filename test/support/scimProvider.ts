import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { USER_SCHEMA, listenScim, scimApp, scimError, type ScimUserStore, type StoredUser } from '../../src/cli/demoScim.js';
import { LOOPBACK } from './agents.js';

/**
 * A SCIM 2.0 service provider (RFC 7643/7644) on loopback that no one here wrote: express 5 with
 * scimmy-routers over scimmy, which parse the requests, check them against the core User schema,
 * evaluate filters and apply PATCH operations. The handlers below only store and return users,
 * in memory, with a version per user (meta.version) that an If-Match must name; a wrong one is
 * answered 412, as RFC 7644 §3.14 says. Tests read what it holds, and can make it fail.
 */

export const SCIM_TOKEN = 'scim-test-token-5d0c1f';

export type { StoredUser };

export interface ScimProvider {
  /** `http://127.0.0.1:<port>/scim` */
  baseUrl: string;
  users(): StoredUser[];
  /** The users whose externalId is this one. */
  byExternalId(externalId: string): StoredUser[];
  /** Method and path of every request that reached it (after failNext), and its status. */
  requests: { method: string; path: string; status: number; ifMatch: string | undefined }[];
  /** Answers its next request with this status (and headers), a SCIM error body, and nothing stored. */
  failNext(status: number, headers?: Record<string, string>): void;
  /** Runs `change` just before it handles the next request with this method (another client's write, say). */
  beforeNext(method: string, change: (provider: ScimProvider) => void): void;
  /** Puts a user in as another client would (its version counts up as any write's does). */
  put(data: Record<string, unknown>): StoredUser;
  /** Changes a user as another client would: its version moves on. */
  touch(id: string): void;
  /** Deletes a user as another client would. */
  drop(id: string): void;
  stop(): Promise<void>;
}

export async function startScimProvider(options: { token?: string } = {}): Promise<ScimProvider> {
  const token = options.token ?? SCIM_TOKEN;
  const store: ScimUserStore = { users: new Map() };
  let failure: { status: number; headers: Record<string, string> } | undefined;
  const before = new Map<string, (provider: ScimProvider) => void>();
  const requests: ScimProvider['requests'] = [];

  const recorder = (req: Request, res: Response, next: NextFunction) => {
    // Records every request and its answer's status.
    const path = req.path;
    res.on('finish', () => requests.push({ method: req.method, path, status: res.statusCode, ifMatch: req.header('if-match') }));
    next();
  };
  const hooks = (req: Request, res: Response, next: NextFunction) => {
    if (failure) {
      const { status, headers } = failure;
      failure = undefined;
      scimError(res, status, 'failing as the test asked', headers);
      return;
    }
    const change = before.get(req.method);
    if (change) {
      before.delete(req.method);
      change(provider);
    }
    next();
  };
  const server = await listenScim(scimApp(store, token, [recorder, hooks]), 0);
  const port = (server.address() as AddressInfo).port;
  let stopped = false;

  const provider: ScimProvider = {
    baseUrl: `http://${LOOPBACK}:${port}/scim`,
    users: () => [...store.users.values()],
    byExternalId: (externalId) => [...store.users.values()].filter((u) => u.data['externalId'] === externalId),
    requests,
    failNext(status, headers = {}) {
      failure = { status, headers };
    },
    beforeNext(method, change) {
      before.set(method, change);
    },
    put(data) {
      const user = { id: randomUUID(), version: 1, data: { schemas: [USER_SCHEMA], ...data } };
      store.users.set(user.id, user);
      return user;
    },
    touch(id) {
      const user = store.users.get(id);
      if (user) store.users.set(id, { ...user, version: user.version + 1 });
    },
    drop(id) {
      store.users.delete(id);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
  return provider;
}
