import { Validator } from '@seriousme/openapi-schema-validator';

/*
 * What is wrong with an OpenAPI document, checked by a real validator
 * (@seriousme/openapi-schema-validator: the OpenAPI 3.0/3.1 JSON schemas on ajv) plus the rules
 * those schemas cannot express: every `{name}` of a path template is a declared, required path
 * parameter of each of its operations and nothing else is, and every local `$ref` points at
 * something.
 */

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Json = Record<string, unknown>;

function pointer(document: Json, ref: string): unknown {
  let at: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof at !== 'object' || at === null || !(key in at)) return undefined;
    at = (at as Json)[key];
  }
  return at;
}

function refsOf(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsOf(item, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') found.push(item);
      else refsOf(item, found);
    }
  }
  return found;
}

function pathParameterProblems(document: Json): string[] {
  const problems: string[] = [];
  const paths = (document['paths'] ?? {}) as Record<string, Json>;
  for (const [path, item] of Object.entries(paths)) {
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).sort();
    for (const method of METHODS) {
      const operation = item[method] as Json | undefined;
      if (operation === undefined) continue;
      const resolve = (p: Json): Json => (typeof p['$ref'] === 'string' ? ((pointer(document, p['$ref']) ?? {}) as Json) : p);
      const parameters = [...((item['parameters'] ?? []) as Json[]), ...((operation['parameters'] ?? []) as Json[])].map(resolve);
      const declared = parameters.filter((p) => p['in'] === 'path');
      const names = declared.map((p) => String(p['name'])).sort();
      if (names.join('\n') !== templated.join('\n')) problems.push(`${method.toUpperCase()} ${path}: path parameters [${names.join(', ')}], template [${templated.join(', ')}]`);
      for (const p of declared) if (p['required'] !== true) problems.push(`${method.toUpperCase()} ${path}: path parameter ${String(p['name'])} must be required`);
    }
  }
  return problems;
}

/** Every problem found, as readable lines; empty for a valid document. */
export async function openApiProblems(document: object): Promise<string[]> {
  // The validator may annotate what it is given: it gets a copy.
  const copy = JSON.parse(JSON.stringify(document)) as Json;
  const result = await new Validator().validate(copy);
  const problems: string[] = [];
  if (!result.valid) {
    const errors = result.errors ?? [];
    if (typeof errors === 'string') problems.push(errors);
    else for (const error of errors) problems.push(`${error.instancePath || '/'}: ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`);
  }
  for (const ref of refsOf(copy)) {
    if (!ref.startsWith('#/')) problems.push(`$ref ${ref}: not a local reference`);
    else if (pointer(copy, ref) === undefined) problems.push(`$ref ${ref}: points at nothing`);
  }
  problems.push(...pathParameterProblems(copy));
  return problems;
}
