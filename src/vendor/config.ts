import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { describeZodIssues, tryParseJson } from '../core/json.js';

/** What a company decides about its customers' agents; loaded from a JSON file (`--policy FILE`). */
export const vendorPolicySchema = z
  .object({
    version: z.literal(1).default(1),
    /** Accept new connections from invitations (a company can close its door without going offline). */
    acceptConnections: z.boolean().default(true),
    /** Sent to every new relationship right after it connects. */
    welcomeMessage: z.string().min(1).max(2000).optional(),
  })
  .strict();
export type VendorPolicy = z.infer<typeof vendorPolicySchema>;

/** The vendor agent's own settings, kept in `<home>/config.json`. Secrets live in their own files. */
export const vendorConfigSchema = z
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
  })
  .strict();
export type VendorConfig = z.infer<typeof vendorConfigSchema>;

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

export function parsePolicy(value: unknown): VendorPolicy {
  const parsed = vendorPolicySchema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError('config.invalid', `Policy is invalid: ${describeZodIssues(parsed.error).join('; ')}`);
  }
  return parsed.data;
}
