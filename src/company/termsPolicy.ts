import type { DidResolver } from '../protocol/did/types.js';
import type { TermsPolicy } from '../protocol/terms/negotiate.js';
import { buildMyTermsDocument, type MyTermsDocument } from '../protocol/terms/published.js';
import { loadRosterSet, type RosterSet } from '../protocol/terms/rosterSet.js';
import type { CompanyPolicy } from './config.js';

/** What the company publishes about its terms at /.well-known/kith-terms (docs/protocol/terms.md). */
export interface PublishedTerms {
  rosters: { id: string; version: number; publisher: string }[];
  /** Agreement ids it accepts as proffered. */
  accept: string[];
  /** The alternative it counters with, or null: it rejects what it does not accept. */
  preferred: string | null;
  rule: string;
  /** What it asks every new customer for right after connecting (its policy's requestOnConnect), or null. */
  asksOnConnect: { fields: string[]; claims: string[]; purpose: string; purposeCode: string | null; retention: string | null } | null;
}

export interface CompanyTermsPolicy {
  /** The rosters, and the policy with its agreement names resolved to ids; loaded once, a failed load is tried again next time. */
  setup(): Promise<{ rosters: RosterSet; policy: TermsPolicy }>;
  /** Its terms policy as published. @throws TermsError if the policy names an agreement no roster has */
  published(): Promise<PublishedTerms>;
  /**
   * The same policy in the discovery format of the public MyTerms implementations
   * (/.well-known/myterms.json): the IEEE 7012-2025 agreements it accepts, as Kith reads them
   * (protocol/terms/published.ts); effective since the policy was loaded.
   * @throws TermsError as published()
   */
  myTerms(): Promise<MyTermsDocument>;
}

function askOnConnect(policy: CompanyPolicy): PublishedTerms['asksOnConnect'] {
  // The policy was parsed with its schema when loaded: defaults are filled in.
  const ask = policy.requestOnConnect;
  if (!ask) return null;
  return { fields: ask.fields, claims: ask.credentials.flatMap((c) => c.claims), purpose: ask.purpose, purposeCode: ask.purposeCode ?? null, retention: ask.retention ?? null };
}

/** The company's terms policy: the configured rosters (or `rosters`, given) and which agreements it accepts or counters with. */
export function createCompanyTermsPolicy(policy: CompanyPolicy, resolver: DidResolver, rosters?: RosterSet, now: () => number = Date.now): CompanyTermsPolicy {
  let loadedAt = now();
  async function load(): Promise<{ rosters: RosterSet; policy: TermsPolicy }> {
    const configured = policy.terms;
    loadedAt = now();
    const set = rosters ?? (await loadRosterSet({ files: configured.rosterFiles, resolver, ...(configured.rosterPublishers ? { publishers: configured.rosterPublishers } : {}) }));
    const idOf = (reference: string): string => set.agreement(reference).agreement.id;
    return { rosters: set, policy: { accept: configured.accept.map(idOf), preferred: configured.preferred === null ? null : idOf(configured.preferred) } };
  }
  let loading: Promise<{ rosters: RosterSet; policy: TermsPolicy }> | undefined;
  function setup(): Promise<{ rosters: RosterSet; policy: TermsPolicy }> {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  }
  return {
    setup,
    async published() {
      const { rosters: set, policy: terms } = await setup();
      return {
        rosters: set.list().map((r) => ({ id: r.id, version: r.version, publisher: r.publisher })),
        accept: [...terms.accept],
        preferred: terms.preferred,
        rule: terms.preferred === null ? 'accept the listed agreements; reject any other' : 'accept the listed agreements; otherwise counter once with the preferred one',
        asksOnConnect: askOnConnect(policy),
      };
    },
    async myTerms() {
      const { policy: terms } = await setup();
      return buildMyTermsDocument(terms.accept, loadedAt);
    },
  };
}
