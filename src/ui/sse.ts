/*
 * Reads a server-sent event stream (text/event-stream) from a fetch response body. The app does
 * not use EventSource because EventSource cannot send headers, and every API call must carry the
 * session key header besides the cookie (session.ts).
 */

export interface ServerSentEvent {
  /** `message` when the event names none. */
  event: string;
  data: string;
}

/**
 * A parser fed the stream's text chunk by chunk (a chunk may end anywhere, even inside a line or
 * between CR and LF); calls `onEvent` for each complete event, as the HTML standard dispatches them:
 * `data` lines joined by LF, comments (`:`) and other fields ignored, no event without data.
 */
export function sseParser(onEvent: (event: ServerSentEvent) => void): (chunk: string) => void {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  /** The last chunk ended with CR: an LF at the start of the next one belongs to it. */
  let afterCr = false;
  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) onEvent({ event: event || 'message', data: data.join('\n') });
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  return (chunk) => {
    let text = chunk;
    if (afterCr && text.startsWith('\n')) text = text.slice(1);
    afterCr = false;
    buffer += text;
    for (;;) {
      const end = buffer.search(/\r\n|\r|\n/);
      if (end === -1) return;
      const cr = buffer[end] === '\r';
      // A lone CR at the very end may be the first half of CRLF: the next chunk says.
      if (cr && end === buffer.length - 1) afterCr = true;
      const size = cr && buffer[end + 1] === '\n' ? 2 : 1;
      const current = buffer.slice(0, end);
      buffer = buffer.slice(end + size);
      line(current);
    }
  };
}
