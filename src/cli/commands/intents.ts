import type { Command } from 'commander';
import { ApiError } from '../../core/errors.js';
import { routes, type DirectoryEntryView, type IntentView, type OfferView } from '../../personal/http/apiContract.js';
import type { Demand } from '../../protocol/families/intent.js';
import { INTENT_CATEGORIES } from '../../protocol/intent/categories.js';
import { formatTime, oneLine, output, run, table } from '../common.js';
import type { CommandContext } from './context.js';

interface CastOptions {
  category: string;
  max?: string;
  min?: string;
  currency?: string;
  requireCurrency?: boolean;
  quantity?: string;
  country?: string;
  postalCode?: string;
  by?: string;
  outcome?: string;
  expires: string;
  to?: string;
  anonymous?: boolean;
  share?: string;
  persona?: string;
}

const DAY_MS = 86_400_000;

/** `7d` (days from now) or a calendar date (the end of that day, UTC). @throws ApiError api.bad_request naming the option */
function expiryOf(text: string, now = Date.now()): number {
  const days = /^(\d{1,3})d$/.exec(text);
  if (days) return now + Number(days[1]) * DAY_MS;
  const date = Date.parse(`${text}T23:59:59Z`);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text) && Number.isFinite(date)) return date;
  throw new ApiError('api.bad_request', `--expires must be a number of days such as 7d, or a date such as 2026-12-31 (got "${text}")`);
}

function demandOf(description: string, o: CastOptions): Demand {
  const price = o.max !== undefined || o.min !== undefined || o.currency !== undefined;
  if (price && o.currency === undefined) throw new ApiError('api.bad_request', '--max and --min need --currency (an ISO 4217 code such as EUR)');
  const quantity = o.quantity === undefined ? undefined : Number(o.quantity);
  if (quantity !== undefined && !Number.isInteger(quantity)) throw new ApiError('api.bad_request', `--quantity must be a whole number (got "${o.quantity}")`);
  return {
    '@type': 'Demand',
    description,
    category: o.category as Demand['category'],
    ...(price ? { priceSpecification: { priceCurrency: o.currency!, ...(o.min ? { minPrice: o.min } : {}), ...(o.max ? { maxPrice: o.max } : {}) } } : {}),
    ...(quantity !== undefined ? { eligibleQuantity: { value: quantity } } : {}),
    ...(o.country ? { eligibleRegion: { addressCountry: o.country.toUpperCase(), ...(o.postalCode ? { postalCode: o.postalCode } : {}) } } : {}),
    ...(o.by ? { availabilityEnds: o.by } : {}),
  };
}

function demandText(d: Demand): string {
  const price = d.priceSpecification;
  const range = price ? ` ${price.minPrice ? `${price.minPrice}–` : 'up to '}${price.maxPrice ?? 'any'} ${price.priceCurrency}` : '';
  return `${d.description} (${d.category}${range ? `,${range}` : ''}${d.eligibleRegion ? `, to ${d.eligibleRegion.addressCountry}` : ''}${d.availabilityEnds ? `, by ${d.availabilityEnds}` : ''})`;
}

function intentText(intent: IntentView): string {
  const lines = [
    `Intent ${intent.id.slice(0, 8)}: ${demandText(intent.demand)}`,
    `  ${intent.state}; ends ${formatTime(intent.expiresAt)}; ${intent.offers} offer${intent.offers === 1 ? '' : 's'}`,
    `  shared with it: ${intent.disclosed.length === 0 ? 'nothing about you' : intent.disclosed.join(', ')}`,
    ...intent.recipients.map(
      (r) => `  ${oneLine(r.company ?? r.relationshipId.slice(0, 8), 24).padEnd(24)} ${r.state}${r.termsDecision ? ` (terms ${r.termsDecision})` : ''}${r.anonymous ? ' (anonymous: a new pairwise DID)' : ''}`,
    ),
  ];
  if (intent.state === 'open' && intent.offers > 0) lines.push(`Compare with: kith offers ${intent.id.slice(0, 8)}`);
  return lines.join('\n');
}

/** Offers side by side: what, price, delivery, valid until, the company's terms, whether it meets her demand. */
function offersText(offers: OfferView[]): string {
  if (offers.length === 0) return 'No offers yet.';
  return table([
    ['OFFER', 'COMPANY', 'ITEM', 'PRICE', 'DELIVERY', 'VALID UNTIL', 'MEETS', 'STATE'],
    ...offers.map((o) => [
      o.id.slice(0, 8),
      oneLine(o.company ?? '-', 24),
      oneLine(o.offer.itemOffered.name, 40),
      `${o.offer.price} ${o.offer.priceCurrency}`,
      o.offer.deliveryDate ?? '-',
      formatTime(Date.parse(o.offer.validThrough)),
      o.meets ? 'yes' : `no: ${o.shortfalls.join(', ')}`,
      o.decidedBy ? `${o.state} (your rule: ${o.decidedBy})` : o.state,
    ]),
  ]);
}

/** `kith intent cast|show|close|categories`, `kith intents`, `kith offers`, `kith offer accept|decline`. */
export function registerIntentCommands(program: Command, ctx: CommandContext): void {
  const intent = program.command('intent').description('say what you want; companies answer with signed offers');

  intent
    .command('categories')
    .description('the categories an intent can name')
    .action(() =>
      run(ctx.globals, async () => {
        output(ctx.globals(), INTENT_CATEGORIES, () => table([['CATEGORY', 'WHAT', 'UNDER'], ...INTENT_CATEGORIES.map((c) => [c.id, c.label, c.parent ?? '-'])]));
      }),
    );

  intent
    .command('cast <description>')
    .description('cast an intent to your companies (each gets its own id for it); automatic offers arrive at once')
    .requiredOption('--category <id>', 'one of: kith intent categories')
    .option('--max <amount>', 'highest price, e.g. 150')
    .option('--min <amount>', 'lowest price')
    .option('--currency <code>', 'ISO 4217 currency of --min/--max, e.g. EUR')
    .option('--require-currency', 'refuse offers in another currency')
    .option('--quantity <n>', 'how many')
    .option('--country <code>', 'deliver to this country (ISO 3166-1, e.g. DE)')
    .option('--postal-code <code>', 'and this postal code')
    .option('--by <date>', 'wanted by (YYYY-MM-DD)')
    .option('--outcome <text>', 'the outcome you are after, in words')
    .option('--expires <when>', 'when the intent ends: days (7d) or a date', '7d')
    .option('--to <refs>', 'only these companies (comma-separated names or ids); default all, unless --anonymous alone')
    .option('--anonymous', 'also the companies of your directory that serve the category, each from a fresh pairwise DID (see kith directory)')
    .option('--share <fields>', 'profile fields sent with the intent (comma-separated, e.g. locality,email); nothing by default')
    .option('--persona <persona>', 'the persona the companies an anonymous cast reaches will know (default: your default persona)')
    .action((description: string, options: CastOptions) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const body = {
            demand: demandOf(description, options),
            expiresAt: expiryOf(options.expires),
            ...(options.outcome ? { outcome: options.outcome } : {}),
            ...(options.requireCurrency ? { currencyRequired: true } : {}),
            ...(options.to ? { to: options.to.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
            ...(options.anonymous ? { anonymous: true } : {}),
            ...(options.share ? { disclose: options.share.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
            ...(options.persona ? { persona: options.persona } : {}),
          };
          const { intent: cast } = await client.call(routes.castIntent, body);
          output(ctx.globals(), cast, () => intentText(cast));
        }),
      ),
    );

  intent
    .command('show <id>')
    .description('one intent and where it stands with each company')
    .action((id: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { intent: shown } = await client.call(routes.intent, { id });
          output(ctx.globals(), shown, () => intentText(shown));
        }),
      ),
    );

  intent
    .command('close <id>')
    .description('close an intent: every company it was cast to is told')
    .action((id: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { intent: closed } = await client.call(routes.closeIntent, { id });
          output(ctx.globals(), closed, () => intentText(closed));
        }),
      ),
    );

  program
    .command('intents')
    .description('your intents')
    .action(() =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { intents } = await client.call(routes.intents);
          output(ctx.globals(), intents, () => (intents.length === 0 ? 'No intents yet. Cast one with: kith intent cast "<what you want>" --category <id>' : intents.map(intentText).join('\n\n')));
        }),
      ),
    );

  program
    .command('offers <intent>')
    .description('the offers for one intent, side by side, cheapest first')
    .action((id: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { offers } = await client.call(routes.intentOffers, { id });
          output(ctx.globals(), offers, () => offersText(offers));
        }),
      ),
    );

  const offer = program.command('offer').description('answer an offer');
  offer
    .command('accept <id>')
    .description('accept an offer; every other company is told the intent is closed')
    .option('--link <relationship>', 'an anonymous offer: note (in your vault only) that it is the same company as this relationship')
    .action((id: string, options: { link?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { offer: accepted } = await client.call(routes.acceptOffer, { id }, options.link ? { linkTo: options.link } : {});
          output(ctx.globals(), accepted, () =>
            [
              `Accepted ${oneLine(accepted.offer.itemOffered.name, 80)} from ${oneLine(accepted.company ?? 'the company', 80)} for ${accepted.offer.price} ${accepted.offer.priceCurrency}. The others were told the intent is closed.`,
              ...(accepted.anonymous ? ['The company knows you only by the pairwise DID this intent was sent from.'] : []),
            ].join('\n'),
          );
        }),
      ),
    );
  offer
    .command('decline <id>')
    .description('decline an offer')
    .option('--reason <text>', 'why, for the company')
    .action((id: string, options: { reason?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { offer: declined } = await client.call(routes.declineOffer, { id }, options.reason ? { reason: options.reason } : {});
          output(ctx.globals(), declined, () => `Declined the offer from ${oneLine(declined.company ?? 'the company', 80)}.`);
        }),
      ),
    );
}

function directoryText(entries: DirectoryEntryView[]): string {
  if (entries.length === 0) return 'Your directory is empty. Add a company with: kith directory add <its URL>';
  return entries
    .map((e) =>
      [
        `${e.id.slice(0, 8)}  ${e.kind === 'directory' ? 'directory' : 'company'}  ${oneLine(e.url, 100)}  (checked ${formatTime(e.checkedAt)})`,
        ...e.companies.map((c) => `  ${oneLine(c.name, 32).padEnd(32)} ${c.categories.join(', ')}`),
        ...(e.error ? [`  ! ${oneLine(e.error, 200)}`] : []),
      ].join('\n'),
    )
    .join('\n');
}

/** `kith directory [list] | add <url> | refresh | remove <id>`: the companies anonymous intents go to. */
export function registerDirectoryCommands(program: Command, ctx: CommandContext): void {
  const directory = program.command('directory').description('companies (or directories of them) your anonymous intents go to; each description is verified by its signature');
  const list = () =>
    run(ctx.globals, () =>
      ctx.withClient(async (client) => {
        const { entries } = await client.call(routes.directory);
        output(ctx.globals(), entries, () => directoryText(entries));
      }),
    );
  directory.action(list);
  directory.command('list').description('the entries and the companies each lists').action(list);
  directory
    .command('add <url>')
    .description("a company's URL (its signed description at /.well-known/kith-company) or a directory list's URL")
    .action((url: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { entry } = await client.call(routes.addDirectoryEntry, { url });
          output(ctx.globals(), entry, () => `Added. ${directoryText([entry])}`);
        }),
      ),
    );
  directory
    .command('refresh')
    .description('fetch and verify every entry again')
    .action(() =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { entries } = await client.call(routes.refreshDirectory);
          output(ctx.globals(), entries, () => directoryText(entries));
        }),
      ),
    );
  directory
    .command('remove <id>')
    .description('remove an entry (its id from kith directory)')
    .action((id: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { entries: before } = await client.call(routes.directory);
          const matches = before.filter((e) => e.id === id || (id.length >= 4 && e.id.startsWith(id)));
          if (matches.length !== 1) throw new ApiError('api.bad_request', matches.length === 0 ? `No directory entry "${id}" (see kith directory)` : `"${id}" names several entries; give more of the id`);
          const { entries } = await client.call(routes.removeDirectoryEntry, { id: matches[0]!.id });
          output(ctx.globals(), entries, () => `Removed ${matches[0]!.url}.\n${directoryText(entries)}`);
        }),
      ),
    );
}
