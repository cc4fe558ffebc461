const ref = { name: 'ref', in: 'path', required: true, description: 'Relationship id, id prefix or company name', schema: { type: 'string' } };
const error = { description: 'Error `{ "error": { "code", "message" } }` (codes: src/core/errorTable.ts)' };

/** The personal agent's local API, which the CLI and the web app both use (OpenAPI 3.1). */
export const personalOpenApi = {
  openapi: '3.1.0',
  info: { title: 'Kith personal agent local API', version: '1.0.0', description: 'Loopback only. Bearer token or session cookie; foreign Host/Origin get 403.' },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  security: [{ bearer: [] }],
  paths: {
    '/api/status': { get: { summary: 'Agent status', responses: { '200': { description: 'ok' }, '401': error } } },
    '/api/connect': {
      post: {
        summary: 'Connect anonymously to a company from its Out-of-Band invitation (URL or JSON)',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { invitation: { type: 'string' } }, required: ['invitation'] } } } },
        responses: { '201': { description: 'the new relationship' }, '400': error, '502': error },
      },
    },
    '/api/relationships': { get: { summary: 'Every relationship with state and what the company holds', responses: { '200': { description: 'ok' } } } },
    '/api/relationships/{ref}': { get: { summary: 'One relationship', parameters: [ref], responses: { '200': { description: 'ok' }, '404': error } } },
    '/api/relationships/{ref}/messages': {
      get: { summary: 'Thread (held messages of a muted company only with includeHeld=1)', parameters: [ref], responses: { '200': { description: 'ok' } } },
      post: {
        summary: 'Send a message (queued and retried while the company is down)',
        parameters: [ref],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { content: { type: 'string' } }, required: ['content'] } } } },
        responses: { '201': { description: '{ messageId, status: sent | queued }' }, '410': error },
      },
    },
    '/api/relationships/{ref}/ping': { post: { summary: 'Trust ping round trip', parameters: [ref], responses: { '200': { description: 'ok' } } } },
    '/api/relationships/{ref}/mute': { post: { summary: 'Hold the company’s messages without notice', parameters: [ref], responses: { '200': { description: 'ok' } } } },
    '/api/relationships/{ref}/unmute': { post: { summary: 'Release held messages', parameters: [ref], responses: { '200': { description: 'ok' } } } },
    '/api/relationships/{ref}/cutoff': {
      post: { summary: 'Terminate with erasure; returns the signed erasure receipt; destroys the pairwise keys', parameters: [ref], responses: { '200': { description: 'ok' }, '502': error } },
    },
    '/api/receipts': { get: { summary: 'Erasure receipts', responses: { '200': { description: 'ok' } } } },
    '/api/pickup': { post: { summary: 'Fetch messages companies queued (Message Pickup 3.0)', responses: { '200': { description: '{ received, failed }' } } } },
    '/api/export': {
      post: {
        summary: 'Full export: plain JSON or JWE (PBES2) sealed with the given passphrase',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { plain: { type: 'boolean' }, passphrase: { type: 'string' } } } } } },
        responses: { '200': { description: '{ format: plain, document } | { format: jwe, text }' } },
      },
    },
  },
} as const;
