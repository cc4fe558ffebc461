import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { respondWithError } from './httpErrors.js';
import { jsonBody } from './jsonBody.js';
import { silentLogger } from './log.js';

const schema = z.object({ name: z.string().min(1), tags: z.array(z.string()).default([]) }).strict();

function app(expected?: string): Hono {
  const api = new Hono();
  api.onError((error, c) => respondWithError(c, error, silentLogger));
  api.post('/', async (c) => c.json(await jsonBody(c, schema, expected)));
  return api;
}

async function post(api: Hono, body: string): Promise<{ status: number; json: { error?: { code: string; message: string } } & Record<string, unknown> }> {
  const response = await api.request('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, json: (await response.json()) as never };
}

describe('jsonBody, the one parser of JSON request bodies', () => {
  it('hands the handler the parsed body, defaults applied', async () => {
    expect(await post(app(), '{"name":"Ada"}')).toEqual({ status: 200, json: { name: 'Ada', tags: [] } });
  });

  it('refuses a body that fails the schema as 400 api.bad_request naming each field at fault and its rule, not its value', async () => {
    const { status, json } = await post(app(), '{"name":"","tags":[7]}');
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'api.bad_request', message: 'Invalid request body: name: at least 1 character; tags.0: must be a string' });
    expect(JSON.stringify(json.error)).not.toContain('7');
  });

  it('refuses a body that is not JSON, or not there, as a fault at the root', async () => {
    for (const body of ['{"name":', '']) {
      const { status, json } = await post(app(), body);
      expect({ status, error: json.error }).toMatchObject({ status: 400, error: { code: 'api.bad_request', message: 'Invalid request body: (root): a JSON body is required' } });
    }
  });

  it('adds the expected shape to the message when the API gives one', async () => {
    const { json } = await post(app('{"name": "..."}'), '[]');
    expect(json.error?.message).toBe('Invalid request body: (root): must be an object; body must be {"name": "..."}');
  });
});
