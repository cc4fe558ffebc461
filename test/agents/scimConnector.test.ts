/**
 * The SCIM connector end to end: a real company agent configured (policy.connectors) with a SCIM
 * connector to a SCIM service provider on loopback (scimmy), and her real agent over real HTTP.
 * What she discloses, changes, takes back and erases is what the provider's User holds.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPair, type Pair } from '../support/agents.js';
import { SCIM_TOKEN, startScimProvider, type ScimProvider } from '../support/scimProvider.js';

const ADA = {
  name: 'Ada Lovelace',
  email: 'ada@example.org',
  address: { street_address: '12 St James Square', locality: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
  birthdate: '1815-12-10',
};
const HOVE = { street_address: '1 Sea Road', locality: 'Hove', postal_code: 'BN3 2AA', country: 'GB' };

describe('a company agent with a SCIM connector', () => {
  let provider: ScimProvider;
  let pair: Pair;
  beforeEach(async () => {
    provider = await startScimProvider();
    pair = await startPair({
      company: { policy: { connectors: [{ type: 'scim', baseUrl: provider.baseUrl, token: SCIM_TOKEN }] } },
      personal: { retry: { baseDelayMs: 1, maxDelayMs: 5 } },
    });
    pair.personal.agent.profile.set(ADA);
  });
  afterEach(async () => {
    await pair?.cleanup();
    await provider?.stop();
  });

  it('keeps her User as she discloses, changes, takes back and erases', async () => {
    const { company, personal, link } = pair;
    const relationshipId = link.companyRelationship.id;
    const held = () => provider.byExternalId(relationshipId);

    await company.agent.requestDisclosure(relationshipId, { fields: ['name', 'email', 'address', 'birthdate'], purpose: 'Deliveries' });
    const [request] = personal.agent.disclosure.requests();
    await personal.agent.disclosure.approve(request!.id);
    expect(await company.agent.dispatchEvents()).toBe(1);
    expect(held()).toHaveLength(1);
    expect(held()[0]!.data).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      externalId: relationshipId,
      userName: link.companyRelationship.customerRef,
      name: { formatted: 'Ada Lovelace' },
      emails: [{ type: 'work', value: 'ada@example.org', primary: true }],
      addresses: [{ type: 'home', streetAddress: '12 St James Square', locality: 'London', postalCode: 'SW1Y 4JH', country: 'GB', primary: true }],
    });

    personal.agent.profile.set({ address: HOVE });
    expect(await personal.agent.profile.deliver()).toMatchObject({ acked: 1 });
    expect(await company.agent.dispatchEvents()).toBe(1);
    expect(held()[0]!.data['addresses']).toEqual([{ type: 'home', streetAddress: '1 Sea Road', locality: 'Hove', postalCode: 'BN3 2AA', country: 'GB', primary: true }]);

    personal.agent.profile.remove(['email']);
    expect(await personal.agent.profile.deliver()).toMatchObject({ acked: 1 });
    expect(await company.agent.dispatchEvents()).toBe(1);
    expect(held()[0]!.data['emails']).toBeUndefined();
    expect(held()[0]!.data['name']).toEqual({ formatted: 'Ada Lovelace' });

    await personal.agent.cutOff(link.view.id);
    expect(await company.agent.dispatchEvents()).toBe(1);
    expect(provider.users()).toEqual([]);
    expect(provider.requests.every((r) => r.status < 400)).toBe(true);
  });
});
