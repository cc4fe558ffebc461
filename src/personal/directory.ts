import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DidError, DirectoryError, KithError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { DidResolver } from '../protocol/did/types.js';
import type { IntentCategoryId } from '../protocol/intent/categories.js';
import { serves } from '../protocol/intent/categories.js';
import {
  COMPANY_DESCRIPTION_PATH,
  companyDescriptionSchema,
  directoryListSchema,
  verifyCompanyDescription,
  type CompanyDescription,
} from '../protocol/intent/companyDescription.js';
import type { SettingsRepo } from './vault/settingsRepo.js';

/*
 * Her directory (docs/protocol/intent.md, "Anonymous recipients"): URLs she chose, each a company
 * (its signed description at /.well-known/kith-company) or a directory listing companies' URLs.
 * Her agent fetches and verifies every description itself, so no server learns what she casts,
 * and a directory cannot speak for a company. Kept in her vault's settings, encrypted like the
 * rest, and exported with them.
 */

/** One company as her directory knows it: from its signed description, verified. */
export interface DirectoryCompanyView {
  name: string;
  did: string;
  /** Its public base URL (where the description was fetched). */
  url: string;
  /** The intent categories it says it serves. */
  categories: string[];
  /** The agreements (roster URIs) it says it accepts. */
  accepts: string[];
}

/** One URL she added: a company's own, or a directory listing several companies. */
export interface DirectoryEntryView {
  id: string;
  url: string;
  kind: 'company' | 'directory';
  companies: DirectoryCompanyView[];
  /** When it was last fetched and verified (ms). */
  checkedAt: number;
  /** Why the last refresh failed (the companies listed are from the last good one), or null. */
  error: string | null;
  addedAt: number;
}

const SETTING = 'intents.directory';
/** A description or a directory list is small; anything bigger is refused unread. */
const MAX_DOCUMENT_BYTES = 256 * 1024;
const FETCH_TIMEOUT_MS = 10_000;
/** Companies of a directory list fetched at once. */
const FETCH_CONCURRENCY = 8;

const storedEntrySchema = z.object({
  id: z.uuid(),
  url: z.string().min(1).max(2000),
  kind: z.enum(['company', 'directory']),
  companies: z.array(companyDescriptionSchema),
  checkedAt: z.number().int().nonnegative(),
  error: z.string().nullable(),
  addedAt: z.number().int().nonnegative(),
});
type StoredEntry = z.infer<typeof storedEntrySchema>;
const storedDirectorySchema = z.array(storedEntrySchema);

export interface DirectoryFeature {
  list(): DirectoryEntryView[];
  /**
   * Fetches the URL and verifies what it serves before adding it.
   * @throws DirectoryError `directory.exists` | `directory.unreachable` | `directory.invalid`
   */
  add(url: string): Promise<DirectoryEntryView>;
  /** Fetches every entry again; an entry that fails keeps its last good companies and says why. */
  refresh(): Promise<DirectoryEntryView[]>;
  /** @throws DirectoryError `directory.unknown` */
  remove(id: string): DirectoryEntryView[];
  /** The companies (one per DID) that say they serve this category, as last verified. */
  companiesFor(category: IntentCategoryId): CompanyDescription[];
}

export interface DirectoryOptions {
  settings: SettingsRepo;
  resolver: DidResolver;
  clock: Clock;
  logger: Logger;
  fetch?: typeof fetch | undefined;
}

function toView(entry: StoredEntry): DirectoryEntryView {
  return {
    id: entry.id,
    url: entry.url,
    kind: entry.kind,
    companies: entry.companies.map((c) => ({ name: c.name, did: c.identifier, url: c.url, categories: [...c.categories], accepts: [...c.accepts] })),
    checkedAt: entry.checkedAt,
    error: entry.error,
    addedAt: entry.addedAt,
  };
}

/**
 * A base URL (`https://shop.example`, or one ending in `/`) names the company's description under
 * it; any other URL is fetched as given (a directory list, or a description published elsewhere).
 */
function documentUrl(url: URL): string {
  return url.pathname.endsWith('/') ? new URL(COMPANY_DESCRIPTION_PATH.slice(1), url).toString() : url.toString();
}

/** @throws DirectoryError `directory.invalid` for anything but an http(s) URL without credentials */
function parseUrl(text: string): URL {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.username !== '' || url.password !== '') {
    throw new DirectoryError('directory.invalid', `Not an http(s) URL: ${text.slice(0, 200)}`);
  }
  return url;
}

export function createDirectoryFeature(options: DirectoryOptions): DirectoryFeature {
  const { settings, resolver, clock, logger } = options;
  const fetchImpl = options.fetch ?? fetch;

  const load = (): StoredEntry[] => {
    const stored = settings.get(SETTING);
    return stored === undefined ? [] : storedDirectorySchema.parse(stored);
  };
  const save = (entries: StoredEntry[]): void => settings.set(SETTING, entries);

  /** @throws DirectoryError `directory.unreachable` | `directory.invalid` */
  async function fetchJson(url: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetchImpl(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (error) {
      throw new DirectoryError('directory.unreachable', `${url} could not be fetched`, { cause: error });
    }
    if (!response.ok) throw new DirectoryError('directory.unreachable', `${url} answered ${response.status}`);
    const tooLarge = () => new DirectoryError('directory.invalid', `${url} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    if (Number(response.headers.get('content-length') ?? 0) > MAX_DOCUMENT_BYTES) throw tooLarge();
    // Read up to the limit, and no further: a server that sends without end is cut off, not buffered.
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body?.getReader();
    for (let part = await reader?.read(); part && !part.done; part = await reader?.read()) {
      size += part.value.byteLength;
      if (size > MAX_DOCUMENT_BYTES) {
        await reader?.cancel();
        throw tooLarge();
      }
      chunks.push(part.value);
    }
    const bytes = Buffer.concat(chunks);
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (error) {
      throw new DirectoryError('directory.invalid', `${url} is not JSON`, { cause: error });
    }
  }

  /** @throws DirectoryError `directory.invalid` when the description does not verify or its DID cannot be resolved */
  async function verified(document: unknown): Promise<CompanyDescription> {
    try {
      return await verifyCompanyDescription(document, resolver);
    } catch (error) {
      if (error instanceof DidError) throw new DirectoryError('directory.invalid', `The company’s DID could not be resolved: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /** What a URL serves now: one verified company, or a directory's companies (those that verify; the rest are counted in `error`). */
  async function fetchEntry(text: string): Promise<Pick<StoredEntry, 'kind' | 'companies' | 'error'>> {
    const url = parseUrl(text);
    const document = await fetchJson(documentUrl(url));
    const list = directoryListSchema.safeParse(document);
    if (!list.success) return { kind: 'company', companies: [await verified(document)], error: null };
    const companies: CompanyDescription[] = [];
    const failures: string[] = [];
    const queue = [...new Set(list.data.companies)];
    await Promise.all(
      Array.from({ length: Math.min(FETCH_CONCURRENCY, queue.length) }, async () => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          try {
            companies.push(await verified(await fetchJson(documentUrl(parseUrl(next)))));
          } catch (error) {
            if (!(error instanceof KithError)) throw error;
            failures.push(`${next}: ${error.code}`);
          }
        }
      }),
    );
    companies.sort((a, b) => a.name.localeCompare(b.name));
    return { kind: 'directory', companies, error: failures.length === 0 ? null : `${failures.length} of ${list.data.companies.length} companies did not verify (${failures.slice(0, 3).join('; ')})` };
  }

  return {
    list: () => load().map(toView),

    async add(text) {
      const url = parseUrl(text.trim()).toString();
      if (load().some((e) => e.url === url)) throw new DirectoryError('directory.exists', `${url} is already in the directory`);
      const fetched = await fetchEntry(url);
      const now = clock.now();
      const entry: StoredEntry = { id: randomUUID(), url, ...fetched, checkedAt: now, addedAt: now };
      // Read again after the fetch: an add running at the same time is kept.
      const entries = load();
      if (entries.some((e) => e.url === url)) throw new DirectoryError('directory.exists', `${url} is already in the directory`);
      save([...entries, entry]);
      logger.info('directory_added', { kind: entry.kind, companies: entry.companies.length });
      return toView(entry);
    },

    async refresh() {
      const refreshed = await Promise.all(
        load().map(async (entry): Promise<StoredEntry> => {
          try {
            return { ...entry, ...(await fetchEntry(entry.url)), checkedAt: clock.now() };
          } catch (error) {
            if (!(error instanceof KithError)) throw error;
            return { ...entry, error: `${error.code}: ${error.message}`, checkedAt: clock.now() };
          }
        }),
      );
      // Entries removed meanwhile stay removed.
      const still = new Set(load().map((e) => e.id));
      const kept = refreshed.filter((e) => still.has(e.id));
      save(kept);
      return kept.map(toView);
    },

    remove(id) {
      const entries = load();
      if (!entries.some((e) => e.id === id)) throw new DirectoryError('directory.unknown', `No directory entry ${id}`);
      const kept = entries.filter((e) => e.id !== id);
      save(kept);
      return kept.map(toView);
    },

    companiesFor(category) {
      const byDid = new Map<string, CompanyDescription>();
      for (const entry of load()) for (const company of entry.companies) if (serves(company.categories, category) && !byDid.has(company.identifier)) byDid.set(company.identifier, company);
      return [...byDid.values()];
    },
  };
}
