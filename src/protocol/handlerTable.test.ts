import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KithError } from '../core/errors.js';
import { COMPANY_HANDLERS } from '../company/handlers/index.js';
import { PERSONAL_HANDLERS } from '../personal/handlers/index.js';
import { createMessageRegistry, BasicMessage, TrustPing } from './families/index.js';
import { MessageRegistry, defineMessage, TO_COMPANY, BOTH_SIDES, type Side } from './families/registry.js';
import { HandlerTable, type HandlesMessage } from './handlerTable.js';

const ping = defineMessage('https://example.test/p/1.0/ping', z.object({}), BOTH_SIDES);
const order = defineMessage('https://example.test/p/1.0/order', z.object({ item: z.string() }), TO_COMPANY);
const registry = new MessageRegistry([ping, order]);

function problemsOf(side: Side, handlers: HandlesMessage[], against = registry): string[] {
  try {
    new HandlerTable(side, handlers, against);
  } catch (error) {
    expect(error).toBeInstanceOf(KithError);
    return ((error as KithError).details as { problems: string[] }).problems;
  }
  return [];
}

describe('HandlerTable', () => {
  it('takes exactly one handler per type the side receives', () => {
    const table = new HandlerTable('company', [{ definition: ping }, { definition: order }], registry);
    expect(table.get(order.type)?.definition).toBe(order);
    expect(table.get('https://example.test/p/1.0/other')).toBeUndefined();
    expect(problemsOf('person', [{ definition: ping }])).toEqual([]);
  });

  it('fails start-up when a type the side receives has no handler', () => {
    expect(problemsOf('company', [{ definition: ping }])).toEqual([`no handler for ${order.type}`]);
  });

  it('fails start-up on a handler for a type no family registers', () => {
    const stray = defineMessage('https://example.test/p/1.0/stray', z.object({}), BOTH_SIDES);
    expect(problemsOf('company', [{ definition: ping }, { definition: order }, { definition: stray }])).toEqual([`a handler for ${stray.type}, which no family registers`]);
  });

  it('fails start-up on a handler for a type the other side receives', () => {
    expect(problemsOf('person', [{ definition: ping }, { definition: order }])).toEqual([`a handler for ${order.type}, which the person side does not receive`]);
  });

  it('fails start-up on two handlers for one type, and on a handler built from a look-alike definition', () => {
    expect(problemsOf('company', [{ definition: ping }, { definition: ping }, { definition: order }])).toEqual([`two handlers for ${ping.type}`]);
    const lookAlike = defineMessage(order.type, z.object({}), TO_COMPANY);
    expect(problemsOf('company', [{ definition: ping }, { definition: lookAlike }])).toEqual([`a handler for ${order.type} built from another definition than the registered one`]);
  });

  it('holds for both agents’ real handler lists against the real family list', () => {
    const families = createMessageRegistry();
    const person = new HandlerTable('person', PERSONAL_HANDLERS, families);
    const company = new HandlerTable('company', COMPANY_HANDLERS, families);
    const received = (side: Side) => families.definitions().filter((d) => d.receivers.includes(side)).map((d) => d.type).sort();
    expect(person.types().sort()).toEqual(received('person'));
    expect(company.types().sort()).toEqual(received('company'));
    // Every registered type is received by someone.
    expect(families.definitions().every((d) => d.receivers.length > 0)).toBe(true);
    expect(person.get(TrustPing.pingResponse.type)).toBeDefined();
    expect(company.get(TrustPing.pingResponse.type)).toBeUndefined();
    expect(person.get(BasicMessage.message.type) && company.get(BasicMessage.message.type)).toBeTruthy();
  });
});
