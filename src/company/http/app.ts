import { Hono } from 'hono';
import { z } from 'zod';
import { ApiError, ConnectorError } from '../../core/errors.js';
import { respondWithError } from '../../core/httpErrors.js';
import { jsonBody } from '../../core/jsonBody.js';
import type { Logger } from '../../core/log.js';
import { readRequestBody } from '../../core/readBody.js';
import { createRejectionLog, type RejectionLog } from '../../core/rejectionLog.js';
import type { DidDocument } from '../../protocol/did/types.js';
import { MEDIA_TYPE } from '../../protocol/envelope/format.js';
import { COMPANY_DESCRIPTION_PATH } from '../../protocol/intent/companyDescription.js';
import { receiptInputSchema, recallInputSchema } from '../things.js';
import { identifierInputSchema } from '../accountIdentifiers.js';
import { caseListStateSchema, caseReplyInputSchema, caseResolveInputSchema } from '../serviceCases.js';
import { adminCredentials, type AdminCredentials } from '../adminTokens.js';
import { disclosureAskSchema } from '../config.js';
import type { CompanyAgent } from '../createCompanyAgent.js';
import type { DeadLetter, DeadLetterKey } from '../store/types.js';
import { manualOfferSchema } from '../intents/intentCommands.js';
import { adminAccess, checkAdminRouteScopes } from './adminScopes.js';
import { registerConsole } from '../console/console.js';
import { companyOpenApi } from './openapi.js';
import { createdCursor, createdKeyOf, deadLetterCursor, onePage, requestedPage } from './pagination.js';
import { registerOpsRoutes, type OpsOptions } from './ops.js';

export interface CompanyAppOptions {
  agent: CompanyAgent;
  /** The home's admin-token: every scope. */
  adminToken: string;
  /** The home's scoped tokens (tokens.json, adminTokens.ts), each with the scopes it was given. */
  scopedTokens?: AdminCredentials;
  maxMessageBytes: number;
  logger: Logger;
  /** Served at /.well-known/did.json when the company uses did:web. */
  didDocument?: DidDocument;
  /** /health, /ready and /metrics (http/ops.ts); without it, /health alone. */
  ops?: Omit<OpsOptions, 'name' | 'adminToken' | 'scopedTokens'>;
  /** The console's clock (sessions); default Date.now. */
  now?: () => number;
  /** Where refused DIDComm messages are logged, rate-limited per code (default: one on `logger`). */
  rejectionLog?: RejectionLog;
}

/**
 * A process that only works the queues (`--role worker`) still answers the load balancer and
 * Prometheus: /health, /ready and /metrics, nothing else.
 */
export function createOpsApp(options: OpsOptions & { logger: Logger }): Hono {
  const app = new Hono();
  app.onError((error, c) => respondWithError(c, error, options.logger));
  registerOpsRoutes(app, options);
  return app;
}

const sendMessageSchema = z.object({ content: z.string().min(1).max(16_000) });
const withdrawSchema = z.object({ reason: z.string().min(1).max(2000).optional() }).strict();
const intentStateSchema = z.enum(['open', 'accepted', 'declined', 'closed', 'expired']);
const proposeTermsSchema = z.object({ agreement: z.string().min(1).max(2000) }).strict();
/** Who the admin API acts for in the audit log: the X-Kith-Operator header, else this. */
const ADMIN_API_OPERATOR = 'admin-api';
const operatorHeaderSchema = z.string().trim().min(1).max(60).regex(/^[^\p{Cc}\p{Cf}]+$/u);

/**
 * The company agent over HTTP: the public DIDComm endpoint and invitation, and the admin API a call
 * center uses (bearer tokens with scopes: each route's scope in http/adminScopes.ts). Every error
 * goes through one handler that maps its code to a status.
 */
export function createCompanyApp(options: CompanyAppOptions): Hono {
  const { agent, logger } = options;
  const app = new Hono();
  const rejections = options.rejectionLog ?? createRejectionLog({ logger });
  app.onError((error, c) => {
    if (c.req.path === '/didcomm') {
      const raw = (error as { code?: string }).code;
      const code = typeof raw === 'string' ? raw : 'internal';
      // Every outcome is counted; the log gets one line per code per window (core/rejectionLog.ts).
      options.ops?.metrics.received(code);
      // A client that hung up is not a refused message: respondWithError notes it (client_aborted).
      if (code !== 'api.client_aborted') rejections.rejected(code);
    }
    return respondWithError(c, error, logger);
  });

  if (options.ops) registerOpsRoutes(app, { ...options.ops, name: agent.name, adminToken: options.adminToken, ...(options.scopedTokens ? { scopedTokens: options.scopedTokens } : {}) });
  else app.get('/health', (c) => c.json({ ok: true, name: agent.name }));

  app.post('/didcomm', async (c) => {
    const body = await readRequestBody(c.req.raw, c.env, options.maxMessageBytes);
    const { reply } = await agent.receive(body);
    options.ops?.metrics.received('accepted');
    if (reply === undefined) return c.body(null, 202);
    return c.body(reply, 200, { 'content-type': MEDIA_TYPE.encrypted });
  });

  app.get('/invite', (c) => c.json({ invitation: agent.invitation(), url: agent.invitationUrl() }));
  // Which proffered terms it accepts and what it counters with, for her agent to show before she connects.
  app.get('/.well-known/kith-terms', async (c) => c.json(await agent.publishedTerms()));
  // The same, in the discovery format the public MyTerms implementations read (decision 0018).
  app.get('/.well-known/myterms.json', async (c) => c.json(await agent.publishedMyTerms()));
  // The intents it answers, signed, for her directory (docs/protocol/intent.md); 404 when it answers none.
  app.get(COMPANY_DESCRIPTION_PATH, async (c) => {
    const described = await agent.description();
    if (!described) throw new ApiError('api.not_found', 'This company answers no intents');
    return c.json(described);
  });

  if (options.didDocument) {
    const document = options.didDocument;
    app.get('/.well-known/did.json', (c) => c.json(document));
  }

  // The call-center console: its own sign-in (an admin token with the console scope, exchanged for a session cookie).
  registerConsole(app, { agent, credentials: adminCredentials(options.adminToken, options.scopedTokens), logger, now: options.now ?? Date.now });

  app.use('/admin/*', adminAccess(adminCredentials(options.adminToken, options.scopedTokens)));

  app.get('/admin/openapi.json', (c) => c.json(companyOpenApi));
  app.get('/admin/invitation', (c) => c.json({ invitation: agent.invitation(), url: agent.invitationUrl() }));
  // The lists that grow answer a page at a time (http/pagination.ts): `limit`, `cursor`, `next`.
  const pageQuery = (c: { req: { query(name: string): string | undefined } }) => ({ limit: c.req.query('limit'), cursor: c.req.query('cursor') });
  app.get('/admin/relationships', async (c) => {
    const { items, next } = await onePage(requestedPage(pageQuery(c), createdCursor), createdCursor, createdKeyOf, (page) => agent.relationships(page));
    return c.json({ relationships: items, next });
  });
  app.get('/admin/relationships/:ref', async (c) => c.json({ relationship: await agent.findRelationship(c.req.param('ref')) }));
  app.get('/admin/relationships/:ref/messages', async (c) => {
    const page = requestedPage(pageQuery(c), createdCursor);
    const relationship = await agent.findRelationship(c.req.param('ref'));
    const { items, next } = await onePage(page, createdCursor, createdKeyOf, (p) => agent.messages(relationship.id, p));
    return c.json({ messages: items, next });
  });
  app.post('/admin/relationships/:ref/messages', async (c) => {
    const { content } = await jsonBody(c, sendMessageSchema, '{"content": "..."}');
    const relationship = await agent.findRelationship(c.req.param('ref'));
    return c.json(await agent.sendMessage(relationship.id, content), 201);
  });

  // What the company knows her by (docs/protocol/account.md).
  app.get('/admin/relationships/:ref/identifiers', async (c) => {
    const relationship = await agent.findRelationship(c.req.param('ref'));
    return c.json({ identifiers: await agent.accountIds.current(relationship.id) });
  });
  app.post('/admin/relationships/:ref/identifiers', async (c) => {
    const input = await jsonBody(c, identifierInputSchema, '{"kind": "policy_number", "value": "88-123", "label": "..."}');
    const relationship = await agent.findRelationship(c.req.param('ref'));
    return c.json({ identifiers: await agent.accountIds.set(relationship.id, input) }, 201);
  });

  // Her things (docs/protocol/thing.md): a signed receipt for a sale, her registrations, recalls.
  app.post('/admin/relationships/:ref/things/receipts', async (c) => {
    const input = await jsonBody(c, receiptInputSchema, '{"name": "...", "serialNumber": "...", "price": {"amount": "899.00", "currency": "EUR"}, "warranty": "P2Y"}');
    const relationship = await agent.findRelationship(c.req.param('ref'));
    return c.json(await agent.things.sendReceipt(relationship.id, input), 201);
  });
  app.get('/admin/things/receipts', async (c) => {
    const ref = c.req.query('relationship');
    const relationshipId = ref === undefined ? undefined : (await agent.findRelationship(ref)).id;
    return c.json({ receipts: await agent.things.receipts(relationshipId) });
  });
  app.get('/admin/things/registrations', async (c) => {
    const ref = c.req.query('relationship');
    const gtin = c.req.query('gtin');
    const model = c.req.query('model');
    const relationshipId = ref === undefined ? undefined : (await agent.findRelationship(ref)).id;
    return c.json({
      registrations: await agent.things.registrations({ ...(relationshipId === undefined ? {} : { relationshipId }), ...(gtin === undefined ? {} : { gtin }), ...(model === undefined ? {} : { model }) }),
    });
  });
  app.post('/admin/things/recalls', async (c) => {
    const input = await jsonBody(c, recallInputSchema, '{"gtin": "...", "text": "..."} or {"model": "...", "text": "..."}');
    return c.json(await agent.things.recall(input), 201);
  });

  app.get('/admin/relationships/:ref/holdings', async (c) => {
    const relationship = await agent.findRelationship(c.req.param('ref'));
    return c.json(await agent.holdings(relationship.id));
  });
  app.get('/admin/relationships/:ref/terms', async (c) => {
    const relationship = await agent.findRelationship(c.req.param('ref'));
    return c.json({ terms: await agent.termsHistory(relationship.id) });
  });
  app.post('/admin/relationships/:ref/terms', async (c) => {
    const { agreement } = await jsonBody(c, proposeTermsSchema, '{"agreement": "<agreement id or short name>"}');
    const relationship = await agent.findRelationship(c.req.param('ref'));
    return c.json(await agent.proposeTerms(relationship.id, agreement), 201);
  });
  app.get('/admin/events', async (c) => {
    const page = requestedPage(pageQuery(c), createdCursor);
    const ref = c.req.query('relationship');
    const relationshipId = ref === undefined ? undefined : (await agent.findRelationship(ref)).id;
    const { items, next } = await onePage(page, createdCursor, createdKeyOf, (p) => agent.events(relationshipId, p));
    return c.json({ events: items, next });
  });
  // Her data rights requests in the Data Rights Protocol's words (request_id, exercise, status, reason).
  app.get('/admin/data-rights', async (c) => {
    const ref = c.req.query('relationship');
    const relationshipId = ref === undefined ? undefined : (await agent.findRelationship(ref)).id;
    const rows = await agent.store.listDataRightsRequests({ ...(relationshipId === undefined ? {} : { relationshipId }), limit: 1000 });
    return c.json({
      requests: rows.map((r) => ({
        request_id: r.requestId,
        relationship_id: r.relationshipId,
        exercise: r.exercise,
        status: r.status,
        ...(r.reason === null ? {} : { reason: r.reason }),
        received_at: new Date(r.receivedAt).toISOString(),
        updated_at: new Date(r.updatedAt).toISOString(),
      })),
    });
  });
  app.get('/admin/connectors', async (c) => c.json({ connectors: await agent.connectors() }));
  const deadLetters = async (connectorId: string | undefined, page: ReturnType<typeof requestedPage<DeadLetterKey>>) => {
    const key = (d: DeadLetter): DeadLetterKey => ({ updatedAt: d.attempt.updatedAt, eventId: d.attempt.eventId, connectorId: d.attempt.connectorId });
    const { items, next } = await onePage(page, deadLetterCursor, key, (p) => agent.deadLetters({ ...(connectorId === undefined ? {} : { connectorId }), ...p }));
    return { deadLetters: items, next };
  };
  app.get('/admin/dead-letters', async (c) => c.json(await deadLetters(undefined, requestedPage(pageQuery(c), deadLetterCursor))));
  app.get('/admin/connectors/:id/dead-letters', async (c) => {
    const page = requestedPage(pageQuery(c), deadLetterCursor);
    const id = c.req.param('id');
    if (!(await agent.connectors()).some((connector) => connector.id === id)) throw new ConnectorError('connector.unknown', `No connector "${id}" is configured`);
    return c.json(await deadLetters(id, page));
  });
  app.post('/admin/connectors/:id/dead-letters/:eventId/replay', async (c) => {
    await agent.replayDeadLetter(c.req.param('eventId'), c.req.param('id'));
    return c.json({ replayed: true });
  });
  app.post('/admin/relationships/:ref/disclosure-requests', async (c) => {
    const relationship = await agent.findRelationship(c.req.param('ref'));
    const ask = await jsonBody(c, disclosureAskSchema, '{"fields": [...], "purpose": "..."}');
    return c.json(await agent.requestDisclosure(relationship.id, ask), 201);
  });

  app.get('/admin/intents', async (c) => {
    const page = requestedPage(pageQuery(c), createdCursor);
    const state = c.req.query('state');
    const ref = c.req.query('relationship');
    const parsedState = state === undefined ? undefined : intentStateSchema.safeParse(state);
    if (parsedState && !parsedState.success) throw new ApiError('api.bad_request', `state must be one of ${intentStateSchema.options.join(', ')}`, { details: { fields: { state: 'unknown state' } } });
    const relationshipId = ref === undefined ? undefined : (await agent.findRelationship(ref)).id;
    const filter = { ...(relationshipId ? { relationshipId } : {}), ...(parsedState?.success ? { state: parsedState.data } : {}) };
    const { items, next } = await onePage(page, createdCursor, createdKeyOf, (p) => agent.intents.list({ ...filter, ...p }));
    return c.json({ intents: items, next });
  });
  app.get('/admin/intents/:id', async (c) => c.json({ intent: await agent.intents.get(c.req.param('id')) }));
  app.post('/admin/intents/:id/offers', async (c) => {
    const input = await jsonBody(c, manualOfferSchema, '{"name": "...", "price": "129.90", "currency": "EUR"}');
    return c.json(await agent.intents.offer(c.req.param('id'), input), 201);
  });
  app.post('/admin/offers/:id/withdraw', async (c) => {
    // The body is optional: no reason is a withdrawal too.
    const empty = (await c.req.raw.clone().text()).trim() === '';
    const { reason } = empty ? {} : await jsonBody(c, withdrawSchema, '{"reason": "..."}');
    return c.json(await agent.intents.withdraw(c.req.param('id'), reason));
  });

  // --- Caller verification and the audit log (issue 14, console): one block, kept apart for merges. ---
  const operatorOf = (header: string | undefined): string => {
    if (header === undefined) return ADMIN_API_OPERATOR;
    const parsed = operatorHeaderSchema.safeParse(header);
    if (!parsed.success) throw new ApiError('api.bad_request', 'X-Kith-Operator: a name of 1 to 60 characters', { details: { fields: { 'x-kith-operator': 'a name of 1 to 60 characters' } } });
    return parsed.data;
  };
  app.post('/admin/relationships/:ref/verifications', async (c) => {
    const operator = operatorOf(c.req.header('x-kith-operator'));
    const relationship = await agent.findRelationship(c.req.param('ref'));
    const verification = await agent.verifications.start(relationship.id, operator);
    await agent.audit(operator, 'api.verify', relationship.id);
    return c.json({ verification }, 201);
  });
  app.get('/admin/verifications/:id', async (c) => c.json({ verification: await agent.verifications.get(c.req.param('id')) }));
  app.get('/admin/audit', async (c) => {
    const ref = c.req.query('relationship');
    const limitText = c.req.query('limit');
    const limit = limitText === undefined ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError('api.bad_request', 'limit: a whole number from 1 to 1000', { details: { fields: { limit: 'a whole number from 1 to 1000' } } });
    // An erased relationship is still named by id in the log: look it up by id as given.
    const relationshipId = ref === undefined ? undefined : ((await agent.store.getRelationship(ref))?.id ?? (await agent.findRelationship(ref)).id);
    return c.json({ entries: await agent.auditLog({ limit, ...(relationshipId === undefined ? {} : { relationshipId }) }) });
  });
  // --- end of caller verification and the audit log ---

  // --- Service cases about her things (docs/protocol/service.md): one block, kept apart for merges. ---
  app.get('/admin/cases', async (c) => {
    const stateText = c.req.query('state');
    const state = stateText === undefined ? undefined : caseListStateSchema.safeParse(stateText);
    if (state !== undefined && !state.success) throw new ApiError('api.bad_request', 'state: open, answered or resolved', { details: { fields: { state: 'open, answered or resolved' } } });
    const limitText = c.req.query('limit');
    const limit = limitText === undefined ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError('api.bad_request', 'limit: a whole number from 1 to 1000', { details: { fields: { limit: 'a whole number from 1 to 1000' } } });
    const ref = c.req.query('relationship');
    const relationshipId = ref === undefined ? undefined : (await agent.findRelationship(ref)).id;
    return c.json({ cases: await agent.serviceCases.list({ limit, ...(state?.data === undefined ? {} : { state: state.data }), ...(relationshipId === undefined ? {} : { relationshipId }) }) });
  });
  app.get('/admin/cases/:id', async (c) => c.json({ case: await agent.serviceCases.show(c.req.param('id')) }));
  app.post('/admin/cases/:id/replies', async (c) => {
    const { text } = await jsonBody(c, caseReplyInputSchema, '{"text": "..."}');
    return c.json(await agent.serviceCases.reply(c.req.param('id'), text), 201);
  });
  app.post('/admin/cases/:id/resolve', async (c) => {
    const empty = (await c.req.raw.clone().text()).trim() === '';
    const { text } = empty ? {} : await jsonBody(c, caseResolveInputSchema, '{"text": "..."}');
    return c.json(await agent.serviceCases.resolve(c.req.param('id'), text));
  });
  // --- end of service cases ---

  app.notFound(() => {
    throw new ApiError('api.not_found', 'No such route');
  });
  // An admin route without a scope in the table must not start (adminAccess would need every scope).
  checkAdminRouteScopes(app.routes, (path) => path.startsWith('/admin/') || path === '/metrics');
  return app;
}
