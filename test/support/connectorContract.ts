import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/core/errors.js';
import type { LogFields, Logger } from '../../src/core/log.js';
import type { Connector, ConnectorDelivery, ConnectorEventType } from '../../src/company/connectors/types.js';

/**
 * The contract every connector passes (issue 14): run with `describeConnectorContract(name,
 * setup)` from the connector's own test file, against the real company system it talks to (a
 * loopback HTTP server of the right kind) wherever there is one.
 */

/** Something personal no log line may ever hold. */
export const PERSONAL_MARKER = 'Ada-Contract-Marker-7f3a';

/** A logger that keeps its lines, to check what a connector writes. */
export function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (event: string, fields?: LogFields) => {
    lines.push(JSON.stringify({ level, event, ...fields }));
  };
  return { lines, info: write('info'), warn: write('warn'), error: write('error') };
}

export interface ContractSystem {
  connector: Connector;
  /** The logger the connector was made with. */
  logger: Logger & { lines: string[] };
  /** Event ids the company system has taken, in order (repeats when it was given one twice). */
  seen(): Promise<string[]>;
  /** Stops the system (its port refuses connections), for the unreachable case; absent when it cannot go down. */
  stop?(): Promise<void>;
  /** Has the system answer its next request with this HTTP status (and headers); absent for systems without HTTP. */
  failNext?(status: number, headers?: Record<string, string>): void;
  cleanup(): Promise<void>;
}

let counter = 0;

/** A delivery as the dispatcher hands it over, carrying the personal marker in its values. */
export function contractEvent(type: ConnectorEventType = 'profile.disclosed', overrides: Partial<ConnectorDelivery> = {}): ConnectorDelivery {
  counter += 1;
  const id = `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  return {
    id,
    type,
    createdAt: Date.UTC(2026, 11, 4, 12, 0, counter % 60),
    payload: {
      relationshipId: `rel-${counter}`,
      customerRef: `C-${1000 + counter}`,
      fields: { name: `Ada ${PERSONAL_MARKER}`, email: `ada.${counter}@example.org` },
      consentRecordId: '4951202b-7305-41e0-9181-06da5b661b84',
      purpose: 'Order confirmations',
    },
    ...overrides,
  };
}

export function describeConnectorContract(name: string, setup: () => Promise<ContractSystem>): void {
  describe(`connector contract: ${name}`, () => {
    let system: ContractSystem;
    beforeEach(async () => {
      system = await setup();
    });
    afterEach(async () => {
      await system?.cleanup();
    });

    it('has an id and a type, and the system takes an event it is given', async () => {
      expect(system.connector.id).toMatch(/^[a-z0-9][a-z0-9_-]{0,39}$/);
      expect(system.connector.type.length).toBeGreaterThan(0);
      const event = contractEvent();
      await system.connector.deliver(event);
      expect(await system.seen()).toContain(event.id);
    });

    it('takes the same event again without failing (delivery is at least once)', async () => {
      const event = contractEvent('profile.updated', {});
      await system.connector.deliver(event);
      await system.connector.deliver(event);
      expect((await system.seen()).filter((id) => id === event.id).length).toBeGreaterThanOrEqual(1);
    });

    it('writes no personal value to its log', async () => {
      await system.connector.deliver(contractEvent());
      for (const line of system.logger.lines) expect(line).not.toContain(PERSONAL_MARKER);
    });

    it('says a system that is down is unreachable, and that is worth retrying', async () => {
      if (!system.stop) return;
      await system.stop();
      const error = await system.connector.deliver(contractEvent()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConnectorError);
      expect(error).toMatchObject({ code: 'connector.unreachable', retryable: true });
    });

    it('retries a 5xx and a 429 (after Retry-After when given), and gives up at once on a refusal', async () => {
      const failNext = system.failNext;
      if (!failNext) return;
      const outcome = async (status: number, headers?: Record<string, string>) => {
        failNext(status, headers);
        return system.connector.deliver(contractEvent()).then(
          () => undefined,
          (e: unknown) => e as ConnectorError,
        );
      };
      expect(await outcome(503)).toMatchObject({ code: 'connector.failed', retryable: true });
      expect(await outcome(429, { 'retry-after': '7' })).toMatchObject({ code: 'connector.throttled', retryable: true, retryAfterMs: 7_000 });
      expect(await outcome(400)).toMatchObject({ code: 'connector.rejected', retryable: false });
      for (const line of system.logger.lines) expect(line).not.toContain(PERSONAL_MARKER);
    });
  });
}
