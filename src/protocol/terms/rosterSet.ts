import { readFile } from 'node:fs/promises';
import { createDidResolver } from '../did/resolver.js';
import type { DidResolver } from '../did/types.js';
import { tryParseJson } from '../../core/json.js';
import { readPublished } from './published.js';
import { DEFAULT_ROSTER_PUBLISHERS, agreementShortName, bundledRoster, loadRoster, termsError, type Agreement, type Roster } from './roster.js';

/**
 * The rosters an agent knows: the bundled one plus any signed roster files it was configured with.
 * A proffer or record names a roster by id and version; an agent that does not hold exactly that
 * version refuses it (terms.unknown_roster) rather than guess.
 */
export interface RosterSet {
  /** @throws TermsError terms.unknown_roster */
  get(id: string, version: number): Roster;
  /** Every roster held, in load order (the bundled one first). */
  list(): readonly Roster[];
  /**
   * An agreement by its id, or by the last segment of its id (`service-only`), from the first
   * roster that has it; or by the id or code of an agreement IEEE 7012-2025 publishes
   * (`https://myterms.info/agreements/SD-BASE`, `SD-BASE`): the roster agreement Kith reads it as
   * (published.ts, decision 0018).
   * @throws TermsError terms.unknown_agreement, terms.published_unsupported
   */
  agreement(reference: string): { roster: Roster; agreement: Agreement };
  /** The human text of an agreement, where the agent has it (bundled rosters), else undefined. */
  text(agreementId: string): string | undefined;
}

export function createRosterSet(rosters: readonly Roster[], texts: ReadonlyMap<string, string> = new Map()): RosterSet {
  const byKey = new Map(rosters.map((r) => [`${r.id}#${r.version}`, r] as const));
  return {
    get(id, version) {
      const roster = byKey.get(`${id}#${version}`);
      if (roster === undefined) throw termsError('terms.unknown_roster', 'A roster this agent does not hold', { details: { rosterId: id, version } });
      return roster;
    },
    list: () => rosters,
    agreement(given) {
      const reference = readPublished(given) ?? given;
      for (const roster of rosters) {
        const agreement = roster.agreements.find((a) => a.id === reference || agreementShortName(a.id) === reference);
        if (agreement) return { roster, agreement };
      }
      throw termsError('terms.unknown_agreement', `No agreement "${reference}" in the rosters this agent holds`);
    },
    text: (agreementId) => texts.get(agreementId),
  };
}

export interface RosterSetOptions {
  /** Paths of further signed roster files (JSON) to load after the bundled one. */
  files?: readonly string[];
  /** Publisher DIDs trusted for those files; default the bundled roster's publisher. */
  publishers?: readonly string[];
  resolver?: DidResolver;
}

/**
 * The bundled roster (texts checked against their hashes) and the configured files.
 * @throws TermsError (terms.roster_invalid, terms.unknown_roster, terms.text_mismatch); a file
 *   that cannot be read or parsed is terms.roster_invalid naming the path
 */
export async function loadRosterSet(options: RosterSetOptions = {}): Promise<RosterSet> {
  const resolver = options.resolver ?? createDidResolver();
  const bundled = await bundledRoster({ resolver });
  const rosters: Roster[] = [bundled.roster];
  for (const path of options.files ?? []) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (cause) {
      throw termsError('terms.roster_invalid', `Cannot read the roster file ${path}`, { cause });
    }
    const json = tryParseJson(text);
    if (!json.ok) throw termsError('terms.roster_invalid', `The roster file ${path} is not JSON`);
    const roster = await loadRoster(json.value, { publishers: options.publishers ?? DEFAULT_ROSTER_PUBLISHERS, resolver });
    if (!rosters.some((r) => r.id === roster.id && r.version === roster.version)) rosters.push(roster);
  }
  return createRosterSet(rosters, bundled.texts);
}
