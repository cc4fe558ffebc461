import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../../core/retry.js';
import { createDidResolver } from '../did/resolver.js';
import type { DidResolver } from '../did/types.js';
import type { EnvelopeEngine } from '../envelope/engine.js';
import { fastEngine } from '../envelope/fastEngine.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, type ReceiveContext } from '../envelope/receive.js';
import type { MessageRegistry } from '../families/registry.js';

/** What either agent may be given from its process (tests give a fixed clock, a stub resolver, a small limit). */
export interface AgentEnvironmentOptions {
  clock?: Clock;
  resolver?: DidResolver;
  engine?: EnvelopeEngine;
  maxMessageBytes?: number;
  clockSkewMs?: number;
  logger?: Logger;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
}

/** The same, with the defaults filled in: what the messaging runtimes of both agents run on. */
export interface AgentEnvironment {
  readonly clock: Clock;
  readonly resolver: DidResolver;
  readonly engine: EnvelopeEngine;
  readonly maxMessageBytes: number;
  readonly clockSkewMs: number;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  readonly fetch: typeof fetch | undefined;
}

/** One place for both agents' defaults: system clock, did:peer/did:web resolver, the fast engine, 256 KiB, 5 min skew, no logs. */
export function agentEnvironment(options: AgentEnvironmentOptions): AgentEnvironment {
  return {
    clock: options.clock ?? systemClock,
    resolver: options.resolver ?? createDidResolver(),
    engine: options.engine ?? fastEngine,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    clockSkewMs: options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS,
    logger: options.logger ?? silentLogger,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    fetch: options.fetch,
  };
}

/** The receive pipeline's context in this environment; the agent brings its own keys and replay memory. */
export function receiveContextOf(environment: AgentEnvironment, registry: MessageRegistry, own: Pick<ReceiveContext, 'findRecipientKey' | 'hasSeen'>): ReceiveContext {
  const { maxMessageBytes: maxBytes, engine, resolver, clock, clockSkewMs } = environment;
  return { maxBytes, engine, resolver, registry, clock, clockSkewMs, ...own };
}
