import { z } from 'zod';
import { BOTH_SIDES, defineMessage } from './registry.js';
import { standardType } from './uris.js';

/** Report Problem 2.0: `code` is `e|w.p|m.<descriptor>` per the spec. */
export const ReportProblem = {
  problemReport: defineMessage(
    standardType('report-problem', '2.0', 'problem-report'),
    z
      .object({
        code: z.string().regex(/^[ew]\.[pm](\.[a-z0-9-]+)+$/),
        comment: z.string().max(2000).optional(),
        args: z.array(z.string().max(500)).max(20).optional(),
        escalate_to: z.string().optional(),
      })
      .passthrough(),
    BOTH_SIDES,
  ),
} as const;
