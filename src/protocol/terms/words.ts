import type { Obligations } from './roster.js';

/*
 * An agreement's obligations in words a person reads, shared by the web app (src/ui/format.ts) and
 * the CLI (`kith terms show <rel>`), so that both say the same. Plain functions and data: the web
 * app bundles this file.
 */

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const DURATION_UNITS = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'] as const;

export function joinWords(parts: readonly string[]): string {
  if (parts.length <= 1) return parts[0] ?? '';
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1) ?? ''}`;
}

/** "P90D" → "90 days", "P1Y6M" → "1 year and 6 months"; anything else is shown as given. */
export function formatDuration(duration: string | null | undefined): string {
  if (!duration) return 'no limit stated';
  const m = DURATION.exec(duration);
  if (!m || duration === 'P' || duration.endsWith('T')) return duration;
  const parts: string[] = [];
  DURATION_UNITS.forEach((unit, i) => {
    const n = Number(m[i + 1] ?? 0);
    if (n > 0) parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
  });
  return parts.length > 0 ? joinWords(parts) : 'no time at all';
}

export const PURPOSE: Record<string, string> = {
  'service-delivery': 'delivering the service',
  'order-fulfilment': 'fulfilling orders',
  billing: 'billing',
  support: 'support',
  'legal-compliance': 'legal compliance',
  'product-improvement': 'improving its products',
  marketing: 'marketing',
};

export const OBLIGATION_NAME: Record<string, string> = {
  allowedPurposes: 'what it may use your data for',
  maxRetention: 'how long it may keep your data',
  thirdPartySharing: 'who else may get your data',
  crossSiteTracking: 'tracking across sites',
  dataPortability: 'giving your data back',
  contactOnlyOnIntent: 'when it may contact you',
  deleteOnTermination: 'deleting your data when you leave',
};

export function obligationName(name: string): string {
  return OBLIGATION_NAME[name] ?? name;
}

export interface ObligationLine {
  key: keyof Obligations;
  text: string;
  /**
   * True when this obligation protects her (shown with a check), false when it allows more, null
   * when it is a measure rather than a yes or no (retention: short or long only by comparison).
   */
  protective: boolean | null;
}

/** An agreement's obligations as sentences, each marked as protecting her or not. */
export function obligationLines(o: Obligations): ObligationLine[] {
  return [
    { key: 'allowedPurposes', text: `Uses your data only for ${joinWords(o.allowedPurposes.map((p) => PURPOSE[p] ?? p))}`, protective: !o.allowedPurposes.includes('marketing') },
    { key: 'maxRetention', text: `Keeps it at most ${formatDuration(o.maxRetention)}`, protective: null },
    {
      key: 'thirdPartySharing',
      text: o.thirdPartySharing === 'none' ? 'Shares it with no one' : o.thirdPartySharing === 'processors-only' ? 'Shares it only with processors working for it' : 'May share it with others',
      protective: o.thirdPartySharing !== 'allowed',
    },
    { key: 'crossSiteTracking', text: o.crossSiteTracking ? 'May track you across sites and apps' : 'No tracking across sites', protective: !o.crossSiteTracking },
    { key: 'dataPortability', text: o.dataPortability ? 'Gives your data back when you ask' : 'Need not give your data back', protective: o.dataPortability },
    { key: 'contactOnlyOnIntent', text: o.contactOnlyOnIntent ? 'Contacts you only when you asked for it' : 'May contact you at any time', protective: o.contactOnlyOnIntent },
    { key: 'deleteOnTermination', text: o.deleteOnTermination ? 'Deletes your data when you leave' : 'May keep your data after you leave', protective: o.deleteOnTermination },
  ];
}

