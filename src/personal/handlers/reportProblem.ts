import { ReportProblem } from '../../protocol/families/index.js';
import { storeShown } from './basicMessage.js';
import { personalHandler } from './types.js';

/** Report Problem 2.0: shown in her thread like any message from the company. */
export const reportProblemHandlers = [personalHandler({ definition: ReportProblem.problemReport, apply: storeShown })];
