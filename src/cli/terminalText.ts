/*
 * Text that came from the other side (a company's message, name, offer or terms; her messages and
 * values on the company's side) is printed to a terminal, where control characters are commands:
 * ESC sequences erase lines, move the cursor, recolour, set the clipboard (OSC 52) or hide links
 * (OSC 8), so a message could print a fake "verified" line over the real one. Unicode bidi
 * overrides and isolates reorder what she reads, and other invisible format characters hide text.
 * Every such character is shown as a visible escape (`\x1b`, `\u202e`) instead: the text stays
 * readable and nothing in it acts on the terminal.
 */

/** C0 and C1 controls and DEL (Cc), invisible format characters (Cf, bidi controls among them), line and paragraph separators. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** Zero-width (non-)joiners: scripts and emoji sequences need them, and they reorder or hide nothing. */
const KEPT = new Set(['\u200c', '\u200d']);

function visibleEscape(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/** One line of text, safe to print: every control and invisible format character (line breaks too) as a visible escape. */
export function terminalLine(text: string): string {
  return text.replace(UNSAFE, (char) => (KEPT.has(char) ? char : visibleEscape(char)));
}

/**
 * Multi-line text (a message), safe to print: its line breaks kept, every line after the first
 * indented by `indent` so that none can pass for a line of the CLI's own (a date and an arrow);
 * everything else as {@link terminalLine}.
 */
export function terminalBlock(text: string, indent: string): string {
  return text.split(/\r?\n/).map(terminalLine).join(`\n${indent}`);
}

/** The CLI's own multi-line output, each line made safe (whatever of the other side's text it holds); its line breaks are its own. */
export function terminalLines(text: string): string {
  return text.split('\n').map(terminalLine).join('\n');
}

/** Under the text of a message line (`2026-03-12 14:05:00  <- text`): its continuation lines start there. */
export const MESSAGE_INDENT = ' '.repeat('2026-03-12 14:05:00  <- '.length);
