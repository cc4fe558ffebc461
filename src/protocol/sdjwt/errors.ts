import { DisclosureError, type KithErrorCode } from '../../core/errors.js';

export type DisclosureCode = Extract<KithErrorCode, `disclosure.${string}`>;

/**
 * Builds the one error a failed step reports. `details` carries only names and limits (claim names,
 * the failing check), never claim values: these errors end up in logs.
 */
export function disclosureError(
  code: DisclosureCode,
  message: string,
  options: { details?: Record<string, unknown>; cause?: unknown } = {},
): DisclosureError {
  return new DisclosureError(code, message, options);
}
