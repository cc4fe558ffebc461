import { INSTANCE_PATH } from '../../core/endpointCheck.js';
import { Hono, type Context, type Handler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { demandSchema } from '../../protocol/families/intent.js';
import { identifierKindSchema, identifierLabelSchema, identifierValueSchema } from '../../protocol/families/account.js';
import { INTENT_CATEGORIES } from '../../protocol/intent/categories.js';
import { bearerToken, tokensEqual } from '../../core/bearer.js';
import { ApiError, KithError } from '../../core/errors.js';
import { respondWithError } from '../../core/httpErrors.js';
import { jsonBody } from '../../core/jsonBody.js';
import { createUnlockThrottle, type UnlockThrottle } from './unlockThrottle.js';
import type { Logger } from '../../core/log.js';
import { readRequestBody } from '../../core/readBody.js';
import { createRejectionLog, type RejectionLog } from '../../core/rejectionLog.js';
import { MEDIA_TYPE } from '../../protocol/envelope/format.js';
import { fixedAccess, lockedError, type AgentAccess } from '../agentAccess.js';
import type { PersonalAgent } from '../createPersonalAgent.js';
import { BrowserSessions } from './browserSessions.js';
import { mountWebApp } from './webApp.js';
import { exportVault, salvageVault, sealExport } from '../vault/export.js';
import { writeExportFile } from '../vault/exportStream.js';
import { isAbsolute } from 'node:path';
import { personaLabelSchema } from '../vault/personaRepo.js';
import { personalOpenApi } from './openapi.js';
import { streamSSE } from 'hono/streaming';
import type { AgentEvent } from '../events.js';
import { profileToJcard, profileToVcard, vcardToProfile } from '../profile/vcard.js';
import { attachmentKindSchema } from '../../protocol/things/fields.js';
import { isoDay, thingInputSchema, thingPatchSchema } from '../things.js';
import { registerInputSchema } from '../thingProtocol.js';
import { caseResolveInputSchema, caseTextInputSchema, openCaseInputSchema } from '../serviceCases.js';
import { INVENTORY_CSP, inventoryCsv, inventoryHtml, type InventoryPhoto } from '../thingsInventory.js';
import { EnvelopeError, ThingError } from '../../core/errors.js';
import { tryParseJson } from '../../core/json.js';
import { SESSION_KEY_HEADER, routeKey, routes, type HttpMethod, type Route, type RouteBody, type RuleFile, type RuleInput } from './apiContract.js';

/** How many logged profile changes one request may ask for (`?limit=`). */
const MAX_CHANGES_LIMIT = 10_000;
const CHANGES_LIMIT = z.string().regex(/^\d{1,5}$/).transform(Number).pipe(z.number().int().min(1).max(MAX_CHANGES_LIMIT));

/**
 * The session cookie's name names this agent's port: cookies are not scoped by port, so agents of
 * two homes on one machine would otherwise overwrite each other's, and a cookie seen by another
 * port says whose it is. (That alone protects nothing: the session key does; browserSessions.ts.)
 */
export function sessionCookieName(port: number): string {
  return `kith_session_${port}`;
}
/** `background` on calls the web app makes without her (src/ui/activity.ts); anything else counts as her activity. */
export const ACTIVITY_HEADER = 'x-kith-activity';

export interface LocalApiOptions {
  /** A fixed agent (CLI in-process client, tests), or a lockable one (`kith serve`). */
  agent?: PersonalAgent;
  access?: AgentAccess;
  token: string;
  /** Wrong passphrases at /api/unlock: after a few, each try waits (default: a fresh throttle on the system clock). */
  unlockThrottle?: UnlockThrottle;
  /** The built web app to serve (dist/ui); without it only the API and DIDComm are served. */
  uiDir?: string;
  /** Called after her profile changed, so the server can start the fan-out at once. */
  onProfileChanged?: () => void;
  /** The port she reaches the agent on: Host and Origin headers must name it. */
  port: () => number;
  maxMessageBytes: number;
  logger: Logger;
  /** Said with the status while locked (the demo: where its passphrase file is); none by default. */
  passphraseHint?: string;
  /** Which vault file this agent serves (home.ts `vaultFileId`), said with the status; none in process. */
  vaultFile?: () => string | undefined;
  /** Where refused DIDComm messages are logged, rate-limited per code (default: one on `logger`). */
  rejectionLog?: RejectionLog;
  /** This process's random id, served for the start-up check of her published endpoint (core/endpointCheck.ts); none in process. */
  instance?: string;
  /**
   * Whether POST /api/export/file may write files on this machine: `kith serve`, which runs as
   * her for her own tools; not an agent in a test or fuzz world (a mutated path would be written).
   */
  exportFiles?: boolean;
}

/**
 * A route's body schema, held to the contract: what it accepts must be exactly the body type the
 * contract declares (both ways), so the server and its clients cannot drift apart.
 */
function bodySchema<R extends Route, S extends z.ZodType<unknown, RouteBody<R>>>(_route: R, schema: S & ([RouteBody<R>] extends [z.input<S>] ? unknown : never)): S {
  return schema;
}

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);
const invitation = z.object({ invitation: z.string().min(1).max(16_384) });
/** A persona reference (id or label); the persona feature says persona.unknown for one that names none. */
const personaRef = z.string().min(1).max(100);
const schemas = {
  signIn: bodySchema(routes.signIn, z.object({ token: z.string().min(1).max(200) }).strict()),
  unlock: bodySchema(routes.unlock, z.object({ passphrase: z.string().min(1).max(1024) }).strict()),
  connect: bodySchema(routes.connect, invitation.extend({ persona: personaRef.optional() })),
  previewConnect: bodySchema(routes.previewConnect, invitation),
  sendMessage: bodySchema(routes.sendMessage, z.object({ content: z.string().min(1).max(16_000) })),
  approve: bodySchema(routes.approve, z.object({ fields: z.array(z.string().min(1).max(64)).min(1).max(100).optional() })),
  decline: bodySchema(routes.decline, z.object({ reason: z.string().max(2000).optional() })),
  // The rule itself is checked by the rules feature, which names what is wrong with its own codes.
  addRule: bodySchema(routes.addRule, z.object({ rule: z.custom<RuleInput>(isObject, 'a rule object'), position: z.number().int().min(1).max(1000).optional() }).strict()),
  replaceRules: bodySchema(routes.replaceRules, z.custom<RuleFile>(isObject, 'a rule file object')),
  moveRule: bodySchema(routes.moveRule, z.object({ position: z.number().int().min(1).max(1000) }).strict()),
  setRulesManual: bodySchema(routes.setRulesManual, z.object({ manual: z.boolean() }).strict()),
  testRules: bodySchema(routes.testRules, z.object({ request: z.string().min(1).max(200) }).strict()),
  setTrust: bodySchema(routes.setTrust, z.object({ trusted: z.boolean() }).strict()),
  setProfile: bodySchema(
    routes.setProfile,
    z.object({ fields: z.record(z.string().min(1).max(64), z.unknown()).refine((f) => Object.keys(f).length > 0, 'at least one field'), persona: personaRef.optional() }),
  ),
  removeProfileFields: bodySchema(routes.removeProfileFields, z.object({ fields: z.array(z.string().min(1).max(64)).min(1).max(50), persona: personaRef.optional() }).strict()),
  addPersona: bodySchema(routes.addPersona, z.object({ label: personaLabelSchema, nameless: z.boolean().optional() }).strict()),
  updatePersona: bodySchema(
    routes.updatePersona,
    z
      .object({ label: personaLabelSchema.optional(), nameless: z.boolean().optional() })
      .strict()
      .refine((b) => b.label !== undefined || b.nameless !== undefined, 'a label or nameless'),
  ),
  setDefaultPersona: bodySchema(routes.setDefaultPersona, z.object({ persona: personaRef }).strict()),
  setRelationshipPersona: bodySchema(routes.setRelationshipPersona, z.object({ persona: personaRef }).strict()),
  setDefaultTerms: bodySchema(routes.setDefaultTerms, z.object({ agreement: z.string().min(1).max(2000).nullable() }).strict()),
  profferTerms: bodySchema(routes.profferTerms, z.object({ agreement: z.string().min(1).max(2000) }).strict()),
  rejectTerms: bodySchema(routes.rejectTerms, z.object({ reason: z.string().max(2000).optional() }).strict()),
  addCredential: bodySchema(routes.addCredential, z.object({ sdJwt: z.string().min(1).max(64 * 1024) })),
  castIntent: bodySchema(
    routes.castIntent,
    z
      .object({
        demand: demandSchema,
        outcome: z.string().min(1).max(1000).optional(),
        expiresAt: z.number().int().positive(),
        currencyRequired: z.boolean().optional(),
        to: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
        anonymous: z.boolean().optional(),
        disclose: z.array(z.string().min(1).max(64)).min(1).max(50).optional(),
        persona: personaRef.optional(),
      })
      .strict(),
  ),
  // A body is optional: accepting needs nothing more.
  acceptOffer: bodySchema(routes.acceptOffer, z.object({ linkTo: z.string().min(1).max(200).optional() }).strict().default({})),
  addDirectoryEntry: bodySchema(routes.addDirectoryEntry, z.object({ url: z.string().min(1).max(2000) }).strict()),
  answerVerification: bodySchema(routes.answerVerification, z.object({ decision: z.enum(['approved', 'refused']) }).strict()),
  addAccountId: bodySchema(
    routes.addAccountId,
    z.object({ relationship: z.string().min(1).max(200), kind: identifierKindSchema, value: identifierValueSchema, label: identifierLabelSchema.optional() }).strict(),
  ),
  // Held to the contract here; the things feature parses them itself, so a malformed thing is thing.invalid.
  addThing: bodySchema(routes.addThing, thingInputSchema),
  editThing: bodySchema(routes.editThing, thingPatchSchema),
  registerThing: bodySchema(routes.registerThing, registerInputSchema),
  // Held to the contract here; the service cases feature parses them itself (service.invalid).
  openCase: bodySchema(routes.openCase, openCaseInputSchema),
  replyCase: bodySchema(routes.replyCase, caseTextInputSchema),
  resolveCase: bodySchema(routes.resolveCase, caseResolveInputSchema),
  attachThing: bodySchema(
    routes.attachThing,
    z.object({ kind: attachmentKindSchema, fileName: z.string().min(1).max(200), contentType: z.string().min(1).max(100), data: z.base64() }).strict(),
  ),
  declineOffer: bodySchema(routes.declineOffer, z.object({ reason: z.string().max(2000).optional() }).strict()),
  export: bodySchema(routes.export, z.object({ plain: z.boolean().default(false), passphrase: z.string().min(1).optional(), salvage: z.boolean().default(false) })),
  exportFile: bodySchema(
    routes.exportFile,
    z.object({
      file: z.string().min(2).max(4096).refine((path) => isAbsolute(path) && !path.includes('\0'), 'an absolute path on the agent’s machine'),
      plain: z.boolean().default(false),
      passphrase: z.string().min(1).optional(),
    }),
  ),
  /** An export file's text (JWE or plain JSON), its passphrase if sealed, and her vault passphrase. */
  setIdleLock: bodySchema(routes.setIdleLock, z.object({ minutes: z.number().int().min(0).max(24 * 60) }).strict()),
  changePassphrase: bodySchema(routes.changePassphrase, z.object({ current: z.string().min(1).max(1024), next: z.string().min(8).max(1024) }).strict()),
  import: bodySchema(
    routes.import,
    z.object({ text: z.string().min(1).max(32 * 1024 * 1024), passphrase: z.string().max(1024).optional(), vaultPassphrase: z.string().min(1).max(1024) }).strict(),
  ),
};
const MAX_VCARD_BYTES = 256 * 1024;

/** The body a document of `maxFileBytes` makes: base64 takes 4 bytes for 3, and the JSON around it a little more. */
export function attachmentBodyBytes(maxFileBytes: number): number {
  return Math.ceil(maxFileBytes / 3) * 4 + 4096;
}
/**
 * What an /api route takes at most, but the attach route: the listener lets a document's body
 * through (server.ts), every other route keeps the listener's usual cap.
 */
export const API_BODY_BYTES = 1024 * 1024;
const ATTACH_PATH = /^\/api\/things\/[^/]+\/attachments$/;

/**
 * `attachment` with the file name twice: an ASCII fallback (quotes and anything outside printable
 * ASCII replaced) and the exact name in RFC 8187 encoding, so no name can break out of the header.
 */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/**
 * The personal agent's HTTP surface. `/api/*` is hers alone: a foreign Host header (DNS rebinding)
 * or Origin (another site in her browser) gets 403, a missing token 401, a session cookie without
 * its session key 401 `api.session_key_required` (browserSessions.ts). `/didcomm/<route>` is
 * where companies push; it needs no token because every message is verified cryptographically.
 */
export function createLocalApi(options: LocalApiOptions): Hono {
  const { logger } = options;
  const access = options.access ?? (options.agent ? fixedAccess(options.agent) : undefined);
  if (!access) throw new TypeError('createLocalApi needs an agent or an access');
  const agent = (): PersonalAgent => access.current();
  const sessions = new BrowserSessions();
  const app = new Hono();
  const rejections = options.rejectionLog ?? createRejectionLog({ logger });
  app.onError((error, c) => {
    // A refused inbound message: one line per code per window (core/rejectionLog.ts); a client that
    // hung up is not one (respondWithError notes it).
    const code = (error as { code?: unknown }).code;
    if (c.req.path.startsWith('/didcomm/') && code !== 'api.client_aborted') rejections.rejected(typeof code === 'string' ? code : 'internal');
    return respondWithError(c, error, logger);
  });
  /** Registers a route of the contract: its method and path come from there, so neither can drift. */
  const on = <P extends string>(route: Route<HttpMethod, P>, handler: Handler<{}, P>): void => {
    app.on(route.method, route.path, handler);
  };

  /** @returns the hosts this agent answers to (for the Origin check). @throws ApiError api.forbidden_host */
  const checkHost = (c: Context): Set<string> => {
    const hosts = allowedHosts(options.port());
    if (!hosts.has(c.req.header('host') ?? '')) throw new ApiError('api.forbidden_host', 'Host header is not this agent');
    return hosts;
  };
  const sessionCookie = (c: Context): string | undefined => getCookie(c, sessionCookieName(options.port()));
  /** For pages: they hold no data (it all comes from /api), so the cookie is enough to be served one. */
  const hasSessionCookie = (c: Context): boolean => sessions.hasCookie(sessionCookie(c));
  /** For the API: the cookie and the key given with it, in SESSION_KEY_HEADER. */
  const browserSession = (c: Context) => sessions.check(sessionCookie(c), c.req.header(SESSION_KEY_HEADER));

  // For a supervisor (systemd, a container runtime): the process is up; it can take companies'
  // messages (unlocked). Nothing about her; the Host check still applies (DNS rebinding).
  app.get('/health', (c) => {
    checkHost(c);
    return c.json({ ok: true });
  });
  app.get('/ready', (c) => {
    checkHost(c);
    return access.locked() ? c.json({ ready: false, reason: 'locked' }, 503) : c.json({ ready: true });
  });

  // Like /health, beside the DIDComm endpoint: "this is me", for the start-up endpoint check.
  const instance = options.instance;
  if (instance !== undefined) {
    app.get(INSTANCE_PATH, (c) => {
      checkHost(c);
      return c.json({ instance }, 200, { 'cache-control': 'no-store' });
    });
  }

  app.post('/didcomm/:route', async (c) => {
    const body = await readRequestBody(c.req.raw, c.env, options.maxMessageBytes);
    const { reply } = await agent().receivePushed(c.req.param('route'), body);
    return reply === undefined ? c.body(null, 202) : c.body(reply, 200, { 'content-type': MEDIA_TYPE.encrypted });
  });

  // Public: what the login page and the unlock screen need to know, and the token-for-cookie exchange.
  const PUBLIC = new Set([routes.session, routes.signIn].map(routeKey));
  // Reachable while locked: unlocking, locking, and the status.
  const unlockThrottle = options.unlockThrottle ?? createUnlockThrottle();
  const WHILE_LOCKED = new Set([routes.unlock, routes.lock, routes.status].map(routeKey));
  const EVENTS = routeKey(routes.events);

  app.use('/api/*', async (c, next) => {
    const hosts = checkHost(c);
    const origin = c.req.header('origin');
    if (origin !== undefined && !hosts.has(origin.replace(/^http:\/\//, ''))) {
      throw new ApiError('api.forbidden_origin', 'Cross-origin requests are refused');
    }
    c.header('cache-control', 'no-store');
    const route = `${c.req.method} ${c.req.path}`;
    if (!PUBLIC.has(route)) {
      const bearer = bearerToken(c.req.header('authorization'));
      const session = bearer === undefined ? browserSession(c) : 'none';
      // A cookie without its key is what another local server (any port of 127.0.0.1 gets her
      // cookies) could replay: it authenticates nothing.
      if (session === 'cookie_only') throw new ApiError('api.session_key_required', `The session cookie needs its key in the ${SESSION_KEY_HEADER} header: sign in again`);
      const byCookie = session === 'valid';
      if (!byCookie && !tokensEqual(bearer, options.token)) throw new ApiError('api.unauthorized', 'The agent token is required');
      // A browser always names the page a state-changing call comes from: no Origin, no change.
      if (byCookie && c.req.method !== 'GET' && c.req.method !== 'HEAD' && origin === undefined) {
        throw new ApiError('api.forbidden_origin', 'A state-changing call from the browser must carry its Origin');
      }
      if (!WHILE_LOCKED.has(route)) {
        if (access.locked()) throw lockedError();
        // The web app marks the calls it makes by itself (refreshes, polling) while she is away:
        // they must not hold off the idle lock. The CLI sends no such header: its calls are hers.
        // Nor does an open event stream (it reconnects by itself).
        if (c.req.header(ACTIVITY_HEADER) !== 'background' && route !== EVENTS) access.touch();
      }
    }
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > API_BODY_BYTES && !(c.req.method === 'POST' && ATTACH_PATH.test(c.req.path))) {
      throw new EnvelopeError('envelope.too_large', `Request body exceeds the ${API_BODY_BYTES}-byte limit`, { details: { size: declared, limit: API_BODY_BYTES } });
    }
    await next();
  });

  on(routes.session, (c) =>
    c.json({ authenticated: browserSession(c) === 'valid' || tokensEqual(bearerToken(c.req.header('authorization')), options.token), locked: access.locked() }),
  );
  on(routes.signIn, async (c) => {
    const { token } = await jsonBody(c, schemas.signIn);
    if (!tokensEqual(token, options.token)) throw new ApiError('api.unauthorized', 'That is not this agent’s token');
    const session = sessions.create();
    setCookie(c, sessionCookieName(options.port()), session.cookie, { httpOnly: true, sameSite: 'Strict', path: '/' });
    // The key goes to the page only (never in a cookie): it keeps it in sessionStorage.
    return c.json({ sessionKey: session.key });
  });
  on(routes.unlock, async (c) => {
    const { passphrase } = await jsonBody(c, schemas.unlock);
    unlockThrottle.check();
    try {
      await access.unlock(passphrase);
    } catch (error) {
      if (error instanceof KithError && error.code === 'vault.wrong_passphrase') unlockThrottle.failed();
      throw error;
    }
    unlockThrottle.succeeded();
    return c.json({ locked: access.locked() });
  });
  on(routes.lock, async (c) => {
    await access.lock();
    return c.json({ locked: access.locked() });
  });

  on(routes.status, (c) =>
    c.json({
      ok: true,
      locked: access.locked(),
      relationships: access.locked() ? null : agent().relationships().length,
      passphraseHint: options.passphraseHint ?? null,
      vaultFile: options.vaultFile?.() ?? null,
    }),
  );
  on(routes.openapi, (c) => c.json(personalOpenApi));

  on(routes.connect, async (c) => {
    const { invitation, persona } = await jsonBody(c, schemas.connect);
    return c.json({ relationship: await agent().connect(invitation, { persona }) }, 201);
  });

  on(routes.previewConnect, async (c) => {
    const { invitation } = await jsonBody(c, schemas.previewConnect);
    return c.json(await agent().previewConnect(invitation));
  });
  on(routes.relationships, (c) => c.json({ relationships: agent().relationships() }));
  on(routes.relationship, (c) => c.json({ relationship: agent().relationship(c.req.param('ref')) }));
  on(routes.messages, (c) =>
    c.json({ messages: agent().messages(c.req.param('ref'), { includeHeld: c.req.query('includeHeld') === '1' }) }),
  );
  on(routes.sendMessage, async (c) => {
    const { content } = await jsonBody(c, schemas.sendMessage);
    return c.json(await agent().sendMessage(c.req.param('ref'), content), 201);
  });
  on(routes.ping, async (c) => c.json(await agent().ping(c.req.param('ref'))));
  on(routes.mute, async (c) => c.json({ relationship: await agent().mute(c.req.param('ref')) }));
  on(routes.unmute, async (c) => c.json({ relationship: await agent().unmute(c.req.param('ref')) }));
  on(routes.cutOff, async (c) => c.json({ receipt: await agent().cutOff(c.req.param('ref')) }));
  on(routes.requestAccess, async (c) => c.json({ receipt: await agent().requestAccess(c.req.param('ref')) }, 201));
  on(routes.receipts, (c) => c.json({ receipts: agent().receipts(c.req.query('relationship')) }));
  on(routes.pickup, async (c) => c.json(await agent().pickup()));

  on(routes.requests, (c) =>
    c.json({ requests: agent().disclosure.requests({ all: c.req.query('all') === '1', auto: c.req.query('auto') === '1', ...(c.req.query('relationship') ? { relationship: c.req.query('relationship') as string } : {}) }) }),
  );
  on(routes.approve, async (c) => {
    const { fields } = await jsonBody(c, schemas.approve);
    return c.json(await agent().disclosure.approve(c.req.param('id'), fields));
  });
  on(routes.decline, async (c) => {
    const { reason } = await jsonBody(c, schemas.decline);
    return c.json(await agent().disclosure.decline(c.req.param('id'), reason));
  });
  on(routes.consents, (c) => c.json({ consents: agent().disclosure.consents(c.req.query('relationship')) }));

  on(routes.rules, (c) => c.json(agent().rules.view()));
  on(routes.addRule, async (c) => {
    const { rule, position } = await jsonBody(c, schemas.addRule);
    return c.json(agent().rules.add(rule, position), 201);
  });
  on(routes.replaceRules, async (c) => c.json(agent().rules.replace(await jsonBody(c, schemas.replaceRules))));
  on(routes.removeRule, (c) => c.json(agent().rules.remove(c.req.param('id'))));
  on(routes.moveRule, async (c) => {
    const { position } = await jsonBody(c, schemas.moveRule);
    return c.json(agent().rules.move(c.req.param('id'), position));
  });
  on(routes.setRulesManual, async (c) => {
    const { manual } = await jsonBody(c, schemas.setRulesManual);
    return c.json(agent().rules.setManual(manual));
  });
  on(routes.testRules, async (c) => {
    const { request } = await jsonBody(c, schemas.testRules);
    return c.json(agent().rules.test(request));
  });
  on(routes.setTrust, async (c) => {
    const { trusted } = await jsonBody(c, schemas.setTrust);
    return c.json(agent().rules.setTrusted(c.req.param('ref'), trusted));
  });

  on(routes.profile, (c) => c.json(agent().profile.profile(c.req.query('persona'))));
  on(routes.setProfile, async (c) => {
    const { fields, persona } = await jsonBody(c, schemas.setProfile);
    const change = agent().profile.set(fields, persona);
    if (change) options.onProfileChanged?.();
    return c.json({ change: change ?? null }, change ? 201 : 200);
  });
  on(routes.removeProfileFields, async (c) => {
    const { fields, persona } = await jsonBody(c, schemas.removeProfileFields);
    const change = agent().profile.remove(fields, persona);
    options.onProfileChanged?.();
    return c.json({ change }, 201);
  });
  // One handler for both: `format=jcard` picks the jCard.
  on(routes.exportVcard, (c) => {
    const values = Object.fromEntries(agent().profile.profile(c.req.query('persona')).fields.map((f) => [f.field, f.value]));
    if (c.req.query('format') === 'jcard') return c.json(profileToJcard(values));
    return c.body(profileToVcard(values), 200, { 'content-type': 'text/vcard; charset=utf-8' });
  });
  on(routes.importVcard, async (c) => {
    const bytes = await readRequestBody(c.req.raw, c.env, MAX_VCARD_BYTES);
    const { values, ignored } = vcardToProfile(new TextDecoder().decode(bytes));
    if (Object.keys(values).length === 0) throw new ApiError('api.bad_request', 'The vCard holds no field Kith knows');
    const change = agent().profile.set(values, c.req.query('persona'));
    if (change) options.onProfileChanged?.();
    return c.json({ change: change ?? null, ignored }, change ? 201 : 200);
  });

  on(routes.personas, (c) => c.json({ personas: agent().personas.list() }));
  on(routes.addPersona, async (c) => {
    const { label, nameless } = await jsonBody(c, schemas.addPersona);
    return c.json({ persona: agent().personas.create({ label, nameless }) }, 201);
  });
  // Before updatePersona: its :ref would take "default" for a persona's name.
  on(routes.setDefaultPersona, async (c) => {
    const { persona } = await jsonBody(c, schemas.setDefaultPersona);
    return c.json({ persona: agent().personas.setDefault(persona) });
  });
  on(routes.updatePersona, async (c) => {
    const patch = await jsonBody(c, schemas.updatePersona);
    return c.json({ persona: agent().personas.update(c.req.param('ref'), patch) });
  });
  on(routes.removePersona, (c) => c.json({ persona: agent().personas.remove(c.req.param('ref')) }));
  on(routes.setRelationshipPersona, async (c) => {
    const { persona } = await jsonBody(c, schemas.setRelationshipPersona);
    const moved = agent().profile.move(c.req.param('ref'), persona);
    if (moved?.change) options.onProfileChanged?.();
    const relationship = agent().relationship(c.req.param('ref'));
    return c.json({ moved: moved !== undefined, relationship, change: moved?.change ?? null });
  });
  on(routes.profileChanges, (c) => {
    const limit = c.req.query('limit');
    const parsed = CHANGES_LIMIT.safeParse(limit ?? '20');
    // (The fuzzer's limit=1e+308 reached SQLite's LIMIT as a float and came back a 500.)
    if (!parsed.success) throw new ApiError('api.bad_request', `limit is a whole number from 1 to ${MAX_CHANGES_LIMIT}`, { details: { limit } });
    return c.json({ changes: agent().profile.changes(parsed.data) });
  });
  on(routes.profileChange, (c) => {
    const version = Number(c.req.param('version'));
    if (!Number.isSafeInteger(version) || version < 1) throw new ApiError('api.bad_request', 'A change is named by its version number');
    return c.json({ change: agent().profile.change(version) });
  });
  on(routes.deliverProfile, async (c) => c.json(await agent().profile.deliver()));

  on(routes.roster, async (c) => c.json(await agent().terms.roster()));
  on(routes.setDefaultTerms, async (c) => {
    const { agreement } = await jsonBody(c, schemas.setDefaultTerms);
    return c.json({ default: await agent().terms.setDefault(agreement) });
  });
  on(routes.intents, (c) => c.json({ intents: agent().intents.list() }));
  on(routes.castIntent, async (c) => {
    const { to, outcome, currencyRequired, anonymous, disclose, persona, ...rest } = await jsonBody(c, schemas.castIntent);
    const { unreached: _unreached, ...intent } = await agent().intents.cast({
      ...rest,
      ...(to ? { to } : {}),
      ...(outcome ? { outcome } : {}),
      ...(currencyRequired !== undefined ? { currencyRequired } : {}),
      ...(anonymous !== undefined ? { anonymous } : {}),
      ...(disclose ? { disclose } : {}),
      ...(persona ? { persona } : {}),
    });
    return c.json({ intent }, 201);
  });
  on(routes.intentCategories, (c) => c.json({ categories: [...INTENT_CATEGORIES] }));
  on(routes.intent, (c) => c.json({ intent: agent().intents.intent(c.req.param('id')) }));
  on(routes.intentOffers, (c) => c.json({ offers: agent().intents.offers(c.req.param('id')) }));
  on(routes.closeIntent, async (c) => c.json({ intent: await agent().intents.close(c.req.param('id')) }));
  on(routes.acceptOffer, async (c) => {
    const { linkTo } = await jsonBody(c, schemas.acceptOffer);
    return c.json({ offer: await agent().intents.accept(c.req.param('id'), linkTo === undefined ? {} : { linkTo }) });
  });
  on(routes.verifications, (c) => {
    const relationship = c.req.query('relationship');
    return c.json({ verifications: agent().verifications.list({ pendingOnly: c.req.query('pending') === '1', ...(relationship === undefined ? {} : { relationship }) }) });
  });
  on(routes.answerVerification, async (c) => {
    const { decision } = await jsonBody(c, schemas.answerVerification);
    return c.json({ verification: await agent().verifications.answer(c.req.param('id'), decision) });
  });
  on(routes.accountIds, (c) => c.json({ identifiers: agent().accountIds.list(c.req.query('relationship')) }));
  on(routes.addAccountId, async (c) => {
    const { relationship, ...entry } = await jsonBody(c, schemas.addAccountId);
    return c.json({ identifier: agent().accountIds.add(relationship, entry) }, 201);
  });
  on(routes.removeAccountId, (c) => c.json({ identifier: agent().accountIds.remove(c.req.param('id')) }));
  on(routes.findAccountId, (c) => {
    const value = c.req.query('value');
    if (value === undefined || value.trim() === '' || value.length > 200) throw new ApiError('api.bad_request', 'value: the identifier to look for (1 to 200 characters)', { details: { fields: { value: 'the identifier to look for (1 to 200 characters)' } } });
    return c.json({ identifiers: agent().accountIds.find(value) });
  });
  on(routes.directory, (c) => c.json({ entries: agent().directory.list() }));
  on(routes.addDirectoryEntry, async (c) => {
    const { url } = await jsonBody(c, schemas.addDirectoryEntry);
    return c.json({ entry: await agent().directory.add(url) }, 201);
  });
  on(routes.refreshDirectory, async (c) => c.json({ entries: await agent().directory.refresh() }));
  on(routes.removeDirectoryEntry, (c) => c.json({ entries: agent().directory.remove(c.req.param('id')) }));
  on(routes.declineOffer, async (c) => {
    const { reason } = await jsonBody(c, schemas.declineOffer);
    return c.json({ offer: await agent().intents.decline(c.req.param('id'), reason) });
  });
  on(routes.terms, (c) => c.json({ terms: agent().terms.history(c.req.param('ref')) }));
  on(routes.profferTerms, async (c) => {
    const { agreement } = await jsonBody(c, schemas.profferTerms);
    return c.json({ terms: await agent().terms.proffer(c.req.param('ref'), agreement) });
  });
  on(routes.acceptTerms, async (c) => c.json({ terms: await agent().terms.accept(c.req.param('ref')) }));
  on(routes.rejectTerms, async (c) => {
    const { reason } = await jsonBody(c, schemas.rejectTerms);
    return c.json({ terms: await agent().terms.reject(c.req.param('ref'), reason) });
  });

  on(routes.credentials, async (c) => c.json({ credentials: await agent().credentials.list() }));
  on(routes.newHolderKey, (c) => c.json(agent().credentials.newHolderKey(), 201));
  on(routes.addCredential, async (c) => {
    const { sdJwt } = await jsonBody(c, schemas.addCredential);
    return c.json({ credential: await agent().credentials.add(sdJwt) }, 201);
  });

  // Her things. The fixed paths (due, inventory) are registered before /api/things/:id, which would take them.
  on(routes.things, (c) => c.json({ things: agent().things.list() }));
  on(routes.thingsDue, (c) => {
    const within = c.req.query('within');
    const days = within === undefined ? undefined : Number(within);
    if (days !== undefined && (!Number.isSafeInteger(days) || days < 0 || days > 3660)) throw new ApiError('api.bad_request', '`within` is a number of days (0 to 3660)');
    return c.json({ due: agent().things.due(days) });
  });
  on(routes.thingsInventory, (c) => {
    const things = agent().things.list();
    const format = c.req.query('format') ?? 'csv';
    if (format === 'csv') return c.body(inventoryCsv(things), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="inventory.csv"', 'x-content-type-options': 'nosniff' });
    if (format !== 'html') throw new ApiError('api.bad_request', '`format` is csv or html');
    const photos = new Map<string, InventoryPhoto[]>();
    for (const thing of things) {
      if (thing.attachments.some((a) => a.kind === 'photo')) photos.set(thing.id, agent().things.documents(thing.id).filter((d) => d.attachment.kind === 'photo'));
    }
    return c.body(inventoryHtml(things, photos, isoDay(Date.now())), 200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': INVENTORY_CSP, 'x-content-type-options': 'nosniff' });
  });
  // Sellers' signed receipts (docs/protocol/thing.md), before /api/things/:id, which would take the path.
  on(routes.thingReceipts, (c) => c.json({ receipts: agent().thingProtocol.receipts({ all: c.req.query('all') === 'true' }) }));
  on(routes.acceptThingReceipt, async (c) => c.json(await agent().thingProtocol.accept(c.req.param('id'))));
  on(routes.declineThingReceipt, async (c) => c.json(await agent().thingProtocol.decline(c.req.param('id'))));
  on(routes.thing, (c) => c.json({ thing: agent().things.get(c.req.param('id')) }));
  on(routes.registerThing, async (c) => c.json({ thing: await agent().thingProtocol.register(c.req.param('id'), await jsonBody(c, schemas.registerThing)) }));
  on(routes.thingCases, (c) => c.json({ cases: agent().serviceCases.list(c.req.param('id')) }));
  on(routes.openCase, async (c) => c.json({ case: await agent().serviceCases.open(c.req.param('id'), await c.req.json().catch(() => undefined)) }, 201));
  on(routes.cases, (c) => c.json({ cases: agent().serviceCases.list() }));
  on(routes.serviceCase, (c) => c.json({ case: agent().serviceCases.get(c.req.param('id')) }));
  on(routes.replyCase, async (c) => c.json({ case: await agent().serviceCases.reply(c.req.param('id'), await c.req.json().catch(() => undefined)) }));
  on(routes.resolveCase, async (c) => c.json({ case: await agent().serviceCases.resolve(c.req.param('id'), await c.req.json().catch(() => ({}))) }));
  on(routes.addThing, async (c) => c.json({ thing: agent().things.add(await c.req.json().catch(() => undefined)) }, 201));
  on(routes.editThing, async (c) => c.json({ thing: agent().things.edit(c.req.param('id'), await c.req.json().catch(() => undefined)) }));
  on(routes.removeThing, (c) => {
    agent().things.remove(c.req.param('id'));
    return c.json({ removed: true as const });
  });
  on(routes.attachThing, async (c) => {
    const things = agent().things;
    // Past the body its largest document makes, the file is too large whatever it is.
    const limit = attachmentBodyBytes(agent().vault.attachments.limits.maxFileBytes);
    const raw = await readRequestBody(c.req.raw, c.env, limit).catch((error: unknown) => {
      if (error instanceof KithError && error.code === 'envelope.too_large') {
        const { maxFileBytes } = agent().vault.attachments.limits;
        // The limit in the details too, as the vault's own check gives it, so the web app can say it in its words.
        throw new ThingError('thing.attachment_too_large', `A document may be at most ${maxFileBytes} bytes`, { details: { limit: maxFileBytes } });
      }
      throw error;
    });
    const json = tryParseJson(raw.toString('utf8'));
    const parsed = schemas.attachThing.safeParse(json.ok ? json.value : undefined);
    if (!parsed.success) throw new ThingError('thing.invalid', 'A document is { kind, fileName, contentType, data (base64) }', { details: { fields: [...new Set(parsed.error.issues.map((i) => i.path.map(String).join('.') || '(root)'))] } });
    const { data, ...document } = parsed.data;
    return c.json({ attachment: things.attach(c.req.param('id'), { ...document, bytes: Buffer.from(data, 'base64') }) }, 201);
  });
  on(routes.thingDocument, (c) => {
    const { attachment, bytes } = agent().things.document(c.req.param('id'), c.req.param('attachmentId'));
    return c.body(new Uint8Array(bytes), 200, {
      'content-type': attachment.contentType,
      'content-disposition': contentDisposition(attachment.fileName),
      'x-content-type-options': 'nosniff',
      // Opened by itself in a tab, a document still runs nothing.
      'content-security-policy': "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'",
    });
  });
  on(routes.detachThing, (c) => {
    agent().things.detach(c.req.param('id'), c.req.param('attachmentId'));
    return c.json({ removed: true as const });
  });

  // Server-sent events for the UI: one `data:` line of JSON per agent event.
  on(routes.events, (c) =>
    streamSSE(c, async (stream) => {
      const queue: AgentEvent[] = [];
      let wake: (() => void) | undefined;
      // The stream belongs to this unlocked agent: once it is locked, the stream ends (the page
      // reconnects, hears vault.locked, and asks for her passphrase).
      const subscribed = agent();
      const current = () => !access.locked() && access.current() === subscribed;
      const unsubscribe = subscribed.events.on((event) => {
        queue.push(event);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      await stream.writeSSE({ event: 'ready', data: '{}' });
      while (!stream.aborted) {
        const event = queue.shift();
        if (event) {
          await stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 15_000).unref();
        });
        wake = undefined;
        if (!current()) {
          // Locked: say so (the agent.locked event is still queued), then end the stream.
          for (const pending of queue.splice(0)) await stream.writeSSE({ event: pending.type, data: JSON.stringify(pending) });
          break;
        }
        if (queue.length === 0 && !stream.aborted) await stream.writeSSE({ event: 'ping', data: '{}' });
      }
      unsubscribe();
    }),
  );

  on(routes.export, async (c) => {
    const request = await jsonBody(c, schemas.export);
    if (!request.plain && !request.passphrase) throw new ApiError('api.bad_request', 'An encrypted export needs a passphrase');
    // A normal export fails closed on a record that does not open; a salvage export leaves it out and names it.
    const document = request.salvage ? salvageVault(agent().vault) : exportVault(agent().vault);
    const skipped = document.skipped === undefined ? {} : { skipped: document.skipped };
    if (document.skipped !== undefined && document.skipped.length > 0) options.logger.warn('export_salvaged', { skipped: document.skipped.length });
    if (request.plain) return c.json({ format: 'plain', document, ...skipped });
    return c.json({ format: 'jwe', text: await sealExport(document, request.passphrase ?? ''), ...skipped });
  });

  on(routes.exportFile, async (c) => {
    // Writing a file on her machine is for her own tools, which hold the agent's token; a page in
    // the browser downloads the export instead (POST /api/export).
    if (!options.exportFiles) throw new ApiError('api.bad_request', 'This agent does not write files; `kith serve` does, and `kith export` without one reads the vault itself');
    if (!tokensEqual(bearerToken(c.req.header('authorization')), options.token)) {
      throw new ApiError('api.insufficient_scope', 'Writing an export to a file needs the agent’s token (`kith export`); the web app downloads it');
    }
    const request = await jsonBody(c, schemas.exportFile);
    if (!request.plain && !request.passphrase) throw new ApiError('api.bad_request', 'An encrypted export needs a passphrase');
    const result = await writeExportFile(agent().vault, request.file, request.plain ? { plain: true } : { passphrase: request.passphrase ?? '' });
    options.logger.info('export_written', { format: result.format, documents: result.documents });
    return c.json({ file: request.file, ...result });
  });

  on(routes.idleLock, (c) => c.json({ minutes: access.idleLockMinutes() }));
  on(routes.setIdleLock, async (c) => {
    const { minutes } = await jsonBody(c, schemas.setIdleLock);
    if (!access.setIdleLockMinutes) throw new ApiError('api.bad_request', 'This agent runs without `kith serve` and does not lock by itself');
    access.setIdleLockMinutes(minutes);
    return c.json({ minutes: access.idleLockMinutes() });
  });
  on(routes.changePassphrase, async (c) => {
    const { current, next } = await jsonBody(c, schemas.changePassphrase);
    // Proved by the current passphrase itself (the vault unwraps its key with it), not only by the session.
    agent().vault.changePassphrase(current, next);
    options.logger.info('passphrase_changed');
    return c.json({ changed: true as const });
  });
  on(routes.import, async (c) => {
    const body = await jsonBody(c, schemas.import);
    if (!access.importExport) throw new ApiError('api.bad_request', 'Import into a running agent needs `kith serve`; use `kith import` into a fresh home');
    return c.json(await access.importExport(body.text, body.passphrase ?? '', body.vaultPassphrase));
  });

  if (options.uiDir !== undefined) mountWebApp(app, { uiDir: options.uiDir, hasSession: hasSessionCookie, checkHost });

  app.notFound(() => {
    throw new ApiError('api.not_found', 'No such route');
  });
  return app;
}
