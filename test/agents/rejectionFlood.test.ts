/**
 * A flood of refused messages (issue 17) makes a handful of log lines on either agent, not one per
 * message: the first refusal per code per window, then a `message_rejected_summary` with the count
 * left out. The company's metrics still count every one. Real servers on loopback.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCompany, startPersonal, type CompanyHandle, type PersonalHandle } from '../support/agents.js';

let company: CompanyHandle;
let personal: PersonalHandle;
const MAX = 4096;

beforeAll(async () => {
  [company, personal] = await Promise.all([startCompany({ maxMessageBytes: MAX, ops: true }), startPersonal()]);
});
afterAll(async () => {
  await Promise.all([company?.cleanup(), personal?.cleanup()]);
});

/** Posts `bodies` to `url`, 20 at a time; every one must be refused with a 4xx. */
async function postAll(url: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 20) {
    const statuses = await Promise.all(
      bodies.slice(i, i + 20).map(async (body) => {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/didcomm-encrypted+json' }, body });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    for (const status of statuses) expect(status).toBeGreaterThanOrEqual(400);
  }
}

interface Line {
  level: string;
  event: string;
  code?: string;
  suppressed?: number;
}
const lines = (path: string): Line[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);

/** Per code: the refusals logged one by one plus those the summaries say were left out. */
function accounted(logged: Line[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of logged) {
    if (line.event === 'message_rejected') out[line.code!] = (out[line.code!] ?? 0) + 1;
    if (line.event === 'message_rejected_summary') out[line.code!] = (out[line.code!] ?? 0) + line.suppressed!;
  }
  return out;
}

describe('a flood of malformed envelopes', () => {
  it('the company logs a handful of lines whose counts add up to the 200 refusals; its metrics count every one', async () => {
    const start = lines(company.logPath).length;
    await postAll(company.didcommUrl, [...Array.from({ length: 150 }, (_, i) => `{"not":"a jwe ${i}"}`), ...Array.from({ length: 50 }, () => 'x'.repeat(MAX + 1))]);
    company.rejectionLog.flush(); // what the window's end (or a stop) does
    const logged = lines(company.logPath).slice(start);
    const rejections = logged.filter((l) => l.event.startsWith('message_rejected'));
    expect(rejections.length).toBeLessThanOrEqual(6);
    expect(accounted(logged)).toEqual({ 'envelope.malformed': 150, 'envelope.too_large': 50 });
    expect(logged.filter((l) => l.level === 'error')).toEqual([]);
    const metrics = await (await fetch(`${company.url}/metrics`, { headers: { authorization: `Bearer ${company.adminToken}` } })).text();
    expect(metrics).toMatch(/kith_company_messages_received_total\{outcome="envelope.malformed"[^}]*\} 150\n/);
    expect(metrics).toMatch(/kith_company_messages_received_total\{outcome="envelope.too_large"[^}]*\} 50\n/);
  });

  it('her agent too: a handful of lines whose counts add up to 200', async () => {
    const start = lines(personal.logPath).length;
    await postAll(`${personal.url}/didcomm/no-such-route`, Array.from({ length: 200 }, (_, i) => `{"not":"a jwe ${i}"}`));
    personal.rejectionLog.flush();
    const logged = lines(personal.logPath).slice(start);
    const rejections = logged.filter((l) => l.event.startsWith('message_rejected'));
    expect(rejections.length).toBeLessThanOrEqual(3);
    expect(Object.values(accounted(logged)).reduce((a, b) => a + b, 0)).toBe(200);
    expect(logged.filter((l) => l.level === 'error')).toEqual([]);
  });
});
