import { retentionSchema } from '../families/disclose.js';
import { SHARING_LEVELS, termsError, type Obligations } from './roster.js';

/*
 * Comparing obligations, and checking a company's use of her data against them.
 *
 * Retention durations are ISO 8601 durations of whole numbers (the disclose retentionSchema:
 * PnYnMnWnDTnHnMnS). Their length in seconds depends on where they start (months of 28 to 31
 * days, years of 365 or 366), so "a <= b" is decided conservatively, never by one conversion
 * table that would call P1Y <= P365D (false in a leap year) or P31D <= P1M (false in February):
 *
 *   1. Exact: normalise each to (months = 12Y + M, days = 7W + D, seconds = 3600H + 60M + S).
 *      If a's three parts are each <= b's, a ends no later than b from any start date (adding
 *      months, then days, then seconds is monotone in each), so a <= b.
 *   2. Otherwise by bounds: a <= b if a's longest possible length <= b's shortest, with
 *      12 months = 365..366 days, each further month = 28..31 days, W = 7 days, D = 24 hours
 *      (UTC reckoning: no daylight-saving days), H/M/S exact.
 *   3. Otherwise (or if either is not such a duration) a is NOT <= b.
 *
 * So P6M <= P1Y, P1Y <= P12M, P1M <= P31D, P1D <= PT24H and P1Y <= P366D hold; P30D <= P1M,
 * P1Y <= P365D and P180D <= P6M do not (each is longer for some start date, or could be).
 * Arithmetic is in BigInt, so no duration is too long to compare exactly.
 */

const DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const DAY = 86_400n;

interface NormalDuration {
  months: bigint;
  days: bigint;
  seconds: bigint;
}

/** The three exact parts of an ISO 8601 duration, or undefined if it is not one retentionSchema accepts. */
function normalise(duration: string): NormalDuration | undefined {
  if (!retentionSchema.safeParse(duration).success) return undefined;
  const m = DURATION.exec(duration);
  if (m === null) return undefined;
  const n = (i: number): bigint => BigInt(m[i] ?? '0');
  return { months: n(1) * 12n + n(2), days: n(3) * 7n + n(4), seconds: n(5) * 3600n + n(6) * 60n + n(7) };
}

/**
 * The moment a retention that started at `startMs` ends: calendar months and years in UTC (P1M
 * from 31 January ends on 2 or 3 March, as Date does), then days and seconds exactly. Undefined if
 * `duration` is not an ISO 8601 duration of the retentionSchema form.
 */
export function retentionEndsAt(startMs: number, duration: string): number | undefined {
  const d = normalise(duration);
  if (d === undefined) return undefined;
  const date = new Date(startMs);
  date.setUTCMonth(date.getUTCMonth() + Number(d.months));
  const end = date.getTime() + Number(d.days * DAY + d.seconds) * 1000;
  return Number.isFinite(end) ? end : undefined;
}

function shortestSeconds(d: NormalDuration): bigint {
  return ((d.months / 12n) * 365n + (d.months % 12n) * 28n + d.days) * DAY + d.seconds;
}

function longestSeconds(d: NormalDuration): bigint {
  return ((d.months / 12n) * 366n + (d.months % 12n) * 31n + d.days) * DAY + d.seconds;
}

/**
 * True only if retention `a` cannot last longer than `b`, from any start date (see above).
 * False if either is not an ISO 8601 duration of the retentionSchema form.
 */
export function retentionAtMost(a: string, b: string): boolean {
  const x = normalise(a);
  const y = normalise(b);
  if (x === undefined || y === undefined) return false;
  if (x.months <= y.months && x.days <= y.days && x.seconds <= y.seconds) return true;
  return longestSeconds(x) <= shortestSeconds(y);
}

export type ObligationName = keyof Obligations;

export interface ProtectionComparison {
  /** True when `weaker` is empty. */
  ok: boolean;
  /** The obligations in which the alternative protects her less, in the order of the schema. */
  weaker: ObligationName[];
}

const sharingRank = (level: Obligations['thirdPartySharing']): number => SHARING_LEVELS.indexOf(level);

/**
 * Does `alternative` protect her at least as well as `proffered`, obligation by obligation?
 *   allowedPurposes      a subset of the proffered purposes
 *   maxRetention         at most as long ({@link retentionAtMost}, conservative)
 *   thirdPartySharing    none < processors-only < allowed: no further along
 *   crossSiteTracking    false is better: true only if the proffered is true
 *   dataPortability      true is better: false only if the proffered is false
 *   contactOnlyOnIntent  true is better
 *   deleteOnTermination  true is better
 */
export function isAtLeastAsProtective(alternative: Obligations, proffered: Obligations): ProtectionComparison {
  const weaker: ObligationName[] = [];
  const allowed = new Set<string>(proffered.allowedPurposes);
  if (!alternative.allowedPurposes.every((p) => allowed.has(p))) weaker.push('allowedPurposes');
  if (!retentionAtMost(alternative.maxRetention, proffered.maxRetention)) weaker.push('maxRetention');
  if (sharingRank(alternative.thirdPartySharing) > sharingRank(proffered.thirdPartySharing)) weaker.push('thirdPartySharing');
  if (alternative.crossSiteTracking && !proffered.crossSiteTracking) weaker.push('crossSiteTracking');
  if (!alternative.dataPortability && proffered.dataPortability) weaker.push('dataPortability');
  if (!alternative.contactOnlyOnIntent && proffered.contactOnlyOnIntent) weaker.push('contactOnlyOnIntent');
  if (!alternative.deleteOnTermination && proffered.deleteOnTermination) weaker.push('deleteOnTermination');
  return { ok: weaker.length === 0, weaker };
}

export interface IntendedUse {
  /** A term of the purpose vocabulary (roster.ts PURPOSES); any other string is outside every agreement. */
  purpose: string;
  /**
   * How long the company means to keep the data, as an ISO 8601 duration; null = unspecified.
   * Unspecified is always outside the terms: every agreement caps retention, and a use that names
   * no limit has not promised to respect the cap. A string that is not such a duration is outside too.
   */
  retention: string | null;
}

/**
 * Checks a company's intended use against agreed obligations: purpose first, then retention.
 * @throws TermsError terms.outside_terms with details `{ obligation: 'allowedPurposes' }` or
 *   `{ obligation: 'maxRetention' }`
 */
export function checkWithinTerms(obligations: Obligations, use: IntendedUse): void {
  if (!(obligations.allowedPurposes as readonly string[]).includes(use.purpose)) {
    throw termsError('terms.outside_terms', 'Purpose not allowed by the agreed terms', { details: { obligation: 'allowedPurposes' } });
  }
  if (use.retention === null || !retentionAtMost(use.retention, obligations.maxRetention)) {
    throw termsError('terms.outside_terms', use.retention === null ? 'No retention given: the agreed terms cap it' : 'Retention longer than the agreed terms allow', {
      details: { obligation: 'maxRetention' },
    });
  }
}
