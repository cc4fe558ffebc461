import { describe, expect, it } from 'vitest';
import { sseParser, type ServerSentEvent } from './sse';

function parse(chunks: string[]): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const push = sseParser((event) => events.push(event));
  for (const chunk of chunks) push(chunk);
  return events;
}

describe('the web app’s server-sent event reader', () => {
  const stream = 'event: ready\ndata: {}\n\n: a comment\nevent: message.received\ndata: {"type":"message.received",\ndata: "id":"m1"}\nid: 7\n\ndata: no name\n\nevent: ping\n\n';

  it('reads named events, joins data lines with LF, skips comments, other fields and events without data', () => {
    expect(parse([stream])).toEqual([
      { event: 'ready', data: '{}' },
      { event: 'message.received', data: '{"type":"message.received",\n"id":"m1"}' },
      { event: 'message', data: 'no name' },
    ]);
  });

  it('gives the same events whichever way the stream is cut, CRLF and CR line ends included', () => {
    const whole = parse([stream]);
    for (const ending of ['\n', '\r\n', '\r']) {
      const text = stream.replace(/\n/g, ending);
      for (let size = 1; size <= 7; size++) {
        const chunks: string[] = [];
        for (let at = 0; at < text.length; at += size) chunks.push(text.slice(at, at + size));
        expect([JSON.stringify(ending), size, parse(chunks)]).toEqual([JSON.stringify(ending), size, whole]);
      }
    }
  });

  it('dispatches nothing until the blank line that ends an event', () => {
    expect(parse(['event: ready\ndata: {}\n'])).toEqual([]);
  });
});
