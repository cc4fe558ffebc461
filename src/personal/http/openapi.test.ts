import { describe, expect, it } from 'vitest';
import { openApiProblems } from '../../../test/support/openapi.js';
import { routes } from './apiContract.js';
import { personalOpenApi } from './openapi.js';

/** Every `METHOD /path` the contract declares, in OpenAPI's path form (`{name}` for `:name`). */
function contractOperations(): string[] {
  // Two routes may share an operation and differ by query (the vCard export as text or jCard).
  return [...new Set(Object.values(routes).map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`))];
}

function documentedOperations(): string[] {
  return Object.entries(personalOpenApi.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) => Object.keys(operations).filter((key) => key !== 'parameters').map((method) => `${method} ${path}`));
}

describe('the local API’s OpenAPI document', () => {
  it('documents every route of the API contract, and no route the contract does not have', () => {
    expect(documentedOperations().sort()).toEqual(contractOperations().sort());
  });

  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator, path parameters, local $refs)', async () => {
    expect(await openApiProblems(personalOpenApi)).toEqual([]);
  });
});
