import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { writePrivateFile } from '../core/privateFiles.js';
import { terminalLine } from './terminalText.js';

/*
 * `npm start`'s stand-in for a company's CRM: one loopback receiver the three demo companies send
 * their Standard Webhooks to (policy.connectors, type webhook). It checks each signature and
 * prints one line per event: which company, what happened, which fields; never a value (the
 * demo's output may go to a file).
 */

/** The demo's webhook secret (`whsec_` + base64 of 24 random bytes), made once and kept 0600 in the demo home. */
export function demoWebhookSecret(demoHome: string): string {
  const file = join(demoHome, 'webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  writePrivateFile(file, `${secret}\n`);
  return secret;
}

/** True when one of the `v1,` signatures is the HMAC-SHA256 of `id.timestamp.body` under the secret. */
export function signatureValid(secret: string, id: string, timestamp: string, body: string, header: string): boolean {
  const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${id}.${timestamp}.${body}`).digest();
  return header.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    if (version !== 'v1' || signature === undefined) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** One printed line for a verified event: names only. */
function describe(company: string, body: string): string {
  const event = JSON.parse(body) as { type?: string; data?: { fields?: Record<string, unknown>; withdrawnFields?: string[]; exercise?: string; status?: string } };
  const fields = event.data?.withdrawnFields ?? Object.keys(event.data?.fields ?? {});
  const detail = fields.length > 0 ? ` (${fields.join(', ')})` : event.data?.exercise ? ` (${event.data.exercise}: ${event.data.status ?? ''})` : '';
  return terminalLine(`Webhook verified: ${company} -> its CRM: ${event.type ?? 'unknown'}${detail}`);
}

/**
 * Listens on 127.0.0.1:`port` for POST /webhooks/<company slug>; answers 204 to a verified event,
 * 401 to a bad signature, 404 to anything else.
 */
export async function startDemoWebhookReceiver(port: number, secret: string, companies: ReadonlyMap<string, string>, print: (line: string) => void): Promise<Server> {
  const server = createServer((request, response) => {
    const slug = /^\/webhooks\/([a-z0-9-]+)$/.exec(request.url ?? '')?.[1];
    const company = slug === undefined ? undefined : companies.get(slug);
    if (request.method !== 'POST' || company === undefined) {
      response.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1024 * 1024) request.destroy();
      else chunks.push(chunk);
    });
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => String(request.headers[name] ?? '');
      if (!signatureValid(secret, header('webhook-id'), header('webhook-timestamp'), body, header('webhook-signature'))) {
        print(terminalLine(`Webhook refused (bad signature) for ${company}`));
        response.writeHead(401).end();
        return;
      }
      try {
        print(describe(company, body));
      } catch {
        print(terminalLine(`Webhook verified: ${company}: not JSON`));
      }
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}
