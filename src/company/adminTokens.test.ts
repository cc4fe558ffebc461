import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failure } from '../../test/support/errorCodes.js';
import { adminCredentials, adminTokensPath, createAdminToken, listAdminTokens, parseScopes, revokeAdminToken, tokensFileCredentials } from './adminTokens.js';

describe('admin tokens (tokens.json)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kith-tokens-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = () => readFileSync(adminTokensPath(dir), 'utf8');

  it('keeps only a SHA-256 of each token, with its name, scopes and time, in a 0600 file; lists without tokens', () => {
    const { token, info } = createAdminToken(dir, { name: 'call-center', scopes: ['write', 'read', 'read'], now: 1000 });
    expect(info).toEqual({ name: 'call-center', scopes: ['read', 'write'], createdAt: 1000 });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(adminTokensPath(dir)).mode & 0o777).toBe(0o600);
    expect(file()).not.toContain(token);
    expect(JSON.parse(file())).toEqual({ version: 1, tokens: [{ ...info, sha256: createHash('sha256').update(token).digest('hex') }] });
    const unnamed = createAdminToken(dir, { scopes: ['console'], now: 2000 });
    expect(unnamed.info.name).toMatch(/^token-[A-Za-z0-9]{8}$/);
    expect(listAdminTokens(dir)).toEqual([info, unnamed.info]);
  });

  it('refuses bad input with its code and changes nothing', async () => {
    createAdminToken(dir, { name: 'ops', scopes: ['read'], now: 1 });
    const before = file();
    expect(await failure(() => createAdminToken(dir, { name: 'ops', scopes: ['write'], now: 2 }))).toMatchObject({ code: 'api.token_exists' });
    expect(await failure(() => createAdminToken(dir, { name: 'admin-token', scopes: ['read'], now: 2 }))).toMatchObject({ code: 'api.token_exists' });
    expect(await failure(() => createAdminToken(dir, { name: 'no spaces', scopes: ['read'], now: 2 }))).toMatchObject({ code: 'api.bad_request', details: { fields: { name: 'invalid' } } });
    expect(await failure(() => createAdminToken(dir, { name: 'none', scopes: [], now: 2 }))).toMatchObject({ code: 'api.bad_request', details: { fields: { scopes: 'required' } } });
    expect(await failure(() => revokeAdminToken(dir, 'nobody'))).toMatchObject({ code: 'api.token_unknown' });
    expect(await failure(() => revokeAdminToken(dir, 'admin-token'))).toMatchObject({ code: 'api.token_unknown' });
    expect(file()).toBe(before);
  });

  it('parses scope lists: known names only', async () => {
    expect(parseScopes('write, read,write')).toEqual(['read', 'write']);
    expect(await failure(() => parseScopes('read,admin'))).toMatchObject({ code: 'api.bad_request', details: { fields: { scopes: 'unknown scope' } } });
    expect(await failure(() => parseScopes(' , '))).toMatchObject({ code: 'api.bad_request' });
  });

  it('authenticates by the file as it is now: new tokens at once, revoked ones no more', () => {
    const credentials = adminCredentials('the-admin-token', tokensFileCredentials(dir));
    expect(credentials.authenticate('the-admin-token')).toEqual({ name: 'admin-token', scopes: new Set(['read', 'write', 'console']) });
    const { token } = createAdminToken(dir, { name: 'reader', scopes: ['read'], now: 1 });
    expect(credentials.authenticate(token)).toEqual({ name: 'reader', scopes: new Set(['read']) });
    expect(credentials.authenticate(`${token}x`)).toBeUndefined();
    expect(credentials.authenticate(undefined)).toBeUndefined();
    revokeAdminToken(dir, 'reader');
    expect(credentials.authenticate(token)).toBeUndefined();
    expect(credentials.authenticate('the-admin-token')?.name).toBe('admin-token');
  });

  it('an unreadable tokens.json stops the start; one that breaks later opens nothing but the admin token, said once', async () => {
    writeFileSync(adminTokensPath(dir), '{"version": 1, "tokens": [{"name": "x"}]}');
    expect(await failure(() => tokensFileCredentials(dir))).toMatchObject({ code: 'config.invalid' });
    rmSync(adminTokensPath(dir));
    const said: string[] = [];
    const credentials = adminCredentials('the-admin-token', tokensFileCredentials(dir, (code) => said.push(code)));
    const { token } = createAdminToken(dir, { name: 'reader', scopes: ['read'], now: 1 });
    expect(credentials.authenticate(token)?.name).toBe('reader');
    writeFileSync(adminTokensPath(dir), 'not json, and longer than before so the size changes');
    expect(credentials.authenticate(token)).toBeUndefined();
    expect(credentials.authenticate(token)).toBeUndefined();
    expect(credentials.authenticate('the-admin-token')?.name).toBe('admin-token');
    expect(said).toEqual(['config.invalid']);
  });
});
