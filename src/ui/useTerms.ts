import { useMemo } from 'react';
import type { Agreement, RosterView } from './types';
import { prepare, routes } from './api';
import { useResource } from './useResource';

export type RosterAgreement = Agreement & { short: string };

/** The agreements of every roster she holds, by id (titles and obligations for any page). */
export function useRoster(): { roster: RosterView | undefined; agreements: ReadonlyMap<string, RosterAgreement>; error: string | undefined; reload: () => Promise<void> } {
  const { data, error, reload } = useResource(prepare(routes.roster));
  const agreements = useMemo(() => {
    const map = new Map<string, RosterAgreement>();
    for (const roster of data?.rosters ?? []) for (const a of roster.agreements) map.set(a.id, a);
    return map;
  }, [data]);
  return { roster: data, agreements, error: error?.message, reload };
}

/** Agreement titles by id ("Service only"). */
export function useAgreementTitles(): ReadonlyMap<string, string> {
  const { agreements } = useRoster();
  return useMemo(() => new Map([...agreements].map(([id, a]) => [id, a.title])), [agreements]);
}

/** An agreement by id or by its short name ("service-only"), as companies' policies may name them. */
export function findAgreement(agreements: ReadonlyMap<string, RosterAgreement>, ref: string): RosterAgreement | undefined {
  const exact = agreements.get(ref);
  if (exact) return exact;
  for (const a of agreements.values()) if (a.short === ref) return a;
  return undefined;
}
