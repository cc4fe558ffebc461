import type { z } from 'zod';
import { MessageError } from '../../core/errors.js';
import { describeZodIssues } from '../../core/json.js';
import type { DidcommMessage } from '../message.js';

/** The two parties of every relationship: her personal agent and the company's agent. */
export type Side = 'person' | 'company';

/** One message type: its type URI, the zod schema of its body, and which side receives it. */
export interface MessageDefinition<Body = unknown> {
  readonly type: string;
  readonly body: z.ZodType<Body>;
  /** The agents that accept it; each must have exactly one handler for it (protocol/handlerTable.ts). */
  readonly receivers: readonly Side[];
}

export function defineMessage<Schema extends z.ZodType>(type: string, body: Schema, receivers: readonly Side[]): MessageDefinition<z.infer<Schema>> {
  return { type, body: body as z.ZodType<z.infer<Schema>>, receivers };
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

  definition(type: string): MessageDefinition | undefined {
    return this.#definitions.get(type);
  }

  definitions(): MessageDefinition[] {
    return [...this.#definitions.values()];
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

/** Receivers of a message, named once so that family files read as a table. */
export const TO_PERSON: readonly Side[] = ['person'];
export const TO_COMPANY: readonly Side[] = ['company'];
export const BOTH_SIDES: readonly Side[] = ['person', 'company'];
