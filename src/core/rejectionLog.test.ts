import { describe, expect, it } from 'vitest';
import type { LogFields, Logger } from './log.js';
import { createRejectionLog } from './rejectionLog.js';

function recordingLogger(): { logger: Logger; lines: { level: string; event: string; fields: LogFields | undefined }[] } {
  const lines: { level: string; event: string; fields: LogFields | undefined }[] = [];
  const at = (level: string) => (event: string, fields?: LogFields) => void lines.push({ level, event, fields });
  return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

describe('the rejection log (issue 17)', () => {
  it('logs the first refusal of each code per window, counts the rest, and sums them up when the window is over', () => {
    const { logger, lines } = recordingLogger();
    let now = 0;
    const log = createRejectionLog({ logger, intervalMs: 1000, now: () => now });
    for (let i = 0; i < 150; i += 1) log.rejected('envelope.malformed');
    for (let i = 0; i < 50; i += 1) log.rejected('envelope.too_large');
    expect(lines.map((l) => [l.event, l.fields?.['code']])).toEqual([
      ['message_rejected', 'envelope.malformed'],
      ['message_rejected', 'envelope.too_large'],
    ]);
    now = 999;
    log.rejected('envelope.malformed');
    expect(lines).toHaveLength(2);
    now = 1000; // the malformed window is over: its summary, then a new window
    log.rejected('envelope.malformed');
    expect(lines.slice(2).map((l) => [l.event, l.fields])).toEqual([
      ['message_rejected_summary', { code: 'envelope.malformed', suppressed: 150, windowMs: 1000 }],
      ['message_rejected', { code: 'envelope.malformed' }],
    ]);
    log.flush();
    expect(lines.slice(4).map((l) => [l.event, l.fields])).toEqual([['message_rejected_summary', { code: 'envelope.too_large', suppressed: 49, windowMs: 1000 }]]);
    expect(lines.every((l) => l.level === 'info')).toBe(true);
  });

  it('reports the count by itself once the window is over, with no further refusal', async () => {
    const { logger, lines } = recordingLogger();
    const log = createRejectionLog({ logger, intervalMs: 50 });
    log.rejected('message.expired');
    log.rejected('message.expired');
    log.rejected('message.expired');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(lines.map((l) => [l.event, l.fields])).toEqual([
      ['message_rejected', { code: 'message.expired' }],
      ['message_rejected_summary', { code: 'message.expired', suppressed: 2, windowMs: 50 }],
    ]);
  });
});
