/**
 * The fuzz runner can fail: a target that answers 500, throws, changes its store while refusing,
 * or stops answering is counted as a fault, and a 502 reporting a remote's failure is not. Without
 * this, a fuzz run reporting 0 faults would prove nothing.
 */
import fc from 'fast-check';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { respondWithError } from '../../../src/core/httpErrors.js';
import { ApiError, TransportError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/log.js';
import { applyJsonOps } from './jsonMutations.js';
import { applyEnvelopeCase } from './envelopeMutations.js';
import { runFuzz, type FuzzTarget } from './runner.js';

type Fault = 'none' | 'internal' | 'throw' | 'write-then-refuse' | 'remote';

/** A tiny app with a store (an array) that does what the case's fault says. */
function faultyTarget(options: { alive?: boolean } = {}): FuzzTarget<Fault> & { rows: string[] } {
  const rows: string[] = [];
  const app = new Hono();
  app.onError((error, c) => respondWithError(c, error, silentLogger));
  app.post('/', async (c) => {
    const fault = (await c.req.text()) as Fault;
    if (fault === 'internal') throw new Error('a bug');
    if (fault === 'remote') throw new TransportError('transport.unreachable', 'the company is down');
    if (fault === 'write-then-refuse') {
      rows.push('written');
      throw new ApiError('api.bad_request', 'refused, but after a write');
    }
    throw new ApiError('api.bad_request', 'refused');
  });
  app.get('/health', (c) => c.json({ ok: options.alive ?? true }, options.alive === false ? 400 : 200));
  return {
    rows,
    name: 'faulty',
    arbitrary: fc.constantFrom<Fault>('none', 'internal', 'throw', 'write-then-refuse', 'remote'),
    async prepare(fault) {
      return async () => {
        if (fault === 'throw') throw new Error('escaped the app');
        return app.request('/', { method: 'POST', body: fault });
      };
    },
    snapshot: async () => ({ rows: [...rows] }),
    async alive() {
      const response = await app.request('/health');
      if (response.status !== 200) throw new Error(`health answered ${response.status}`);
    },
  };
}

describe('the fuzz runner', () => {
  it('counts every kind of fault, and a remote failure apart', async () => {
    const target = faultyTarget();
    const report = await runFuzz(target, { seed: 1, numRuns: 200, timeLimitMs: 10_000 });
    expect(report.cases).toBe(200);
    expect(report.crashes).toBeGreaterThan(0);
    expect(report.serverErrors).toBe(report.outcomes['500 internal']);
    expect(report.serverErrors).toBeGreaterThan(0);
    expect(report.storeChanges).toBe(target.rows.length);
    expect(report.storeChanges).toBeGreaterThan(0);
    expect(report.remoteFailures).toBe(report.outcomes['502 transport.unreachable']);
    expect(new Set(report.violations.map((v) => v.kind))).toEqual(new Set(['crash', 'server_error', 'store_changed']));
  });

  it('reports an agent that no longer answers', async () => {
    const report = await runFuzz(faultyTarget({ alive: false }), { seed: 1, numRuns: 5, timeLimitMs: 10_000 });
    expect(report.violations.map((v) => v.kind)).toContain('not_alive');
  });

  it('replays the same cases from the same seed', async () => {
    const seen = (seed: number) => fc.sample(faultyTarget().arbitrary, { seed, numRuns: 50 });
    expect(seen(42)).toEqual(seen(42));
    expect(seen(42)).not.toEqual(seen(43));
  });
});

describe('the mutators', () => {
  it('leave the valid value they start from untouched', () => {
    const valid = { a: [1, { b: 'text' }] };
    const mutated = applyJsonOps(valid, [
      { op: 'replace', at: 3, value: null },
      { op: 'string', at: 4, edit: 'append', n: 3 },
      { op: 'delete', at: 1 },
    ]);
    expect(valid).toEqual({ a: [1, { b: 'text' }] });
    expect(mutated).not.toEqual(valid);
  });

  it('flip a bit of a base64url segment so it decodes to other bytes', () => {
    const base = JSON.stringify({ protected: 'eyJhIjoxfQ', iv: 'AAAA', ciphertext: 'AAAAAAAA', tag: 'AAAA', recipients: [{ header: { kid: 'k' }, encrypted_key: 'AAAA' }] });
    const flipped = JSON.parse(String(applyEnvelopeCase([base], { base: 0, ops: [{ kind: 'flip', segment: 'ciphertext', at: 2, bit: 0 }] }))) as { ciphertext: string };
    expect(Buffer.from(flipped.ciphertext, 'base64url')).not.toEqual(Buffer.from('AAAAAAAA', 'base64url'));
  });
});
