import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { ApiError } from '../../core/errors.js';
import { writePrivateFile } from '../../core/privateFiles.js';
import { routes, type ThingReceiptView, type ContractInput, type DueView, type LinkInput, type ThingBody, type ThingPatchBody, type ThingView } from '../../personal/http/apiContract.js';
import { askYes, formatTime, oneLine, output, run, table } from '../common.js';
import { terminalLine, terminalLines } from '../terminalText.js';
import type { CommandContext } from './context.js';

/** The options `add` and `edit` share: each field of a thing, its contracts and its companies. */
interface ThingOptions {
  name?: string;
  brand?: string;
  model?: string;
  gtin?: string;
  mpn?: string;
  serial?: string;
  purchased?: string;
  price?: string;
  seller?: string;
  location?: string;
  notes?: string;
  warranty?: string;
  warrantyStart?: string;
  warrantyBy?: string;
  service?: string;
  serviceStart?: string;
  serviceBy?: string;
  maker?: string[];
  soldBy?: string[];
  servicer?: string[];
  insurer?: string[];
  clear?: string[];
}

const FIELD_OPTIONS = [
  ['brand', 'brand'],
  ['model', 'model'],
  ['gtin', 'gtin'],
  ['mpn', 'mpn'],
  ['serial', 'serialNumber'],
  ['purchased', 'purchaseDate'],
  ['seller', 'seller'],
  ['location', 'location'],
  ['notes', 'notes'],
] as const;

/** Names `--clear` takes: the option names, and `price`. */
const CLEARABLE: Record<string, keyof ThingPatchBody> = { ...Object.fromEntries(FIELD_OPTIONS.map(([option, field]) => [option, field])), price: 'price' };

/** The type a file claims by its extension; the agent checks its first bytes against it. */
const TYPE_BY_EXTENSION: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.txt': 'text/plain',
};

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function withThingOptions(command: Command): Command {
  return command
    .option('--brand <text>')
    .option('--model <text>')
    .option('--gtin <digits>', 'GTIN / EAN / UPC from the barcode (check digit verified)')
    .option('--mpn <text>', 'manufacturer part number')
    .option('--serial <text>', 'serial number')
    .option('--purchased <date>', 'purchase date, YYYY-MM-DD')
    .option('--price <amount currency>', 'what you paid, e.g. "899.00 EUR"')
    .option('--seller <text>', 'who sold it, in your words')
    .option('--location <text>', 'where it is')
    .option('--notes <text>')
    .option('--warranty <duration>', 'warranty length, ISO 8601 (P2Y, P6M, P90D)')
    .option('--warranty-start <date>', 'when the warranty starts (default: the purchase date)')
    .option('--warranty-by <text>', 'who gives the warranty')
    .option('--service <duration>', 'service contract length, ISO 8601')
    .option('--service-start <date>', 'when the service contract starts (default: the purchase date)')
    .option('--service-by <text>', 'who gives the service contract')
    .option('--maker <relationship>', 'the company that made it (a relationship: id, prefix or name); repeatable', collect)
    .option('--sold-by <relationship>', 'the company that sold it; repeatable', collect)
    .option('--servicer <relationship>', 'the company that services it; repeatable', collect)
    .option('--insurer <relationship>', 'the company that insures it; repeatable', collect);
}

function parsePrice(text: string): { amount: string; currency: string } {
  const match = /^\s*(\S+)\s+([A-Za-z]{3})\s*$/.exec(text);
  if (!match) throw new ApiError('api.bad_request', '--price is an amount and a currency, e.g. "899.00 EUR"');
  return { amount: match[1] ?? '', currency: (match[2] ?? '').toUpperCase() };
}

function contractsOf(options: ThingOptions, purchased: string | undefined): ContractInput[] | undefined {
  const contracts: ContractInput[] = [];
  for (const [kind, duration, start, by] of [
    ['warranty', options.warranty, options.warrantyStart, options.warrantyBy],
    ['service', options.service, options.serviceStart, options.serviceBy],
  ] as const) {
    if (duration === undefined) continue;
    const from = start ?? purchased;
    if (from === undefined) throw new ApiError('api.bad_request', `--${kind} needs --${kind}-start or --purchased`);
    contracts.push({ kind, duration, start: from, ...(by ? { provider: by } : {}) });
  }
  return contracts.length === 0 ? undefined : contracts;
}

function linksOf(options: ThingOptions): LinkInput[] | undefined {
  const links: LinkInput[] = [
    ...(options.maker ?? []).map((relationship) => ({ relationship, role: 'maker' as const })),
    ...(options.soldBy ?? []).map((relationship) => ({ relationship, role: 'seller' as const })),
    ...(options.servicer ?? []).map((relationship) => ({ relationship, role: 'servicer' as const })),
    ...(options.insurer ?? []).map((relationship) => ({ relationship, role: 'insurer' as const })),
  ];
  return links.length === 0 ? undefined : links;
}

function fieldsOf(options: ThingOptions): Partial<ThingBody> {
  const fields: Partial<ThingBody> = {};
  for (const [option, field] of FIELD_OPTIONS) {
    const value = options[option];
    if (value !== undefined) fields[field] = value;
  }
  if (options.price !== undefined) fields.price = parsePrice(options.price);
  return fields;
}

const roleWords = { maker: 'made by', seller: 'sold by', servicer: 'serviced by', insurer: 'insured by' } as const;

function warrantyCell(thing: ThingView): string {
  const warranty = thing.contracts.filter((c) => c.kind === 'warranty').sort((a, b) => b.end.localeCompare(a.end))[0];
  if (!warranty) return '-';
  return warranty.status === 'ended' ? `ended ${warranty.end}` : warranty.status === 'ending' ? `ENDS ${warranty.end} (${warranty.daysLeft}d)` : `${warranty.status} to ${warranty.end}`;
}

function thingRows(things: ThingView[]): string {
  if (things.length === 0) return 'No things yet. Add one with: kith things add "<name>" --purchased 2026-03-15 --warranty P2Y';
  return table([
    ['ID', 'NAME', 'BRAND / MODEL', 'PURCHASED', 'PRICE', 'WARRANTY', 'DOCS'],
    ...things.map((t) => [
      t.id.slice(0, 8),
      oneLine(t.name, 40),
      oneLine([t.brand, t.model].filter(Boolean).join(' ') || '-', 40),
      t.purchaseDate ?? '-',
      t.price ? `${t.price.amount} ${t.price.currency}` : '-',
      warrantyCell(t),
      String(t.attachments.length),
    ]),
  ]);
}

/** One thing in full; every value through terminalLine (a receipt a company sent may have filled it). */
function thingText(t: ThingView): string {
  const line = (label: string, value: string | undefined) => (value === undefined ? [] : [`${label.padEnd(14)}${terminalLine(value)}`]);
  return terminalLines(
    [
      // A recall is a safety notice: shown before anything else (docs/protocol/thing.md).
      ...t.recalls.map((r) => `RECALL ${r.issuedAt.slice(0, 10)} from ${oneLine(t.links.find((l) => l.relationshipId === r.relationshipId)?.companyName ?? r.relationshipId.slice(0, 8), 60)}: ${oneLine(r.text, 400)}${r.url ? ` (${r.url})` : ''}`),
      `${terminalLine(t.name)}  (${t.id})`,
      ...line('Brand', t.brand),
      ...line('Model', t.model),
      ...line('GTIN', t.gtin),
      ...line('MPN', t.mpn),
      ...line('Serial', t.serialNumber),
      ...line('Purchased', t.purchaseDate),
      ...line('Price', t.price ? `${t.price.amount} ${t.price.currency}` : undefined),
      ...line('Seller', t.seller),
      ...line('Location', t.location),
      ...line('Notes', t.notes === undefined ? undefined : oneLine(t.notes, 200)),
      ...t.contracts.map((c) => `${(c.kind === 'warranty' ? 'Warranty' : 'Service').padEnd(14)}${c.start} to ${c.end} (${c.duration}, ${c.status}${c.status === 'ending' ? `, ${c.daysLeft} days left` : ''})${c.provider ? ` by ${oneLine(c.provider, 60)}` : ''}${c.scope ? `: ${oneLine(c.scope, 80)}` : ''}`),
      ...t.links.map((l) => `${'Company'.padEnd(14)}${roleWords[l.role]} ${oneLine(l.companyName ?? l.relationshipId.slice(0, 8), 60)}`),
      ...t.registrations.map((r) => `${'Registered'.padEnd(14)}with ${oneLine(r.companyName ?? r.relationshipId.slice(0, 8), 60)} on ${formatTime(r.at)}: ${r.fields.join(', ')}`),
      ...(t.proofOfPurchase ? [`${'Receipt'.padEnd(14)}signed by ${oneLine(t.proofOfPurchase.companyName ?? t.proofOfPurchase.relationshipId.slice(0, 8), 60)} (kept as proof of purchase)`] : []),
      ...t.attachments.map((a) => `${'Document'.padEnd(14)}${a.id.slice(0, 8)}  ${a.kind}: ${oneLine(a.fileName, 80)} (${a.contentType}, ${a.size} bytes, ${formatTime(a.createdAt)})`),
    ].join('\n'),
  );
}

function dueRows(due: DueView[], within: number): string {
  if (due.length === 0) return `No warranty or service contract ends within ${within} days.`;
  return table([
    ['THING', 'NAME', 'CONTRACT', 'ENDS', 'DAYS LEFT', 'BY'],
    ...due.map((d) => [d.thingId.slice(0, 8), oneLine(d.thingName, 40), d.contract.kind, d.contract.end, String(d.contract.daysLeft), oneLine(d.contract.provider ?? '-', 40)]),
  ]);
}

/** `60`, `60d`, `8w`: a number of days. */
export function parseWithin(text: string): number {
  const match = /^(\d{1,4})([dw]?)$/.exec(text.trim());
  if (!match) throw new ApiError('api.bad_request', '--within is a number of days or weeks, e.g. 60d or 8w');
  return Number(match[1]) * (match[2] === 'w' ? 7 : 1);
}

function receiptRows(receipts: ThingReceiptView[]): string {
  if (receipts.length === 0) return 'No receipts waiting. A shop that sells you something can send its signed receipt here.';
  return table([
    ['ID', 'FROM', 'PRODUCT', 'PURCHASED', 'PRICE', 'WARRANTY', 'STATE'],
    ...receipts.map((r) => [
      r.id.slice(0, 8),
      oneLine(r.companyName ?? r.relationshipId.slice(0, 8), 30),
      oneLine([r.receipt.product.name, r.receipt.product.serialNumber ? `#${r.receipt.product.serialNumber}` : ''].filter(Boolean).join(' '), 50),
      r.receipt.purchase_date,
      r.receipt.price ? `${r.receipt.price.amount} ${r.receipt.price.currency}` : '-',
      r.receipt.warranty?.duration ?? '-',
      r.state,
    ]),
  ]);
}

/** `kith things add | list | show | edit | attach | document | detach | remove | due | inventory`: what she owns (issue 13). */
export function registerThingCommands(program: Command, ctx: CommandContext): void {
  const things = program.command('things').description('what you own: receipts, warranties, manuals and the companies behind each');

  // The thing family (docs/protocol/thing.md): sellers' signed receipts and registration with makers.
  things
    .command('receipts')
    .description('signed receipts sellers sent you, waiting for you to accept or decline them')
    .option('--all', 'answered ones too')
    .action((options: { all?: boolean }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { receipts } = await client.call(routes.thingReceipts, options.all ? { all: 'true' } : {});
          output(ctx.globals(), receipts, () => terminalLines(receiptRows(receipts)));
        }),
      ),
    );
  things
    .command('accept <receipt>')
    .description('make a thing of a signed receipt (the seller linked, its warranty, the receipt kept as proof of purchase) and tell the seller')
    .action((reference: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const result = await client.call(routes.acceptThingReceipt, { id: reference });
          output(ctx.globals(), result, () => `Accepted: ${result.thing ? result.thing.id.slice(0, 8) : ''} (the seller was ${result.answer === 'sent' ? 'told' : 'not reachable: told later'}).\n${result.thing ? thingText(result.thing) : ''}`);
        }),
      ),
    );
  things
    .command('decline <receipt>')
    .description('decline a signed receipt and tell the seller')
    .action((reference: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const result = await client.call(routes.declineThingReceipt, { id: reference });
          output(ctx.globals(), result, () => `Declined ${result.receipt.id.slice(0, 8)} (the seller was ${result.answer === 'sent' ? 'told' : 'not reachable: told later'}).`);
        }),
      ),
    );
  things
    .command('register <thing>')
    .description('register a thing with its maker: only the fields you name are shared (with its gtin and model, which say which product it is, unless you name one), under a consent record')
    .requiredOption('--with <relationship>', 'the maker: relationship id, id prefix or company name')
    .requiredOption('--fields <list>', 'comma-separated: serial, purchaseDate, gtin, model, mpn, brand, name, seller')
    .option('--purpose <text>', 'what the maker may use them for (default: warranty service and safety recalls)')
    .action((reference: string, options: { with: string; fields: string; purpose?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const fields = options.fields.split(',').map((f) => f.trim()).filter(Boolean);
          const { thing } = await client.call(routes.registerThing, { id: reference }, { with: options.with, fields, ...(options.purpose === undefined ? {} : { purpose: options.purpose }) });
          output(ctx.globals(), thing, () => `Registered.\n${thingText(thing)}`);
        }),
      ),
    );

  withThingOptions(things.command('add <name>').description('add a thing')).action((name: string, options: ThingOptions) =>
    run(ctx.globals, () =>
      ctx.withClient(async (client) => {
        const contracts = contractsOf(options, options.purchased);
        const links = linksOf(options);
        const { thing } = await client.call(routes.addThing, { name, ...fieldsOf(options), ...(contracts ? { contracts } : {}), ...(links ? { links } : {}) });
        output(ctx.globals(), thing, () => `Added ${thing.id.slice(0, 8)}.\n${thingText(thing)}`);
      }),
    ),
  );

  things
    .command('list')
    .description('your things, oldest first, with their warranty')
    .action(() =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { things: list } = await client.call(routes.things);
          output(ctx.globals(), list, () => thingRows(list));
        }),
      ),
    );

  things
    .command('show <thing>')
    .description('one thing in full: fields, contracts, companies, documents')
    .action((reference: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { thing } = await client.call(routes.thing, { id: reference });
          output(ctx.globals(), thing, () => thingText(thing));
        }),
      ),
    );

  withThingOptions(things.command('edit <thing>').description('change a thing: given options replace its fields; contracts or companies given replace all of them'))
    .option('--name <text>')
    .option('--clear <field>', `remove a field (${Object.keys(CLEARABLE).join(', ')}); repeatable`, collect)
    .action((reference: string, options: ThingOptions) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const patch: ThingPatchBody = { ...fieldsOf(options), ...(options.name !== undefined ? { name: options.name } : {}) };
          for (const option of options.clear ?? []) {
            const field = CLEARABLE[option];
            if (field === undefined || field === 'name') throw new ApiError('api.bad_request', `--clear takes one of ${Object.keys(CLEARABLE).join(', ')}`);
            (patch as Record<string, unknown>)[field] = null;
          }
          const current = options.warranty || options.service ? (await client.call(routes.thing, { id: reference })).thing : undefined;
          const contracts = contractsOf(options, options.purchased ?? current?.purchaseDate);
          const links = linksOf(options);
          const { thing } = await client.call(routes.editThing, { id: reference }, { ...patch, ...(contracts ? { contracts } : {}), ...(links ? { links } : {}) });
          output(ctx.globals(), thing, () => `Changed.\n${thingText(thing)}`);
        }),
      ),
    );

  things
    .command('attach <thing> <file>')
    .description('keep a document with a thing (PDF, JPEG, PNG, GIF, WebP or text), encrypted in your vault')
    .option('--kind <kind>', 'receipt, photo, manual, warranty or other', 'other')
    .option('--type <media-type>', 'the file’s type (default: from its extension); its first bytes must agree')
    .action((reference: string, file: string, options: { kind: string; type?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const contentType = options.type ?? TYPE_BY_EXTENSION[extname(file).toLowerCase()];
          if (contentType === undefined) throw new ApiError('api.bad_request', `Say the file's type with --type (known extensions: ${Object.keys(TYPE_BY_EXTENSION).join(' ')})`);
          const bytes = readFileSync(file);
          const { attachment } = await client.call(routes.attachThing, { id: reference }, { kind: options.kind as 'other', fileName: basename(file), contentType, data: bytes.toString('base64') });
          output(ctx.globals(), attachment, () => `Kept ${terminalLine(attachment.fileName)} (${attachment.kind}, ${attachment.size} bytes) as ${attachment.id.slice(0, 8)}.`);
        }),
      ),
    );

  things
    .command('document <thing> <document>')
    .description('write a kept document to a file (readable by you only)')
    .requiredOption('--out <file>', 'where to write it')
    .action((reference: string, document: string, options: { out: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const bytes = await client.call(routes.thingDocument, { id: reference, attachmentId: document });
          writePrivateFile(options.out, Buffer.from(bytes));
          output(ctx.globals(), { file: options.out, size: bytes.byteLength }, () => `Wrote ${bytes.byteLength} bytes to ${options.out}`);
        }),
      ),
    );

  things
    .command('detach <thing> <document>')
    .description('remove one kept document')
    .action((reference: string, document: string) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const result = await client.call(routes.detachThing, { id: reference, attachmentId: document });
          output(ctx.globals(), result, () => 'Removed.');
        }),
      ),
    );

  things
    .command('remove <thing>')
    .description('remove a thing with all its documents')
    .option('--yes', 'do not ask')
    .action((reference: string, options: { yes?: boolean }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const { thing } = await client.call(routes.thing, { id: reference });
          if (!options.yes && !(await askYes(`Remove ${oneLine(thing.name, 60)} and its ${thing.attachments.length} documents? [y/N] `))) {
            output(ctx.globals(), { removed: false }, () => 'Kept.');
            return;
          }
          const result = await client.call(routes.removeThing, { id: thing.id });
          output(ctx.globals(), result, () => `Removed ${oneLine(thing.name, 60)}.`);
        }),
      ),
    );

  things
    .command('due')
    .description('warranties and service contracts ending soon')
    .option('--within <days>', 'how far ahead: days (60d) or weeks (8w)', '60d')
    .action((options: { within: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          const within = parseWithin(options.within);
          const { due } = await client.call(routes.thingsDue, { within });
          output(ctx.globals(), due, () => dueRows(due, within));
        }),
      ),
    );

  things
    .command('inventory')
    .description('your inventory for an insurer or a claim: CSV (default) or a printable HTML page with photos and totals')
    .option('--csv', 'CSV (the default)')
    .option('--html', 'a printable HTML page')
    .option('--out <file>', 'write it to this file (readable by you only) instead of the terminal')
    .action((options: { csv?: boolean; html?: boolean; out?: string }) =>
      run(ctx.globals, () =>
        ctx.withClient(async (client) => {
          if (options.csv && options.html) throw new ApiError('api.bad_request', 'Choose --csv or --html');
          const text = await client.call(routes.thingsInventory, { format: options.html ? 'html' : 'csv' });
          if (options.out !== undefined) {
            writePrivateFile(options.out, text);
            output(ctx.globals(), { file: options.out }, () => `Wrote ${options.out}`);
          } else {
            // Data for another program (a spreadsheet, a browser): piped as it is, never wrapped in
            // JSON; on a terminal, its control characters shown as escapes (a company may have written some).
            process.stdout.write(process.stdout.isTTY ? terminalLines(text) : text);
          }
        }),
      ),
    );
}
