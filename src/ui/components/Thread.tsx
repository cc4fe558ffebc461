import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { api, prepare, routes } from '../api';
import { useAgentEvents } from '../events';
import { formatWhen, plural, theirText } from '../format';
import type { MessageView, RelationshipView } from '../types';
import { useAction, useResource } from '../useResource';
import { companyName } from './labels';
import { Button, ErrorNote, LiveNote, Loading, Note } from './ui';

function statusText(m: MessageView): string | null {
  if (m.direction === 'out') return m.status === 'queued' ? 'waiting to send' : 'sent';
  return m.status === 'held' ? 'held while muted' : null;
}

function MessageItem({ m, company }: { m: MessageView; company: string }) {
  const status = statusText(m);
  const mine = m.direction === 'out';
  return (
    <li className={`msg ${mine ? 'msg-out' : 'msg-in'}${m.status === 'held' ? ' msg-held' : ''}${m.status === 'queued' ? ' msg-queued' : ''}`}>
      <div className="msg-bubble">
        <p className="msg-meta">
          <span className="msg-who">{mine ? 'You' : company}</span>
          <span aria-hidden="true"> · </span>
          <time dateTime={new Date(m.createdAt).toISOString()}>{formatWhen(m.createdAt)}</time>
          {status ? (
            <>
              <span aria-hidden="true"> · </span>
              <span className="msg-status">{status}</span>
            </>
          ) : null}
        </p>
        {m.content !== undefined ? <p className="msg-text">{mine ? m.content : theirText(m.content)}</p> : <p className="msg-text msg-other">({m.type.slice(m.type.lastIndexOf('/') + 1) || 'message'} without text)</p>}
      </div>
    </li>
  );
}

/** The conversation with one company, oldest first, with a send box; new messages arrive live. */
export function Thread({ relationship, onChanged }: { relationship: RelationshipView; onChanged: () => void }) {
  const company = companyName(relationship);
  const muted = relationship.state === 'muted';
  const ended = relationship.state === 'cut_off';
  const [showHeld, setShowHeld] = useState(false);
  const { data, error, loading, reload } = useResource(prepare(routes.messages, { ref: relationship.id }, muted ? { includeHeld: '1' } : {}));
  const send = useAction();
  const [result, setResult] = useState<string | undefined>(undefined);
  const [draft, setDraft] = useState('');
  const listRef = useRef<HTMLOListElement>(null);
  const labelId = useId();

  useAgentEvents((event) => {
    if (event.type === 'message.received' && event.relationshipId === relationship.id) {
      void reload();
      onChanged();
    }
  });

  const all = data?.messages ?? [];
  const held = all.filter((m) => m.status === 'held');
  const shown = showHeld ? all : all.filter((m) => m.status !== 'held');

  // Keep the newest message in view as the thread grows.
  useEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [shown.length]);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    const content = draft.trim();
    if (!content) {
      send.setError('Write a message first.');
      return;
    }
    setResult(undefined);
    const outcome = await send.run(() => api(routes.sendMessage, { ref: relationship.id }, { content }));
    if (!outcome) return;
    setDraft('');
    setResult(outcome.status === 'sent' ? `Sent to ${company}.` : `${company} is not reachable right now. Your message is queued; Kith keeps trying.`);
    await reload();
    onChanged();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <div className="thread-wrap">
      <h2 className="visually-hidden">Messages with {company}</h2>
      {muted ? (
        <Note tone="warn">
          <p>
            You muted {company}. Its new messages are held: not shown, and without notice to you. {held.length > 0 ? `${plural(held.length, 'message')} held so far.` : 'None held so far.'}
          </p>
          {held.length > 0 ? (
            <button type="button" className="btn btn-link" onClick={() => setShowHeld((v) => !v)} aria-pressed={showHeld}>
              {showHeld ? 'Hide held messages' : 'Show held messages'}
            </button>
          ) : null}
        </Note>
      ) : null}
      <ErrorNote message={error?.message} />
      {loading && !data ? <Loading label="Loading messages…" /> : null}
      {data && shown.length === 0 ? <p className="thread-empty">No messages yet. {ended ? '' : `Write to ${company} below; it answers here.`}</p> : null}
      {shown.length > 0 ? (
        <ol className="thread" ref={listRef} aria-label={`Messages with ${company}, oldest first`} tabIndex={0}>
          {shown.map((m) => (
            <MessageItem key={m.id} m={m} company={company} />
          ))}
        </ol>
      ) : null}
      {ended ? (
        <Note>You cut off {company}: no messages can go either way any more.</Note>
      ) : (
        <form className="composer" onSubmit={(event) => void submit(event)}>
          <label htmlFor={labelId} className="composer-label">
            Message to {company}
          </label>
          <div className="composer-row">
            <textarea
              id={labelId}
              value={draft}
              rows={2}
              maxLength={16000}
              onChange={(event) => setDraft(event.target.value)}
              onKeyDown={onKeyDown}
              aria-describedby={`${labelId}-hint`}
            />
            <Button type="submit" variant="primary" busy={send.busy} busyLabel="Sending…">
              Send
            </Button>
          </div>
          <p className="hint" id={`${labelId}-hint`}>
            Ctrl+Enter sends. {company} sees only the identity Kith made for it.
          </p>
          <ErrorNote message={send.error} />
          <LiveNote tone={result?.includes('queued') ? 'warn' : 'good'}>{result}</LiveNote>
        </form>
      )}
    </div>
  );
}
