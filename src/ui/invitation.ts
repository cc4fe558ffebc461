/**
 * What she pasted or a link carried, as the agent takes it: a `web+kith:` link (the browser hands
 * the whole link to /connect?invitation=%s) carries the invitation URL after the scheme.
 */
export function normaliseInvitation(text: string): string {
  let value = text.trim();
  const scheme = /^web\+kith:/i.exec(value);
  if (scheme) {
    value = value.slice(scheme[0].length);
    if (/^(https?%3A|%7B)/i.test(value)) {
      try {
        value = decodeURIComponent(value);
      } catch {
        // Leave it as it is; the agent says what is wrong with it.
      }
    }
  }
  return value;
}
