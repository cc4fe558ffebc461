/**
 * A client that hangs up mid-body (issue 17): both agents' HTTP servers note it at info level
 * (`client_aborted`), never as an error, and nothing changes. Raw node:net sockets: headers with a
 * Content-Length, half the body, then the socket destroyed.
 */
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPair, type Pair } from '../support/agents.js';
import { waitFor } from '../support/processes.js';

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
});
afterAll(async () => {
  await pair?.cleanup();
});

/** Sends the request line and headers, half of a `declared`-byte body, then destroys the socket. */
function hangUpMidBody(port: number, path: string, headers: Record<string, string> = {}, declared = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () => {
      const all = { 'content-type': 'application/didcomm-encrypted+json', ...headers, 'content-length': String(declared) };
      const lines = [`POST ${path} HTTP/1.1`, `host: 127.0.0.1:${port}`, ...Object.entries(all).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n${'{'.repeat(declared / 2)}`, () => {
        // Give the server the time to start reading the body, then go away.
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
    });
    socket.once('error', reject);
  });
}

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: string; event: string });

describe('a client hanging up mid-body', () => {
  it('the company agent logs one client_aborted info line, no error, and its store is unchanged', async () => {
    const before = await pair.company.snapshot();
    const start = lines(pair.company.logPath).length;
    await hangUpMidBody(pair.company.port, '/didcomm');
    const after = await waitFor('a client_aborted line', () => {
      const logged = lines(pair.company.logPath).slice(start);
      return logged.some((l) => l.event === 'client_aborted') ? logged : undefined;
    }, { timeoutMs: 3000 });
    expect(after.filter((l) => l.level === 'error')).toEqual([]);
    expect(after.filter((l) => l.event === 'client_aborted')).toEqual([expect.objectContaining({ level: 'info' })]);
    expect(after.filter((l) => l.event === 'message_rejected')).toEqual([]);
    expect(await pair.company.snapshot()).toEqual(before);
  });

  it('her agent does the same on its DIDComm endpoint and on a local API route that reads a raw body', async () => {
    const before = pair.personal.snapshot();
    const start = lines(pair.personal.logPath).length;
    const route = new URL(pair.personal.didcommUrl(pair.link.record.id)).pathname;
    await hangUpMidBody(pair.personal.port, route);
    await hangUpMidBody(pair.personal.port, '/api/profile/vcard', { authorization: `Bearer ${pair.personal.token}`, 'content-type': 'text/vcard' });
    const after = await waitFor('two client_aborted lines', () => {
      const logged = lines(pair.personal.logPath).slice(start);
      return logged.filter((l) => l.event === 'client_aborted').length === 2 ? logged : undefined;
    }, { timeoutMs: 3000 });
    expect(after.filter((l) => l.level === 'error')).toEqual([]);
    expect(after.filter((l) => l.event === 'client_aborted').map((l) => l.level)).toEqual(['info', 'info']);
    expect(pair.personal.snapshot()).toEqual(before);
  });
});
