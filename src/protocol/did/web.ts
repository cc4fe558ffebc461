import { DidError } from '../../core/errors.js';
import { tryParseJson } from '../../core/json.js';
import type { OkpPublicJwk } from '../keys.js';
import { didDocumentSchema, verificationMethodSchema, didCommServiceSchema, type DidDocument } from './types.js';

/*
 * did:web (https://w3c-ccg.github.io/did-method-web/): the DID names an HTTPS URL.
 *   did:web:example.com                  -> https://example.com/.well-known/did.json
 *   did:web:example.com:user:alice       -> https://example.com/user/alice/did.json
 *   did:web:localhost%3A8443             -> https://localhost:8443/.well-known/did.json
 * Plain http is used only for loopback hosts and only behind an explicit development flag: the
 * document holds the keys we encrypt to, so fetching it in clear text would let anyone on the path
 * swap them.
 */

const PREFIX = 'did:web:';
const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_BYTES = 64 * 1024;

/** A DNS name or bracketed IPv6 literal, with an optional port: nothing that could add a path or userinfo. */
const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

export interface DidWebUrlOptions {
  /** Development only: fetch loopback hosts (localhost, 127.0.0.0/8, [::1]) over plain http. */
  allowInsecureLoopback: boolean;
}

function invalid(reason: string): DidError {
  return new DidError('did.invalid', `Invalid did:web: ${reason}`, { details: { reason } });
}

/** Hostnames as the WHATWG URL parser normalises them (so `127.1` has already become `127.0.0.1`). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function decodeComponent(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw invalid('bad percent-encoding');
  }
}

/**
 * The URL of a did:web DID's document. https always, except a loopback host with
 * `allowInsecureLoopback` (then http).
 * @throws DidError `did.invalid` if `did` is not a well-formed did:web DID.
 */
export function didWebToUrl(did: string, options: DidWebUrlOptions): URL {
  if (!did.startsWith(PREFIX)) throw invalid('must start with "did:web:"');
  const [hostPart = '', ...pathParts] = did.slice(PREFIX.length).split(':');
  const host = decodeComponent(hostPart);
  if (!HOST.test(host)) throw invalid('not a host name');

  const segments = pathParts.map(decodeComponent);
  // Empty and dot segments would let `did:web:a.com::..` name a different path than it appears to.
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw invalid('empty or dot path segment');
  const path = segments.length === 0 ? '/.well-known' : `/${segments.map(encodeURIComponent).join('/')}`;

  let url: URL;
  try {
    url = new URL(`https://${host}${path}/did.json`);
  } catch {
    throw invalid('not a host name');
  }
  if (options.allowInsecureLoopback && isLoopbackHost(url.hostname)) url.protocol = 'http:';
  return url;
}

/**
 * The did:web DID for a URL where a document is (or will be) served: an origin, a base path, or
 * the `…/did.json` URL itself. Used by a company to name itself from its public URL.
 * @throws DidError `did.invalid` for an unparseable or non-http(s) URL, or one with credentials,
 *   query or fragment; `did.insecure_transport` for `http:` on a non-loopback host, since no
 *   resolver would fetch that DID over http.
 */
export function urlToDidWeb(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw invalid('not an http(s) URL');
  if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
    throw new DidError('did.insecure_transport', 'did:web needs https for a non-loopback host', {
      details: { protocol: parsed.protocol },
    });
  }
  if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '' || parsed.hash !== '') {
    throw invalid('URL has credentials, query or fragment');
  }

  let segments = parsed.pathname.split('/').filter((s) => s !== '');
  if (segments.at(-1) === 'did.json') segments = segments.slice(0, -1);
  if (segments.length === 1 && segments[0] === '.well-known') segments = [];

  return [`${PREFIX}${toIdchars(parsed.host)}`, ...segments.map((s) => toIdchars(decodeComponent(s)))].join(':');
}

/**
 * Percent-encodes everything outside DID `idchar` (ALPHA / DIGIT / "." / "-" / "_"). `:` separates
 * path segments in the DID, so the port's colon becomes %3A as the method spec requires.
 */
function toIdchars(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface ResolveDidWebOptions extends DidWebUrlOptions {
  fetch?: typeof fetch;
  /** Whole request, headers and body; default 5000. */
  timeoutMs?: number;
  /** Largest document accepted; default 64 KiB. */
  maxBytes?: number;
}

/**
 * Fetches and validates a did:web document.
 * Redirects are refused: a redirect could move the fetch to plain http or to another host.
 * @throws DidError `did.invalid` for a malformed DID, a body over `maxBytes`, a body that is not
 *   JSON or not a DID document, or a document whose `id` is not `did`; `did.not_found` for network
 *   errors, timeouts, redirects and non-2xx responses.
 */
export async function resolveDidWeb(did: string, options: ResolveDidWebOptions): Promise<DidDocument> {
  const url = didWebToUrl(did, options);
  const fetchFn = options.fetch ?? fetch;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const signal = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);

  let response: Response;
  try {
    response = await fetchFn(url, {
      headers: { accept: 'application/did+json, application/json' },
      redirect: 'error',
      signal,
    });
  } catch (cause) {
    throw new DidError('did.not_found', 'Could not fetch the did:web document', { cause, details: { host: url.host } });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new DidError('did.not_found', `did:web document request failed with HTTP ${response.status}`, {
      details: { host: url.host, status: response.status },
    });
  }

  const body = await readLimited(response, maxBytes, url.host);
  const json = tryParseJson(body);
  if (!json.ok) throw invalid('document is not JSON');
  const parsed = didDocumentSchema.safeParse(withoutForeignEntries(json.value));
  if (!parsed.success) throw invalid('document has the wrong shape');
  if (parsed.data.id !== did) throw invalid('document id does not match the DID');
  return parsed.data;
}

/** Reads the body, giving up as soon as it passes `maxBytes` (a Content-Length is only a claim). */
async function readLimited(response: Response, maxBytes: number, host: string): Promise<string> {
  const tooLarge = (): DidError =>
    new DidError('did.invalid', 'did:web document is too large', { details: { host, maxBytes } });
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) return '';

  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof DidError) throw err;
    throw new DidError('did.not_found', 'did:web document download failed', { cause: err, details: { host } });
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A company's did.json may also list keys and services for other systems (P-256 keys, LinkedDomains…).
 * Drop the entries Kith cannot use instead of rejecting the whole document; what remains is then
 * validated strictly.
 */
function withoutForeignEntries(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const doc = { ...(value as Record<string, unknown>) };
  const keep = (list: unknown, ok: (entry: unknown) => boolean): unknown =>
    Array.isArray(list) ? list.filter(ok) : list;
  const isMethod = (entry: unknown): boolean => verificationMethodSchema.safeParse(entry).success;
  const isReferenceOrMethod = (entry: unknown): boolean => typeof entry === 'string' || isMethod(entry);

  doc['verificationMethod'] = keep(doc['verificationMethod'], isMethod);
  for (const relationship of ['authentication', 'assertionMethod', 'keyAgreement']) {
    doc[relationship] = keep(doc[relationship], isReferenceOrMethod);
  }
  doc['service'] = keep(doc['service'], (entry) => didCommServiceSchema.safeParse(entry).success);
  return doc;
}

export interface BuildDidWebDocumentInput {
  did: string;
  /** Ed25519 key: `#key-1`, for authentication and assertionMethod. */
  authentication: OkpPublicJwk;
  /** X25519 key: `#key-2`, for keyAgreement. */
  keyAgreement: OkpPublicJwk;
  /** The company's DIDComm inbound URI. */
  serviceEndpoint: string;
}

/**
 * The DID document a company serves at its did:web URL: `#key-1` Ed25519 (authentication,
 * assertionMethod), `#key-2` X25519 (keyAgreement), both JsonWebKey2020, and a `#didcomm`
 * DIDCommMessaging service. Ids are written absolute, as did:peer:2 documents are.
 * @throws DidError `did.invalid` for a DID that is not did:web, or keys with the wrong curves.
 */
export function buildDidWebDocument(input: BuildDidWebDocumentInput): DidDocument {
  const { did } = input;
  didWebToUrl(did, { allowInsecureLoopback: false }); // validates the DID
  if (input.authentication.crv !== 'Ed25519') throw invalid('authentication key must be Ed25519');
  if (input.keyAgreement.crv !== 'X25519') throw invalid('keyAgreement key must be X25519');
  const signing = `${did}#key-1`;
  const agreement = `${did}#key-2`;
  const jwk = ({ kty, crv, x }: OkpPublicJwk): OkpPublicJwk => ({ kty, crv, x }); // never a private `d`
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/jws-2020/v1'],
    id: did,
    verificationMethod: [
      { id: signing, type: 'JsonWebKey2020', controller: did, publicKeyJwk: jwk(input.authentication) },
      { id: agreement, type: 'JsonWebKey2020', controller: did, publicKeyJwk: jwk(input.keyAgreement) },
    ],
    authentication: [signing],
    assertionMethod: [signing],
    keyAgreement: [agreement],
    service: [
      {
        id: `${did}#didcomm`,
        type: 'DIDCommMessaging',
        serviceEndpoint: { uri: input.serviceEndpoint, accept: ['didcomm/v2'] },
      },
    ],
  };
}
