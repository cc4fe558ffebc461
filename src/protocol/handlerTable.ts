import { KithError } from '../core/errors.js';
import type { MessageDefinition, MessageRegistry, Side } from './families/registry.js';

/** What every message handler has, whatever its side: the one message type it takes. */
export interface HandlesMessage {
  // `any`: one list holds handlers of many body types; each handler is typed by its own definition.
  readonly definition: MessageDefinition<any>;
}

/**
 * The handlers of one side, one per message type, checked against the family list when the agent
 * is built: every type this side receives has exactly one handler, and a handler for a type that is
 * not registered, or that this side does not receive, stops the start-up. So a family that grows a
 * message cannot be forgotten by either agent, and a handler cannot drift from its definition.
 */
export class HandlerTable<Handler extends HandlesMessage> {
  readonly #byType = new Map<string, Handler>();

  /** @throws KithError `internal` naming every mismatch between the handlers and the family list */
  constructor(side: Side, handlers: readonly Handler[], registry: MessageRegistry) {
    const problems: string[] = [];
    for (const handler of handlers) {
      const { type } = handler.definition;
      const registered = registry.definition(type);
      if (registered === undefined) problems.push(`a handler for ${type}, which no family registers`);
      else if (registered !== handler.definition) problems.push(`a handler for ${type} built from another definition than the registered one`);
      else if (!registered.receivers.includes(side)) problems.push(`a handler for ${type}, which the ${side} side does not receive`);
      if (this.#byType.has(type)) problems.push(`two handlers for ${type}`);
      this.#byType.set(type, handler);
    }
    for (const definition of registry.definitions()) {
      if (definition.receivers.includes(side) && !this.#byType.has(definition.type)) problems.push(`no handler for ${definition.type}`);
    }
    if (problems.length > 0) {
      throw new KithError('internal', `The ${side} agent's message handlers do not match the family list: ${problems.join('; ')}`, { details: { side, problems } });
    }
  }

  get(type: string): Handler | undefined {
    return this.#byType.get(type);
  }

  types(): string[] {
    return [...this.#byType.keys()];
  }
}
