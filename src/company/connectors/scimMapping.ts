/**
 * How the SCIM connector (scim.ts) writes her profile fields as SCIM 2.0 User attributes (RFC
 * 7643 §4.1): the mapping from a Kith field name to an attribute path, and the resources and
 * PATCH operations (RFC 7644 §3.5.2) made from values. Pure: no HTTP here.
 */
import { z } from 'zod';
import { isProfileField, parseFieldValue, profileFieldNames, ADDRESS_PARTS, type ProfileAddress } from '../../protocol/profile/fields.js';

export const SCIM_CORE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * An attribute path as RFC 7644 §3.10 writes them, the subset a profile field needs: an optional
 * schema URN (an extension's attribute), an attribute, an optional `[type eq "…"]` selecting one
 * value of a multi-valued attribute, and an optional sub-attribute.
 */
const PATH = /^(?:(urn:[A-Za-z0-9:._-]+):)?([A-Za-z][A-Za-z0-9_$-]{0,63})(?:\[type eq "([A-Za-z0-9 _.-]{1,64})"\])?(?:\.([A-Za-z][A-Za-z0-9_$-]{0,63}))?$/;

export interface ScimTarget {
  /** The path as configured (what PATCH operations name). */
  path: string;
  /** An extension schema's URN, or undefined for a core attribute. */
  schema: string | undefined;
  attribute: string;
  /** The `type` of the one value selected in a multi-valued attribute. */
  type: string | undefined;
  sub: string | undefined;
}

export function parseScimPath(path: string): ScimTarget | undefined {
  const m = PATH.exec(path);
  if (!m) return undefined;
  const schema = m[1] === SCIM_CORE_USER_SCHEMA ? undefined : m[1];
  return { path, schema, attribute: m[2]!, type: m[3], sub: m[4] };
}

/** Her address parts as the SCIM `addresses` sub-attributes (RFC 7643 §4.1.2). */
const ADDRESS_SUB: Record<(typeof ADDRESS_PARTS)[number], string> = {
  street_address: 'streetAddress',
  locality: 'locality',
  region: 'region',
  postal_code: 'postalCode',
  country: 'country',
};

/**
 * What is sent by default: the fields with a home in the core User schema. Fields without one
 * (birthdate, gender, organization, …) are sent only when the configuration maps them, e.g.
 * organization to the enterprise extension's
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization`.
 */
export const DEFAULT_SCIM_MAPPING: Readonly<Record<string, string>> = Object.freeze({
  name: 'name.formatted',
  given_name: 'name.givenName',
  family_name: 'name.familyName',
  nickname: 'nickName',
  // "work": the email type providers most often require for the primary address.
  email: 'emails[type eq "work"].value',
  phone_number: 'phoneNumbers[type eq "mobile"].value',
  address: 'addresses[type eq "home"]',
  locale: 'locale',
  zoneinfo: 'timezone',
  website: 'profileUrl',
  title: 'title',
});

/** The configured mapping, checked: known fields, paths of the shape each field's value needs. */
export const scimMappingSchema = z
  .record(z.string(), z.string().max(300))
  .superRefine((mapping, ctx) => {
    const seen = new Map<string, string>();
    for (const [field, path] of Object.entries(mapping)) {
      if (!isProfileField(field)) {
        ctx.addIssue({ code: 'custom', path: [field], message: `not a profile field (known: ${profileFieldNames.join(', ')})` });
        continue;
      }
      const target = parseScimPath(path);
      if (!target) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'not a SCIM attribute path: attribute, attribute.sub, attribute[type eq "t"].sub or attribute[type eq "t"], with an optional schema URN before it' });
        continue;
      }
      const whole = target.type !== undefined && target.sub === undefined;
      if (field === 'address' && !whole) ctx.addIssue({ code: 'custom', path: [field], message: 'an address goes to one value of a multi-valued complex attribute, written attribute[type eq "t"] (e.g. addresses[type eq "home"])' });
      if (field !== 'address' && whole) ctx.addIssue({ code: 'custom', path: [field], message: 'a text field needs a sub-attribute after the filter (e.g. emails[type eq "work"].value)' });
      const key = path.toLowerCase();
      const other = seen.get(key);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `the same attribute as ${other}` });
      seen.set(key, field);
    }
  });

export interface MappedField {
  field: string;
  target: ScimTarget;
  /** A string, or for an address the SCIM sub-attributes. */
  value: string | Record<string, string>;
}

/**
 * Her values as the mapping writes them: fields outside the mapping are left out, and a value that
 * is not valid for its field (a drifted row) is left out too, by name in `skipped`.
 */
export function mapFields(mapping: Readonly<Record<string, string>>, fields: Readonly<Record<string, unknown>>): { mapped: MappedField[]; skipped: string[] } {
  const mapped: MappedField[] = [];
  const skipped: string[] = [];
  for (const [field, raw] of Object.entries(fields)) {
    const path = Object.hasOwn(mapping, field) ? mapping[field] : undefined;
    const target = path === undefined ? undefined : parseScimPath(path);
    if (!target || !isProfileField(field)) continue;
    let value: unknown;
    try {
      value = parseFieldValue(field, raw);
    } catch {
      skipped.push(field);
      continue;
    }
    if (field === 'address') {
      const address = value as ProfileAddress;
      const sub: Record<string, string> = {};
      for (const part of ADDRESS_PARTS) if (address[part] !== undefined) sub[ADDRESS_SUB[part]] = address[part]!;
      mapped.push({ field, target, value: sub });
    } else if (typeof value === 'string') {
      mapped.push({ field, target, value });
    } else {
      skipped.push(field);
    }
  }
  return { mapped, skipped };
}

/** The targets of fields she withdrew that the mapping sends. */
export function mappedTargets(mapping: Readonly<Record<string, string>>, fields: readonly string[]): ScimTarget[] {
  const targets: ScimTarget[] = [];
  for (const field of fields) {
    const path = Object.hasOwn(mapping, field) ? mapping[field] : undefined;
    const target = path === undefined ? undefined : parseScimPath(path);
    if (target) targets.push(target);
  }
  return targets;
}

// ---------------------------------------------------------------------------------------------
// Reading a resource (attribute names are case-insensitive: RFC 7643 §2.1)

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function get(object: unknown, name: string): unknown {
  if (!isObject(object)) return undefined;
  if (Object.hasOwn(object, name)) return object[name];
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

/** The object holding a target's attribute: the resource, or its extension's part. */
function container(resource: Json, target: ScimTarget): unknown {
  return target.schema === undefined ? resource : get(resource, target.schema);
}

function entries(resource: Json, target: ScimTarget): Json[] {
  const values = get(container(resource, target), target.attribute);
  return Array.isArray(values) ? values.filter(isObject) : [];
}

function sameType(entry: Json, type: string): boolean {
  const t = get(entry, 'type');
  return typeof t === 'string' && t.toLowerCase() === type.toLowerCase();
}

function selected(resource: Json, target: ScimTarget): Json | undefined {
  return entries(resource, target).find((e) => sameType(e, target.type!));
}

/** What the resource holds at a target now (undefined: nothing). */
function current(resource: Json, target: ScimTarget): unknown {
  if (target.type !== undefined) {
    const entry = selected(resource, target);
    return entry === undefined || target.sub === undefined ? entry : get(entry, target.sub);
  }
  const value = get(container(resource, target), target.attribute);
  return target.sub === undefined ? value : get(value, target.sub);
}

function sameAddress(entry: Json, value: Record<string, string>): boolean {
  return Object.values(ADDRESS_SUB).every((sub) => get(entry, sub) === value[sub]);
}

function anyPrimary(resource: Json, target: ScimTarget): boolean {
  return entries(resource, target).some((e) => get(e, 'primary') === true);
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The value of one multi-valued entry: its type, the value, primary when it is the only one. */
function entryFor(item: MappedField, primary: boolean): Json {
  const base: Json = typeof item.value === 'string' ? { [item.target.sub!]: item.value } : { ...item.value };
  return { type: item.target.type, ...base, ...(primary ? { primary: true } : {}) };
}

/** A new resource (POST, RFC 7644 §3.3): the schemas it uses, externalId, userName, the values. */
export function newResource(coreSchema: string, externalId: string, userName: string, mapped: readonly MappedField[]): Json {
  const resource: Json = { schemas: [coreSchema], externalId, userName };
  for (const item of mapped) {
    const { target } = item;
    let home = resource;
    if (target.schema !== undefined) {
      if (!(resource['schemas'] as string[]).includes(target.schema)) (resource['schemas'] as string[]).push(target.schema);
      home = isObject(resource[target.schema]) ? (resource[target.schema] as Json) : (resource[target.schema] = {} as Json);
    }
    if (target.type !== undefined) {
      const list = Array.isArray(home[target.attribute]) ? (home[target.attribute] as Json[]) : (home[target.attribute] = [] as Json[]);
      list.push(entryFor(item, list.length === 0));
    } else if (target.sub !== undefined) {
      const parent = isObject(home[target.attribute]) ? (home[target.attribute] as Json) : (home[target.attribute] = {} as Json);
      parent[target.sub] = item.value;
    } else {
      home[target.attribute] = item.value;
    }
  }
  return resource;
}

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** The path of a whole attribute, with its extension's URN when it has one. */
function attributePath(target: ScimTarget): string {
  return target.schema === undefined ? target.attribute : `${target.schema}:${target.attribute}`;
}

function entryPath(target: ScimTarget): string {
  return `${attributePath(target)}[type eq "${target.type}"]`;
}

/**
 * The operations that make the resource hold these values (nothing for a value it already holds,
 * so a resend writes nothing). A selected value that exists is replaced where it is; one that does
 * not is added to its attribute (a replace through a filter that matches nothing is `noTarget`,
 * RFC 7644 §3.5.2.3). An address is removed and added whole, so a part she no longer has goes too.
 */
export function upsertOperations(resource: Json, mapped: readonly MappedField[]): PatchOperation[] {
  const ops: PatchOperation[] = [];
  for (const item of mapped) {
    const { target } = item;
    const now = current(resource, target);
    if (typeof item.value === 'string') {
      if (now === item.value) continue;
      if (target.type !== undefined && now === undefined && selected(resource, target) === undefined) {
        ops.push({ op: 'add', path: attributePath(target), value: [entryFor(item, !anyPrimary(resource, target))] });
      } else {
        ops.push({ op: 'replace', path: target.path, value: item.value });
      }
      continue;
    }
    const entry = selected(resource, target);
    if (entry !== undefined && sameAddress(entry, item.value)) continue;
    if (entry !== undefined) ops.push({ op: 'remove', path: entryPath(target) });
    const primary = entry !== undefined ? get(entry, 'primary') === true : !anyPrimary(resource, target);
    ops.push({ op: 'add', path: attributePath(target), value: [entryFor(item, primary)] });
  }
  return ops;
}

/**
 * The operations that take these targets' values out of the resource: only what it holds (a
 * remove of nothing may be refused), and a selected value as a whole (an email entry without its
 * address would be left otherwise).
 */
export function removeOperations(resource: Json, targets: readonly ScimTarget[]): PatchOperation[] {
  const ops: PatchOperation[] = [];
  const paths = new Set<string>();
  for (const target of targets) {
    if (current(resource, target) === undefined) continue;
    const path = target.type !== undefined ? entryPath(target) : target.path;
    if (paths.has(path)) continue;
    paths.add(path);
    ops.push({ op: 'remove', path });
  }
  return ops;
}
