import { systemClock, type Clock } from '../../core/clock.js';
import { DidError } from '../../core/errors.js';
import { resolvePeerDid2 } from './peer2.js';
import type { DidDocument, DidResolver } from './types.js';
import { resolveDidWeb } from './web.js';

/**
 * W3C DID syntax: `did:` method `:` method-specific-id, where the id is `*( *idchar ":" ) 1*idchar`
 * and idchar is ALPHA / DIGIT / "." / "-" / "_" / pct-encoded. No fragment, query or path.
 */
const IDCHAR = String.raw`(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})`;
const DID_SYNTAX = new RegExp(String.raw`^did:([a-z0-9]+):(?:${IDCHAR}*:)*${IDCHAR}+$`);

/** A did:web document may change (key rotation); five minutes bounds how long we use a stale one. */
export const DID_WEB_TTL_MS = 5 * 60 * 1000;
const DEFAULT_CACHE_SIZE = 1000;

export interface DidResolverOptions {
  /** Development only: resolve did:web on loopback hosts over plain http. Default false. */
  allowInsecureLoopback?: boolean;
  fetch?: typeof fetch;
  /** Entries per cache (did:peer:2 and did:web each); default 1000. */
  cacheSize?: number;
  /** For tests of the did:web expiry. */
  clock?: Clock;
}

/** A least-recently-used map: Map keeps insertion order, so re-inserting on read marks recency. */
class Lru<K, V> {
  readonly #entries = new Map<K, V>();
  constructor(readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    if (this.capacity <= 0) return;
    this.#entries.set(key, value);
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }
}

/** Cached documents are shared between callers, so none of them may mutate one under the others. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * A resolver for the DID methods Kith speaks: `did:peer:2` (pure, memoised in an LRU because the
 * receive path resolves the same DIDs for every message) and `did:web` (fetched, cached for
 * {@link DID_WEB_TTL_MS}; concurrent resolutions of one DID share one fetch). Returned documents
 * are deeply frozen.
 *
 * `resolve` throws DidError `did.invalid` (not DID syntax, malformed did:peer:2 or did:web, bad
 * did:web document), `did.unsupported_method` (any other method, and did:peer numalgos other
 * than 2), `did.not_found` (did:web fetch failed).
 */
export function createDidResolver(options: DidResolverOptions = {}): DidResolver {
  const clock = options.clock ?? systemClock;
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  const peerCache = new Lru<string, DidDocument>(cacheSize);
  const webCache = new Lru<string, { expiresAt: number; document: Promise<DidDocument> }>(cacheSize);

  function resolvePeer(did: string): DidDocument {
    const cached = peerCache.get(did);
    if (cached !== undefined) return cached;
    const document = deepFreeze(resolvePeerDid2(did));
    peerCache.set(did, document);
    return document;
  }

  function resolveWeb(did: string): Promise<DidDocument> {
    const cached = webCache.get(did);
    if (cached !== undefined && cached.expiresAt > clock.now()) return cached.document;
    const entry = {
      expiresAt: clock.now() + DID_WEB_TTL_MS,
      document: resolveDidWeb(did, {
        allowInsecureLoopback: options.allowInsecureLoopback ?? false,
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      }).then(deepFreeze),
    };
    // Failures are not cached: the next message retries, so a company's brief outage is not sticky.
    entry.document.catch(() => {
      if (webCache.get(did) === entry) webCache.delete(did);
    });
    webCache.set(did, entry);
    return entry.document;
  }

  return {
    async resolve(did: string): Promise<DidDocument> {
      const syntax = DID_SYNTAX.exec(did);
      if (syntax === null) throw new DidError('did.invalid', 'Not a DID', { details: { reason: 'syntax' } });
      const method = syntax[1];
      if (method === 'peer' && did.startsWith('did:peer:2')) return resolvePeer(did);
      if (method === 'web') return resolveWeb(did);
      throw new DidError('did.unsupported_method', `Unsupported DID method: ${method ?? ''}`, {
        details: { method: method === 'peer' ? `peer:${did.charAt(9)}` : method },
      });
    },
  };
}
