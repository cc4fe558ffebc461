import { z } from 'zod';
import { BOTH_SIDES, defineMessage } from './registry.js';
import { standardType } from './uris.js';

export const MAX_BASIC_MESSAGE_CHARS = 16_000;

/** BasicMessage 2.0: human text both ways. */
export const BasicMessage = {
  message: defineMessage(
    standardType('basicmessage', '2.0', 'message'),
    z.object({ content: z.string().min(1).max(MAX_BASIC_MESSAGE_CHARS) }).passthrough(),
    BOTH_SIDES,
  ),
} as const;
