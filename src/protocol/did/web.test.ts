import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DidError, type KithErrorCode } from '../../core/errors.js';
import { generateKeyPair } from '../keys.js';
import { didCommEndpoint, findKey } from './keysFromDocument.js';
import { buildDidWebDocument, didWebToUrl, resolveDidWeb, urlToDidWeb } from './web.js';
import { codeOfRejection } from '../../../test/support/errorCodes.js';
const codeOf = (promise: Promise<unknown>) => codeOfRejection(promise, DidError);

const ed = generateKeyPair('Ed25519').publicJwk;
const x = generateKeyPair('X25519').publicJwk;

function syncCodeOf(fn: () => unknown): KithErrorCode | 'returned' {
  try {
    fn();
    return 'returned';
  } catch (err) {
    expect(err).toBeInstanceOf(DidError);
    return (err as DidError).code;
  }
}

describe('didWebToUrl', () => {
  const secure = { allowInsecureLoopback: false };
  const dev = { allowInsecureLoopback: true };

  it('maps a bare domain to its /.well-known/did.json over https', () => {
    expect(didWebToUrl('did:web:example.com', secure).href).toBe('https://example.com/.well-known/did.json');
  });

  it('maps path segments to a path ending in did.json', () => {
    expect(didWebToUrl('did:web:example.com:user:alice', secure).href).toBe('https://example.com/user/alice/did.json');
  });

  it('decodes a percent-encoded port', () => {
    expect(didWebToUrl('did:web:localhost%3A8443', secure).href).toBe('https://localhost:8443/.well-known/did.json');
  });

  it('uses http for loopback hosts only when the development flag is set', () => {
    for (const host of ['localhost%3A3000', '127.0.0.1%3A3000', '127.9.8.7', '%5B%3A%3A1%5D%3A3000']) {
      expect(didWebToUrl(`did:web:${host}`, dev).protocol).toBe('http:');
      expect(didWebToUrl(`did:web:${host}`, secure).protocol).toBe('https:');
    }
  });

  it('never yields http for a non-loopback host, even with the development flag', () => {
    for (const host of ['example.com', 'localhost.example.com', '128.0.0.1', '10.0.0.1', '192.168.1.1%3A80', '%5B%3A%3A2%5D']) {
      expect(didWebToUrl(`did:web:${host}`, dev).protocol).toBe('https:');
    }
  });

  it('rejects DIDs that are not did:web or would smuggle in another host or path', () => {
    for (const did of [
      'did:key:z6Mk',
      'did:web:',
      'did:web:evil.com%2F@example.com',
      'did:web:example.com%2Fpath',
      'did:web:user%40example.com',
      'did:web:example.com::x',
      'did:web:example.com:..:x',
      'did:web:example.com:%E0%A4%A',
      'did:web:example.com#key-1',
      'did:web:example.com?x=1',
    ]) {
      expect(syncCodeOf(() => didWebToUrl(did, dev)), did).toBe('did.invalid');
    }
  });
});

describe('urlToDidWeb', () => {
  it('names an origin, a base path and a did.json URL, and inverts didWebToUrl', () => {
    expect(urlToDidWeb('https://example.com')).toBe('did:web:example.com');
    expect(urlToDidWeb('https://example.com/.well-known/did.json')).toBe('did:web:example.com');
    expect(urlToDidWeb('https://example.com/user/alice/')).toBe('did:web:example.com:user:alice');
    expect(urlToDidWeb('https://example.com/user/alice/did.json')).toBe('did:web:example.com:user:alice');
    expect(urlToDidWeb('http://localhost:8443/')).toBe('did:web:localhost%3A8443');
    for (const did of ['did:web:shop.example.com', 'did:web:localhost%3A8443:v:1', 'did:web:%5B%3A%3A1%5D%3A9']) {
      expect(urlToDidWeb(didWebToUrl(did, { allowInsecureLoopback: true }).href)).toBe(did);
    }
  });

  it('refuses plain http for a non-loopback host with did.insecure_transport', () => {
    expect(syncCodeOf(() => urlToDidWeb('http://example.com'))).toBe('did.insecure_transport');
  });

  it('rejects what a did:web cannot express with did.invalid', () => {
    for (const url of ['not a url', 'ftp://example.com', 'https://u:p@example.com', 'https://example.com/?q=1', 'https://example.com/#x']) {
      expect(syncCodeOf(() => urlToDidWeb(url)), url).toBe('did.invalid');
    }
  });
});

describe('buildDidWebDocument', () => {
  it('builds the document a company serves, with authentication, agreement key and DIDComm service', () => {
    const did = 'did:web:shop.example.com';
    const doc = buildDidWebDocument({ did, authentication: ed, keyAgreement: x, serviceEndpoint: 'https://shop.example.com/didcomm' });
    expect(doc.verificationMethod).toEqual([
      { id: `${did}#key-1`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: ed },
      { id: `${did}#key-2`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: x },
    ]);
    expect(doc.authentication).toEqual([`${did}#key-1`]);
    expect(doc.assertionMethod).toEqual([`${did}#key-1`]);
    expect(doc.keyAgreement).toEqual([`${did}#key-2`]);
    expect(doc.service).toEqual([
      { id: `${did}#didcomm`, type: 'DIDCommMessaging', serviceEndpoint: { uri: 'https://shop.example.com/didcomm', accept: ['didcomm/v2'] } },
    ]);
    expect(findKey(doc, '#key-1', 'authentication').jwk).toEqual(ed);
    expect(didCommEndpoint(doc)).toBe('https://shop.example.com/didcomm');
  });

  it('never copies a private key component into the document', () => {
    const pair = generateKeyPair('Ed25519');
    const doc = buildDidWebDocument({ did: 'did:web:a.example', authentication: pair.privateJwk, keyAgreement: x, serviceEndpoint: 'https://a.example' });
    expect(JSON.stringify(doc)).not.toContain(pair.privateJwk.d);
  });

  it('rejects a DID that is not did:web and keys with the wrong curves', () => {
    const base = { authentication: ed, keyAgreement: x, serviceEndpoint: 'https://a.example' };
    expect(syncCodeOf(() => buildDidWebDocument({ ...base, did: 'did:peer:2.x' }))).toBe('did.invalid');
    expect(syncCodeOf(() => buildDidWebDocument({ ...base, did: 'did:web:a.example', authentication: x }))).toBe('did.invalid');
    expect(syncCodeOf(() => buildDidWebDocument({ ...base, did: 'did:web:a.example', keyAgreement: ed }))).toBe('did.invalid');
  });
});

describe('resolveDidWeb against a real loopback HTTP server', () => {
  let server: Server;
  let did: string;
  /** What the server answers for each path; tests set it before resolving. */
  const routes = new Map<string, { status?: number; body: string; chunked?: boolean }>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const route = routes.get(req.url ?? '');
      if (route === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(route.status ?? 200, { 'content-type': 'application/did+json' });
      if (route.chunked === true) {
        // No Content-Length: the client only learns the size by reading.
        const half = Math.floor(route.body.length / 2);
        res.write(route.body.slice(0, half));
        res.end(route.body.slice(half));
      } else {
        res.end(route.body);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    did = `did:web:127.0.0.1%3A${port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const serve = (path: string, body: unknown, status?: number, chunked = false): void => {
    routes.set(path, {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      chunked,
      ...(status === undefined ? {} : { status }),
    });
  };
  const companyDoc = (id: string): unknown =>
    buildDidWebDocument({ did: id, authentication: ed, keyAgreement: x, serviceEndpoint: 'http://127.0.0.1/didcomm' });

  it('resolves over http when the loopback development flag is set', async () => {
    serve('/.well-known/did.json', companyDoc(did));
    const doc = await resolveDidWeb(did, { allowInsecureLoopback: true });
    expect(doc).toEqual(companyDoc(did));
    expect(findKey(doc, `${did}#key-2`, 'keyAgreement').jwk).toEqual(x);
  });

  it('resolves a path-based DID from its path', async () => {
    const pathDid = `${did}:users:alice`;
    serve('/users/alice/did.json', companyDoc(pathDid));
    expect((await resolveDidWeb(pathDid, { allowInsecureLoopback: true })).id).toBe(pathDid);
  });

  it('tries https without the flag, which the plain-http server cannot answer: did.not_found', async () => {
    serve('/.well-known/did.json', companyDoc(did));
    expect(await codeOf(resolveDidWeb(did, { allowInsecureLoopback: false, timeoutMs: 2000 }))).toBe('did.not_found');
  });

  it('reports did.invalid when the document names another DID', async () => {
    serve('/.well-known/did.json', companyDoc('did:web:someone-else.example'));
    expect(await codeOf(resolveDidWeb(did, { allowInsecureLoopback: true }))).toBe('did.invalid');
  });

  it('reports did.invalid for a document over maxBytes, whether or not it declares its length', async () => {
    const doc = companyDoc(did) as Record<string, unknown>;
    const huge = { ...doc, alsoKnownAs: ['x'.repeat(70 * 1024)] };
    serve('/.well-known/did.json', huge);
    expect(await codeOf(resolveDidWeb(did, { allowInsecureLoopback: true }))).toBe('did.invalid');
    serve('/.well-known/did.json', huge, 200, true);
    expect(await codeOf(resolveDidWeb(did, { allowInsecureLoopback: true }))).toBe('did.invalid');
    serve('/.well-known/did.json', doc, 200, true);
    expect(await codeOf(resolveDidWeb(did, { allowInsecureLoopback: true, maxBytes: 100 }))).toBe('did.invalid');
    expect((await resolveDidWeb(did, { allowInsecureLoopback: true })).id).toBe(did);
  });

  it('reports did.invalid for a body that is not JSON or not a DID document', async () => {
    serve('/.well-known/did.json', '<html>hello</html>');
    expect(await codeOf(resolveDidWeb(did, { allowInsecureLoopback: true }))).toBe('did.invalid');
    serve('/.well-known/did.json', { hello: 'world' });
    expect(await codeOf(resolveDidWeb(did, { allowInsecureLoopback: true }))).toBe('did.invalid');
  });

  it('reports did.not_found for HTTP errors', async () => {
    serve('/.well-known/did.json', companyDoc(did), 500);
    expect(await codeOf(resolveDidWeb(did, { allowInsecureLoopback: true }))).toBe('did.not_found');
    expect(await codeOf(resolveDidWeb(`${did}:nobody`, { allowInsecureLoopback: true }))).toBe('did.not_found');
  });

  it('keeps the entries Kith can use when the document also lists foreign keys and services', async () => {
    const doc = companyDoc(did) as { verificationMethod: unknown[]; service: unknown[] };
    serve('/.well-known/did.json', {
      ...doc,
      verificationMethod: [
        ...doc.verificationMethod,
        { id: `${did}#p256`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' } },
      ],
      service: [{ id: `${did}#ld`, type: 'LinkedDomains', serviceEndpoint: { origins: ['https://a.example'] } }, ...doc.service],
    });
    const resolved = await resolveDidWeb(did, { allowInsecureLoopback: true });
    expect(resolved.verificationMethod.map((m) => m.id)).toEqual([`${did}#key-1`, `${did}#key-2`]);
    expect(didCommEndpoint(resolved)).toBe('http://127.0.0.1/didcomm');
  });
});

describe('resolveDidWeb with an injected fetch', () => {
  const did = 'did:web:company.example';

  it('fetches the https URL and refuses to follow redirects', async () => {
    const seen: Array<{ url: string; redirect: RequestInit['redirect'] }> = [];
    const fakeFetch: typeof fetch = async (input, init) => {
      seen.push({ url: String(input), redirect: init?.redirect });
      return new Response(JSON.stringify(buildDidWebDocument({ did, authentication: ed, keyAgreement: x, serviceEndpoint: 'https://company.example/dc' })));
    };
    await resolveDidWeb(did, { allowInsecureLoopback: true, fetch: fakeFetch });
    expect(seen).toEqual([{ url: 'https://company.example/.well-known/did.json', redirect: 'error' }]);
  });

  it('turns network failures into did.not_found', async () => {
    const failing: typeof fetch = async () => {
      throw new TypeError('fetch failed');
    };
    expect(await codeOf(resolveDidWeb(did, { allowInsecureLoopback: false, fetch: failing }))).toBe('did.not_found');
  });

  it('gives up after timeoutMs with did.not_found', async () => {
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    expect(await codeOf(resolveDidWeb(did, { allowInsecureLoopback: false, fetch: hanging, timeoutMs: 50 }))).toBe('did.not_found');
  });

  it('rejects a declared Content-Length over maxBytes without reading the body', async () => {
    const big: typeof fetch = async () => new Response('{}', { headers: { 'content-length': String(10 * 1024 * 1024) } });
    expect(await codeOf(resolveDidWeb(did, { allowInsecureLoopback: false, fetch: big }))).toBe('did.invalid');
  });
});
