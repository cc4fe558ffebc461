import type { z } from 'zod';

/*
 * A schema's complaints in words a person can act on: each names the field and the rule, with its
 * limit ("content: at most 16000 characters"). Never the value she sent: it may be personal. Used by
 * jsonBody (both HTTP APIs) so that the CLI and the web app show the same words.
 */

type Issue = z.core.$ZodIssue;

const UNITS: Record<string, [string, string]> = {
  string: ['character', 'characters'],
  array: ['item', 'items'],
  set: ['item', 'items'],
  file: ['byte', 'bytes'],
};

function bound(issue: Issue & { origin?: string; inclusive?: boolean }, limit: number | bigint, direction: 'most' | 'least'): string {
  const unit = UNITS[issue.origin ?? ''];
  if (unit) return `at ${direction} ${String(limit)} ${Number(limit) === 1 ? unit[0] : unit[1]}`;
  const exact = issue.inclusive !== false;
  return direction === 'most' ? `${exact ? 'at most' : 'below'} ${String(limit)}` : `${exact ? 'at least' : 'above'} ${String(limit)}`;
}

/** One complaint in words, without the field's name. */
export function ruleOf(issue: Issue): string {
  switch (issue.code) {
    case 'too_big':
      return bound(issue, issue.maximum, 'most');
    case 'too_small':
      return bound(issue, issue.minimum, 'least');
    case 'invalid_type':
      // Zod keeps no input in its issues (values may be personal); its message says what it received.
      if (/received undefined$/.test(issue.message)) return issue.path.length === 0 ? 'a JSON body is required' : 'required';
      return `must be ${issue.expected === 'array' ? 'a list' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      // A custom regex's own message says what the field should look like ("an ISO 4217 currency code such as EUR").
      return issue.format === 'regex' && issue.message && !issue.message.startsWith('Invalid') ? `must be ${issue.message}` : `must be a valid ${issue.format}`;
    case 'unrecognized_keys':
      return `unknown member${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message;
  }
}

/** Every complaint as `path: rule`, joined with "; " (`(root)` for the body as a whole). */
export function describeIssues(issues: readonly Issue[]): string {
  return issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${ruleOf(issue)}`).join('; ');
}
