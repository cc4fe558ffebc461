import { expect } from 'vitest';
import { KithError, type KithErrorCode } from '../../src/core/errors.js';

/** The code of the error a synchronous call throws, or undefined when it returns. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as KithError).code;
  }
  return undefined;
}

/**
 * The code of the error a promise rejects with, or 'resolved'. The error must be an instance of
 * `errorClass` (a KithError by default, or one area's subclass).
 */
export async function codeOfRejection(promise: Promise<unknown>, errorClass: new (...args: never[]) => KithError = KithError): Promise<KithErrorCode | 'resolved'> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    expect(err).toBeInstanceOf(errorClass);
    return (err as KithError).code;
  }
}

/** The error a synchronous call throws, which must be an `errorClass`; anything else is rethrown. */
export function thrown<E extends Error>(fn: () => unknown, errorClass: new (...args: never[]) => E): E {
  try {
    fn();
  } catch (err) {
    if (err instanceof errorClass) return err;
    throw err;
  }
  throw new Error(`expected a ${errorClass.name}`);
}

/** The error a call fails with (a KithError's code and details), or undefined if it succeeded; anything else is rethrown. */
export async function failure(work: () => Promise<unknown> | unknown): Promise<{ code: string; details: Record<string, unknown> | undefined } | undefined> {
  try {
    await work();
  } catch (error) {
    if (error instanceof KithError) return { code: error.code, details: error.details };
    throw error;
  }
  return undefined;
}
