import { describe, expect, expectTypeOf, it } from 'vitest';
import { ProfileError } from '../../core/errors.js';
import {
  PROFILE_FIELDS,
  fieldAliases,
  formatFieldValue,
  isProfileField,
  parseFieldText,
  parseFieldValue,
  parseProfileValues,
  profileFieldNames,
  resolveFieldName,
  type ProfileAddress,
  type ProfileFieldName,
  type ProfileFieldValue,
  type ProfileValues,
} from './fields.js';
import { thrown } from '../../../test/support/errorCodes.js';

const caught = (fn: () => unknown): ProfileError => thrown(fn, ProfileError);

function isoDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** Good and bad values for every field; the bad ones must fail with profile.invalid_value. */
const CASES: { [F in ProfileFieldName]: { good: unknown[]; bad: unknown[] } } = {
  name: { good: ['Zoë O\'Brien; Jr.', '李小龍', 'A'], bad: ['', '   ', 'two\nlines', 'tab\there', 'x'.repeat(257), 42, null] },
  given_name: { good: ['Zoë', 'Jean-Luc'], bad: ['', 'a\u0000b', ['Zoë']] },
  family_name: { good: ["O'Brien", 'van der Berg'], bad: ['', 'x'.repeat(129)] },
  nickname: { good: ['Zo'], bad: ['', {}] },
  email: {
    good: ['zoe@example.com', 'a.b+c@sub.example.co.uk', 'zoë@exämple.fr'],
    bad: ['', 'zoe', 'zoe@', '@example.com', 'zoe@example', 'zo e@example.com', 'a..b@example.com', '.a@example.com', 'a@b@c.com'],
  },
  phone_number: {
    good: ['+33 1 23 45 67 89', '(604) 555-1234', '+1 (604) 555-1234;ext=5678', '555-1234 ext. 12', '+44 20 7946 0958 x7', '112'],
    bad: ['', 'call me', '12', '+1 555 CALL NOW', 'tel:+15551234', '1'.repeat(26), '++1 555'],
  },
  address: {
    good: [
      { street_address: '1, Rue de la Paix; Bât. B', locality: 'Paris', postal_code: '75001', country: 'France' },
      { country: 'Canada' },
      { locality: 'Québec', region: 'QC' },
    ],
    bad: [{}, { street_address: '' }, { street_address: '   ' }, { city: 'Paris' }, { locality: 42 }, 'Paris', null, { locality: 'a\nb' }],
  },
  birthdate: {
    good: ['1990-01-15', '2000-02-29', isoDay(0), '1920-12-31'],
    bad: ['', '1990-1-15', '19900115', '1990-02-30', '1900-02-29', '1990-13-01', '1990-00-10', '1990-01-00', '0000-02-03', '0999-01-01', isoDay(3), '9999-12-31', '--02-03', 19900115],
  },
  gender: { good: ['F', 'M', 'O', 'N', 'U', 'non-binary', 'Two-Spirit'], bad: ['', 'x'.repeat(65), 1] },
  locale: { good: ['en', 'fr-CA', 'zh-Hant-TW', 'de-CH-1996'], bad: ['', 'en_US', 'english language', 'x', 'en-', '123'] },
  website: {
    good: ['https://example.com', 'http://nomis80.org', 'https://exämple.fr/a,b;c?x=1#y'],
    bad: ['', 'example.com', 'ftp://example.com', 'javascript:alert(1)', 'https://exa mple.com', 'mailto:zoe@example.com', 'https://'],
  },
  organization: { good: ['ACME; Inc.', 'Viagenie'], bad: ['', 'a\r\nb'] },
  title: { good: ['Research Engineer'], bad: ['', 'x'.repeat(257)] },
  role: { good: ['Project Leader'], bad: ['', false] },
  anniversary: { good: ['2009-08-08', '2999-01-01'], bad: ['2009-08-32', '20090808', '2009-08-08T14:30', ''] },
  zoneinfo: {
    good: ['Europe/Paris', 'America/Argentina/Buenos_Aires', 'UTC', 'Etc/GMT+5', 'Asia/Kolkata'],
    bad: ['', '-0500', '+05:00', 'GMT+5', 'Mars/Olympus', 'Asia/', 'Paris time'],
  },
  note: { good: ['Line one\nline two\twith a tab', 'Zoë; a, b \\ c'], bad: ['', 'a\rb', 'bell\u0007', 'x'.repeat(4001)] },
  payment_method: { good: ['Card', 'Bank transfer (SEPA)'], bad: ['', 'x'.repeat(129), 'two\nlines', 42] },
  clothing_size: { good: ['EU 40', 'US M'], bad: ['', 'x'.repeat(33)] },
  shoe_size: { good: ['EU 39', 'UK 6½'], bad: ['', 'x'.repeat(33)] },
  dietary_needs: { good: ['VeganDiet', 'GlutenFreeDiet, KosherDiet'], bad: ['', 'Carnivore', 'VeganDiet, pizza', ' , ', ['VeganDiet']] },
  contact_hours: { good: ['09:00-18:00', '20:00-08:00', '00:00-23:59'], bad: ['', '9:15-17:45', '09:00-24:00', '09:00 - 18:00', '10:00-10:00', 'mornings'] },
};

describe('the registry', () => {
  it('lists the fields in order with their vCard properties and a description each', () => {
    expect(profileFieldNames).toEqual([
      'name', 'given_name', 'family_name', 'nickname', 'email', 'phone_number', 'address', 'birthdate', 'gender',
      'locale', 'website', 'organization', 'title', 'role', 'anniversary', 'zoneinfo', 'note',
      'payment_method', 'clothing_size', 'shoe_size', 'dietary_needs', 'contact_hours',
    ]);
    expect(Object.fromEntries(PROFILE_FIELDS.map((f) => [f.name, f.vcardProperty]))).toEqual({
      name: 'FN', given_name: 'N', family_name: 'N', nickname: 'NICKNAME', email: 'EMAIL', phone_number: 'TEL', address: 'ADR',
      birthdate: 'BDAY', gender: 'GENDER', locale: 'LANG', website: 'URL', organization: 'ORG', title: 'TITLE', role: 'ROLE',
      anniversary: 'ANNIVERSARY', zoneinfo: 'TZ', note: 'NOTE',
      payment_method: 'X-KITH-PAYMENT-METHOD', clothing_size: 'X-KITH-CLOTHING-SIZE', shoe_size: 'X-KITH-SHOE-SIZE',
      dietary_needs: 'X-KITH-DIET', contact_hours: 'X-KITH-CONTACT-HOURS',
    });
    for (const f of PROFILE_FIELDS) {
      expect(f.description.length).toBeGreaterThan(5);
      expect(f.description).not.toContain('\n');
    }
  });

  it('is covered by the cases below, field for field', () => {
    expect(Object.keys(CASES).sort()).toEqual([...profileFieldNames].sort());
  });

  it('types each value precisely', () => {
    expectTypeOf<ProfileFieldValue<'email'>>().toEqualTypeOf<string>();
    expectTypeOf<ProfileFieldValue<'address'>>().toEqualTypeOf<ProfileAddress>();
    expectTypeOf<ProfileValues['address']>().toEqualTypeOf<ProfileAddress | undefined>();
    expectTypeOf(parseFieldValue('birthdate', '1990-01-15')).toEqualTypeOf<string>();
    expectTypeOf(parseFieldText('address', 'x; y')).toEqualTypeOf<ProfileAddress>();
  });

  it('tells field names from other strings', () => {
    expect(isProfileField('email')).toBe(true);
    expect(isProfileField('phone')).toBe(false);
    expect(isProfileField('EMAIL')).toBe(false);
    expect(isProfileField('constructor')).toBe(false);
  });
});

describe('parseFieldValue', () => {
  for (const [field, { good, bad }] of Object.entries(CASES) as [ProfileFieldName, { good: unknown[]; bad: unknown[] }][]) {
    it(`accepts good ${field} values`, () => {
      for (const value of good) expect(parseFieldValue(field, value)).toEqual(value);
    });

    it(`refuses bad ${field} values without echoing them`, () => {
      for (const value of bad) {
        const err = caught(() => parseFieldValue(field, value));
        expect(err.code, JSON.stringify(value)).toBe('profile.invalid_value');
        expect(err.details).toMatchObject({ field });
        expect(Array.isArray(err.details?.['issues'])).toBe(true);
        // The value is personal: it appears neither in the message nor in the details.
        if (typeof value === 'string' && value.trim().length > 2) {
          expect(err.message).not.toContain(value.trim());
          expect(JSON.stringify(err.toJSON())).not.toContain(JSON.stringify(value).slice(1, -1));
        }
      }
    });
  }

  it('reads diets as people type them and keeps them as schema.org names, each once', () => {
    expect(parseFieldValue('dietary_needs', 'vegan, gluten-free, Vegan diet,kosher')).toBe('VeganDiet, GlutenFreeDiet, KosherDiet');
    expect(parseFieldText('dietary_needs', 'low salt')).toBe('LowSaltDiet');
    expect(resolveFieldName('diet')).toBe('dietary_needs');
  });

  it('trims text', () => {
    expect(parseFieldValue('name', '  Zoë  ')).toBe('Zoë');
    expect(parseFieldValue('address', { locality: ' Paris ' })).toEqual({ locality: 'Paris' });
  });

  it('says which rule was broken', () => {
    expect(caught(() => parseFieldValue('birthdate', isoDay(3))).message).toBe('Invalid birthdate: must not be in the future');
    expect(caught(() => parseFieldValue('birthdate', '1990-02-30')).message).toBe('Invalid birthdate: must be a real calendar date');
    expect(caught(() => parseFieldValue('address', {})).message).toBe('Invalid address: must have at least one part');
  });

  it('refuses a name that is not a field (aliases are for people, not code)', () => {
    expect(caught(() => parseFieldValue('phone' as ProfileFieldName, '112')).code).toBe('profile.unknown_field');
  });
});

describe('parseProfileValues', () => {
  it('validates every value and leaves undefined ones out', () => {
    expect(parseProfileValues({ name: ' Zoë ', email: undefined, birthdate: '1990-01-15' })).toEqual({ name: 'Zoë', birthdate: '1990-01-15' });
  });

  it('refuses unknown names and bad values', () => {
    expect(caught(() => parseProfileValues({ phone: '112' })).code).toBe('profile.unknown_field');
    expect(caught(() => parseProfileValues({ email: 'nope' })).details).toMatchObject({ field: 'email' });
  });
});

describe('resolveFieldName', () => {
  it('resolves names and aliases in any case', () => {
    expect(resolveFieldName('email')).toBe('email');
    expect(resolveFieldName('EMAIL')).toBe('email');
    expect(resolveFieldName(' Given-Name ')).toBe('given_name');
    const expected: Record<string, ProfileFieldName> = {
      phone: 'phone_number', tel: 'phone_number', birthday: 'birthdate', bday: 'birthdate', fn: 'name', full_name: 'name',
      org: 'organization', lang: 'locale', language: 'locale', tz: 'zoneinfo', timezone: 'zoneinfo', url: 'website',
      payment: 'payment_method', diet: 'dietary_needs', size: 'clothing_size', hours: 'contact_hours',
    };
    expect(fieldAliases).toEqual(expected);
    for (const [alias, field] of Object.entries(expected)) {
      expect(resolveFieldName(alias)).toBe(field);
      expect(resolveFieldName(alias.toUpperCase())).toBe(field);
    }
  });

  it('lists the valid names when it cannot resolve one', () => {
    for (const name of ['shirt_size', 'toString', '__proto__', '']) {
      const err = caught(() => resolveFieldName(name));
      expect(err.code).toBe('profile.unknown_field');
      expect(err.details?.['known']).toEqual(profileFieldNames);
    }
  });
});

describe('parseFieldText', () => {
  it('takes text fields as typed', () => {
    expect(parseFieldText('name', 'Zoë O\'Brien; Jr.')).toBe('Zoë O\'Brien; Jr.');
    expect(parseFieldText('phone_number', '+33 1 23 45 67 89')).toBe('+33 1 23 45 67 89');
    expect(parseFieldText('note', 'one\r\ntwo\rthree')).toBe('one\ntwo\nthree');
    expect(caught(() => parseFieldText('email', 'nope')).code).toBe('profile.invalid_value');
  });

  it('reads an address written with semicolons, empty parts allowed', () => {
    expect(parseFieldText('address', '1, Rue de la Paix ; Paris;; 75001 ;France')).toEqual({
      street_address: '1, Rue de la Paix',
      locality: 'Paris',
      postal_code: '75001',
      country: 'France',
    });
    expect(parseFieldText('address', ';;;;Canada')).toEqual({ country: 'Canada' });
    expect(parseFieldText('address', 'Main Street 1; Springfield')).toEqual({ street_address: 'Main Street 1', locality: 'Springfield' });
    expect(parseFieldText('address', 'Main Street 1')).toEqual({ street_address: 'Main Street 1' });
  });

  it('reads an address given as JSON', () => {
    expect(parseFieldText('address', ' {"locality": "Québec", "region": "QC"} ')).toEqual({ locality: 'Québec', region: 'QC' });
  });

  it('refuses commas as separators, too many parts, bad JSON and empty addresses', () => {
    const commas = caught(() => parseFieldText('address', '1 Rue de la Paix, Paris, 75001, France'));
    expect(commas.code).toBe('profile.invalid_value');
    expect(commas.message).toContain('semicolons');
    expect(commas.message).not.toContain('Paris');
    expect(caught(() => parseFieldText('address', 'a; b; c; d; e; f')).message).toContain('at most 5 parts');
    expect(caught(() => parseFieldText('address', '{"locality": ')).message).toContain('not valid JSON');
    expect(caught(() => parseFieldText('address', '{"city": "Paris"}')).code).toBe('profile.invalid_value');
    expect(caught(() => parseFieldText('address', ' ; ; ')).code).toBe('profile.invalid_value');
    expect(caught(() => parseFieldText('address', '')).code).toBe('profile.invalid_value');
  });
});

describe('formatFieldValue', () => {
  it('joins the non-empty parts of an address and shows text as is', () => {
    expect(formatFieldValue('address', { street_address: '2875 Laurier', locality: 'Quebec', postal_code: 'G1V 2M2', country: 'Canada' })).toBe(
      '2875 Laurier, Quebec, G1V 2M2, Canada',
    );
    expect(formatFieldValue('address', { country: 'Canada', locality: '' })).toBe('Canada');
    expect(formatFieldValue('name', 'Zoë')).toBe('Zoë');
    expect(formatFieldValue('note', 42)).toBe('42');
  });
});
