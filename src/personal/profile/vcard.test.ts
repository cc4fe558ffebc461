import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { ProfileError } from '../../core/errors.js';
import type { ProfileValues } from '../../protocol/profile/fields.js';
import { MAX_VCARD_BYTES, jcardToProfile, profileToJcard, profileToVcard, vcardToProfile } from './vcard.js';
import { thrown } from '../../../test/support/errorCodes.js';

const caught = (fn: () => unknown): ProfileError => thrown(fn, ProfileError);

const crlf = (lines: string[]): string => lines.map((l) => `${l}\r\n`).join('');

/** Every field, with the characters vCard escapes (, ; \ and newlines) and non-ASCII text. */
const FULL: ProfileValues = {
  name: "Zoë O'Brien; Jr.",
  given_name: 'Zoë, Ann',
  family_name: "O'Brien; Jr.",
  nickname: 'Zo, the \\ great',
  email: 'zoë@exämple.fr',
  phone_number: '+33 1 23 45 67 89;ext=12',
  address: {
    street_address: '1, Rue de la Paix; Bât. B \\ 3e',
    locality: 'Paris',
    region: 'Île-de-France',
    postal_code: '75001',
    country: 'France',
  },
  birthdate: '1990-01-15',
  gender: 'non-binary; they, them',
  locale: 'fr-CA',
  website: 'https://exämple.fr/zoë?a=1,2;b=\\',
  organization: 'Café Crème; S.A., Paris',
  title: 'Directrice, R&D; Europe',
  role: 'Chef de projet \\ équipe',
  anniversary: '2015-06-20',
  zoneinfo: 'Europe/Paris',
  note: 'Première ligne, avec; tout \\ ça\nDeuxième ligne — 東京 🎉\n\tindentée',
  payment_method: 'Card; or PayPal, \\ never cash',
  clothing_size: 'EU 40, long',
  shoe_size: 'UK 6½',
  dietary_needs: 'VeganDiet, GlutenFreeDiet',
  contact_hours: '09:00-18:00',
};

/** RFC 6350 section 8, the example vCard. */
const RFC_6350_EXAMPLE = crlf([
  'BEGIN:VCARD',
  'VERSION:4.0',
  'FN:Simon Perreault',
  'N:Perreault;Simon;;;ing. jr,M.Sc.',
  'BDAY:--0203',
  'ANNIVERSARY:20090808T1430-0500',
  'GENDER:M',
  'LANG;PREF=1:fr',
  'LANG;PREF=2:en',
  'ORG;TYPE=work:Viagenie',
  'ADR;TYPE=work:;Suite D2-630;2875 Laurier;Quebec;QC;G1V 2M2;Canada',
  'TEL;VALUE=uri;TYPE="work,voice";PREF=1:tel:+1-418-656-9254;ext=102',
  'TEL;VALUE=uri;TYPE="work,cell,voice,video,text":tel:+1-418-262-6501',
  'EMAIL;TYPE=work:simon.perreault@viagenie.ca',
  'GEO;TYPE=work:geo:46.772673,-71.282945',
  'KEY;TYPE=work;VALUE=uri:http://www.viagenie.ca/simon.perreault/simon.asc',
  'TZ:-0500',
  'URL;TYPE=home:http://nomis80.org',
  'END:VCARD',
]);

describe('profileToVcard', () => {
  it('writes vCard 4.0 text with CRLF lines, VERSION first and FN', () => {
    const text = profileToVcard({ name: 'Zoë', email: 'zoe@example.com' });
    expect(text.startsWith('BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zoë\r\n')).toBe(true);
    expect(text.endsWith('END:VCARD\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(text).toContain('\r\nEMAIL:zoe@example.com\r\n');
  });

  it('leaves the escaping to ical.js', () => {
    const text = profileToVcard(FULL);
    expect(text).toContain("\r\nN:O'Brien\\; Jr.;Zoë\\, Ann;;;\r\n");
    expect(text).toContain('\r\nORG:Café Crème\\; S.A.\\, Paris\r\n');
    expect(text).toContain('\r\nADR:;;1\\, Rue de la Paix\\; Bât. B \\\\ 3e;Paris;Île-de-France;75001;France\r\n');
    expect(text).toContain('\r\nBDAY:19900115\r\n');
    expect(text).toContain('\r\nGENDER:;non-binary\\; they\\, them\r\n');
  });

  it('derives FN when she has no name: given and family names, else email, else a placeholder', () => {
    const fn = (values: ProfileValues): string | undefined => /\r\nFN:([^\r]*)\r\n/.exec(profileToVcard(values))?.[1];
    expect(fn({ given_name: 'Zoë', family_name: 'Martin' })).toBe('Zoë Martin');
    expect(fn({ family_name: 'Martin', email: 'z@example.com' })).toBe('Martin');
    expect(fn({ email: 'z@example.com' })).toBe('z@example.com');
    expect(fn({})).toBe('Unnamed');
  });

  it('writes N only from given and family names', () => {
    expect(profileToVcard({ name: 'Zoë' })).not.toContain('\r\nN:');
    expect(profileToVcard({ given_name: 'Zoë' })).toContain('\r\nN:;Zoë;;;\r\n');
  });

  it('writes a sex letter as GENDER sex and anything else as identity', () => {
    expect(profileToVcard({ gender: 'F' })).toContain('\r\nGENDER:F\r\n');
    expect(profileToVcard({ gender: 'woman' })).toContain('\r\nGENDER:;woman\r\n');
  });

  it('writes her preferences as extension properties, her diets as a list', () => {
    const text = profileToVcard({ name: 'Zoë', dietary_needs: 'VeganDiet, GlutenFreeDiet', contact_hours: '09:00-18:00', payment_method: 'Card' });
    expect(text).toContain('\r\nX-KITH-DIET;VALUE=TEXT:VeganDiet\\,GlutenFreeDiet\r\n');
    expect(text).toContain('\r\nX-KITH-CONTACT-HOURS;VALUE=TEXT:09:00-18:00\r\n');
    expect(text).toContain('\r\nX-KITH-PAYMENT-METHOD;VALUE=TEXT:Card\r\n');
    // A writer that made the diets a list of values is read as well.
    expect(vcardToProfile('BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zoë\r\nX-KITH-DIET:vegan,Kosher\r\nEND:VCARD\r\n').values.dietary_needs).toBe('VeganDiet, KosherDiet');
  });

  it('writes UID and REV when given', () => {
    const text = profileToVcard({ name: 'Zoë' }, { uid: 'urn:uuid:0f6a7b3e-4b7e-4f49-9d2e-1c9f1f6a8d10', rev: new Date('2024-05-06T07:08:09.123Z') });
    expect(text).toContain('\r\nUID;VALUE=URI:urn:uuid:0f6a7b3e-4b7e-4f49-9d2e-1c9f1f6a8d10\r\n');
    expect(text).toContain('\r\nREV:20240506T070809Z\r\n');
  });

  it('validates what it writes', () => {
    expect(caught(() => profileToVcard({ email: 'nope' })).code).toBe('profile.invalid_value');
    expect(caught(() => profileToVcard({ phone: '112' })).code).toBe('profile.unknown_field');
  });
});

describe('round trip', () => {
  it('profile -> vCard -> profile is the identity for a full profile', () => {
    const text = profileToVcard(FULL, { uid: 'urn:uuid:0f6a7b3e-4b7e-4f49-9d2e-1c9f1f6a8d10', rev: new Date() });
    expect(vcardToProfile(text)).toEqual({ values: FULL, ignored: [] });
  });

  it('holds field by field, so one field cannot hide a loss in another', () => {
    for (const [field, value] of Object.entries(FULL)) {
      const values = { name: 'Zoë', [field]: value };
      expect(vcardToProfile(profileToVcard(values)), field).toEqual({ values, ignored: [] });
    }
  });

  it('brings a FN derived from given and family names back as her name', () => {
    // A card's FN is what it calls her; telling a derived one from a real one is not possible
    // (RFC 6350's own example has FN "Simon Perreault" and N "Perreault;Simon").
    expect(vcardToProfile(profileToVcard({ given_name: 'Zoë', family_name: 'Martin' })).values).toEqual({
      name: 'Zoë Martin',
      given_name: 'Zoë',
      family_name: 'Martin',
    });
  });

  it('keeps a nameless profile nameless (the FN stand-ins are not imported)', () => {
    expect(vcardToProfile(profileToVcard({ email: 'zoe@example.com' }))).toEqual({ values: { email: 'zoe@example.com' }, ignored: [] });
    expect(vcardToProfile(profileToVcard({ title: 'CTO' }))).toEqual({ values: { title: 'CTO' }, ignored: [] });
  });

  it('gives a jCard that ical.js reads back to the same values', () => {
    const jcard = profileToJcard(FULL);
    expect(jcard[0]).toBe('vcard');
    expect(jcard[1][0]).toEqual(['version', {}, 'text', '4.0']);
    const component = new ICAL.Component(jcard);
    expect(component.name).toBe('vcard');
    expect(component.getFirstPropertyValue('fn')).toBe(FULL.name);
    expect(component.getFirstPropertyValue('email')).toBe(FULL.email);
    expect(vcardToProfile(component.toString()).values).toEqual(FULL);
    expect(jcardToProfile(component.toJSON()).values).toEqual(FULL);
    expect(jcardToProfile(JSON.parse(JSON.stringify(jcard))).values).toEqual(FULL);
  });
});

describe('vcardToProfile', () => {
  it('reads the RFC 6350 example, skipping what the fields cannot hold', () => {
    expect(vcardToProfile(RFC_6350_EXAMPLE)).toEqual({
      values: {
        name: 'Simon Perreault',
        family_name: 'Perreault',
        given_name: 'Simon',
        // Of the two LANG, PREF=1 wins; of the two TEL, the one with PREF=1, its extension kept.
        locale: 'fr',
        phone_number: '+1-418-656-9254;ext=102',
        email: 'simon.perreault@viagenie.ca',
        // The time of day is dropped; the date is what the field holds.
        anniversary: '2009-08-08',
        gender: 'M',
        organization: 'Viagenie',
        address: { street_address: '2875 Laurier, Suite D2-630', locality: 'Quebec', region: 'QC', postal_code: 'G1V 2M2', country: 'Canada' },
        website: 'http://nomis80.org',
      },
      // BDAY has no year, TZ is an offset, GEO and KEY have no field, and one LANG and one TEL were
      // not taken: all reported, in card order, each once.
      ignored: ['BDAY', 'LANG', 'TEL', 'GEO', 'KEY', 'TZ'],
    });
  });

  it('prefers PREF=1, or TYPE=pref in vCard 3, else the first', () => {
    const card = (lines: string[], version = '4.0'): string => crlf(['BEGIN:VCARD', `VERSION:${version}`, 'FN:Zoë', ...lines, 'END:VCARD']);
    expect(vcardToProfile(card(['EMAIL:a@example.com', 'EMAIL;PREF=1:b@example.com', 'EMAIL;PREF=2:c@example.com'])).values.email).toBe('b@example.com');
    expect(vcardToProfile(card(['EMAIL:a@example.com', 'EMAIL:b@example.com'])).values.email).toBe('a@example.com');
    expect(vcardToProfile(card(['EMAIL;TYPE=INTERNET:a@example.com', 'EMAIL;TYPE=INTERNET,PREF:b@example.com'], '3.0')).values.email).toBe('b@example.com');
    expect(vcardToProfile(card(['EMAIL;TYPE=INTERNET:a@example.com', 'EMAIL;TYPE=INTERNET;TYPE=PREF:b@example.com'], '3.0')).values.email).toBe('b@example.com');
    expect(vcardToProfile(card(['TEL;TYPE=cell:+1 555 0100', 'TEL;TYPE=home,pref:+1 555 0199'])).values.phone_number).toBe('+1 555 0199');
  });

  it('reads a vCard 3.0 as exported by common address books', () => {
    const text = [
      'BEGIN:VCARD',
      'VERSION:3.0',
      'PRODID:-//Apple Inc.//iPhone OS 17.0//EN',
      'N:Martin;Zoë;;;',
      'FN:Zoë Martin',
      'item1.EMAIL;type=INTERNET;type=pref:zoe@example.com',
      'item1.X-ABLabel:_$!<Other>!$_',
      'TEL;type=CELL;type=VOICE;type=pref:+33 6 12 34 56 78',
      'ADR;type=HOME;type=pref:;;12 Rue Oberkampf;Paris;;75011;France',
      'BDAY;VALUE=date:1990-01-15',
      'NOTE:Line 1\\nLine 2',
      'END:VCARD',
      '',
    ].join('\n');
    expect(vcardToProfile(text)).toEqual({
      values: {
        name: 'Zoë Martin',
        family_name: 'Martin',
        given_name: 'Zoë',
        email: 'zoe@example.com',
        phone_number: '+33 6 12 34 56 78',
        address: { street_address: '12 Rue Oberkampf', locality: 'Paris', postal_code: '75011', country: 'France' },
        birthdate: '1990-01-15',
        note: 'Line 1\nLine 2',
      },
      ignored: ['X-ABLABEL'],
    });
  });

  it('accepts both date forms and skips the ones without a full date', () => {
    const bday = (value: string) => vcardToProfile(crlf(['BEGIN:VCARD', 'VERSION:4.0', 'FN:Zoë', value, 'END:VCARD']));
    expect(bday('BDAY:19900115').values.birthdate).toBe('1990-01-15');
    expect(bday('BDAY:1990-01-15').values.birthdate).toBe('1990-01-15');
    for (const partial of ['BDAY:--0203', 'BDAY:1990', 'BDAY:1990-01', 'BDAY:---15', 'BDAY;VALUE=text:circa 1800']) {
      expect(bday(partial), partial).toEqual({ values: { name: 'Zoë' }, ignored: ['BDAY'] });
    }
    expect(caught(() => bday('BDAY:19900230')).details).toMatchObject({ field: 'birthdate' });
    expect(caught(() => bday('BDAY:29990101')).code).toBe('profile.invalid_value');
  });

  it('keeps an IANA TZ and skips offsets and other text', () => {
    const tz = (value: string) => vcardToProfile(crlf(['BEGIN:VCARD', 'VERSION:4.0', 'FN:Zoë', value, 'END:VCARD']));
    expect(tz('TZ:America/New_York').values.zoneinfo).toBe('America/New_York');
    for (const other of ['TZ:-0500', 'TZ;VALUE=utc-offset:-0500', 'TZ;VALUE=uri:https://example.com/tz/paris', 'TZ:Raleigh/North America', 'TZ:Mars/Olympus']) {
      expect(tz(other), other).toEqual({ values: { name: 'Zoë' }, ignored: ['TZ'] });
    }
  });

  it('reads GENDER sex, else identity', () => {
    const gender = (value: string) => vcardToProfile(crlf(['BEGIN:VCARD', 'VERSION:4.0', 'FN:Zoë', value, 'END:VCARD'])).values.gender;
    expect(gender('GENDER:F')).toBe('F');
    expect(gender('GENDER:O;intersex')).toBe('O');
    expect(gender('GENDER:;genderqueer')).toBe('genderqueer');
    expect(gender('GENDER:;')).toBeUndefined();
  });

  it('maps tel: URIs to text and skips other URIs', () => {
    const tel = (value: string) => vcardToProfile(crlf(['BEGIN:VCARD', 'VERSION:4.0', 'FN:Zoë', value, 'END:VCARD']));
    expect(tel('TEL;VALUE=uri:tel:+33-1-23-45-67-89').values.phone_number).toBe('+33-1-23-45-67-89');
    expect(tel('TEL;VALUE=uri:tel:5550100;phone-context=example.com').values.phone_number).toBe('5550100');
    expect(tel('TEL;VALUE=uri:sip:zoe@example.com')).toEqual({ values: { name: 'Zoë' }, ignored: ['TEL'] });
  });

  it('fails on an invalid value, naming the field but not the value', () => {
    const err = caught(() => vcardToProfile(crlf(['BEGIN:VCARD', 'VERSION:4.0', 'FN:Zoë', 'EMAIL:not-an-address', 'END:VCARD'])));
    expect(err.code).toBe('profile.invalid_value');
    expect(err.details).toMatchObject({ field: 'email' });
    expect(JSON.stringify(err.toJSON())).not.toContain('not-an-address');
    expect(caught(() => vcardToProfile(crlf(['BEGIN:VCARD', 'VERSION:4.0', 'FN:Zoë', 'URL:www.example.com', 'END:VCARD']))).details).toMatchObject({ field: 'website' });
  });

  it('skips empty values silently', () => {
    expect(vcardToProfile(crlf(['BEGIN:VCARD', 'VERSION:4.0', 'FN:Zoë', 'N:;;;;', 'EMAIL:', 'ADR:;;;;;;', 'NOTE:', 'END:VCARD']))).toEqual({ values: { name: 'Zoë' }, ignored: [] });
  });

  it('tolerates LF line endings, lower-case names and a byte order mark', () => {
    expect(vcardToProfile('\uFEFFbegin:vcard\nversion:4.0\nfn:Zoë\nend:vcard\n').values).toEqual({ name: 'Zoë' });
  });

  it('refuses what is not one vCard with profile.vcard_invalid', () => {
    const one = crlf(['BEGIN:VCARD', 'VERSION:4.0', 'FN:Zoë', 'END:VCARD']);
    const refusals: [string, string][] = [
      ['garbage', 'this is not a vcard at all'],
      ['empty', ''],
      ['JSON', '{"fn": "Zoë"}'],
      ['unterminated', 'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zoë\r\n'],
      ['broken line', 'BEGIN:VCARD\r\nVERSION:4.0\r\nsecret personal words\r\nEND:VCARD\r\n'],
      ['two cards', one + one],
      ['calendar', 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n'],
      ['calendar mentioning a card', 'BEGIN:VCALENDAR\r\nBEGIN:VCARD\r\nEND:VCARD\r\nEND:VCALENDAR\r\n'],
      ['vCard 2.1', 'BEGIN:VCARD\r\nVERSION:2.1\r\nN;ENCODING=QUOTED-PRINTABLE:=5A=6F\r\nEND:VCARD\r\n'],
      ['too large', crlf(['BEGIN:VCARD', 'VERSION:4.0', 'FN:Zoë', `NOTE:${'x'.repeat(MAX_VCARD_BYTES)}`, 'END:VCARD'])],
    ];
    for (const [what, text] of refusals) {
      const err = caught(() => vcardToProfile(text));
      expect(err.code, what).toBe('profile.vcard_invalid');
      expect(err.message, what).not.toContain('secret');
      expect(err.cause, what).toBeUndefined();
    }
  });

  it('refuses jCard that is not a vCard', () => {
    for (const jcard of [null, 'vcard', [], ['vcalendar', [], []], ['vcard', [['fn', {}]], []], ['vcard', 'x', []]]) {
      expect(caught(() => jcardToProfile(jcard)).code).toBe('profile.vcard_invalid');
    }
  });
});

describe('vcardToProfile with repeated and empty properties', () => {
  it('chooses among the non-empty instances only', () => {
    const text = crlf(['BEGIN:VCARD', 'VERSION:4.0', 'FN:Zoë', 'EMAIL;PREF=1:', 'EMAIL:zoe@example.com', 'END:VCARD']);
    expect(vcardToProfile(text)).toEqual({ values: { name: 'Zoë', email: 'zoe@example.com' }, ignored: [] });
  });

  it('reads a large card in reasonable time', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `EMAIL;PREF=${(i % 100) + 1}:z${i}@example.com`);
    const text = crlf(['BEGIN:VCARD', 'VERSION:4.0', 'FN:Zoë', ...lines, 'END:VCARD']);
    const started = performance.now();
    expect(vcardToProfile(text)).toEqual({ values: { name: 'Zoë', email: 'z0@example.com' }, ignored: ['EMAIL'] });
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
