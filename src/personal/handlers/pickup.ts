import { Pickup } from '../../protocol/families/index.js';
import { personalHandler } from './types.js';

/** Message Pickup 3.0 replies carry no effect of their own: the pickup loop (personal/messaging.ts) reads their attachments. */
export const pickupHandlers = [personalHandler({ definition: Pickup.status, apply: () => undefined }), personalHandler({ definition: Pickup.delivery, apply: () => undefined })];
