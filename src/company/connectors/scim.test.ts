import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { ConfigError, ConnectorError } from '../../core/errors.js';
import { capturingLogger, describeConnectorContract, PERSONAL_MARKER } from '../../../test/support/connectorContract.js';
import { SCIM_TOKEN, startScimProvider, type ScimProvider } from '../../../test/support/scimProvider.js';
import { thrown } from '../../../test/support/errorCodes.js';
import { parsePolicy } from '../config.js';
import { createConnectors } from './index.js';
import { retryAfterMs, scimConnector, scimConnectorConfigSchema } from './scim.js';
import { mapFields, newResource, removeOperations, upsertOperations } from './scimMapping.js';
import type { Connector, ConnectorDelivery, ConnectorEventPayload, ConnectorEventType } from './types.js';

function makeConnector(provider: ScimProvider, settings: Record<string, unknown> = {}) {
  const logger = capturingLogger();
  const connector = scimConnector.create(scimConnectorConfigSchema.parse({ type: 'scim', baseUrl: provider.baseUrl, token: SCIM_TOKEN, ...settings }), { logger, clock: new ManualClock() });
  return { connector, logger };
}

// The provider is the system: an event was taken when the provider holds a User for its relationship.
describeConnectorContract('scim', async () => {
  const provider = await startScimProvider();
  const { connector: inner, logger } = makeConnector(provider);
  const sent: ConnectorDelivery[] = [];
  const connector: Connector = {
    id: inner.id,
    type: inner.type,
    async deliver(event) {
      sent.push(event);
      await inner.deliver(event);
    },
  };
  return {
    connector,
    logger,
    seen: async () => sent.filter((e) => provider.byExternalId(e.payload.relationshipId).length > 0).map((e) => e.id),
    stop: () => provider.stop(),
    failNext: (status, headers) => provider.failNext(status, headers),
    cleanup: () => provider.stop(),
  };
});

const ADA = {
  name: `Ada Lovelace ${PERSONAL_MARKER}`,
  given_name: 'Ada',
  family_name: 'Lovelace',
  email: 'ada@example.org',
  phone_number: '+44 20 7946 0000',
  address: { street_address: '12 St James Square', locality: 'London', region: 'Westminster', postal_code: 'SW1Y 4JH', country: 'GB' },
  birthdate: '1815-12-10',
};
const HOVE = { street_address: '1 Sea Road', locality: 'Hove', postal_code: 'BN3 2AA', country: 'GB' };

let n = 0;
function event(type: ConnectorEventType, payload: Partial<ConnectorEventPayload> = {}, relationshipId = 'rel-ada'): ConnectorDelivery {
  n += 1;
  return { id: `evt-${n}`, type, createdAt: 0, payload: { relationshipId, customerRef: 'C-1815', ...payload } };
}

async function rejection(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('the SCIM connector against a SCIM service provider (scimmy)', () => {
  let provider: ScimProvider;
  beforeEach(async () => {
    provider = await startScimProvider();
  });
  afterEach(async () => {
    await provider.stop();
  });

  const only = () => {
    const users = provider.byExternalId('rel-ada');
    expect(users).toHaveLength(1);
    return users[0]!;
  };

  it('keeps one User per relationship through disclosure, resend, update, withdrawal and erasure', async () => {
    const { connector, logger } = makeConnector(provider);

    const disclosed = event('profile.disclosed', { fields: ADA });
    await connector.deliver(disclosed);
    const created = only();
    expect(provider.users()).toHaveLength(1);
    expect(created.data).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      externalId: 'rel-ada',
      userName: 'C-1815',
      name: { formatted: ADA.name, givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ type: 'work', value: 'ada@example.org', primary: true }],
      phoneNumbers: [{ type: 'mobile', value: '+44 20 7946 0000', primary: true }],
      addresses: [{ type: 'home', streetAddress: '12 St James Square', locality: 'London', region: 'Westminster', postalCode: 'SW1Y 4JH', country: 'GB', primary: true }],
    });
    // Her birthdate has no place in the mapping: it was never sent.
    expect(JSON.stringify(provider.users())).not.toContain('1815-12-10');

    // The same event again (delivery is at least once): found by externalId, nothing written.
    const before = provider.requests.length;
    await connector.deliver(disclosed);
    expect(provider.requests.slice(before).map((r) => r.method)).toEqual(['GET']);
    expect(only()).toEqual(created);

    // Her new address replaces the old one whole (its region, which the new one lacks, goes too), under If-Match.
    await connector.deliver(event('profile.updated', { fields: { address: HOVE }, version: 2 }));
    const updated = only();
    expect(updated.data['addresses']).toEqual([{ type: 'home', streetAddress: '1 Sea Road', locality: 'Hove', postalCode: 'BN3 2AA', country: 'GB', primary: true }]);
    expect(updated.data['emails']).toEqual(created.data['emails']);
    expect(provider.requests.at(-1)).toMatchObject({ method: 'PATCH', status: 200, ifMatch: `W/"${created.version}"` });

    // She takes back her email and phone number: those values leave the User, the rest stays.
    await connector.deliver(event('consent.withdrawn', { withdrawnFields: ['email', 'phone_number', 'birthdate'], consentRecordIds: ['c'] }));
    const withdrawn = only();
    expect(withdrawn.data['emails']).toBeUndefined();
    expect(withdrawn.data['phoneNumbers']).toBeUndefined();
    expect(withdrawn.data['name']).toEqual(created.data['name']);
    expect(JSON.stringify(provider.users())).not.toContain('ada@example.org');
    // Withdrawn again: nothing left to remove, nothing written.
    const beforeAgain = provider.requests.length;
    await connector.deliver(event('consent.withdrawn', { withdrawnFields: ['email'] }));
    expect(provider.requests.slice(beforeAgain).map((r) => r.method)).toEqual(['GET']);

    // Erased, as replayed from the dead letters (the dispatcher has blanked the customer number by
    // then; the relationship id still finds her User): no User. Erased again: still none, no error.
    await connector.deliver(event('relationship.erased', { customerRef: null }));
    expect(provider.users()).toEqual([]);
    await connector.deliver(event('relationship.erased'));
    expect(provider.users()).toEqual([]);

    // Logs: status codes, event ids and the connector's id; never a value.
    for (const line of logger.lines) {
      for (const value of [PERSONAL_MARKER, 'ada@example.org', 'Sea Road', '7946', 'C-1815']) expect(line).not.toContain(value);
    }
    expect(logger.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['event'] === 'scim_request')).toMatchObject({ connector: 'scim', eventId: disclosed.id, method: 'GET', status: 200 });
  });

  it('sends only the mapped fields, to the configured paths, and nothing for an event it has no field for', async () => {
    const { connector } = makeConnector(provider, { mapping: { email: 'emails[type eq "home"].value', family_name: 'name.familyName' } });
    await connector.deliver(event('profile.disclosed', { fields: ADA }));
    expect(only().data).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      externalId: 'rel-ada',
      userName: 'C-1815',
      name: { familyName: 'Lovelace' },
      emails: [{ type: 'home', value: 'ada@example.org', primary: true }],
    });
    const before = provider.requests.length;
    await connector.deliver(event('profile.updated', { fields: { address: HOVE } }));
    await connector.deliver(event('terms.agreed', { agreementId: 'x', recordId: 'y' }));
    await connector.deliver(event('consent.withdrawn', { withdrawnFields: ['address'] }));
    expect(provider.requests.length).toBe(before);
  });

  it('makes the User on an update when there is none yet (a disclosure it missed), and patches one made by someone else', async () => {
    const { connector } = makeConnector(provider);
    await connector.deliver(event('profile.updated', { fields: { email: 'ada@example.org' }, version: 2 }));
    expect(only().data['emails']).toEqual([{ type: 'work', value: 'ada@example.org', primary: true }]);

    // A User its CRM made: a primary home email stays primary; hers is added beside it.
    const theirs = provider.put({ externalId: 'rel-other', userName: 'C-9', emails: [{ type: 'home', value: 'x@example.org', primary: true }] });
    await connector.deliver(event('profile.disclosed', { fields: { email: 'ada@example.org' }, customerRef: 'C-9' }, 'rel-other'));
    expect(provider.byExternalId('rel-other')).toHaveLength(1);
    expect(provider.byExternalId('rel-other')[0]!.data['emails']).toEqual([
      { type: 'home', value: 'x@example.org', primary: true },
      { type: 'work', value: 'ada@example.org' },
    ]);
    expect(provider.byExternalId('rel-other')[0]!.id).toBe(theirs.id);
  });

  it('reads again and retries once when the User changed between its read and its write (412)', async () => {
    const { connector } = makeConnector(provider);
    await connector.deliver(event('profile.disclosed', { fields: { email: 'ada@example.org' } }));
    const id = only().id;
    provider.beforeNext('PATCH', (p) => p.touch(id));
    const before = provider.requests.length;
    await connector.deliver(event('profile.updated', { fields: { email: 'ada@lovelace.example' } }));
    expect(provider.requests.slice(before).map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'PATCH 412', 'GET 200', 'PATCH 200']);
    expect(provider.requests.at(-1)!.ifMatch).toBe('W/"2"');
    expect(only().data['emails']).toEqual([{ type: 'work', value: 'ada@lovelace.example', primary: true }]);

    // Twice moved in one delivery: a failure to retry later, and nothing written.
    provider.beforeNext('PATCH', (p) => {
      p.touch(id);
      p.beforeNext('PATCH', (q) => q.touch(id));
    });
    const error = await rejection(connector.deliver(event('profile.updated', { fields: { email: 'ada@third.example' } })));
    expect(error).toMatchObject({ code: 'connector.failed', retryable: true });
    expect(only().data['emails']).toEqual([{ type: 'work', value: 'ada@lovelace.example', primary: true }]);
  });

  it('patches the User another delivery made while it was creating one (409 on POST), and refuses to take over a User that is not hers', async () => {
    const { connector } = makeConnector(provider);
    provider.beforeNext('POST', (p) => p.put({ externalId: 'rel-ada', userName: 'C-1815' }));
    await connector.deliver(event('profile.disclosed', { fields: { email: 'ada@example.org' } }));
    expect(provider.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'POST 409', 'GET 200', 'PATCH 200']);
    expect(only().data['emails']).toEqual([{ type: 'work', value: 'ada@example.org', primary: true }]);

    // Someone else holds her customer number as userName, without her externalId: not hers to write to.
    const stranger = provider.put({ userName: 'C-2000', displayName: 'Someone else' });
    const error = await rejection(connector.deliver(event('profile.disclosed', { fields: { email: 'ada@example.org' }, customerRef: 'C-2000' }, 'rel-new')));
    expect(error).toMatchObject({ code: 'connector.rejected', retryable: false });
    expect(provider.users().find((u) => u.id === stranger.id)).toEqual(stranger);
    expect(provider.byExternalId('rel-new')).toEqual([]);
  });

  it('counts a User already gone (404 on DELETE) as erased, and erases every User carrying her externalId', async () => {
    const { connector } = makeConnector(provider);
    const one = provider.put({ externalId: 'rel-ada', userName: 'C-1815' });
    provider.beforeNext('DELETE', (p) => p.drop(one.id));
    await connector.deliver(event('relationship.erased'));
    expect(provider.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'DELETE 404']);

    provider.put({ externalId: 'rel-ada', userName: 'C-1815' });
    provider.put({ externalId: 'rel-ada', userName: 'C-1815-copy' });
    const kept = provider.put({ externalId: 'rel-someone', userName: 'C-3' });
    // Two Users are ambiguous for an update: an operator must merge them first.
    expect(await rejection(connector.deliver(event('profile.updated', { fields: { email: 'ada@example.org' } })))).toMatchObject({ code: 'connector.rejected' });
    await connector.deliver(event('relationship.erased'));
    expect(provider.users()).toEqual([kept]);
  });

  it('classifies what the provider answers: a refused token, throttling, failures, redirects and answers that are not SCIM', async () => {
    const wrong = makeConnector(provider, { token: 'not-the-token' });
    expect(await rejection(wrong.connector.deliver(event('profile.disclosed', { fields: ADA })))).toMatchObject({ code: 'connector.rejected', retryable: false, message: 'SCIM provider answered GET with HTTP 401' });
    expect(provider.users()).toEqual([]);

    const { connector, logger } = makeConnector(provider);
    const outcome = (status: number, headers?: Record<string, string>) => {
      provider.failNext(status, headers);
      return rejection(connector.deliver(event('profile.disclosed', { fields: ADA })));
    };
    expect(await outcome(403)).toMatchObject({ code: 'connector.rejected' });
    expect(await outcome(404)).toMatchObject({ code: 'connector.rejected' });
    expect(await outcome(500)).toMatchObject({ code: 'connector.failed', retryable: true });
    expect(await outcome(408)).toMatchObject({ code: 'connector.failed', retryable: true });
    expect(await outcome(429)).toMatchObject({ code: 'connector.throttled', retryable: true, retryAfterMs: undefined });
    expect(await outcome(302, { location: 'https://elsewhere.example/scim/Users' })).toMatchObject({ code: 'connector.rejected', retryable: false });
    // 200 with something that is no ListResponse: this is not a SCIM endpoint.
    expect(await outcome(200)).toMatchObject({ code: 'connector.rejected' });
    expect(provider.users()).toEqual([]);
    for (const line of logger.lines) expect(line).not.toContain(PERSONAL_MARKER);

    // Nothing answers: unreachable, retryable.
    await provider.stop();
    expect(await rejection(connector.deliver(event('relationship.erased')))).toMatchObject({ code: 'connector.unreachable', retryable: true });
  });

  it('reads a Retry-After as seconds or as an HTTP date, within a day', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(retryAfterMs('7', now)).toBe(7_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('99999999', now)).toBe(24 * 3600_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe('the SCIM connector configuration', () => {
  const base = { type: 'scim', baseUrl: 'https://crm.example/scim/v2/', token: 't0k3n' };
  const invalid = (connector: unknown) => thrown(() => createConnectors([connector], { logger: capturingLogger(), clock: new ManualClock() }), ConfigError);

  it('is a kind the policy file accepts, with its defaults', () => {
    const policy = parsePolicy({ connectors: [base] });
    expect(policy.connectors[0]).toMatchObject({ type: 'scim', id: 'scim', maxAttempts: 10, baseUrl: 'https://crm.example/scim/v2', resourceType: 'Users', timeoutMs: 10_000 });
    expect(policy.connectors[0]!['mapping']).toMatchObject({ email: 'emails[type eq "work"].value', address: 'addresses[type eq "home"]' });
    const [target] = createConnectors([{ ...base, id: 'crm', maxAttempts: 3 }], { logger: capturingLogger(), clock: new ManualClock() });
    expect(target!.connector).toMatchObject({ id: 'crm', type: 'scim' });
    expect(target!.maxAttempts).toBe(3);
  });

  it('refuses what would leak or could not work, naming the setting', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, baseUrl: 'http://crm.example/scim' }, 'baseUrl'],
      [{ ...base, baseUrl: 'https://user:pw@crm.example/scim' }, 'baseUrl'],
      [{ ...base, baseUrl: 'not a url' }, 'baseUrl'],
      [{ type: 'scim', baseUrl: base.baseUrl }, 'token'],
      [{ ...base, tokenFile: '/tmp/x' }, 'token'],
      [{ ...base, token: 'has space' }, 'token'],
      [{ ...base, mapping: { shirt_size: 'x' } }, 'mapping.shirt_size'],
      [{ ...base, mapping: { email: 'emails[type eq work].value' } }, 'mapping.email'],
      [{ ...base, mapping: { email: 'emails[type eq "work"]' } }, 'mapping.email'],
      [{ ...base, mapping: { address: 'addresses[type eq "home"].streetAddress' } }, 'mapping.address'],
      [{ ...base, mapping: { name: 'displayName', nickname: 'displayName' } }, 'mapping.nickname'],
      [{ ...base, timeoutMs: 10 }, 'timeoutMs'],
      [{ ...base, password: 'x' }, '(root)'],
    ];
    for (const [config, path] of cases) {
      const error = invalid(config);
      expect(error, JSON.stringify(config)).toMatchObject({ code: 'config.invalid' });
      // Issues read `path: code`.
      const issues = (error.details as { issues: string[] }).issues;
      expect(issues.some((issue) => issue.startsWith(`${path}`)), `${JSON.stringify(config)}: ${JSON.stringify(issues)}`).toBe(true);
    }
    // No secret in what the refusal says.
    expect(JSON.stringify(invalid({ ...base, token: 'has space' }))).not.toContain('has space');
  });

  it('reads the token from tokenFile, and refuses one that cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kith-scim-'));
    try {
      const provider = await startScimProvider();
      try {
        writeFileSync(join(dir, 'token'), `${SCIM_TOKEN}\n`);
        const [target] = createConnectors([{ type: 'scim', baseUrl: provider.baseUrl, tokenFile: join(dir, 'token') }], { logger: capturingLogger(), clock: new ManualClock() });
        await target!.connector.deliver(event('profile.disclosed', { fields: { email: 'ada@example.org' } }));
        expect(provider.users()).toHaveLength(1);
      } finally {
        await provider.stop();
      }
      expect(invalid({ type: 'scim', baseUrl: base.baseUrl, tokenFile: join(dir, 'missing') })).toMatchObject({ code: 'config.invalid' });
      writeFileSync(join(dir, 'empty'), '\n');
      expect(invalid({ type: 'scim', baseUrl: base.baseUrl, tokenFile: join(dir, 'empty') })).toMatchObject({ code: 'config.invalid' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SCIM resources and PATCH operations from her fields', () => {
  const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
  const mapping = { organization: `${ENTERPRISE}:organization`, email: 'emails[type eq "work"].value', address: 'addresses[type eq "home"]', name: 'name.formatted' };

  it('puts extension attributes under their schema, and declares it', () => {
    const { mapped } = mapFields(mapping, { organization: 'Analytical Society', email: 'ada@example.org' });
    expect(newResource('urn:ietf:params:scim:schemas:core:2.0:User', 'rel', 'C-1', mapped)).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
      externalId: 'rel',
      userName: 'C-1',
      [ENTERPRISE]: { organization: 'Analytical Society' },
      emails: [{ type: 'work', value: 'ada@example.org', primary: true }],
    });
    expect(upsertOperations({ [ENTERPRISE]: { organization: 'Old' } }, mapped)).toEqual([
      { op: 'replace', path: `${ENTERPRISE}:organization`, value: 'Analytical Society' },
      { op: 'add', path: 'emails', value: [{ type: 'work', value: 'ada@example.org', primary: true }] },
    ]);
    expect(removeOperations({ [ENTERPRISE]: { organization: 'Old' }, Emails: [{ Type: 'WORK', value: 'x' }] }, mapFields(mapping, { organization: 'x', email: 'a@b.example', name: 'N' }).mapped.map((m) => m.target))).toEqual([
      { op: 'remove', path: `${ENTERPRISE}:organization` },
      { op: 'remove', path: 'emails[type eq "work"]' },
    ]);
  });

  it('leaves out a value that is not valid for its field, by name', () => {
    expect(mapFields(mapping, { email: 'not an email', address: 'a string', name: 'Ada' })).toMatchObject({ mapped: [{ field: 'name' }], skipped: ['email', 'address'] });
  });
});
