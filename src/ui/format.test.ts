import { describe, expect, it } from 'vitest';
import { PREFERENCE_FIELDS, profileFieldNames } from '../protocol/profile/fields.js';
import { NAME_FIELDS as AGENT_NAME_FIELDS } from '../personal/personas.js';
import { deliveryErrorText, FIELD_NAMES, fieldLabel, isPreference, NAME_FIELDS, formatDuration, formatFieldValue, obligationLines, shortDid, shortName, theirText } from './format';
import { offerCompany } from './intents';
import { normaliseInvitation } from './invitation';
import { isAppPath } from './session';

describe('web app wording', () => {
  it('names every profile field the agent knows, in its order', () => {
    expect(FIELD_NAMES).toEqual([...profileFieldNames]);
    // Her preferences are listed apart: the page's flag and the registry's list are the same fields.
    expect(FIELD_NAMES.filter(isPreference)).toEqual([...PREFERENCE_FIELDS]);
    // The name fields a nameless persona is not offered are those the agent refuses for one.
    expect(NAME_FIELDS).toEqual(AGENT_NAME_FIELDS);
    expect(fieldLabel('phone_number')).toBe('Phone');
    expect(fieldLabel('age_over_18')).toBe('age over 18');
  });

  it('says ISO 8601 durations in words', () => {
    expect(formatDuration('P90D')).toBe('90 days');
    expect(formatDuration('P1Y')).toBe('1 year');
    expect(formatDuration('P1Y6M')).toBe('1 year and 6 months');
    expect(formatDuration('P2W3D')).toBe('2 weeks and 3 days');
    expect(formatDuration('PT24H')).toBe('24 hours');
    expect(formatDuration('P1Y2M3DT4H')).toBe('1 year, 2 months, 3 days and 4 hours');
    expect(formatDuration(null)).toBe('no limit stated');
    expect(formatDuration('forever')).toBe('forever');
  });

  it('shows an address on one line, in the order it is written', () => {
    expect(formatFieldValue('address', { country: 'France', locality: 'Lyon', street_address: '12 rue des Lilas', postal_code: '69003' })).toBe('12 rue des Lilas, Lyon, 69003, France');
    expect(formatFieldValue('email', 'zoe@example.org')).toBe('zoe@example.org');
    expect(formatFieldValue('email', undefined)).toBe('');
  });

  it('puts obligations in sentences and marks what protects her', () => {
    const lines = obligationLines({
      allowedPurposes: ['service-delivery', 'marketing'],
      maxRetention: 'P2Y',
      thirdPartySharing: 'allowed',
      crossSiteTracking: true,
      dataPortability: false,
      contactOnlyOnIntent: false,
      deleteOnTermination: true,
    });
    expect(lines.map((l) => l.text)).toEqual([
      'Uses your data only for delivering the service and marketing',
      'Keeps it at most 2 years',
      'May share it with others',
      'May track you across sites and apps',
      'Need not give your data back',
      'May contact you at any time',
      'Deletes your data when you leave',
    ]);
    expect(lines.filter((l) => l.protective === false).map((l) => l.key)).toEqual(['allowedPurposes', 'thirdPartySharing', 'crossSiteTracking', 'dataPortability', 'contactOnlyOnIntent']);
    // Retention is neither: a length is only short or long next to another one.
    expect(lines.filter((l) => l.protective === null).map((l) => l.key)).toEqual(['maxRetention']);
  });

  it('shortens ids and explains delivery errors', () => {
    expect(shortName('https://kith.invalid/terms/agreements/service-only')).toBe('service-only');
    const did = 'did:peer:2.Ez6LSabcdefghijklmnopqrstuvwxyz0123456789';
    expect(shortDid(did)).toBe(`${did.slice(0, 30)}…`);
    expect(shortDid('did:web:shop.example')).toBe('did:web:shop.example');
    expect(deliveryErrorText('transport.unreachable')).toBe('company unreachable');
    expect(deliveryErrorText('api.rate_limited')).toBe('the company is busy; it will be sent again');
    expect(deliveryErrorText('api.overloaded')).toBe('the company is busy; it will be sent again');
    expect(deliveryErrorText(null)).toBe('');
  });
});

describe('links into the app', () => {
  it('takes a web+kith: link or a pasted invitation URL', () => {
    const url = 'http://127.0.0.1:7701/invite?_oob=eyJ0eXBl';
    expect(normaliseInvitation(`  ${url}\n`)).toBe(url);
    expect(normaliseInvitation(`web+kith:${url}`)).toBe(url);
    expect(normaliseInvitation(`web+kith:${encodeURIComponent(url)}`)).toBe(url);
  });

  it('returns after login only to a path of the app', () => {
    expect(isAppPath('/relationships/abc?tab=terms')).toBe(true);
    expect(isAppPath('//evil.example/')).toBe(false);
    expect(isAppPath('/\\evil.example')).toBe(false);
    expect(isAppPath('https://evil.example/')).toBe(false);
    expect(isAppPath('/login')).toBe(false);
    expect(isAppPath('/api/export')).toBe(false);
    expect(isAppPath(null)).toBe(false);
  });

  it('shows the bidi controls in a company’s text, so that they cannot reorder what she reads', () => {
    // Rendered as written, the override would make this read "invoiceexe.pdf".
    expect(theirText('invoice\u202Efdp.exe')).toBe('invoice[U+202E]fdp.exe');
    const controls = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C'];
    for (const char of controls) expect(theirText(`a${char}b`)).toBe(`a[U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]b`);
    // Right-to-left text itself, and everything else, is left as it is.
    for (const text of ['שלום עולם', 'مرحبا بكم', 'Zoë Ångström-山田', 'family 👨‍👩‍👧', 'Line one\nline two']) expect(theirText(text)).toBe(text);
    expect(offerCompany({ company: 'Shop\u2067Evil', anonymous: true, relationshipId: 'r'.repeat(36) })).toBe('Anonymous company (Shop[U+2067]Evil)');
  });
});
