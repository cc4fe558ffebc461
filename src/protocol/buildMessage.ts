import type { Clock } from '../core/clock.js';
import { toEpochSeconds } from '../core/clock.js';
import { newId } from '../core/ids.js';
import type { MessageDefinition } from './families/registry.js';
import type { DidcommMessage } from './message.js';

export const DEFAULT_MESSAGE_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface MessageInput {
  type: string;
  from: string;
  to: string;
  body: Record<string, unknown>;
  thid?: string;
  pthid?: string;
  returnRoute?: 'all';
  attachments?: DidcommMessage['attachments'];
  ttlMs?: number;
  id?: string;
}

/** A message to send: its type and body, typed by its definition (see `outgoing`). */
export interface Outgoing {
  readonly type: string;
  readonly body: Record<string, unknown>;
  readonly attachments?: DidcommMessage['attachments'];
}

/**
 * The one way to say what to send: the body is checked against the definition's schema type at
 * compile time, so a message cannot go out with another type's body.
 */
export function outgoing<Body extends Record<string, unknown>>(definition: MessageDefinition<Body>, body: NoInfer<Body>, attachments?: DidcommMessage['attachments']): Outgoing {
  return { type: definition.type, body, ...(attachments ? { attachments } : {}) };
}

/** A plaintext message with a fresh id, `created_time` and `expires_time` (which bounds replay memory). */
export function buildMessage(input: MessageInput, clock: Clock): DidcommMessage {
  const now = clock.now();
  const message: DidcommMessage = {
    id: input.id ?? newId(),
    type: input.type,
    from: input.from,
    to: [input.to],
    created_time: toEpochSeconds(now),
    expires_time: toEpochSeconds(now + (input.ttlMs ?? DEFAULT_MESSAGE_TTL_MS)),
    body: input.body,
  };
  if (input.thid) message.thid = input.thid;
  if (input.pthid) message.pthid = input.pthid;
  if (input.returnRoute) message.return_route = input.returnRoute;
  if (input.attachments) message.attachments = input.attachments;
  return message;
}

/**
 * When a message stops being acceptable: its `expires_time`, or, without one, `created_time` plus
 * the default TTL, so that replay memory stays bounded. Undefined only when it carries neither.
 */
export function messageExpiry(message: DidcommMessage): number | undefined {
  if (message.expires_time !== undefined) return message.expires_time * 1000;
  if (message.created_time !== undefined) return message.created_time * 1000 + DEFAULT_MESSAGE_TTL_MS;
  return undefined;
}

const TEN_YEARS_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/** How long a received id must be remembered to refuse its replay (practically forever without any time). */
export function seenUntil(message: DidcommMessage, receivedAt: number, skewMs: number): number {
  return (messageExpiry(message) ?? receivedAt + TEN_YEARS_MS) + skewMs;
}
