import { afterEach, describe, expect, it, vi } from 'vitest';
import { SESSION_KEY_HEADER } from '../personal/http/apiContract.js';
import { api, ApiFailure, routes } from './api';
import { keepSessionKey } from './session';

function answer(status: number, body: string, type = 'application/json'): Response {
  return new Response(status === 204 ? null : body, { status, headers: { 'content-type': type } });
}

describe('the web app’s calls go through the API contract', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('sends a route’s method, escaped path, JSON body and activity header, and returns its JSON', async () => {
    const fetch = vi.fn(async () => answer(200, '{"consentRecordId":"c"}'));
    vi.stubGlobal('fetch', fetch);
    const outcome = await api(routes.approve, { id: 'a b' }, { fields: ['email'] });
    expect(outcome.consentRecordId).toBe('c');
    expect(fetch).toHaveBeenCalledWith('/api/requests/a%20b/approve', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { accept: 'application/json', 'x-kith-activity': 'user', 'content-type': 'application/json' },
      body: '{"fields":["email"]}',
    });
  });

  it('sends the session key this tab keeps with every call (the cookie alone opens nothing)', async () => {
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => answer(200, '{"relationships":[]}'));
    vi.stubGlobal('fetch', fetch);
    const stored = new Map<string, string>();
    vi.stubGlobal('sessionStorage', { getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => stored.set(k, v), removeItem: (k: string) => stored.delete(k) });
    await api(routes.relationships);
    expect(fetch.mock.calls[0]?.[1]?.headers).not.toHaveProperty(SESSION_KEY_HEADER);
    keepSessionKey('key-from-sign-in');
    await api(routes.relationships);
    expect(fetch.mock.calls[1]?.[1]?.headers).toMatchObject({ [SESSION_KEY_HEADER]: 'key-from-sign-in' });
  });

  it('sends no body where the route takes none, and reads a text route as text', async () => {
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => answer(200, 'BEGIN:VCARD', 'text/vcard'));
    vi.stubGlobal('fetch', fetch);
    expect(await api(routes.exportVcard)).toBe('BEGIN:VCARD');
    expect(fetch.mock.calls[0]?.[1]).not.toHaveProperty('body');
  });

  it('turns an error answer into an ApiFailure with the agent’s code', async () => {
    vi.stubGlobal('fetch', async () => answer(404, '{"error":{"code":"relationship.unknown","message":"No such relationship"}}'));
    const failure = await api(routes.relationship, { ref: 'x' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiFailure);
    expect(failure).toMatchObject({ code: 'relationship.unknown', status: 404, message: 'No such relationship' });
  });
});
