/*
 * Her activity, for the agent's idle lock. The app refreshes by itself (live events, progress
 * polling); those calls must not keep the agent unlocked while nobody is at the screen. Every API
 * call says whether she touched the page lately (ACTIVITY_HEADER: `user` or `background`), and
 * the agent only counts `user` calls (and calls without the header, like the CLI's) as activity.
 */

export const ACTIVITY_HEADER = 'x-kith-activity';
/** Input this recent makes a call hers. */
const RECENT_MS = 30_000;

let lastInput = Date.now();

/** Listens for her input on this page (pointer, keys, touch, wheel); call once at start. */
export function trackActivity(): void {
  const mark = () => {
    lastInput = Date.now();
  };
  for (const type of ['pointerdown', 'keydown', 'touchstart', 'wheel'] as const) window.addEventListener(type, mark, { capture: true, passive: true });
}

/** The header value for a call made now. */
export function activity(): 'user' | 'background' {
  return Date.now() - lastInput <= RECENT_MS ? 'user' : 'background';
}
