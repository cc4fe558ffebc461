import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../config.js';

/** `policy.connectors`: objects checked by their kind's schema; bare names as older policy files wrote them. */
describe('the connectors of a company policy', () => {
  it('defaults to the logging connector, and reads a bare name as that kind with its defaults', () => {
    expect(parsePolicy({}).connectors).toEqual([{ type: 'logging', id: 'logging', maxAttempts: 10 }]);
    expect(parsePolicy({ connectors: ['logging'] }).connectors).toEqual([{ type: 'logging', id: 'logging', maxAttempts: 10 }]);
    expect(parsePolicy({ connectors: [{ type: 'logging', id: 'audit-log', maxAttempts: 3 }] }).connectors).toEqual([{ type: 'logging', id: 'audit-log', maxAttempts: 3 }]);
    expect(parsePolicy({ connectors: [] }).connectors).toEqual([]);
  });

  it('refuses an unknown kind, a setting its kind does not have, a bad id and two connectors with one id, naming what is wrong', () => {
    const failure = (connectors: unknown) => {
      try {
        parsePolicy({ connectors });
      } catch (error) {
        return error as { code: string; message: string };
      }
      throw new Error('accepted');
    };
    expect(failure([{ type: 'carrier-pigeon' }])).toMatchObject({ code: 'config.invalid', message: expect.stringContaining('unknown connector type "carrier-pigeon" (known: logging') });
    expect(failure(['carrier-pigeon']).message).toContain('unknown connector type "carrier-pigeon"');
    expect(failure([{ type: 'logging', colour: 'blue' }]).message).toMatch(/connectors\.0.*colour/);
    expect(failure([{ type: 'logging', id: 'Has Spaces' }]).message).toContain('lower-case letters, digits, - and _, at most 40');
    expect(failure([{ type: 'logging', maxAttempts: 0 }]).message).toContain('connectors.0.maxAttempts');
    expect(failure([{ type: 'logging' }, 'logging']).message).toContain('two connectors have the same id');
    expect(failure([{}]).message).toContain('unknown connector type undefined');
  });
});
