import { outgoing } from '../../protocol/buildMessage.js';
import { TrustPing } from '../../protocol/families/index.js';
import { personalHandler } from './types.js';

/** Trust Ping 2.0: answered unless the company said it needs no answer; a response has no effect. */
export const trustPingHandlers = [
  personalHandler({
    definition: TrustPing.ping,
    apply: (_tx, received) => (received.message.body.response_requested === false ? undefined : { reply: outgoing(TrustPing.pingResponse, {}) }),
  }),
  personalHandler({ definition: TrustPing.pingResponse, apply: () => undefined }),
];
