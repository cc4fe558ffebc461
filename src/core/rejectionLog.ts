import type { LogFields, Logger } from './log.js';

/**
 * The log of refused inbound messages, rate-limited: anyone can post garbage to a DIDComm endpoint
 * as fast as the network allows, and one line each would flood the log (and the disk under it).
 * Per error code, the first refusal of a window is logged as `message_rejected`; the others of that
 * window are only counted, and once the window is over one `message_rejected_summary` line says
 * how many were left out (`suppressed`). Metrics (company side) still count every refusal.
 */
export interface RejectionLog {
  /** One refused message, by its error code. */
  rejected(code: string, fields?: LogFields): void;
  /** Writes the summary of every code with refusals left out, whatever the window (at stop). */
  flush(): void;
}

export interface RejectionLogOptions {
  logger: Logger;
  /** Window per code (default one minute). */
  intervalMs?: number;
  /** The time (ms); injectable for tests. */
  now?: () => number;
}

export const DEFAULT_REJECTION_LOG_INTERVAL_MS = 60_000;

interface Window {
  startedAt: number;
  suppressed: number;
}

export function createRejectionLog(options: RejectionLogOptions): RejectionLog {
  const { logger } = options;
  const intervalMs = options.intervalMs ?? DEFAULT_REJECTION_LOG_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const windows = new Map<string, Window>();
  let timer: NodeJS.Timeout | undefined;

  const summarize = (code: string, window: Window): void => {
    if (window.suppressed > 0) logger.info('message_rejected_summary', { code, suppressed: window.suppressed, windowMs: intervalMs });
    window.suppressed = 0;
  };
  /** Summaries of the windows that are over, so counts are reported even if no refusal follows. */
  const flushDue = (): void => {
    timer = undefined;
    const at = now();
    for (const [code, window] of windows) {
      if (at - window.startedAt < intervalMs) continue;
      summarize(code, window);
      windows.delete(code);
    }
    schedule();
  };
  const schedule = (): void => {
    if (timer !== undefined || ![...windows.values()].some((w) => w.suppressed > 0)) return;
    timer = setTimeout(flushDue, intervalMs);
    timer.unref(); // never keeps a process alive
  };

  return {
    rejected(code, fields) {
      const at = now();
      const window = windows.get(code);
      if (window !== undefined && at - window.startedAt < intervalMs) {
        window.suppressed += 1;
        schedule();
        return;
      }
      if (window !== undefined) summarize(code, window);
      windows.set(code, { startedAt: at, suppressed: 0 });
      logger.info('message_rejected', { ...fields, code });
    },
    flush() {
      for (const [code, window] of windows) summarize(code, window);
      windows.clear();
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
