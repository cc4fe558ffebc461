import { ADMIN_ROUTE_SCOPES, routeKey } from './adminScopes.js';

const errorResponse = {
  description: 'Error: `{ "error": { "code": "...", "message": "..." } }`; codes in src/core/errorTable.ts',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

const SCOPES_DESCRIPTION = [
  'Every route needs a bearer token (401 `api.unauthorized` without a known one) holding the route\'s scope (403 `api.insufficient_scope` without it; nothing is done).',
  'Scopes: `read` (every GET of the admin API, and /metrics), `write` (the POSTs that change something), `console` (the call-center console\'s routes).',
  'The home\'s `admin-token` has every scope; `kith-vendor token create --scopes read,write` makes tokens with fewer.',
  'Each operation says its scope twice: in `security` (`bearer: [scope]`, as OpenAPI 3.1 allows role names for non-OAuth schemes) and in the `x-kith-scope` extension, for tools that read only OAuth scopes.',
  'Lists that grow (relationships, messages, events, intents, dead letters) take `limit` (1 to 1000, default 100) and `cursor` (the `next` of the previous page) and answer `next`, null on the last page.',
  'Any route may answer 429 `api.rate_limited` (this address is over its budget) or 503 `api.overloaded` (too many requests in progress), both with Retry-After in seconds; 413 `envelope.too_large` for a body over the limit, 408 `api.body_timeout` for a body that came too slowly (config.json `limits`; docs/deploy.md "Limits").',
].join(' ');

/** Each operation with its scope from ADMIN_ROUTE_SCOPES (the table the server enforces). */
function withScopes<P extends Record<string, Record<string, object>>>(paths: P): P {
  const scoped: Record<string, Record<string, object>> = {};
  for (const [path, operations] of Object.entries(paths)) {
    scoped[path] = {};
    for (const [method, operation] of Object.entries(operations)) {
      const scope = ADMIN_ROUTE_SCOPES[routeKey(method, path.replace(/\{([^}]+)\}/g, ':$1'))];
      // An operation the table lacks is documented without a scope; the tests refuse that.
      const responses = { ...(operation as { responses?: object }).responses, '401': errorResponse, '403': errorResponse };
      scoped[path][method] = scope === undefined ? operation : { ...operation, responses, security: [{ bearer: [scope] }], 'x-kith-scope': scope };
    }
  }
  return scoped as P;
}

/** The admin API as a call center sees it (OpenAPI 3.1). */
export const companyOpenApi = {
  openapi: '3.1.0',
  info: { title: 'Kith company agent admin API', version: '1.1.0', description: SCOPES_DESCRIPTION },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An admin token: the home\'s admin-token (every scope) or one made with kith-vendor token create (its scopes)' } },
    parameters: {
      limit: { name: 'limit', in: 'query', required: false, description: 'How many rows at most', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      cursor: { name: 'cursor', in: 'query', required: false, description: 'Where the page starts: the `next` of the page before, unchanged (opaque)', schema: { type: 'string' } },
    },
    schemas: {
      Next: { type: ['string', 'null'], description: 'The cursor of the next page, or null on the last page' },
      Error: {
        type: 'object',
        properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } }, required: ['code', 'message'] } },
      },
      Relationship: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          theirDid: { type: 'string', description: 'The pairwise DID she uses with this company only' },
          customerRef: { type: 'string' },
          state: { enum: ['active', 'muted', 'cut_off'] },
          createdAt: { type: 'integer', description: 'ms since epoch' },
          updatedAt: { type: 'integer' },
        },
      },
      Message: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          relationshipId: { type: 'string' },
          messageId: { type: 'string' },
          direction: { enum: ['in', 'out'] },
          type: { type: 'string' },
          body: { type: 'object' },
          createdAt: { type: 'integer' },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: withScopes({
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text format) of this process: messages by outcome, delivery latency, queue depths, connector deliveries',
        responses: { '200': { description: 'ok', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': errorResponse, '403': errorResponse },
      },
    },
    '/admin/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'ok' }, '401': errorResponse, '403': errorResponse } } },
    '/admin/invitation': { get: { summary: 'The Out-of-Band 2.0 invitation and its URL', responses: { '200': { description: 'ok' }, '401': errorResponse } } },
    '/admin/relationships': {
      get: {
        summary: 'Every relationship, as the call center sees it, oldest first, a page at a time',
        parameters: [{ $ref: '#/components/parameters/limit' }, { $ref: '#/components/parameters/cursor' }],
        responses: {
          '200': { description: 'ok', content: { 'application/json': { schema: { type: 'object', properties: { relationships: { type: 'array', items: { $ref: '#/components/schemas/Relationship' } }, next: { $ref: '#/components/schemas/Next' } }, required: ['relationships', 'next'] } } } },
          '400': errorResponse,
        },
      },
    },
    '/admin/relationships/{ref}': {
      get: { summary: 'One relationship by id, id prefix or customer number', parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok' }, '404': errorResponse } },
    },
    '/admin/relationships/{ref}/messages': {
      get: {
        summary: 'The message thread, oldest first, a page at a time',
        parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }, { $ref: '#/components/parameters/limit' }, { $ref: '#/components/parameters/cursor' }],
        responses: {
          '200': { description: 'ok', content: { 'application/json': { schema: { type: 'object', properties: { messages: { type: 'array', items: { $ref: '#/components/schemas/Message' } }, next: { $ref: '#/components/schemas/Next' } }, required: ['messages', 'next'] } } } },
          '400': errorResponse,
          '404': errorResponse,
        },
      },
      post: {
        summary: 'Send her a message (held while she has muted the company)',
        parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { content: { type: 'string' } }, required: ['content'] } } } },
        responses: { '201': { description: 'queued, and delivered if she is reachable' }, '404': errorResponse, '410': errorResponse },
      },
    },
    '/admin/relationships/{ref}/disclosure-requests': {
      post: {
        summary: 'Ask her for profile fields and/or credential claims, with a purpose (checked against the agreed terms); queued like any message',
        parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  fields: { type: 'array', items: { type: 'string' } },
                  credentials: { type: 'array', items: { type: 'object', properties: { vct: { type: 'string' }, claims: { type: 'array', items: { type: 'string' } } }, required: ['vct', 'claims'] } },
                  purpose: { type: 'string' },
                  purposeCode: { type: 'string' },
                  retention: { type: 'string', description: 'ISO 8601 duration, e.g. P1Y' },
                  legalBasis: { type: 'string', enum: ['consent', 'contract', 'legal-obligation', 'vital-interest', 'public-interest', 'legitimate-interest'], default: 'consent' },
                  termsRef: { type: 'string', description: 'the agreed terms record the ask is under' },
                },
                required: ['purpose'],
                additionalProperties: false,
              },
            },
          },
        },
        responses: { '201': { description: '{ request, delivered }' }, '400': errorResponse, '404': errorResponse, '410': errorResponse },
      },
    },
    '/admin/relationships/{ref}/holdings': {
      get: {
        summary: 'What the company holds about her: fields with their consent record and profile version, presentations, disclosure requests',
        parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: '{ profileVersion, fields, requests, ... }' }, '401': errorResponse, '403': errorResponse, '404': errorResponse },
      },
    },
    '/admin/relationships/{ref}/terms': {
      get: {
        summary: 'Every terms record of the relationship (her proffers, our counters and proposals, the agreed one, superseded ones), oldest first',
        parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: '{ terms: [{ id, proposedBy, agreementId, state, threadId, signed, obligations, reason, createdAt, updatedAt }] }' }, '404': errorResponse },
      },
      post: {
        summary: 'Propose a change of terms to her (a proffer signed by the company, queued like any message)',
        parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { agreement: { type: 'string', description: 'agreement id or its last segment, e.g. service-only' } }, required: ['agreement'] } } } },
        responses: { '201': { description: '{ recordId, messageId, delivered }' }, '400': errorResponse, '404': errorResponse, '410': errorResponse },
      },
    },
    '/admin/intents': {
      get: {
        summary: 'Intents customers cast to the company (its own id for each), with the offers it made, oldest first, a page at a time',
        parameters: [
          { name: 'state', in: 'query', required: false, schema: { type: 'string', enum: ['open', 'accepted', 'declined', 'closed', 'expired'] } },
          { name: 'relationship', in: 'query', required: false, description: 'only this relationship (id, id prefix or customer number)', schema: { type: 'string' } },
          { $ref: '#/components/parameters/limit' }, { $ref: '#/components/parameters/cursor' },
        ],
        responses: { '200': { description: '{ intents, next }' }, '400': errorResponse, '404': errorResponse },
      },
    },
    '/admin/intents/{id}': { get: { summary: 'One intent with its offers', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: '{ intent }' }, '404': errorResponse } } },
    '/admin/intents/{id}/offers': {
      post: {
        summary: 'Make an offer by hand: signed by the company, queued for her and pushed when she is reachable (docs/protocol/intent.md)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  description: { type: 'string' },
                  sku: { type: 'string' },
                  gtin: { type: 'string' },
                  category: { type: 'string' },
                  price: { type: 'string', description: 'decimal, e.g. 129.90' },
                  currency: { type: 'string', description: 'ISO 4217' },
                  quantity: { type: 'integer' },
                  availability: { type: 'string' },
                  deliveryDate: { type: 'string', format: 'date' },
                  conditions: { type: 'string' },
                  validHours: { type: 'integer' },
                },
                required: ['name', 'price', 'currency'],
              },
            },
          },
        },
        responses: { '201': { description: '{ offer, delivered }' }, '400': errorResponse, '404': errorResponse, '409': errorResponse },
      },
    },
    '/admin/offers/{id}/withdraw': {
      post: {
        summary: 'Withdraw an offer she has not answered; she is told',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { reason: { type: 'string' } } } } } },
        responses: { '200': { description: '{ offer, delivered }' }, '404': errorResponse },
      },
    },
    '/admin/data-rights': {
      get: {
        summary: 'Her data rights requests (access; deletion at cut-off) in the Data Rights Protocol 0.9.4/1.0 vocabulary, newest first',
        parameters: [{ name: 'relationship', in: 'query', required: false, description: 'only this relationship (id, id prefix or customer number)', schema: { type: 'string' } }],
        responses: { '200': { description: '{ requests: [{ request_id, relationship_id, exercise, status, reason?, received_at, updated_at }] }' }, '401': errorResponse, '404': errorResponse },
      },
    },
    '/admin/connectors': {
      get: {
        summary: 'The configured connectors (company systems told about changes), each with how many events it delivered, is retrying and gave up on (dead letters)',
        responses: { '200': { description: '{ connectors: [{ id, type, maxAttempts, delivered, retrying, dead }] }' }, '401': errorResponse },
      },
    },
    '/admin/dead-letters': {
      get: {
        summary: 'Events a connector gave up on, every connector, most recent first, a page at a time',
        parameters: [{ $ref: '#/components/parameters/limit' }, { $ref: '#/components/parameters/cursor' }],
        responses: { '200': { description: '{ deadLetters: [{ event, attempt: { connectorId, attempts, lastError, updatedAt } }], next }' }, '400': errorResponse, '401': errorResponse },
      },
    },
    '/admin/connectors/{id}/dead-letters': {
      get: {
        summary: 'Events one connector gave up on, most recent first, a page at a time',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { $ref: '#/components/parameters/limit' }, { $ref: '#/components/parameters/cursor' }],
        responses: { '200': { description: '{ deadLetters, next }' }, '400': errorResponse, '401': errorResponse, '404': errorResponse },
      },
    },
    '/admin/connectors/{id}/dead-letters/{eventId}/replay': {
      post: {
        summary: 'Put a dead letter back in line for its connector (after fixing the cause); the next dispatch tries it again',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'eventId', in: 'path', required: true, schema: { type: 'string' } },
        ],
        responses: { '200': { description: '{ replayed: true }' }, '401': errorResponse, '404': errorResponse },
      },
    },
    '/admin/events': {
      get: {
        summary: 'Connector events (profile.disclosed, profile.updated, disclosure.declined, ...), dispatched or not, oldest first, a page at a time',
        parameters: [{ name: 'relationship', in: 'query', required: false, description: 'only this relationship (id, id prefix or customer number)', schema: { type: 'string' } }, { $ref: '#/components/parameters/limit' }, { $ref: '#/components/parameters/cursor' }],
        responses: {
          '200': {
            description: 'ok',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    events: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          id: { type: 'string' },
                          relationshipId: { type: ['string', 'null'] },
                          type: { type: 'string' },
                          payload: { type: 'object' },
                          createdAt: { type: 'integer' },
                          attempts: { type: 'integer' },
                          dispatchedAt: { type: ['integer', 'null'] },
                        },
                      },
                    },
                    next: { $ref: '#/components/schemas/Next' },
                  },
                  required: ['events', 'next'],
                },
              },
            },
          },
          '400': errorResponse,
          '401': errorResponse,
          '404': errorResponse,
        },
      },
    },
    // --- caller verification and the audit log (issue 14, console) ---
    '/admin/relationships/{ref}/verifications': {
      post: {
        summary: 'Verify the caller: send her agent a challenge with a 6-character code both screens show (docs/protocol/caller-verification.md); she has 5 minutes',
        parameters: [
          { name: 'ref', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'x-kith-operator', in: 'header', required: false, description: 'The operator named in the challenge and the audit log (default admin-api)', schema: { type: 'string', maxLength: 60 } },
        ],
        responses: { '201': { description: '{ verification } (state pending, code, expiresAt, delivered)' }, '400': errorResponse, '404': errorResponse, '410': errorResponse },
      },
    },
    '/admin/relationships/{ref}/identifiers': {
      get: {
        summary: 'What the company knows her by (docs/protocol/account.md): the list it last sent her (sequence 0: the customer number of the connect response) and the last list her agent acknowledged',
        parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: '{ identifiers: { relationshipId, sequence, identifiers: [{ kind, value, label?, issued_at }], messageId, acknowledged } }' }, '404': errorResponse },
      },
      post: {
        summary: 'Add an identifier (or relabel one of the same kind and value) and send her the whole new list, signed; queued like any message',
        parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  kind: { type: 'string', enum: ['customer_number', 'account_login', 'loyalty_number', 'membership_number', 'policy_number', 'contract_number', 'other'] },
                  value: { type: 'string', minLength: 1, maxLength: 100 },
                  label: { type: 'string', minLength: 1, maxLength: 100 },
                },
                required: ['kind', 'value'],
              },
            },
          },
        },
        responses: { '201': { description: '{ identifiers: { ...the new list, delivered } }' }, '400': errorResponse, '404': errorResponse, '410': errorResponse },
      },
    },
    '/admin/relationships/{ref}/things/receipts': {
      post: {
        summary: 'Send her a signed receipt for a sale (docs/protocol/thing.md): the product, price and warranty, signed by the company (JCS + detached JWS) so it stays proof of purchase; she accepts or declines it',
        parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  name: { type: 'string', minLength: 1, maxLength: 200 },
                  brand: { type: 'string', minLength: 1, maxLength: 200 },
                  model: { type: 'string', minLength: 1, maxLength: 200 },
                  gtin: { type: 'string', pattern: '^(\\d{8}|\\d{12}|\\d{13}|\\d{14})$' },
                  mpn: { type: 'string', minLength: 1, maxLength: 100 },
                  serialNumber: { type: 'string', minLength: 1, maxLength: 200 },
                  purchaseDate: { type: 'string', format: 'date' },
                  price: { type: 'object', properties: { amount: { type: 'string' }, currency: { type: 'string' } }, required: ['amount', 'currency'] },
                  warranty: { type: 'string', description: 'ISO 8601 duration, e.g. P2Y' },
                  warrantyStart: { type: 'string', format: 'date' },
                  warrantyScope: { type: 'string', minLength: 1, maxLength: 500 },
                  warrantyProvider: { type: 'string', minLength: 1, maxLength: 200 },
                },
                required: ['name'],
              },
            },
          },
        },
        responses: { '201': { description: '{ receipt: { id, relationshipId, messageId, signed, state, createdAt, answeredAt }, delivered }' }, '400': errorResponse, '404': errorResponse, '410': errorResponse },
      },
    },
    '/admin/things/receipts': {
      get: {
        summary: 'The signed receipts it sent, all or one relationship\'s, with her answer (sent, accepted, declined)',
        parameters: [{ name: 'relationship', in: 'query', required: false, schema: { type: 'string' } }],
        responses: { '200': { description: '{ receipts: [...] }' }, '404': errorResponse },
      },
    },
    '/admin/things/registrations': {
      get: {
        summary: 'Her registrations of things it makes: the GTIN and model, the claims she shared (verified), under which consent record',
        parameters: [
          { name: 'relationship', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'gtin', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'model', in: 'query', required: false, schema: { type: 'string' } },
        ],
        responses: { '200': { description: '{ registrations: [{ id, relationshipId, consentRecordId, gtin, model, claims, createdAt, ... }] }' }, '404': errorResponse },
      },
    },
    '/admin/things/recalls': {
      post: {
        summary: 'Send a recall or safety notice for a GTIN or a model to every relationship that registered it (and to no other)',
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: { gtin: { type: 'string' }, model: { type: 'string', minLength: 1, maxLength: 200 }, text: { type: 'string', minLength: 1, maxLength: 4000 }, url: { type: 'string', format: 'uri' } },
                required: ['text'],
              },
            },
          },
        },
        responses: { '201': { description: '{ recallId, relationships: [{ relationshipId, delivered }] }' }, '400': errorResponse },
      },
    },
    // --- service cases about her things (docs/protocol/service.md) ---
    '/admin/cases': {
      get: {
        summary: 'Service cases she opened about her things, most recently changed first: the details she shared, the identifier she picked, the warranty-claim flag, the state',
        parameters: [
          { name: 'state', in: 'query', required: false, schema: { type: 'string', enum: ['open', 'answered', 'resolved'] } },
          { name: 'relationship', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } },
        ],
        responses: { '200': { description: '{ cases: [{ id, relationshipId, customerRef, caseId, state, warrantyClaim, thing, identifier, createdAt, updatedAt }] }' }, '400': errorResponse, '404': errorResponse },
      },
    },
    '/admin/cases/{id}': {
      get: {
        summary: 'One case with its thread (its id, a unique id prefix, or her case id)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: '{ case: { ...the case, thread: [{ author, kind, text, messageId, createdAt }] } }' }, '404': errorResponse },
      },
    },
    '/admin/cases/{id}/replies': {
      post: {
        summary: 'Write in the case (signed, queued like any message): the case is then answered',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string', minLength: 1, maxLength: 8000 } } } } } },
        responses: { '201': { description: '{ case, delivered }' }, '400': errorResponse, '404': errorResponse, '409': errorResponse, '410': errorResponse },
      },
    },
    '/admin/cases/{id}/resolve': {
      post: {
        summary: 'Resolve the case, with an optional last word; nothing more can be added to it',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: 8000 } } } } } },
        responses: { '200': { description: '{ case, delivered }' }, '400': errorResponse, '404': errorResponse, '409': errorResponse, '410': errorResponse },
      },
    },
    '/admin/verifications/{id}': {
      get: {
        summary: 'Where a verification stands: pending, approved (signedBy: her pairwise DID, answerJws: her signed answer as received), refused or expired',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: '{ verification }' }, '404': errorResponse },
      },
    },
    '/admin/audit': {
      get: {
        summary: 'The audit log, newest first: who (operator) looked at or acted on which relationship, and when',
        parameters: [
          { name: 'relationship', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } },
        ],
        responses: { '200': { description: '{ entries: [{ id, operator, relationshipId, action, at }] }' }, '400': errorResponse, '404': errorResponse },
      },
    },
  }),
} as const;
