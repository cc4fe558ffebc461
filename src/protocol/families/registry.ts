import type { z } from 'zod';
import { MessageError } from '../../core/errors.js';
import { describeZodIssues } from '../../core/json.js';
import type { DidcommMessage } from '../message.js';

/** One message type: its type URI and the zod schema of its body. */
export interface MessageDefinition<Body = unknown> {
  readonly type: string;
  readonly body: z.ZodType<Body>;
}

export function defineMessage<Schema extends z.ZodType>(type: string, body: Schema): MessageDefinition<z.infer<Schema>> {
  return { type, body: body as z.ZodType<z.infer<Schema>> };
}

/** An explicit registry of message types, built from one list and checked for duplicates at start-up. */
export class MessageRegistry {
  readonly #definitions = new Map<string, MessageDefinition>();

  constructor(definitions: readonly MessageDefinition[]) {
    for (const definition of definitions) {
      if (this.#definitions.has(definition.type)) throw new Error(`Message type registered twice: ${definition.type}`);
      this.#definitions.set(definition.type, definition);
    }
  }

  has(type: string): boolean {
    return this.#definitions.has(type);
  }

  types(): string[] {
    return [...this.#definitions.keys()];
  }

  /**
   * Validates the body of a verified message against its type's schema.
   * @throws MessageError `message.unknown_type`, `message.body_invalid`
   */
  validate(message: DidcommMessage): DidcommMessage {
    const definition = this.#definitions.get(message.type);
    if (!definition) throw new MessageError('message.unknown_type', `Unknown message type ${message.type}`, { details: { type: message.type } });
    const parsed = definition.body.safeParse(message.body);
    if (!parsed.success) {
      throw new MessageError('message.body_invalid', `Body of ${message.type} does not match its schema`, {
        details: { type: message.type, issues: describeZodIssues(parsed.error) },
      });
    }
    return { ...message, body: parsed.data as Record<string, unknown> };
  }
}
