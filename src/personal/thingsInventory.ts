import type { AttachmentView, ThingView } from './things.js';

/*
 * Her inventory, for an insurer or a claim: a CSV for spreadsheets and a printable page with the
 * photos. Both are built from the things' views; nothing here reads the vault.
 */

const CSV_COLUMNS = [
  ['id', (t: ThingView) => t.id],
  ['name', (t: ThingView) => t.name],
  ['brand', (t: ThingView) => t.brand],
  ['model', (t: ThingView) => t.model],
  ['gtin', (t: ThingView) => t.gtin],
  ['mpn', (t: ThingView) => t.mpn],
  ['serial_number', (t: ThingView) => t.serialNumber],
  ['purchase_date', (t: ThingView) => t.purchaseDate],
  ['price', (t: ThingView) => t.price?.amount],
  ['currency', (t: ThingView) => t.price?.currency],
  ['seller', (t: ThingView) => t.seller],
  ['location', (t: ThingView) => t.location],
  ['warranty', (t: ThingView) => t.warranty],
  ['warranty_ends', (t: ThingView) => lastWarrantyDay(t)],
  ['companies', (t: ThingView) => t.links.map((l) => `${l.role}: ${l.companyName ?? l.relationshipId}`).join('; ')],
  ['documents', (t: ThingView) => t.attachments.map((a) => `${a.kind}: ${a.fileName}`).join('; ')],
  ['notes', (t: ThingView) => t.notes],
] as const;

function lastWarrantyDay(thing: ThingView): string | undefined {
  return thing.contracts
    .filter((c) => c.kind === 'warranty')
    .map((c) => c.end)
    .sort()
    .at(-1);
}

/**
 * One CSV cell (RFC 4180): quoted when it holds a quote, comma, CR or LF, quotes doubled. A cell
 * a spreadsheet would take for a formula (starting with = + - @, or a tab or CR that some strip
 * first) gets a leading apostrophe, so it is shown as text and never evaluated (OWASP CSV injection).
 */
export function csvCell(value: string | undefined): string {
  let text = value ?? '';
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Her things as CSV, one row each, CRLF line ends (RFC 4180), a header row first. */
export function inventoryCsv(things: readonly ThingView[]): string {
  const rows = [CSV_COLUMNS.map(([name]) => name), ...things.map((t) => CSV_COLUMNS.map(([, get]) => get(t)))];
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/** Amounts summed exactly per currency (as ten-thousandths, the finest the amount schema allows). */
export function totalsByCurrency(things: readonly ThingView[]): { currency: string; amount: string }[] {
  const sums = new Map<string, bigint>();
  for (const { price } of things) {
    if (!price) continue;
    const [whole = '0', fraction = ''] = price.amount.split('.');
    const units = BigInt(whole) * 10_000n + BigInt(fraction.padEnd(4, '0'));
    sums.set(price.currency, (sums.get(price.currency) ?? 0n) + units);
  }
  return [...sums]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, units]) => {
      const fraction = (units % 10_000n).toString().padStart(4, '0').replace(/0{1,2}$/, '');
      return { currency, amount: `${units / 10_000n}.${fraction.length < 2 ? fraction.padEnd(2, '0') : fraction}` };
    });
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** The policy the page is served with: nothing runs, nothing is fetched; images only from the page itself. */
export const INVENTORY_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface InventoryPhoto {
  attachment: AttachmentView;
  bytes: Buffer;
}

/**
 * A printable page: each thing with its details, companies, contracts and photos (inline, as data:
 * URIs of the types Kith checked by their first bytes), and the totals per currency. Every value
 * is escaped: a thing's fields may have come from a company's receipt.
 */
export function inventoryHtml(things: readonly ThingView[], photos: ReadonlyMap<string, InventoryPhoto[]>, generatedAt: string): string {
  const row = (label: string, value: string | undefined) => (value === undefined || value === '' ? '' : `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`);
  const sections = things.map((t) => {
    const images = (photos.get(t.id) ?? [])
      .filter((p) => p.attachment.contentType.startsWith('image/'))
      .map((p) => `<img alt="${escapeHtml(p.attachment.fileName)}" src="data:${p.attachment.contentType};base64,${p.bytes.toString('base64')}">`)
      .join('');
    const contracts = t.contracts.map((c) => `${c.kind} ${c.start} – ${c.end}${c.provider ? ` (${c.provider})` : ''}: ${c.status}`).join('; ');
    return `<section><h2>${escapeHtml(t.name)}</h2><table>${[
      row('Brand', t.brand),
      row('Model', t.model),
      row('GTIN', t.gtin),
      row('MPN', t.mpn),
      row('Serial number', t.serialNumber),
      row('Purchased', t.purchaseDate),
      row('Price', t.price ? `${t.price.amount} ${t.price.currency}` : undefined),
      row('Seller', t.seller),
      row('Location', t.location),
      row('Contracts', contracts),
      row('Companies', t.links.map((l) => `${l.role}: ${l.companyName ?? l.relationshipId}`).join('; ')),
      row('Documents', t.attachments.map((a) => `${a.kind}: ${a.fileName}`).join('; ')),
      row('Notes', t.notes),
    ].join('')}</table>${images ? `<div class="photos">${images}</div>` : ''}</section>`;
  });
  const totals = totalsByCurrency(things)
    .map((t) => `<tr><th>${escapeHtml(t.currency)}</th><td>${escapeHtml(t.amount)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Inventory</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em}section{break-inside:avoid;border-top:1px solid #ccc;padding:.5em 0}th{text-align:left;padding-right:1em;vertical-align:top}img{max-width:45%;max-height:240px;margin:.25em}</style>
</head><body>
<h1>Inventory</h1>
<p>${things.length} things, as of ${escapeHtml(generatedAt)}.</p>
${sections.join('\n')}
<h2>Total paid</h2><table>${totals || '<tr><td>No prices recorded.</td></tr>'}</table>
</body></html>
`;
}
