import type { Writable } from 'node:stream';

/**
 * Structured logging, one JSON object per line. Callers pass only non-personal facts: event names,
 * error codes, local record ids, message types, counts. Never message bodies, DIDs of people,
 * names or keys; the log-scanning security test holds the project to it.
 */
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export function createLogger(stream: Writable, component: string): Logger {
  const write = (level: string, event: string, fields?: LogFields) => {
    stream.write(`${JSON.stringify({ t: new Date().toISOString(), level, component, event, ...fields })}\n`);
  };
  return {
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
