import { outgoing } from '../../protocol/buildMessage.js';
import { TrustPing } from '../../protocol/families/index.js';
import { companyHandler } from './types.js';

/** Trust Ping 2.0: answered unless she said she needs no answer. */
export const trustPingHandlers = [
  companyHandler({
    definition: TrustPing.ping,
    apply: async (_tx, received) => (received.message.body.response_requested === false ? {} : { reply: outgoing(TrustPing.pingResponse, {}) }),
  }),
];
