const ref = { name: 'ref', in: 'path', required: true, description: 'Relationship id, id prefix or company name', schema: { type: 'string' } };
const personaRef = { name: 'ref', in: 'path', required: true, description: 'Persona id or label', schema: { type: 'string' } };
const personaQuery = { name: 'persona', in: 'query', required: false, description: 'Persona id or label (default: her default persona)', schema: { type: 'string' } };
const personaProperty = { persona: { type: 'string', description: 'Persona id or label (default: her default persona)' } };
const reqId = { name: 'id', in: 'path', required: true, description: 'Request id or unique id prefix', schema: { type: 'string' } };
const versionParam = { name: 'version', in: 'path', required: true, description: 'Profile version of the change', schema: { type: 'integer', minimum: 1 } };
const intentId = { name: 'id', in: 'path', required: true, description: 'Intent id or unique id prefix', schema: { type: 'string' } };
const offerId = { name: 'id', in: 'path', required: true, description: 'Offer id or unique id prefix', schema: { type: 'string' } };
const ruleId = { name: 'id', in: 'path', required: true, description: 'Rule id', schema: { type: 'string' } };
const thingId = { name: 'id', in: 'path', required: true, description: 'Thing id or unique id prefix', schema: { type: 'string' } };
const caseId = { name: 'id', in: 'path', required: true, description: 'Service case id or unique id prefix', schema: { type: 'string' } };
const attachmentId = { name: 'attachmentId', in: 'path', required: true, description: 'Document id or unique id prefix', schema: { type: 'string' } };
const thingSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', maxLength: 200 },
    brand: { type: 'string' },
    model: { type: 'string' },
    gtin: { type: 'string', pattern: '^(\\d{8}|\\d{12}|\\d{13}|\\d{14})$', description: 'GS1 check digit verified' },
    mpn: { type: 'string' },
    serialNumber: { type: 'string' },
    purchaseDate: { type: 'string', format: 'date' },
    price: { type: 'object', properties: { amount: { type: 'string' }, currency: { type: 'string', description: 'ISO 4217' } }, required: ['amount', 'currency'] },
    seller: { type: 'string' },
    location: { type: 'string' },
    notes: { type: 'string', maxLength: 4000 },
    contracts: { type: 'array', items: { type: 'object', required: ['kind', 'start', 'duration'], properties: { kind: { type: 'string', enum: ['warranty', 'service'] }, start: { type: 'string', format: 'date' }, duration: { type: 'string', description: 'ISO 8601, e.g. P2Y' }, scope: { type: 'string' }, provider: { type: 'string' } } } },
    links: { type: 'array', items: { type: 'object', required: ['relationship', 'role'], properties: { relationship: { type: 'string' }, role: { type: 'string', enum: ['maker', 'seller', 'servicer', 'insurer'] } } } },
  },
};
const error = { description: 'Error `{ "error": { "code", "message" } }` (codes: src/core/errorTable.ts)' };

/** The personal agent's local API, which the CLI and the web app both use (OpenAPI 3.1). */
export const personalOpenApi = {
  openapi: '3.1.0',
  info: { title: 'Kith personal agent local API', version: '1.0.0', description: 'Loopback only. Bearer token, or the web app\'s session: its cookie together with its key in the X-Kith-Session header (a cookie alone gets 401 api.session_key_required); foreign Host/Origin get 403. Any route may answer 429 api.rate_limited or 503 api.overloaded with Retry-After (seconds), 413 envelope.too_large or 408 api.body_timeout (a body too large or too slow).' },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  security: [{ bearer: [] }],
  paths: {
    '/api/session': {
      get: { summary: 'Public: whether this browser or token is signed in, and whether the vault is locked', security: [], responses: { '200': { description: '{ authenticated, locked }' } } },
      post: {
        summary: 'Public: exchange the agent token for a session: an HttpOnly SameSite=Strict cookie, and the session key the page sends in X-Kith-Session with the cookie (the web app signs in once)',
        security: [],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] } } } },
        responses: { '200': { description: '{ sessionKey }; the cookie is set' }, '401': error },
      },
    },
    '/api/unlock': {
      post: {
        summary: 'Open the vault with her passphrase (also while locked); a wrong passphrase changes nothing; after five wrong ones each try waits (429, Retry-After)',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { passphrase: { type: 'string' } }, required: ['passphrase'] } } } },
        responses: { '200': { description: '{ locked: false }' }, '401': error, '429': error },
      },
    },
    '/api/lock': { post: { summary: 'Close the vault: keys leave memory, background work stops', responses: { '200': { description: '{ locked: true }' } } } },
    '/api/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    '/api/connect/preview': {
      post: {
        summary: 'What connecting would do: the company’s DID and goal, its published terms and the predicted answer to hers; sends nothing',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { invitation: { type: 'string' } }, required: ['invitation'] } } } },
        responses: { '200': { description: 'the preview' }, '400': error },
      },
    },
    '/api/import': {
      post: {
        summary: 'Restore an export into this empty vault (sealed exports need their passphrase; her vault passphrase is checked)',
        requestBody: {
          content: {
            'application/json': {
              schema: { type: 'object', properties: { text: { type: 'string' }, passphrase: { type: 'string' }, vaultPassphrase: { type: 'string' } }, required: ['text', 'vaultPassphrase'] },
            },
          },
        },
        responses: { '200': { description: 'what was restored' }, '400': error, '409': error },
      },
    },
    '/api/intents': {
      get: { summary: 'Her intents, with the companies each was cast to', responses: { '200': { description: '{ intents }' } } },
      post: {
        summary:
          'Cast an intent (a schema.org Demand) to live relationships and, with anonymous, to the companies of her directory that serve its category (each from a fresh pairwise DID), each with its own intent id; automatic offers come back at once',
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { demand: { type: 'object' }, outcome: { type: 'string' }, expiresAt: { type: 'integer' }, currencyRequired: { type: 'boolean' },
                  to: { type: 'array', items: { type: 'string' } },
                  anonymous: { type: 'boolean' },
                  disclose: { type: 'array', items: { type: 'string' }, description: 'profile fields disclosed with the cast (none by default)' },
                  ...personaProperty,
                },
                required: ['demand', 'expiresAt'],
              },
            },
          },
        },
        responses: { '201': { description: '{ intent }' }, '400': error, '409': error },
      },
    },
    '/api/intents/{id}': { get: { summary: 'One intent', parameters: [intentId], responses: { '200': { description: '{ intent }' }, '404': error } } },
    '/api/intents/{id}/offers': { get: { summary: 'Its offers side by side, cheapest first, each judged against her demand', parameters: [intentId], responses: { '200': { description: '{ offers }' }, '404': error } } },
    '/api/intents/{id}/close': { post: { summary: 'Close it; every company it was cast to is told', parameters: [intentId], responses: { '200': { description: '{ intent }' }, '409': error } } },
    '/api/offers/{id}/accept': {
      post: {
        summary: 'Accept an offer; every other company is told the intent is closed',
        parameters: [offerId],
        requestBody: {
          required: false,
          content: { 'application/json': { schema: { type: 'object', properties: { linkTo: { type: 'string', description: 'her other relationship with the same company, linked in her vault only' } } } } },
        },
        responses: { '200': { description: '{ offer }' }, '409': error },
      },
    },
    '/api/settings/idle-lock': {
      get: { summary: 'Minutes without her use before the agent locks (0: never)', responses: { '200': { description: '{ minutes }' } } },
      put: {
        summary: 'Set them; kept in her vault, so they hold after a restart (over the --idle-lock default)',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { minutes: { type: 'integer', minimum: 0, maximum: 1440 } }, required: ['minutes'] } } } },
        responses: { '200': { description: '{ minutes }' }, '400': error },
      },
    },
    '/api/passphrase': {
      post: {
        summary: 'Change her vault passphrase: only the data key is rewrapped; the current one must be given',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { current: { type: 'string' }, next: { type: 'string', minLength: 8 } }, required: ['current', 'next'] } } } },
        responses: { '200': { description: '{ changed: true }' }, '400': error, '401': error },
      },
    },
    '/api/intent-categories': { get: { summary: 'The shipped category list an intent names one of', responses: { '200': { description: '{ categories }' } } } },
    '/api/directory': {
      get: { summary: 'Her directory: the companies anonymous intents go to, as last verified', responses: { '200': { description: '{ entries }' } } },
      post: {
        summary: 'Add a company URL (its signed description at /.well-known/kith-company) or a directory list URL; fetched and verified first',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] } } } },
        responses: { '201': { description: '{ entry }' }, '400': error, '409': error, '422': error, '502': error },
      },
    },
    '/api/verifications': {
      get: {
        summary: 'Companies asking her to confirm she is the caller on the phone (caller-verification 1.0), newest first, each with its code and state (pending, approved, refused, expired)',
        parameters: [
          { name: 'pending', in: 'query', required: false, description: '1: only those waiting for her', schema: { type: 'string', enum: ['1'] } },
          { name: 'relationship', in: 'query', required: false, description: 'Relationship id, id prefix or company name', schema: { type: 'string' } },
        ],
        responses: { '200': { description: '{ verifications }' }, '404': error },
      },
    },
    '/api/verifications/{id}/answer': {
      post: {
        summary: 'Approve or refuse: her answer goes signed by her pairwise DID; an expired or answered one is refused, changing nothing',
        parameters: [{ name: 'id', in: 'path', required: true, description: 'Verification id or unique id prefix', schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { decision: { type: 'string', enum: ['approved', 'refused'] } }, required: ['decision'] } } } },
        responses: { '200': { description: '{ verification }' }, '400': error, '404': error, '409': error, '410': error, '502': error },
      },
    },
    '/api/account-ids': {
      get: {
        summary: 'What each company knows her by (account 1.0): customer, login, loyalty, membership, policy and contract numbers, from the company (signed) or entered by her',
        parameters: [{ name: 'relationship', in: 'query', required: false, description: 'Relationship id, id prefix or company name', schema: { type: 'string' } }],
        responses: { '200': { description: '{ identifiers }' }, '404': error },
      },
      post: {
        summary: 'Her own entry of what a company knows her by',
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  relationship: { type: 'string' },
                  kind: { type: 'string', enum: ['customer_number', 'account_login', 'loyalty_number', 'membership_number', 'policy_number', 'contract_number', 'other'] },
                  value: { type: 'string', minLength: 1, maxLength: 100 },
                  label: { type: 'string', minLength: 1, maxLength: 100 },
                },
                required: ['relationship', 'kind', 'value'],
              },
            },
          },
        },
        responses: { '201': { description: '{ identifier }' }, '400': error, '404': error, '409': error },
      },
    },
    '/api/account-ids/find': {
      get: {
        summary: 'Which company knows her by this value, and as what: exact match after normalising case, spaces and separators',
        parameters: [{ name: 'value', in: 'query', required: true, schema: { type: 'string', minLength: 1, maxLength: 200 } }],
        responses: { '200': { description: '{ identifiers }' }, '400': error },
      },
    },
    '/api/account-ids/{id}/remove': {
      post: {
        summary: 'Remove one of her own entries (one the company sent changes only with its next list)',
        parameters: [{ name: 'id', in: 'path', required: true, description: 'Identifier id or unique id prefix', schema: { type: 'string' } }],
        responses: { '200': { description: '{ identifier }' }, '404': error, '409': error },
      },
    },
    '/api/directory/refresh': { post: { summary: 'Fetch and verify every entry again', responses: { '200': { description: '{ entries }' } } } },
    '/api/directory/{id}/remove': {
      post: { summary: 'Remove an entry', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: '{ entries }' }, '404': error } },
    },
    '/api/offers/{id}/decline': {
      post: {
        summary: 'Decline an offer',
        parameters: [offerId],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { reason: { type: 'string' } } } } } },
        responses: { '200': { description: '{ offer }' }, '409': error },
      },
    },
    '/api/status': {
      get: {
        summary: 'Agent status (also while locked); vaultFile names the vault file `kith serve` serves, so the CLI uses only its own home\'s agent',
        responses: { '200': { description: '{ ok, locked, relationships, passphraseHint, vaultFile }' }, '401': error },
      },
    },
    '/api/connect': {
      post: {
        summary: 'Connect anonymously to a company from its Out-of-Band invitation (URL or JSON)',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { invitation: { type: 'string' }, ...personaProperty }, required: ['invitation'] } } } },
        responses: { '201': { description: 'the new relationship' }, '400': error, '404': error, '502': error },
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
    '/api/relationships/{ref}/access': {
      post: {
        summary: 'Ask the company what it holds on this relationship (data-rights 1.0, exercise access); its signed answer is kept as a receipt of kind access',
        parameters: [ref],
        responses: { '201': { description: '{ receipt } (body: request_id, status fulfilled|denied, data: fields, consent_records, agreements, counts)' }, '404': error, '410': error, '502': error },
      },
    },
    '/api/receipts': { get: { summary: 'Erasure receipts', responses: { '200': { description: 'ok' } } } },
    '/api/pickup': { post: { summary: 'Fetch messages companies queued (Message Pickup 3.0)', responses: { '200': { description: '{ received, failed }' } } } },
    '/api/rules': {
      get: { summary: 'Her disclosure rules: ordered, first match wins; manual (on: every request waits for her); each rule with its words', responses: { '200': { description: '{ version, manual, isDefault, rules }' } } },
      post: {
        summary: 'Add a rule (position 1-based; default before the first catch-all). rules.unknown_purpose, rules.unknown_field, rules.field_not_held (an approval of a field she has not got), rules.invalid; nothing changes on any',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { rule: { type: 'object' }, position: { type: 'integer', minimum: 1 } }, required: ['rule'] } } } },
        responses: { '201': { description: 'the rules' }, '400': error, '404': error, '422': error },
      },
      put: {
        summary: 'Replace the whole set with a rule file { version: 1, manual?, rules }; checked whole, so a bad rule changes nothing',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { version: { type: 'integer' }, manual: { type: 'boolean' }, rules: { type: 'array', items: { type: 'object' } } }, required: ['version', 'rules'] } } } },
        responses: { '200': { description: 'the rules' }, '400': error, '422': error },
      },
    },
    '/api/rules/{id}/remove': {
      post: { summary: 'Remove a rule', parameters: [ruleId], responses: { '200': { description: 'the rules' }, '404': error } },
    },
    '/api/rules/{id}/move': {
      post: {
        summary: 'Move a rule to a position (1-based)',
        parameters: [ruleId],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { position: { type: 'integer', minimum: 1 } }, required: ['position'] } } } },
        responses: { '200': { description: 'the rules' }, '400': error, '404': error },
      },
    },
    '/api/rules/manual': {
      put: {
        summary: 'The switch: on, every request waits for her whatever the rules say',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { manual: { type: 'boolean' } }, required: ['manual'] } } } },
        responses: { '200': { description: 'the rules' }, '400': error },
      },
    },
    '/api/rules/test': {
      post: {
        summary: 'What her rules would do with a request she received (action, rule, reason, fields); nothing is sent or changed',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { request: { type: 'string' } }, required: ['request'] } } } },
        responses: { '200': { description: 'the decision' }, '404': error },
      },
    },
    '/api/relationships/{ref}/persona': {
      put: {
        summary: 'Move a relationship to another persona: the fields it holds are sent again from that persona (withdrawn where it has none)',
        parameters: [ref],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { persona: { type: 'string' } }, required: ['persona'] } } } },
        responses: { '200': { description: '{ moved, relationship, change }' }, '404': error, '409': error },
      },
    },
    '/api/relationships/{ref}/trust': {
      put: {
        summary: 'She trusts this company (trust level "trusted" of her rules), or no longer does',
        parameters: [ref],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { trusted: { type: 'boolean' } }, required: ['trusted'] } } } },
        responses: { '200': { description: '{ relationshipId, trust }' }, '404': error },
      },
    },
    '/api/requests': {
      get: { summary: 'Disclosure requests from companies (pending; all=1 for answered too; auto=1 for those her rules answered, each with the rule; relationship=<ref> to filter)', responses: { '200': { description: '{ requests }' } } },
    },
    '/api/requests/{id}/approve': {
      post: {
        summary: 'Disclose all requested fields, or only `fields`, as SD-JWT presentations bound to her pairwise key',
        parameters: [reqId],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { fields: { type: 'array', items: { type: 'string' } } } } } } },
        responses: { '200': { description: '{ request, consentRecordId, fields }' }, '404': error, '409': error, '422': error, '502': error },
      },
    },
    '/api/requests/{id}/decline': {
      post: {
        summary: 'Decline (recorded as refused on both sides)',
        parameters: [reqId],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { reason: { type: 'string' } } } } } },
        responses: { '200': { description: '{ request, consentRecordId, fields: [] }' }, '404': error, '409': error },
      },
    },
    '/api/terms': { get: { summary: 'The terms rosters she holds (agreements with their obligations), the IEEE 7012-2025 agreements and how each is read, and her default terms', responses: { '200': { description: '{ rosters, published, default }' } } } },
    '/api/terms/default': {
      put: {
        summary: 'Set her default terms (an agreement id or short name; null clears them): proffered on every new connection',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { agreement: { type: ['string', 'null'] } }, required: ['agreement'] } } } },
        responses: { '200': { description: '{ default }' }, '400': error, '404': error },
      },
    },
    '/api/relationships/{ref}/terms': {
      get: { summary: 'Every terms record with this company (proffers, counters, agreed, superseded), oldest first', parameters: [ref], responses: { '200': { description: '{ terms }' }, '404': error } },
      post: {
        summary: 'Proffer new terms to this company (a change of terms); answered at once: accepted, countered or rejected',
        parameters: [ref],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { agreement: { type: 'string' } }, required: ['agreement'] } } } },
        responses: { '200': { description: '{ terms }' }, '400': error, '404': error, '409': error, '502': error },
      },
    },
    '/api/relationships/{ref}/terms/accept': { post: { summary: 'Accept the counter or company proffer waiting for her', parameters: [ref], responses: { '200': { description: '{ terms }' }, '400': error, '404': error } } },
    '/api/relationships/{ref}/terms/reject': {
      post: {
        summary: 'Decline the counter, or reject the company proffer, waiting for her',
        parameters: [ref],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { reason: { type: 'string' } } } } } },
        responses: { '200': { description: '{ terms }' }, '400': error, '404': error },
      },
    },
    '/api/consents': { get: { summary: 'Consent records (ISO/IEC TS 27560 shape); relationship=<ref> to filter', responses: { '200': { description: '{ consents }' } } } },
    '/api/profile': {
      get: { summary: 'One persona\'s profile: fields, version, and which companies hold each field', parameters: [personaQuery], responses: { '200': { description: '{ version, persona, fields }' }, '404': error } },
      put: {
        summary: 'Set fields (names or aliases) of one persona; every live company that knows her by it and holds a changed field gets it (fan-out)',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { fields: { type: 'object' }, ...personaProperty }, required: ['fields'] } } } },
        responses: { '201': { description: '{ change }: the new version and its deliveries' }, '200': { description: '{ change: null }: nothing changed' }, '400': error },
      },
    },
    '/api/profile/vcard': {
      get: { summary: 'One persona\'s profile as vCard 4 (text/vcard), or jCard with format=jcard', parameters: [personaQuery], responses: { '200': { description: 'vCard text or jCard JSON' } } },
      post: {
        summary: 'Set fields of one persona from a vCard (text/vcard body, vCard 4 or 3, at most 256 KiB)',
        parameters: [personaQuery],
        requestBody: { content: { 'text/vcard': { schema: { type: 'string' } } } },
        responses: { '201': { description: '{ change, ignored }' }, '200': { description: '{ change: null, ignored }' }, '400': error },
      },
    },
    '/api/profile/remove': {
      post: {
        summary: 'Remove fields from her profile; every live company holding one is asked to erase it and records the withdrawal of her consent (consent 1.0)',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { fields: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 50 }, ...personaProperty }, required: ['fields'] } } } },
        responses: { '201': { description: '{ change } (change.removed lists the fields)' }, '400': error, '404': error },
      },
    },
    '/api/personas': {
      get: { summary: 'Her personas (her selves), oldest first: the default, how many companies know her by each, how many fields each holds', responses: { '200': { description: '{ personas }' } } },
      post: {
        summary: 'A new persona with an empty profile; nameless: it never holds a name',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { label: { type: 'string', maxLength: 40 }, nameless: { type: 'boolean' } }, required: ['label'] } } } },
        responses: { '201': { description: '{ persona }' }, '400': error, '409': error },
      },
    },
    '/api/personas/default': {
      put: {
        summary: 'The persona new relationships use (connect, anonymous intents)',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { persona: { type: 'string' } }, required: ['persona'] } } } },
        responses: { '200': { description: '{ persona }' }, '404': error },
      },
    },
    '/api/personas/{ref}': {
      put: {
        summary: 'Rename a persona, or make it nameless (it must hold no name first)',
        parameters: [personaRef],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { label: { type: 'string', maxLength: 40 }, nameless: { type: 'boolean' } } } } } },
        responses: { '200': { description: '{ persona }' }, '404': error, '409': error, '422': error },
      },
    },
    '/api/personas/{ref}/remove': {
      post: { summary: 'Remove a persona and its values: not the default, and no company may know her by it', parameters: [personaRef], responses: { '200': { description: '{ persona }' }, '404': error, '409': error } },
    },
    '/api/profile/changes': {
      get: {
        summary: 'Recent changes with per-company delivery state, newest first',
        parameters: [{ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 10000, default: 20 } }],
        responses: { '200': { description: '{ changes }' }, '400': error },
      },
    },
    '/api/profile/changes/{version}': {
      get: { summary: 'One change: deliveries per company (pending, acked, failed, skipped), summary, done', parameters: [versionParam], responses: { '200': { description: '{ change }' }, '404': error } },
    },
    '/api/profile/deliver': { post: { summary: 'Send the profile updates that are due now (the server also does this by itself)', responses: { '200': { description: '{ acked, retrying, failed, skipped }' } } } },
    '/api/credentials': {
      get: { summary: 'SD-JWT VCs she holds', responses: { '200': { description: '{ credentials }' } } },
      post: {
        summary: 'Keep a credential after checking its issuer signature and its binding to one of her holder keys',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { sdJwt: { type: 'string' } }, required: ['sdJwt'] } } } },
        responses: { '201': { description: '{ credential }' }, '400': error },
      },
    },
    '/api/credentials/keys': { post: { summary: 'A fresh holder key (public JWK) for an issuer to bind a credential to', responses: { '201': { description: '{ keyId, publicJwk }' } } } },
    '/api/things': {
      get: { summary: 'Her things (issue 13), oldest first: fields, contracts with their end and status, companies by role, documents (metadata)', responses: { '200': { description: '{ things }' } } },
      post: {
        summary: 'Add a thing (schema.org IndividualProduct fields, contracts, links to relationships by role); a malformed field is thing.invalid naming it',
        requestBody: { content: { 'application/json': { schema: thingSchema } } },
        responses: { '201': { description: '{ thing }' }, '400': error, '404': error },
      },
    },
    '/api/things/due': {
      get: {
        summary: 'Warranties and service contracts in force ending within `within` days, soonest first',
        parameters: [{ name: 'within', in: 'query', required: false, description: 'Days (default 60)', schema: { type: 'integer', minimum: 0, maximum: 3660 } }],
        responses: { '200': { description: '{ due }' }, '400': error },
      },
    },
    '/api/things/inventory': {
      get: {
        summary: 'Her inventory: CSV (formula-like cells neutralised) or a printable HTML page with photos and totals per currency',
        parameters: [{ name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['csv', 'html'] } }],
        responses: { '200': { description: 'text/csv or text/html' }, '400': error },
      },
    },
    '/api/things/{id}': {
      parameters: [thingId],
      get: { summary: 'One thing', responses: { '200': { description: '{ thing }' }, '404': error } },
      put: {
        summary: 'Change a thing: given fields replace its own (null clears one); contracts and links, when given, replace the whole list',
        requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
        responses: { '200': { description: '{ thing }' }, '400': error, '404': error },
      },
    },
    '/api/things/receipts': {
      get: {
        summary: 'Signed receipts sellers sent her (docs/protocol/thing.md): pending ones, or all with all=true',
        parameters: [{ name: 'all', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] } }],
        responses: { '200': { description: '{ receipts }' } },
      },
    },
    '/api/things/receipts/{id}/accept': {
      post: {
        summary: 'Make a thing of a pending receipt (seller link, warranty, the signed receipt kept as proof of purchase) and tell the seller',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: '{ receipt, thing, answer }' }, '404': error, '409': error, '410': error },
      },
    },
    '/api/things/receipts/{id}/decline': {
      post: {
        summary: 'Decline a pending receipt and tell the seller',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: '{ receipt, answer }' }, '404': error, '409': error, '410': error },
      },
    },
    '/api/things/{id}/register': {
      post: {
        summary: 'Register a thing with its maker: the fields named (gtin or model among them) as a self-issued SD-JWT under a consent record; links the maker',
        parameters: [thingId],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: { with: { type: 'string' }, fields: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 8 }, purpose: { type: 'string' } },
                required: ['with', 'fields'],
              },
            },
          },
        },
        responses: { '200': { description: '{ thing }' }, '400': error, '404': error, '409': error, '410': error },
      },
    },
    '/api/things/{id}/remove': { post: { summary: 'Remove a thing with its documents', parameters: [thingId], responses: { '200': { description: '{ removed: true }' }, '404': error } } },
    '/api/things/{id}/attachments': {
      post: {
        summary: 'Keep a document with a thing (PDF, JPEG, PNG, GIF, WebP or text, checked by its first bytes; limits per file and in total)',
        parameters: [thingId],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { kind: { type: 'string', enum: ['receipt', 'photo', 'manual', 'warranty', 'other'] }, fileName: { type: 'string' }, contentType: { type: 'string' }, data: { type: 'string', contentEncoding: 'base64' } },
                required: ['kind', 'fileName', 'contentType', 'data'],
              },
            },
          },
        },
        responses: { '201': { description: '{ attachment }' }, '400': error, '404': error, '413': error, '422': error },
      },
    },
    '/api/things/{id}/attachments/{attachmentId}': {
      get: {
        summary: 'A document’s file, with its checked type, as an attachment (nosniff, sandboxed)',
        parameters: [thingId, attachmentId],
        responses: { '200': { description: 'The file' }, '404': error },
      },
    },
    '/api/things/{id}/attachments/{attachmentId}/remove': {
      post: { summary: 'Remove one document of a thing', parameters: [thingId, attachmentId], responses: { '200': { description: '{ removed: true }' }, '404': error } },
    },
    '/api/things/{id}/cases': {
      get: { summary: 'Service cases about this thing (docs/protocol/service.md), oldest first, each with its thread', parameters: [thingId], responses: { '200': { description: '{ cases }' }, '404': error } },
      post: {
        summary: 'Open a service case on the relationship that supports the thing (servicer, else maker, else seller, or `with`), sharing only the fields in `share` and the identifier picked; the warranty-claim flag is set while a warranty is in force',
        parameters: [thingId],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['text'],
                properties: {
                  text: { type: 'string', minLength: 1, maxLength: 8000 },
                  with: { type: 'string', description: 'Relationship id, id prefix or company name, linked to the thing' },
                  share: { type: 'array', items: { type: 'string', enum: ['name', 'brand', 'model', 'gtin', 'mpn', 'serialNumber', 'purchaseDate', 'price', 'seller', 'serial'] } },
                  identifier: { type: 'string', description: 'One identifier the company knows her by: its id, id prefix or value' },
                },
              },
            },
          },
        },
        responses: { '201': { description: '{ case }' }, '400': error, '404': error, '409': error, '410': error, '502': error },
      },
    },
    '/api/cases': { get: { summary: 'Every service case, oldest first, each with its thread', responses: { '200': { description: '{ cases }' } } } },
    '/api/cases/{id}': { get: { summary: 'One service case with its thread', parameters: [caseId], responses: { '200': { description: '{ case }' }, '404': error } } },
    '/api/cases/{id}/replies': {
      post: {
        summary: 'Write in the case; the company acknowledges it on the same response',
        parameters: [caseId],
        requestBody: { content: { 'application/json': { schema: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string', minLength: 1, maxLength: 8000 } } } } } },
        responses: { '200': { description: '{ case }' }, '400': error, '404': error, '409': error },
      },
    },
    '/api/cases/{id}/resolve': {
      post: {
        summary: 'Close the case, with an optional last word',
        parameters: [caseId],
        requestBody: { content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: 8000 } } } } } },
        responses: { '200': { description: '{ case }' }, '400': error, '404': error, '409': error },
      },
    },
    '/api/events': {
      get: {
        summary: 'Server-sent events: disclosure.requested, disclosure.answered, profile.changed, profile.delivery, message.received (ids, states and field names; never values)',
        responses: { '200': { description: 'text/event-stream' } },
      },
    },
    '/api/export': {
      post: {
        summary: 'Full export: plain JSON or JWE (PBES2) sealed with the given passphrase; salvage: leave out (and name) the records that do not open',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { plain: { type: 'boolean' }, passphrase: { type: 'string' }, salvage: { type: 'boolean' } } } } } },
        responses: { '200': { description: '{ format: plain, document, skipped? } | { format: jwe, text, skipped? } (skipped: salvage only, [{ table, id }])' } },
      },
    },
    '/api/export/file': {
      post: {
        summary:
          'Full export streamed by the agent to a file on its machine (documents beside it in <file>.files/), in bounded memory: what `kith export` uses while `kith serve` runs. The agent token only, not a browser session',
        requestBody: {
          content: {
            'application/json': {
              schema: { type: 'object', properties: { file: { type: 'string', description: 'absolute path' }, plain: { type: 'boolean' }, passphrase: { type: 'string' } }, required: ['file'] },
            },
          },
        },
        responses: { '200': { description: '{ file, format: plain | jwe, documents }' }, '400': error, '403': error },
      },
    },
  },
} as const;
