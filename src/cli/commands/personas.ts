import type { Command } from 'commander';
import { ApiError } from '../../core/errors.js';
import { routes, type PersonaView } from '../../personal/http/apiContract.js';
import { oneLine, output, run, table } from '../common.js';
import type { CommandContext } from './context.js';

function personasTable(personas: PersonaView[]): string {
  return table([
    ['PERSONA', 'DEFAULT', 'NAMELESS', 'COMPANIES', 'FIELDS'],
    ...personas.map((p) => [oneLine(p.label, 40), p.isDefault ? 'yes' : '', p.nameless ? 'yes' : '', String(p.relationships), String(p.fields)]),
  ]);
}

function onOff(value: string): boolean {
  if (value === 'on' || value === 'off') return value === 'on';
  throw new ApiError('api.bad_request', 'Say on or off');
}

/**
 * `kith personas [list] | add | rename | nameless | default | remove | use`: her selves
 * (docs/decisions/0022-personas.md). Each has its own profile (`kith profile ... --persona <p>`),
 * and each company knows her by one.
 */
export function registerPersonaCommands(program: Command, ctx: CommandContext): void {
  const list = async () =>
    ctx.withClient(async (client) => {
      const { personas } = await client.call(routes.personas);
      output(ctx.globals(), personas, () => `${personasTable(personas)}\nNew relationships use the default; change one with: kith personas use <company> <persona>`);
    });

  const personas = program
    .command('personas')
    .description('your personas: several selves (me, work, an anonymous one), each with its own profile; each company knows you by one')
    .action(() => run(ctx.globals, list));

  personas
    .command('list')
    .description('every persona, the default, and how many companies know you by each')
    .action(() => run(ctx.globals, list));

  personas
    .command('add <label>')
    .description('a new persona with an empty profile (fill it with kith profile set <field> <value> --persona <label>)')
    .option('--nameless', 'it never holds a name (name, given and family name, nickname): you stay anonymous there')
    .action((label: string, options: { nameless?: boolean }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { persona } = await client.call(routes.addPersona, { label, ...(options.nameless ? { nameless: true } : {}) });
          output(ctx.globals(), persona, () => `Added persona ${oneLine(persona.label, 40)}${persona.nameless ? ' (nameless)' : ''}. Connect a company as it with: kith connect <invitation> --persona ${oneLine(persona.label, 40)}`);
        }),
      ),
    );

  personas
    .command('rename <persona> <label>')
    .description('give a persona another name (companies never see it)')
    .action((ref: string, label: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { persona } = await client.call(routes.updatePersona, { ref }, { label });
          output(ctx.globals(), persona, () => `Renamed to ${oneLine(persona.label, 40)}.`);
        }),
      ),
    );

  personas
    .command('nameless <persona> <on|off>')
    .description('make a persona nameless (it must hold no name first), or not')
    .action((ref: string, value: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { persona } = await client.call(routes.updatePersona, { ref }, { nameless: onOff(value) });
          output(ctx.globals(), persona, () => `${oneLine(persona.label, 40)} is ${persona.nameless ? 'nameless now: it will never hold a name' : 'no longer nameless'}.`);
        }),
      ),
    );

  personas
    .command('default <persona>')
    .description('the persona new relationships use (kith connect, anonymous intents) unless you pick another')
    .action((ref: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { persona } = await client.call(routes.setDefaultPersona, { persona: ref });
          output(ctx.globals(), persona, () => `New relationships now use ${oneLine(persona.label, 40)}.`);
        }),
      ),
    );

  personas
    .command('remove <persona>')
    .description('remove a persona and its profile values (no company may know you by it, and it may not be the default)')
    .action((ref: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { persona } = await client.call(routes.removePersona, { ref });
          output(ctx.globals(), persona, () => `Removed persona ${oneLine(persona.label, 40)} and its ${persona.fields} ${persona.fields === 1 ? 'value' : 'values'}.`);
        }),
      ),
    );

  personas
    .command('use <rel> <persona>')
    .description('have a company know you by another persona: what it holds is sent again from that persona (withdrawn where it has none)')
    .action((rel: string, ref: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const result = await client.call(routes.setRelationshipPersona, { ref: rel }, { persona: ref });
          const company = oneLine(result.relationship.company ?? rel, 80);
          const label = oneLine(result.relationship.persona.label ?? '-', 40);
          output(ctx.globals(), result, () => {
            if (!result.moved) return `${company} already knows you as ${label}; nothing changed.`;
            if (!result.change) return `${company} now knows you as ${label}. It holds none of your fields, so nothing is sent.`;
            const withdrawn = result.change.removed;
            const sent = result.change.fields.filter((f) => !withdrawn.includes(f));
            return [
              `${company} now knows you as ${label} (profile version ${result.change.version}).`,
              sent.length ? `Sent again from ${label}: ${sent.join(', ')}.` : '',
              withdrawn.length ? `Withdrawn (${label} has no value): ${withdrawn.join(', ')}.` : '',
              client.inProcess ? 'They go out the next time the agent runs (`kith serve`), or follow with `kith profile changes`.' : 'The agent delivers them now (`kith profile changes`).',
            ]
              .filter(Boolean)
              .join('\n');
          });
        }),
      ),
    );
}
