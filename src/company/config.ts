import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { httpLimitsSchema } from '../core/httpLimits.js';
import { describeIssues } from '../core/describeIssues.js';
import { ConfigError } from '../core/errors.js';
import { describeZodIssues, tryParseJson } from '../core/json.js';
import { claimNameSchema, credentialRequestSchema, legalBasisSchema, retentionSchema } from '../protocol/families/disclose.js';
import { intentCategorySchema } from '../protocol/intent/categories.js';
import { purposeSchema } from '../protocol/terms/roster.js';
import { connectorListSchema } from './connectors/index.js';

/** How the company answers the terms she proffers (IEEE 7012): automatically, by this list. */
export const termsPolicySchema = z
  .object({
    /** Agreement ids (or their last segment, e.g. "service-only") it accepts as proffered. */
    accept: z.array(z.string().min(1).max(2000)).max(100).default([]),
    /** The one alternative it counters with when it does not accept; absent: it rejects instead. */
    preferred: z.string().min(1).max(2000).nullable().default(null),
    /** Further signed roster files (paths) besides the bundled one. */
    rosterFiles: z.array(z.string().min(1)).max(20).default([]),
    /** Publisher DIDs trusted for those files; default the bundled roster's publisher. */
    rosterPublishers: z.array(z.string().min(1).max(4096)).max(20).optional(),
  })
  .strict();
export type TermsPolicyConfig = z.infer<typeof termsPolicySchema>;

/** What a company asks for: fields of her profile and/or claims of credentials others issued her. */
export const disclosureAskSchema = z
  .object({
    fields: z.array(claimNameSchema).max(50).default([]),
    credentials: z.array(credentialRequestSchema).max(10).default([]),
    purpose: z.string().min(1).max(500),
    /** The purpose as a term of the roster's vocabulary (service-delivery, billing, ...): checked against the agreed terms. */
    purposeCode: purposeSchema.optional(),
    retention: retentionSchema.optional(),
    legalBasis: legalBasisSchema.default('consent'),
    termsRef: z.string().min(1).max(2000).optional(),
  })
  .strict()
  .refine((a) => a.fields.length + a.credentials.length > 0, 'asks for at least one field or credential');
export type DisclosureAsk = z.input<typeof disclosureAskSchema>;

/** Which intents the company answers, and how (docs/protocol/intent.md). */
export const intentPolicySchema = z
  .object({
    /** Categories it serves (ids of the shipped list; serving a parent serves its children). Empty: it answers no intent with an offer. */
    categories: z.array(intentCategorySchema).max(50).default([]),
    /** A catalog file (company/intents/catalog.ts) answered from automatically; absent: offers are made by hand. */
    catalogFile: z.string().min(1).optional(),
    /** How long its automatic offers stand. */
    offerValidHours: z.number().int().min(1).max(24 * 90).default(72),
  })
  .strict();
export type IntentPolicy = z.infer<typeof intentPolicySchema>;

/** What a company decides about its customers' agents; loaded from a JSON file (`--policy FILE`). */
export const companyPolicySchema = z
  .object({
    version: z.literal(1).default(1),
    /** Accept new connections from invitations (a company can close its door without going offline). */
    acceptConnections: z.boolean().default(true),
    /** Sent to every new relationship right after it connects. */
    welcomeMessage: z.string().min(1).max(2000).optional(),
    /** Asked of every new relationship right after it connects (a disclose/request). */
    requestOnConnect: disclosureAskSchema.optional(),
    /** DIDs of credential issuers whose SD-JWT VCs this company accepts (e.g. an age check). */
    trustedIssuers: z.array(z.string().min(1).max(4096)).max(100).default([]),
    /**
     * Company systems told about what happens: `{ type, id?, maxAttempts?, ...settings }` each
     * (company/connectors/index.ts lists the kinds; docs/connectors.md their settings).
     */
    connectors: connectorListSchema,
    /** Which proffered terms it accepts, and its counter; without it every proffer is rejected. */
    terms: termsPolicySchema.default({ accept: [], preferred: null, rosterFiles: [] }),
    /** The intents it answers (categories, catalog); without it, casts are received and acknowledged, never offered on. */
    intents: intentPolicySchema.default({ categories: [], offerValidHours: 72 }),
  })
  .strict();
export type CompanyPolicy = z.infer<typeof companyPolicySchema>;

/**
 * The policy `kith-vendor init` writes when given none (issue 16 item 5, decision 0020): written
 * out, so the company sees what it answers, and able to agree with a newcomer. It accepts her
 * default (intent-only-contact, what `kith init` sets), the more protective service-only and the
 * ordinary service-plus-billing; any other proffer it counters with intent-only-contact; its
 * events go to the logging connector.
 */
export const NEWCOMER_POLICY = {
  version: 1,
  acceptConnections: true,
  terms: { accept: ['intent-only-contact', 'service-only', 'service-plus-billing'], preferred: 'intent-only-contact' },
  connectors: [{ type: 'logging', id: 'logging', maxAttempts: 10 }],
} as const;

/** The company agent's own settings, kept in `<home>/config.json`. Secrets live in their own files. */
export const companyConfigSchema = z
  .object({
    version: z.literal(1).default(1),
    name: z.string().min(1).max(200),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(7401),
    /** Base URL others reach this agent at; its DIDComm endpoint is `<publicUrl>/didcomm`. */
    publicUrl: z.string().url(),
    /** `sqlite:<path>` (default `<home>/vendor.db`) or `postgres://...`. */
    db: z.string().optional(),
    didMethod: z.enum(['peer', 'web']).default('peer'),
    /** Development only: resolve did:web over plain HTTP on loopback hosts. */
    allowInsecureDidWebLoopback: z.boolean().default(false),
    maxMessageBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(256 * 1024),
    clockSkewSeconds: z.number().int().min(0).max(3600).default(300),
    policyFile: z.string().optional(),
    /** Deadlines, sizes and budgets of its HTTP server (core/httpLimits.ts; docs/deploy.md "Limits"). */
    limits: httpLimitsSchema.prefault({}),
  })
  .strict();
export type CompanyConfig = z.infer<typeof companyConfigSchema>;

/**
 * Reads and validates a JSON file against a schema.
 * @throws ConfigError `config.not_found`, `config.invalid` (with the failing paths, not values)
 */
export function loadJsonFile<T>(path: string, schema: z.ZodType<T>, what: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('config.not_found', `${what} not found at ${path}`, { cause });
  }
  const json = tryParseJson(text);
  if (!json.ok) throw new ConfigError('config.invalid', `${what} at ${path} is not valid JSON`);
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) {
    throw new ConfigError('config.invalid', `${what} at ${path} is invalid: ${describeZodIssues(parsed.error).join('; ')}`, {
      details: { issues: describeZodIssues(parsed.error) },
    });
  }
  return parsed.data;
}

export function parsePolicy(value: unknown): CompanyPolicy {
  const parsed = companyPolicySchema.safeParse(value);
  if (!parsed.success) {
    // The company's own settings, not personal: the rule in words helps whoever edits the file.
    throw new ConfigError('config.invalid', `Policy is invalid: ${describeIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}
