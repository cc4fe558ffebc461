import type { Context } from 'hono';
import type { z } from 'zod';
import { describeIssues } from './describeIssues.js';
import { ApiError } from './errors.js';

/**
 * Parses a request's JSON body with `schema`: the one way an HTTP body enters either agent. A body
 * that is not JSON counts as missing, so the schema reports it at the root.
 * @param expected the body's shape in words (`{"content": "..."}`), added to the message
 * @throws ApiError `api.bad_request` naming each field at fault and the rule it broke, limits included
 *   (never the value: it may be personal); `details.fields` lists the paths
 */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S, expected?: string): Promise<z.output<S>> {
  const parsed = schema.safeParse(await c.req.json().catch(() => undefined));
  if (parsed.success) return parsed.data;
  throw new ApiError('api.bad_request', `Invalid request body: ${describeIssues(parsed.error.issues)}${expected === undefined ? '' : `; body must be ${expected}`}`, {
    details: { fields: [...new Set(parsed.error.issues.map((issue) => issue.path.map(String).join('.') || '(root)'))] },
  });
}
