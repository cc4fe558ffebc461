/**
 * What a supervisor, a load balancer and Prometheus see of each agent: /health, /ready and
 * /metrics of a company process by role (`kith-vendor serve --role`), and her agent's /health and
 * /ready. Real servers on loopback over a real SQLite store; messages sent as a customer would.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.js';
import { initCompanyHome } from '../../src/company/home.js';
import { startCompanyServer, type RunningCompany } from '../../src/company/server.js';
import { createPeerIdentity } from '../../src/protocol/agent/identity.js';
import { Connect } from '../../src/protocol/families/index.js';
import { freePort } from '../support/processes.js';
import { sendAs } from '../support/disclosure.js';
import { startPersonal, type PersonalHandle } from '../support/agents.js';

async function companyProcess(role: 'all' | 'http' | 'worker', dir = mkdtempSync(join(tmpdir(), 'kith-ops-'))): Promise<{ server: RunningCompany; token: string }> {
  const port = await freePort();
  const home = await initCompanyHome(dir, { name: `Ops ${role}`, port });
  const server = await startCompanyServer(home, { role, logger: silentLogger });
  return { server, token: home.adminToken };
}

const get = (url: string, token?: string) => fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe('a company process: /health, /ready and /metrics whatever its role', () => {
  let all: { server: RunningCompany; token: string };
  let worker: { server: RunningCompany; token: string };

  beforeAll(async () => {
    [all, worker] = await Promise.all([companyProcess('all'), companyProcess('worker')]);
  });
  afterAll(async () => {
    await Promise.all([all?.server.stop(), worker?.server.stop()]);
  });

  it('says it is up and ready, by role', async () => {
    expect(await (await get(`${all.server.url}/health`)).json()).toEqual({ ok: true, name: 'Ops all', role: 'all' });
    expect(await (await get(`${worker.server.url}/health`)).json()).toEqual({ ok: true, name: 'Ops worker', role: 'worker' });
    for (const { server } of [all, worker]) {
      const ready = await get(`${server.url}/ready`);
      expect([ready.status, await ready.json()]).toEqual([200, { ready: true }]);
    }
  });

  it('a worker serves no DIDComm endpoint, invitation or admin API', async () => {
    for (const path of ['/invite', '/admin/relationships', '/.well-known/kith-terms']) expect((await get(`${worker.server.url}${path}`, worker.token)).status, path).toBe(404);
    expect((await fetch(`${worker.server.url}/didcomm`, { method: 'POST', body: 'x' })).status).toBe(404);
  });

  it('counts messages received by outcome and reports the queue depths, behind the admin token', async () => {
    expect((await get(`${all.server.url}/metrics`)).status).toBe(401);
    expect((await get(`${all.server.url}/metrics`, 'wrong')).status).toBe(401);
    // One customer connects (a message accepted; its welcome, if any, queued), and one envelope is garbage.
    const customer = createPeerIdentity('http://127.0.0.1:9/didcomm/none').identity;
    const { response } = await sendAs(customer, { did: all.server.agent.did, didcommUrl: `${all.server.url}/didcomm` }, Connect.request.type, {}, {});
    expect(response.status).toBe(200);
    expect((await fetch(`${all.server.url}/didcomm`, { method: 'POST', headers: { 'content-type': 'application/didcomm-encrypted+json' }, body: '{"not":"a jwe"}' })).status).toBe(400);

    const metrics = await get(`${all.server.url}/metrics`, all.token);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toMatch(/^kith_company_messages_received_total\{outcome="accepted",role="all"\} 1$/m);
    expect(text).toMatch(/^kith_company_messages_received_total\{outcome="envelope\.malformed",role="all"\} 1$/m);
    expect(text).toMatch(/^kith_company_outbox_depth\{role="all"\} \d+$/m);
    expect(text).toMatch(/^kith_company_connector_events_depth\{role="all"\} \d+$/m);
    expect(text).toContain('# TYPE kith_company_connector_deliveries gauge');
    expect(text).toContain('# TYPE kith_company_outbox_delivery_seconds histogram');
    expect(text).toContain('kith_company_process_cpu_seconds_total');
    // Nothing about the customer: no DID in the metrics.
    expect(text).not.toContain(customer.did);
  });

  it('is not ready once its store stops answering', async () => {
    const { server } = await companyProcess('worker');
    await server.agent.store.close();
    const ready = await get(`${server.url}/ready`);
    expect([ready.status, await ready.json()]).toEqual([503, { ready: false, reason: 'the store does not answer' }]);
    await server.stop().catch(() => undefined);
  });
});

describe('her agent: /health and /ready for a supervisor, nothing about her', () => {
  let her: PersonalHandle;
  beforeAll(async () => {
    her = await startPersonal();
  });
  afterAll(async () => {
    await her?.cleanup();
  });

  it('answers up and ready to her own host, and refuses a foreign Host header', async () => {
    expect(await (await fetch(`${her.url}/health`)).json()).toEqual({ ok: true });
    const ready = await fetch(`${her.url}/ready`);
    expect([ready.status, await ready.json()]).toEqual([200, { ready: true }]);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${her.url}/health`, { headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});
