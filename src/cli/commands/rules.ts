import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RulesError } from '../../core/errors.js';
import { routes, type RuleInput, type RuleTestView, type RulesView } from '../../personal/http/apiContract.js';
import { oneLine, output, run } from '../common.js';
import type { CommandContext } from './context.js';

function rulesText(view: RulesView): string {
  const lines = view.rules.map((rule, i) => `${String(i + 1).padStart(3)}. ${oneLine(rule.id, 40).padEnd(22)} ${oneLine(rule.text, 300)}${rule.note ? `  (${oneLine(rule.note, 200)})` : ''}`);
  return [
    view.manual ? 'Answering everything by hand: your rules are kept but answer nothing (kith rules manual off).' : 'Your rules answer what they match, first match first; anything else waits for you.',
    ...(lines.length > 0 ? lines : ['  (no rules: everything waits for you)']),
    ...(view.isDefault ? ['These are the default rules. Change them with: kith rules add | remove | move'] : []),
  ].join('\n');
}

function testText(view: RuleTestView): string {
  const rule = view.rule ? `rule ${oneLine(view.rule.id, 40)}: ${oneLine(view.rule.text, 300)}` : '';
  const trust = `(trust: ${view.trust})`;
  switch (view.action) {
    case 'approve':
      return `Would approve ${view.fields.join(', ')} by ${rule} ${trust}`;
    case 'decline':
      return `Would decline by ${rule} ${trust}`;
    default: {
      const why = {
        manual: 'you answer everything by hand',
        no_rule: 'no rule matches',
        rule: rule,
        field_missing: `${rule}, but you have no value for ${view.fields.join(', ')}`,
      }[view.reason ?? 'no_rule'];
      return `Would wait for you: ${why} ${trust}`;
    }
  }
}

const commaList = (value: string | undefined): string[] | undefined =>
  value
    ?.split(',')
    .map((v) => v.trim())
    .filter(Boolean);

interface AddOptions {
  id?: string;
  fields?: string;
  purpose?: string;
  legalBasis?: string;
  maxRetention?: string;
  trust?: string;
  rel?: string;
  persona?: string;
  note?: string;
  position?: string;
}

function position(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new RulesError('rules.invalid', `Position "${text}" is not a whole number from 1`);
  return n;
}

/** `kith rules list | add | remove | move | test | manual | set` and `kith trust`. */
export function registerRulesCommands(program: Command, ctx: CommandContext): void {
  const rules = program.command('rules').description('your disclosure rules: which requests are answered without asking you');

  rules
    .command('list', { isDefault: true })
    .description('your rules, in the order they are tried')
    .action(() => run(ctx.globals, () => ctx.withClient(async (client) => {
      const view = await client.call(routes.rules);
      output(ctx.globals(), view, () => rulesText(view));
    })));

  rules
    .command('add <action>')
    .description('add a rule: approve | decline | ask, for the requests matching every condition given')
    .option('--fields <list>', 'the request asks for nothing but these (profile fields or credential claims); an approve rule needs it')
    .option('--purpose <list>', 'purposes (roster terms: service-delivery, order-fulfilment, billing, support, legal-compliance, product-improvement, marketing)')
    .option('--legal-basis <list>', 'legal bases (consent, contract, legal-obligation, ...)')
    .option('--max-retention <duration>', 'the company keeps it at most this long (ISO 8601, e.g. P1Y)')
    .option('--trust <list>', 'trust levels: new, agreed_terms, trusted')
    .option('--rel <list>', 'only these relationships')
    .option('--persona <list>', 'only companies that know you by these personas (see kith personas)')
    .option('--id <id>', 'its id (default rule-<n>)')
    .option('--note <text>', 'your words for it')
    .option('--position <n>', 'where it goes (1 = first; default before the catch-all)')
    .action((action: string, options: AddOptions) => run(ctx.globals, () => ctx.withClient(async (client) => {
      const when: RuleInput['when'] = {};
      const fields = commaList(options.fields);
      if (fields) when.fields = fields;
      const purposes = commaList(options.purpose);
      if (purposes) when.purposes = purposes;
      const legalBases = commaList(options.legalBasis);
      if (legalBases) when.legalBases = legalBases;
      if (options.maxRetention) when.maxRetention = options.maxRetention;
      const trust = commaList(options.trust);
      if (trust) when.trust = trust;
      const relationships = commaList(options.rel);
      if (relationships) when.relationships = relationships;
      const personas = commaList(options.persona);
      if (personas) when.personas = personas;
      const rule: RuleInput = { when, action, ...(options.id ? { id: options.id } : {}), ...(options.note ? { note: options.note } : {}) };
      const view = await client.call(routes.addRule, { rule, ...(options.position ? { position: position(options.position) } : {}) });
      output(ctx.globals(), view, () => rulesText(view));
    })));

  rules
    .command('remove <id>')
    .description('remove a rule')
    .action((id: string) => run(ctx.globals, () => ctx.withClient(async (client) => {
      const view = await client.call(routes.removeRule, { id });
      output(ctx.globals(), view, () => rulesText(view));
    })));

  rules
    .command('move <id> <position>')
    .description('move a rule (1 = tried first)')
    .action((id: string, to: string) => run(ctx.globals, () => ctx.withClient(async (client) => {
      const view = await client.call(routes.moveRule, { id }, { position: position(to) });
      output(ctx.globals(), view, () => rulesText(view));
    })));

  rules
    .command('test <request>')
    .description('what your rules would do with a request you received (nothing is sent)')
    .action((request: string) => run(ctx.globals, () => ctx.withClient(async (client) => {
      const view = await client.call(routes.testRules, { request });
      output(ctx.globals(), view, () => testText(view));
    })));

  rules
    .command('manual <on|off>')
    .description('on: answer everything by hand (your rules answer nothing); off: your rules apply')
    .action((state: string) => run(ctx.globals, () => ctx.withClient(async (client) => {
      if (state !== 'on' && state !== 'off') throw new RulesError('rules.invalid', `Say "on" or "off", not "${state}"`);
      const view = await client.call(routes.setRulesManual, { manual: state === 'on' });
      output(ctx.globals(), view, () => rulesText(view));
    })));

  rules
    .command('set <file>')
    .description('replace all your rules with a rule file (JSON: { "version": 1, "manual": false, "rules": [...] })')
    .action((file: string) => run(ctx.globals, () => ctx.withClient(async (client) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new RulesError('rules.invalid', `${file} is not a JSON rule file`, { cause: error });
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new RulesError('rules.invalid', `${file} is not a JSON object`);
      const view = await client.call(routes.replaceRules, parsed as never);
      output(ctx.globals(), view, () => rulesText(view));
    })));

  program
    .command('trust <rel> <on|off>')
    .description('trust a company (the "trusted" level of your rules), or no longer')
    .action((rel: string, state: string) => run(ctx.globals, () => ctx.withClient(async (client) => {
      if (state !== 'on' && state !== 'off') throw new RulesError('rules.invalid', `Say "on" or "off", not "${state}"`);
      const result = await client.call(routes.setTrust, { ref: rel }, { trusted: state === 'on' });
      output(ctx.globals(), result, () => `Trust level: ${result.trust}.`);
    })));
}
