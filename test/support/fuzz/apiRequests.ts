/**
 * Mutated requests for every route of her local API (src/personal/http/apiContract.ts) and of the
 * company's admin API (src/company/http/adminScopes.ts): path parameters, query strings and JSON
 * bodies changed from a valid example of each route. A request is data (`ApiCase`) turned into a
 * `Request` by `buildApiRequest`; the caller adds the right token.
 */
import fc from 'fast-check';
import { ADMIN_ROUTE_SCOPES } from '../../../src/company/http/adminScopes.js';
import { routes, type Routes } from '../../../src/personal/http/apiContract.js';
import { applyJsonOps, jsonOps, serialise, textOp, weirdValue, type JsonOp, type TextOp } from './jsonMutations.js';

/** A valid call of one route: its path parameters, query and body, before mutation. */
export interface ApiExample {
  params?: Record<string, string>;
  query?: Record<string, string>;
  /** A JSON value for a JSON route, a string for a text route; absent when the route takes none. */
  body?: unknown;
}

/** One route to fuzz: how it is called and a valid example of a call. */
export interface ApiRoute {
  name: string;
  method: string;
  /** Hono's form, `:name` for a parameter. */
  path: string;
  /** The body's media type; absent when the route takes none. */
  mediaType?: string;
  example: ApiExample;
}

/** What a valid example needs from the world it runs in. */
export interface LocalApiWorld {
  /** Her relationship the examples use (a live one). */
  relationshipId: string;
  /** A relationship the examples may end (cut-off): the others stay usable for later cases. */
  spareRelationshipId: string;
  invitationUrl: string;
  /** A URL serving a signed company description. */
  directoryUrl: string;
}

const AGREEMENT = 'https://kith.invalid/terms/agreements/service-only';
const SOME_ID = '00000000-0000-4000-8000-000000000000';
const DEMAND = { '@type': 'Demand', description: 'Waterproof trail shoes, size 39', category: 'clothing', priceSpecification: { maxPrice: '150.00', priceCurrency: 'EUR' } };

/**
 * A valid example of every local API route. Typed by the contract's route names, so a route added
 * to apiContract.ts does not compile here until it has an example (the fuzzer covers it then).
 * Examples that could only succeed by knowing a secret (unlock, passphrase, import) carry a wrong one:
 * the fuzzer must not lock her out of her own vault.
 */
export function localApiExamples(w: LocalApiWorld): Record<keyof Routes, ApiExample> {
  const ref = { ref: w.relationshipId };
  return {
    session: {},
    signIn: { body: { token: 'not-the-token' } },
    unlock: { body: { passphrase: 'not the passphrase' } },
    lock: {},
    status: {},
    openapi: {},
    connect: { body: { invitation: w.invitationUrl } },
    previewConnect: { body: { invitation: w.invitationUrl } },
    relationships: {},
    relationship: { params: ref },
    messages: { params: ref, query: { includeHeld: '1' } },
    sendMessage: { params: ref, body: { content: 'hello from the fuzzer' } },
    ping: { params: ref },
    mute: { params: ref },
    unmute: { params: ref },
    cutOff: { params: { ref: w.spareRelationshipId } },
    requestAccess: { params: ref },
    receipts: { query: { relationship: w.relationshipId } },
    pickup: {},
    requests: { query: { all: '1', relationship: w.relationshipId } },
    approve: { params: { id: SOME_ID }, body: { fields: ['email'] } },
    decline: { params: { id: SOME_ID }, body: { reason: 'no' } },
    consents: { query: { relationship: w.relationshipId } },
    profile: {},
    setProfile: { body: { fields: { email: 'ada@example.org', name: 'Ada Lovelace' } } },
    removeProfileFields: { body: { fields: ['phone'] } },
    exportVcard: {},
    exportJcard: { query: { format: 'jcard' } },
    importVcard: { body: 'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ada Lovelace\r\nEMAIL:ada@example.org\r\nEND:VCARD\r\n' },
    profileChanges: { query: { limit: '5' } },
    profileChange: { params: { version: '1' } },
    deliverProfile: {},
    personas: {},
    addPersona: { body: { label: 'work', nameless: false } },
    updatePersona: { params: { ref: 'me' }, body: { label: 'myself' } },
    setDefaultPersona: { body: { persona: 'me' } },
    removePersona: { params: { ref: 'work' } },
    setRelationshipPersona: { params: ref, body: { persona: 'me' } },
    roster: {},
    setDefaultTerms: { body: { agreement: AGREEMENT } },
    terms: { params: ref },
    profferTerms: { params: ref, body: { agreement: AGREEMENT } },
    acceptTerms: { params: ref },
    rejectTerms: { params: ref, body: { reason: 'no' } },
    credentials: {},
    newHolderKey: {},
    addCredential: { body: { sdJwt: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln~' } },
    intents: {},
    intentCategories: {},
    castIntent: { body: { demand: DEMAND, outcome: 'Dry feet', expiresAt: Date.now() + 86_400_000, to: [w.relationshipId] } },
    intent: { params: { id: SOME_ID } },
    intentOffers: { params: { id: SOME_ID } },
    closeIntent: { params: { id: SOME_ID } },
    acceptOffer: { params: { id: SOME_ID }, body: { linkTo: w.relationshipId } },
    declineOffer: { params: { id: SOME_ID }, body: { reason: 'no' } },
    directory: {},
    addDirectoryEntry: { body: { url: w.directoryUrl } },
    refreshDirectory: {},
    removeDirectoryEntry: { params: { id: SOME_ID } },
    verifications: { query: { pending: '1', relationship: w.relationshipId } },
    answerVerification: { params: { id: SOME_ID }, body: { decision: 'approved' } },
    events: {},
    export: { body: { plain: true } },
    // The fuzz world's agent does not write files (LocalApiOptions.exportFiles): the route's checks are fuzzed, not the disk.
    exportFile: { body: { file: '/nonexistent/kith-fuzz-export.json', plain: true } },
    idleLock: {},
    setIdleLock: { body: { minutes: 15 } },
    changePassphrase: { body: { current: 'not the passphrase', next: 'a new passphrase' } },
    import: { body: { text: '{}', vaultPassphrase: 'not the passphrase' } },
    rules: {},
    addRule: { body: { rule: { when: { purposes: ['marketing'] }, action: 'decline' } } },
    replaceRules: { body: { version: 1, manual: false, rules: [{ id: SOME_ID, when: { purposes: ['marketing'] }, action: 'decline' }] } },
    removeRule: { params: { id: SOME_ID } },
    moveRule: { params: { id: SOME_ID }, body: { position: 0 } },
    setRulesManual: { body: { manual: true } },
    testRules: { body: { request: SOME_ID } },
    setTrust: { params: ref, body: { trusted: true } },
    accountIds: { query: { relationship: w.relationshipId } },
    addAccountId: { body: { relationship: w.relationshipId, kind: 'policy_number', value: '88-123' } },
    removeAccountId: { params: { id: SOME_ID } },
    findAccountId: { query: { value: '88 123' } },
    things: {},
    thingsDue: { query: { within: '60' } },
    thingsInventory: { query: { format: 'csv' } },
    thing: { params: { id: SOME_ID } },
    addThing: { body: { name: 'Bike', gtin: '4006381333931', price: { amount: '899.00', currency: 'EUR' }, contracts: [{ kind: 'warranty', start: '2026-01-01', duration: 'P2Y' }] } },
    editThing: { params: { id: SOME_ID }, body: { location: 'Garage' } },
    removeThing: { params: { id: SOME_ID } },
    attachThing: { params: { id: SOME_ID }, body: { kind: 'receipt', fileName: 'receipt.txt', contentType: 'text/plain', data: Buffer.from('Receipt: one bike').toString('base64') } },
    thingDocument: { params: { id: SOME_ID, attachmentId: SOME_ID } },
    detachThing: { params: { id: SOME_ID, attachmentId: SOME_ID } },
    thingReceipts: { query: { all: 'true' } },
    acceptThingReceipt: { params: { id: SOME_ID } },
    declineThingReceipt: { params: { id: SOME_ID } },
    registerThing: { params: { id: SOME_ID }, body: { with: 'acme', fields: ['serialNumber', 'gtin'] } },
    thingCases: { params: { id: SOME_ID } },
    openCase: { params: { id: SOME_ID }, body: { text: 'The freezer is warm.', share: ['serial', 'model'], with: w.relationshipId, identifier: '88-123' } },
    cases: {},
    serviceCase: { params: { id: SOME_ID } },
    replyCase: { params: { id: SOME_ID }, body: { text: 'Monday suits me.' } },
    resolveCase: { params: { id: SOME_ID }, body: { text: 'Fixed, thank you.' } },
  };
}

/** Every local API route of the contract, with its example. */
export function localApiRoutes(w: LocalApiWorld): ApiRoute[] {
  const examples = localApiExamples(w);
  return (Object.keys(routes) as (keyof Routes)[]).map((name) => {
    const route = routes[name];
    return { name, method: route.method, path: route.path, ...('body' in route && route.body ? { mediaType: route.body } : {}), example: examples[name] };
  });
}

/** What a valid admin example needs from the world. */
export interface AdminApiWorld {
  /** The company's id of its relationship with her. */
  relationshipId: string;
}

/** A valid example of every admin route, by ADMIN_ROUTE_SCOPES key. */
export function adminApiExamples(w: AdminApiWorld): Record<string, ApiExample> {
  const ref = { ref: w.relationshipId };
  const page = { limit: '10' };
  return {
    'GET /metrics': {},
    'GET /admin/openapi.json': {},
    'GET /admin/invitation': {},
    'GET /admin/relationships': { query: page },
    'GET /admin/relationships/:ref': { params: ref },
    'GET /admin/relationships/:ref/messages': { params: ref, query: page },
    'GET /admin/relationships/:ref/holdings': { params: ref },
    'GET /admin/relationships/:ref/terms': { params: ref },
    'GET /admin/events': { query: { ...page, relationship: w.relationshipId } },
    'GET /admin/data-rights': { query: { relationship: w.relationshipId } },
    'GET /admin/connectors': {},
    'GET /admin/dead-letters': { query: page },
    'GET /admin/connectors/:id/dead-letters': { params: { id: 'crm' }, query: page },
    'GET /admin/intents': { query: { ...page, state: 'open', relationship: w.relationshipId } },
    'GET /admin/intents/:id': { params: { id: SOME_ID } },
    'POST /admin/relationships/:ref/messages': { params: ref, body: { content: 'hello from the fuzzer' } },
    'POST /admin/relationships/:ref/terms': { params: ref, body: { agreement: AGREEMENT } },
    'POST /admin/relationships/:ref/disclosure-requests': { params: ref, body: { fields: ['email'], purpose: 'To send the receipt' } },
    'POST /admin/intents/:id/offers': { params: { id: SOME_ID }, body: { name: 'Trail shoes', price: '129.90', currency: 'EUR' } },
    'POST /admin/offers/:id/withdraw': { params: { id: SOME_ID }, body: { reason: 'sold out' } },
    'POST /admin/connectors/:id/dead-letters/:eventId/replay': { params: { id: 'crm', eventId: SOME_ID } },
    'POST /admin/relationships/:ref/verifications': { params: ref },
    'GET /admin/verifications/:id': { params: { id: SOME_ID } },
    'GET /admin/audit': { query: { limit: '10', relationship: w.relationshipId } },
    'GET /admin/relationships/:ref/identifiers': { params: ref },
    'POST /admin/relationships/:ref/identifiers': { params: ref, body: { kind: 'policy_number', value: '88-123', label: 'Home insurance' } },
    'POST /admin/relationships/:ref/things/receipts': { params: ref, body: { name: 'Trail bike', gtin: '4006381333931', serialNumber: 'SN-1', price: { amount: '899.00', currency: 'EUR' }, warranty: 'P2Y' } },
    'GET /admin/things/receipts': { query: { relationship: w.relationshipId } },
    'GET /admin/things/registrations': { query: { gtin: '4006381333931' } },
    'POST /admin/things/recalls': { body: { gtin: '4006381333931', text: 'Stop using the brake lever: a replacement is on its way.' } },
    'GET /admin/cases': { query: { state: 'open', limit: '10', relationship: w.relationshipId } },
    'GET /admin/cases/:id': { params: { id: SOME_ID } },
    'POST /admin/cases/:id/replies': { params: { id: SOME_ID }, body: { text: 'A technician comes on Monday.' } },
    'POST /admin/cases/:id/resolve': { params: { id: SOME_ID }, body: { text: 'Thermostat replaced.' } },
  };
}

/**
 * Every admin route of ADMIN_ROUTE_SCOPES with its example.
 * @throws Error naming an admin route without an example, so a new route is fuzzed or the run stops
 */
export function adminApiRoutes(w: AdminApiWorld): ApiRoute[] {
  const examples = adminApiExamples(w);
  const missing = Object.keys(ADMIN_ROUTE_SCOPES).filter((key) => !(key in examples));
  if (missing.length > 0) throw new Error(`No fuzz example for admin routes (test/support/fuzz/apiRequests.ts): ${missing.join(', ')}`);
  return Object.keys(ADMIN_ROUTE_SCOPES).map((key) => {
    const [method, path] = key.split(' ') as [string, string];
    const example = examples[key]!;
    return { name: key, method, path, ...(example.body !== undefined ? { mediaType: 'application/json' } : {}), example };
  });
}

/** A path parameter: the example's, or another string (escaped as a client would, or raw). */
export type ParamOp = { use: 'valid' } | { use: 'weird'; value: string; raw: boolean };

export interface ApiCase {
  route: number;
  params: ParamOp[];
  /** Query parameters: the example's with changes, or extra ones. */
  query: JsonOp[];
  body: JsonOp[];
  text: TextOp;
  /** The content-type sent: the route's, none, or a wrong one. */
  contentType: 'right' | 'none' | 'text/plain' | 'application/x-www-form-urlencoded';
}

const weirdParam = fc.oneof(
  fc.string({ minLength: 1 }),
  fc.constantFrom('..', '.', '%00', '%2F', '%', '0', '-1', '1e999', '__proto__', 'constructor', 'did:peer:2.x', 'x'.repeat(5_000), '\u202e', '💥'),
  weirdValue.map((v) => (typeof v === 'string' && v.length > 0 ? v : JSON.stringify(v) ?? 'undefined')),
);

export const apiCase: fc.Arbitrary<ApiCase> = fc.record({
  route: fc.nat(),
  params: fc.array(fc.oneof({ arbitrary: fc.constant({ use: 'valid' as const }), weight: 3 }, { arbitrary: fc.record({ use: fc.constant('weird' as const), value: weirdParam, raw: fc.boolean() }), weight: 1 }), {
    minLength: 2,
    maxLength: 2,
  }),
  query: fc.oneof({ arbitrary: fc.constant<JsonOp[]>([]), weight: 2 }, { arbitrary: jsonOps, weight: 1 }),
  body: jsonOps,
  text: textOp,
  contentType: fc.oneof(
    { arbitrary: fc.constant('right' as const), weight: 8 },
    { arbitrary: fc.constantFrom('none' as const, 'text/plain' as const, 'application/x-www-form-urlencoded' as const), weight: 1 },
  ),
});

/** The string with each lone surrogate replaced by U+FFFD (String.prototype.toWellFormed, ES2024). */
function wellFormed(value: string): string {
  return value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** A parameter escaped as a client would (a lone surrogate cannot be: it becomes U+FFFD first). */
function escapedParam(value: string): string {
  return encodeURIComponent(wellFormed(value));
}

/** A raw parameter: only what would end the path (or the URL) is escaped; a stray `%` stays. */
function rawParam(value: string): string {
  return wellFormed(value).replace(/[\s#?/]/g, (ch) => encodeURIComponent(ch));
}

export interface BuiltRequest {
  route: ApiRoute;
  method: string;
  /** Path and query. */
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** The request a case describes, for `routes` (modulo their count). */
export function buildApiRequest(apiRoutes: readonly ApiRoute[], c: ApiCase): BuiltRequest {
  const route = apiRoutes[c.route % apiRoutes.length]!;
  let param = 0;
  const path = route.path.replace(/:(\w+)/g, (_, name: string) => {
    const op = c.params[param++] ?? { use: 'valid' };
    if (op.use === 'valid') return escapedParam(route.example.params?.[name] ?? SOME_ID);
    return op.raw ? rawParam(op.value) : escapedParam(op.value);
  });
  const query = applyJsonOps(route.example.query ?? {}, c.query);
  const search = new URLSearchParams();
  if (query !== null && typeof query === 'object' && !Array.isArray(query)) {
    for (const [name, value] of Object.entries(query)) search.append(name, typeof value === 'string' ? value : JSON.stringify(value) ?? '');
  } else if (query !== undefined) search.append('q', JSON.stringify(query) ?? '');
  const url = search.size > 0 ? `${path}?${search.toString()}` : path;
  const headers: Record<string, string> = {};
  let body: string | Uint8Array | undefined;
  if (route.mediaType !== undefined || c.body.length > 0) {
    const mediaType = route.mediaType ?? 'application/json';
    body =
      typeof route.example.body === 'string'
        ? serialise(applyJsonOps(route.example.body, c.body), c.text) // a text route: the text mutated, JSON-quoted when retyped
        : serialise(applyJsonOps(route.example.body ?? {}, c.body), c.text);
    if (typeof route.example.body === 'string' && c.body.length === 0 && c.text.text === 'json') body = route.example.body;
    if (c.contentType === 'right') headers['content-type'] = mediaType;
    else if (c.contentType !== 'none') headers['content-type'] = c.contentType;
  }
  // GET and HEAD cannot carry a body in fetch.
  if (route.method === 'GET') body = undefined;
  return { route, method: route.method, url, headers, ...(body !== undefined ? { body } : {}) };
}
