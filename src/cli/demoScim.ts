import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';

/*
 * A SCIM 2.0 service provider (RFC 7643/7644) no one here wrote: express 5 with scimmy-routers over
 * scimmy, which parse the requests, check them against the core User schema, evaluate filters and
 * apply PATCH operations. The handlers here only keep users in memory, with a version per user
 * (meta.version) that an If-Match must name (412 otherwise, RFC 7644 §3.14). `npm start` runs one
 * as a company's CRM (the demo's SCIM connector writes to it); the tests run one to check the
 * connector against (test/support/scimProvider.ts adds the hooks they need).
 */

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

export interface StoredUser {
  id: string;
  version: number;
  /** The resource as scimmy handed it to the store (its schema applied), without id and meta. */
  data: Record<string, unknown>;
}

/** One provider's users; scimmy reaches it through the request context. */
export interface ScimUserStore {
  users: Map<string, StoredUser>;
  /** Called after each write (created, replaced or deleted). */
  changed?(change: { kind: 'written' | 'deleted'; user: StoredUser }): void;
}

export function etag(user: StoredUser): string {
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
      const store = ctx as ScimUserStore;
      const data = plain(instance);
      for (const other of store.users.values()) {
        if (other.id !== resource.id && sameUserName(other.data['userName'], data['userName'])) throw new SCIMMY.Types.Error(409, 'uniqueness', 'userName is already taken');
      }
      let user: StoredUser;
      if (resource.id) {
        const existing = store.users.get(resource.id);
        if (!existing) throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
        user = { id: existing.id, version: existing.version + 1, data };
      } else {
        user = { id: randomUUID(), version: 1, data };
      }
      store.users.set(user.id, user);
      store.changed?.({ kind: 'written', user });
      return representation(user) as never;
    })
    .egress((resource, ctx) => {
      const store = ctx as ScimUserStore;
      if (resource.id) {
        const user = store.users.get(resource.id);
        if (!user) throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
        return representation(user) as never;
      }
      const all = [...store.users.values()].map(representation);
      // scimmy leaves filtering to the handler; its own Filter does it.
      return (resource.filter ? resource.filter.match(all) : all) as never;
    })
    .degress((resource, ctx) => {
      const store = ctx as ScimUserStore;
      const user = resource.id ? store.users.get(resource.id) : undefined;
      if (!user || !store.users.delete(user.id)) throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
      store.changed?.({ kind: 'deleted', user });
    });
}

export function scimError(res: Response, status: number, detail: string, headers: Record<string, string> = {}): void {
  res
    .status(status)
    .set({ 'content-type': 'application/scim+json', ...headers })
    .send(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail }));
}

/**
 * An express app serving `store`'s Users under /scim with bearer `token`; `before` middlewares run
 * first (the tests' failure hooks). Writes naming a stale version get 412.
 */
export function scimApp(store: ScimUserStore, token: string, before: ((req: Request, res: Response, next: NextFunction) => void)[] = []): ReturnType<typeof express> {
  declareUsers();
  const app = express();
  for (const middleware of before) app.use(middleware);
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
  return app;
}

/** Starts the app on 127.0.0.1:`port` (0: any free port). */
export function listenScim(app: ReturnType<typeof express>, port: number): Promise<Server> {
  return new Promise((resolvePromise, reject) => {
    const server = app.listen(port, '127.0.0.1', () => resolvePromise(server));
    server.once('error', reject);
  });
}
