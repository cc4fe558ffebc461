import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { DidError } from '../../core/errors.js';
import { generateKeyPair } from '../keys.js';
import { createPeerDid2 } from './peer2.js';
import { createDidResolver, DID_WEB_TTL_MS } from './resolver.js';
import { buildDidWebDocument } from './web.js';
import { codeOfRejection } from '../../../test/support/errorCodes.js';
const codeOf = (promise: Promise<unknown>) => codeOfRejection(promise, DidError);

const ed = generateKeyPair('Ed25519').publicJwk;
const x = generateKeyPair('X25519').publicJwk;
const WEB_DID = 'did:web:company.example';

/** A fetch that serves the company document and counts its calls; `fail` makes it answer 503. */
function countingFetch(): { fetch: typeof fetch; calls: () => number; fail: (on: boolean) => void } {
  let calls = 0;
  let failing = false;
  const doc = buildDidWebDocument({ did: WEB_DID, authentication: ed, keyAgreement: x, serviceEndpoint: 'https://company.example/dc' });
  return {
    fetch: async () => {
      calls += 1;
      return failing ? new Response('', { status: 503 }) : new Response(JSON.stringify(doc));
    },
    calls: () => calls,
    fail: (on) => {
      failing = on;
    },
  };
}

describe('createDidResolver', () => {
  it('resolves did:peer:2 without touching the network', async () => {
    const web = countingFetch();
    const { did, document } = createPeerDid2({ authentication: ed, keyAgreement: x, serviceEndpoint: 'https://a.example' });
    const resolver = createDidResolver({ fetch: web.fetch });
    expect(await resolver.resolve(did)).toEqual(document);
    expect(web.calls()).toBe(0);
  });

  it('memoises did:peer:2 documents and hands out frozen ones so no caller can alter the cache', async () => {
    const { did } = createPeerDid2({ authentication: ed, keyAgreement: x });
    const resolver = createDidResolver();
    const first = await resolver.resolve(did);
    expect(await resolver.resolve(did)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.verificationMethod[0]?.publicKeyJwk)).toBe(true);
    expect(() => first.keyAgreement.push('#evil')).toThrow(TypeError);
  });

  it('evicts the least recently used did:peer:2 beyond cacheSize', async () => {
    const dids = [0, 1, 2].map(() => createPeerDid2({ authentication: ed, keyAgreement: generateKeyPair('X25519').publicJwk }).did);
    const [a, b, c] = dids as [string, string, string];
    const resolver = createDidResolver({ cacheSize: 2 });
    const docA = await resolver.resolve(a);
    const docB = await resolver.resolve(b);
    expect(await resolver.resolve(a)).toBe(docA); // a is now the most recent
    await resolver.resolve(c); // evicts b
    expect(await resolver.resolve(a)).toBe(docA);
    expect(await resolver.resolve(b)).not.toBe(docB);
    expect(await resolver.resolve(b)).toEqual(docB);
  });

  it('caches did:web documents for five minutes, then fetches again', async () => {
    const web = countingFetch();
    const clock = new ManualClock();
    const resolver = createDidResolver({ fetch: web.fetch, clock });
    const doc = await resolver.resolve(WEB_DID);
    expect(doc.id).toBe(WEB_DID);
    clock.advance(DID_WEB_TTL_MS - 1);
    await resolver.resolve(WEB_DID);
    expect(web.calls()).toBe(1);
    clock.advance(1);
    await resolver.resolve(WEB_DID);
    expect(web.calls()).toBe(2);
  });

  it('shares one fetch between concurrent resolutions of the same did:web', async () => {
    const web = countingFetch();
    const resolver = createDidResolver({ fetch: web.fetch });
    const [one, two] = await Promise.all([resolver.resolve(WEB_DID), resolver.resolve(WEB_DID)]);
    expect(one).toBe(two);
    expect(web.calls()).toBe(1);
  });

  it('does not cache a failed did:web resolution', async () => {
    const web = countingFetch();
    const resolver = createDidResolver({ fetch: web.fetch });
    web.fail(true);
    expect(await codeOf(resolver.resolve(WEB_DID))).toBe('did.not_found');
    web.fail(false);
    expect((await resolver.resolve(WEB_DID)).id).toBe(WEB_DID);
    expect(web.calls()).toBe(2);
  });

  it('reports other DID methods and other did:peer numalgos as did.unsupported_method', async () => {
    const resolver = createDidResolver();
    expect(await codeOf(resolver.resolve('did:key:z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V'))).toBe('did.unsupported_method');
    expect(await codeOf(resolver.resolve('did:peer:0z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V'))).toBe('did.unsupported_method');
    expect(await codeOf(resolver.resolve('did:example:123'))).toBe('did.unsupported_method');
  });

  it('reports strings that are not DIDs, and DID URLs, as did.invalid', async () => {
    const resolver = createDidResolver();
    for (const notADid of ['', 'hello', 'did:', 'did:web', 'did:web:', 'DID:web:a.example', 'did:Web:a.example', 'did:web:a.example#key-1', 'did:web:a.example/path', 'did:web:a.example:', 'did:web:a%2']) {
      expect(await codeOf(resolver.resolve(notADid)), notADid).toBe('did.invalid');
    }
    expect(await codeOf(resolver.resolve('did:peer:2.Ebroken'))).toBe('did.invalid');
  });

  it('refuses plain http for loopback did:web unless allowInsecureLoopback is set', async () => {
    const seen: string[] = [];
    const recording: typeof fetch = async (input) => {
      seen.push(String(input));
      throw new TypeError('fetch failed');
    };
    await codeOf(createDidResolver({ fetch: recording }).resolve('did:web:localhost%3A3000'));
    await codeOf(createDidResolver({ fetch: recording, allowInsecureLoopback: true }).resolve('did:web:localhost%3A3000'));
    expect(seen).toEqual(['https://localhost:3000/.well-known/did.json', 'http://localhost:3000/.well-known/did.json']);
  });
});
