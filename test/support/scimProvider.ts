import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import { LOOPBACK } from './agents.js';

/**
 * A SCIM 2.0 service provider (RFC 7643/7644) on loopback that no one here wrote: express 5 with
 * scimmy-routers over scimmy, which parse the requests, check them against the core User schema,
 * evaluate filters and apply PATCH operations. The handlers below only store and return users,
 * in memory, with a version per user (meta.version) that an If-Match must name; a wrong one is
 * answered 412, as RFC 7644 §3.14 says. Tests read what it holds, and can make it fail.
 */

export const SCIM_TOKEN = 'scim-test-token-5d0c1f';

export interface StoredUser {
  id: string;
  version: number;
  /** The resource as scimmy handed it to the store (its schema applied), without id and meta. */
  data: Record<string, unknown>;
}

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

interface Store {
  users: Map<string, StoredUser>;
}

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

function etag(user: StoredUser): string {
  return `W/"${user.version}"`;
}

function representation(user: StoredUser): Record<string, unknown> {
  return { ...user.data, id: user.id, meta: { resourceType: 'User', version: etag(user) } };
}

/** The stored form of what scimmy passes to ingress: plain JSON, without what the server owns. */
function plain(instance: unknown): Record<string, unknown> {
  const data = JSON.parse(JSON.stringify(instance)) as Record<string, unknown>;
  delete data['id'];
  delete data['meta'];
  return { schemas: [USER_SCHEMA], ...data };
}

function sameUserName(a: unknown, b: unknown): boolean {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}

let declared = false;

/**
 * scimmy keeps its resource types in one process-wide registry: the User type is declared once,
 * and its handlers reach each provider's store through the request context.
 */
function declareUsers(): void {
  if (declared) return;
  declared = true;
  SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .ingress((resource, instance, ctx) => {
      const store = (ctx as Store).users;
      const data = plain(instance);
      for (const other of store.values()) {
        if (other.id !== resource.id && sameUserName(other.data['userName'], data['userName'])) throw new SCIMMY.Types.Error(409, 'uniqueness', 'userName is already taken');
      }
      if (resource.id) {
        const existing = store.get(resource.id);
        if (!existing) throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
        const updated = { id: existing.id, version: existing.version + 1, data };
        store.set(existing.id, updated);
        return representation(updated) as never;
      }
      const created = { id: randomUUID(), version: 1, data };
      store.set(created.id, created);
      return representation(created) as never;
    })
    .egress((resource, ctx) => {
      const store = (ctx as Store).users;
      if (resource.id) {
        const user = store.get(resource.id);
        if (!user) throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
        return representation(user) as never;
      }
      const all = [...store.values()].map(representation);
      // scimmy leaves filtering to the handler; its own Filter does it.
      return (resource.filter ? resource.filter.match(all) : all) as never;
    })
    .degress((resource, ctx) => {
      const store = (ctx as Store).users;
      if (!resource.id || !store.delete(resource.id)) throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
    });
}

function scimError(res: Response, status: number, detail: string, headers: Record<string, string> = {}): void {
  res
    .status(status)
    .set({ 'content-type': 'application/scim+json', ...headers })
    .send(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail }));
}

export async function startScimProvider(options: { token?: string } = {}): Promise<ScimProvider> {
  declareUsers();
  const token = options.token ?? SCIM_TOKEN;
  const store: Store = { users: new Map() };
  let failure: { status: number; headers: Record<string, string> } | undefined;
  const before = new Map<string, (provider: ScimProvider) => void>();
  const requests: ScimProvider['requests'] = [];

  const app = express();
  // Records every request and its answer's status.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const path = req.path;
    res.on('finish', () => requests.push({ method: req.method, path, status: res.statusCode, ifMatch: req.header('if-match') }));
    next();
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
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
  });
  // RFC 7644 §3.14: a write naming a version that is no longer current is refused with 412.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const ifMatch = req.header('if-match');
    const id = /^\/scim\/Users\/([^/]+)$/.exec(req.path)?.[1];
    const user = id === undefined ? undefined : store.users.get(decodeURIComponent(id));
    if (ifMatch !== undefined && user && ifMatch !== '*' && ifMatch !== etag(user)) {
      scimError(res, 412, 'the resource changed since that version');
      return;
    }
    next();
  });
  app.use(
    '/scim',
    new SCIMMYRouters({
      type: 'bearer',
      handler: (req) => {
        if (req.header('authorization') !== `Bearer ${token}`) throw new Error('Bearer token not accepted');
        return 'kith-connector';
      },
      context: () => store,
    }),
  );

  const server: Server = await new Promise((resolvePromise) => {
    const s = app.listen(0, LOOPBACK, () => resolvePromise(s));
  });
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
