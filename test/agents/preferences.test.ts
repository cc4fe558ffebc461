/**
 * Her preferences (issue 16 item 4) between real agents over real HTTP: stated once, shared
 * field by field like her details (a company asks, she approves, it holds them with a consent
 * record), changed once for exactly the companies that hold them, and refused when malformed
 * without anything changing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProfileError } from '../../src/core/errors.js';
import { answerAsk, connect, startCompany, startPersonal, type CompanyHandle, type Link, type PersonalHandle } from '../support/agents.js';

interface Connected {
  company: CompanyHandle;
  link: Link;
}

describe('her preferences travel like her details', () => {
  let personal: PersonalHandle;
  let grocer: Connected;
  let shoes: Connected;

  beforeEach(async () => {
    personal = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    personal.agent.profile.set({ name: 'Ada Lovelace', dietary_needs: 'vegan, gluten free', contact_hours: '09:00-18:00', shoe_size: 'EU 39' });
    const connectTo = async (name: string, fields: string[]): Promise<Connected> => {
      const company = await startCompany({ name });
      const link = await connect(personal, company);
      await answerAsk(personal, company, link, { fields, purpose: 'Deliveries' });
      return { company, link };
    };
    grocer = await connectTo('Green Grocer', ['name', 'dietary_needs', 'contact_hours']);
    shoes = await connectTo('Shoe Shop', ['name', 'shoe_size']);
  });
  afterEach(async () => {
    await personal?.cleanup();
    for (const one of [grocer, shoes]) await one?.company.cleanup();
  });

  const held = async (one: Connected) => {
    const holdings = await one.company.agent.holdings(one.link.companyRelationship.id);
    return Object.fromEntries(holdings.fields.map((f) => [f.field, f.value]));
  };

  it('is stored in schema.org words and disclosed only to the company that asked for it', async () => {
    expect(personal.agent.profile.profile().fields.find((f) => f.field === 'dietary_needs')?.value).toBe('VeganDiet, GlutenFreeDiet');
    expect(await held(grocer)).toEqual({ name: 'Ada Lovelace', dietary_needs: 'VeganDiet, GlutenFreeDiet', contact_hours: '09:00-18:00' });
    expect(await held(shoes)).toEqual({ name: 'Ada Lovelace', shoe_size: 'EU 39' });
  });

  it('changes once for the companies holding it, and only for them', async () => {
    const change = personal.agent.profile.set({ contact_hours: '10:00-16:00' })!;
    expect(change.deliveries.map((d) => d.relationshipId)).toEqual([grocer.link.view.id]);
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 1, retrying: 0, failed: 0, skipped: 0 });
    expect((await held(grocer))['contact_hours']).toBe('10:00-16:00');
    expect(await held(shoes)).toEqual({ name: 'Ada Lovelace', shoe_size: 'EU 39' });
  });

  it('refuses a malformed preference with profile.invalid_value, changing nothing', () => {
    const before = personal.agent.profile.profile();
    for (const bad of [{ contact_hours: '9 to 5' }, { dietary_needs: 'vegan, pizza' }]) {
      let caught: unknown;
      try {
        personal.agent.profile.set(bad);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ProfileError);
      expect((caught as ProfileError).code).toBe('profile.invalid_value');
    }
    expect(personal.agent.profile.profile()).toEqual(before);
  });
});
