import type { z } from 'zod';

/** JSON.parse that returns undefined instead of throwing, for fail-closed parsing at the edges. */
export function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Names of the failing paths of a zod error, without the offending values (they may be personal). */
export function describeZodIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`);
}
