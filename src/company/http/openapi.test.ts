import { describe, expect, it } from 'vitest';
import { openApiProblems } from '../../../test/support/openapi.js';
import { companyOpenApi } from './openapi.js';

describe('the company admin API’s OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator, path parameters, local $refs)', async () => {
    expect(await openApiProblems(companyOpenApi)).toEqual([]);
  });

  it('the check finds what is wrong in a broken document (so the test above can fail)', async () => {
    const broken = {
      ...companyOpenApi,
      paths: {
        '/admin/things/{id}': { get: { summary: 'no path parameter', parameters: [{ name: 'limit', in: 'body', schema: { type: 'integer' } }], responses: { '200': { description: 'ok' } } } },
        '/admin/other': { get: { responses: { '200': { $ref: '#/components/responses/Missing' } } } },
      },
    };
    const problems = await openApiProblems(broken);
    // `in: body` is OpenAPI 2, not 3.1: the validator's schema refuses it.
    expect(problems.some((p) => p.startsWith('/paths/~1admin~1things~1{id}/get/parameters/0'))).toBe(true);
    expect(problems).toContain('GET /admin/things/{id}: path parameters [], template [id]');
    expect(problems).toContain('$ref #/components/responses/Missing: points at nothing');
  });
});
