import type { TestProject } from 'vitest/node';
import { startThrowawayPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection URL of the throwaway PostgreSQL database, or undefined when it could not be started. */
    postgresUrl: string | undefined;
  }
}

/** Starts one PostgreSQL for the whole run; suites needing it read `inject('postgresUrl')`. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const postgres = await startThrowawayPostgres();
  if ('skipped' in postgres) {
    // CI must never go green just because the database did not come up.
    if (process.env['KITH_TEST_REQUIRE_POSTGRES'] === '1') {
      throw new Error(`KITH_TEST_REQUIRE_POSTGRES=1 but PostgreSQL is not available: ${postgres.skipped}`);
    }
    const line = `PostgreSQL not available (${postgres.skipped}): PostgreSQL tests will be SKIPPED`;
    console.warn(`\n${'!'.repeat(100)}\n!!! ${line}\n${'!'.repeat(100)}\n`);
    project.provide('postgresUrl', undefined);
    return async () => {};
  }
  project.provide('postgresUrl', postgres.url);
  return () => postgres.stop();
}
