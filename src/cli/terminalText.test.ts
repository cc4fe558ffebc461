import { describe, expect, it } from 'vitest';
import { oneLine, table } from './common.js';
import { MESSAGE_INDENT, terminalBlock, terminalLine, terminalLines } from './terminalText.js';

const ESC = '\u001b';
const BEL = '\u0007';
/** Erase the line, back to its start, print a green "verified". */
const FAKE_VERIFIED = `${ESC}[2K\r${ESC}[32mverified${ESC}[0m`;
/** OSC 8: a link whose text hides where it goes; OSC 52: write her clipboard. */
const OSC_8 = `${ESC}]8;;https://evil.example${ESC}\\click here${ESC}]8;;${ESC}\\`;
const OSC_52 = `${ESC}]52;c;${Buffer.from('rm -rf ~').toString('base64')}${BEL}`;

/** Any character a terminal could take as a command, or that reorders or hides text. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069\ufeff]/u;

describe('terminalLine', () => {
  it('shows ESC, CR, BEL and the other C0 and C1 controls and DEL as visible escapes', () => {
    expect(terminalLine(FAKE_VERIFIED)).toBe('\\x1b[2K\\x0d\\x1b[32mverified\\x1b[0m');
    expect(terminalLine(OSC_52)).toBe(`\\x1b]52;c;${Buffer.from('rm -rf ~').toString('base64')}\\x07`);
    expect(terminalLine(OSC_8)).toBe('\\x1b]8;;https://evil.example\\x1b\\click here\\x1b]8;;\\x1b\\');
    expect(terminalLine('a\u0000b\u0008c\u007fd\u009be\u0085f\tg')).toBe('a\\x00b\\x08c\\x7fd\\x9be\\x85f\\x09g');
    for (const text of [FAKE_VERIFIED, OSC_8, OSC_52]) expect(terminalLine(text)).not.toMatch(UNSAFE);
  });

  it('shows line breaks too: one line stays one line', () => {
    expect(terminalLine('one\ntwo\r\nthree\u2028four\u2029five')).toBe('one\\x0atwo\\x0d\\x0athree\\u2028four\\u2029five');
  });

  it('shows bidi overrides, embeddings, isolates and marks, and other invisible format characters', () => {
    // "exe.txt" read backwards: an override would show "txt.exe".
    expect(terminalLine('invoice\u202etxt.exe')).toBe('invoice\\u202etxt.exe');
    const bidi = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c'];
    for (const char of bidi) expect(terminalLine(`a${char}b`)).toBe(`a\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}b`);
    expect(terminalLine('zero\u200bwidth\ufeffbom\u2060joiner\u00adsoft')).toBe('zero\\u200bwidth\\ufeffbom\\u2060joiner\\xadsoft');
    // A tag character (invisible text) beyond the BMP.
    expect(terminalLine('hidden\u{e0041}')).toBe('hidden\\u{e0041}');
  });

  it('leaves ordinary text alone: accents, other scripts, right-to-left text, emoji with their joiners', () => {
    for (const text of ['Zoë Ångström-山田', 'שלום עולם', 'مرحبا', 'family 👨‍👩‍👧', 'می‌خواهم', 'price: 12.99 € — "quoted" \\ backslash']) {
      expect(terminalLine(text)).toBe(text);
    }
  });
});

describe('terminalBlock', () => {
  it('keeps the line breaks of a message and indents every line after the first, so none passes for a line of the CLI', () => {
    const forged = `Hello\n2026-01-01 00:00:00  <- ${FAKE_VERIFIED}\r\nbye`;
    expect(terminalBlock(forged, MESSAGE_INDENT)).toBe(
      `Hello\n${MESSAGE_INDENT}2026-01-01 00:00:00  <- \\x1b[2K\\x0d\\x1b[32mverified\\x1b[0m\n${MESSAGE_INDENT}bye`,
    );
    expect(MESSAGE_INDENT).toBe(' '.repeat(24));
  });
});

describe('the CLI helpers that print the other side’s text', () => {
  it('terminalLines keeps the CLI’s own line breaks and escapes everything else', () => {
    expect(terminalLines(`ours\n${FAKE_VERIFIED}`)).toBe('ours\n\\x1b[2K\\x0d\\x1b[32mverified\\x1b[0m');
  });

  it('a table cell is one line, and the columns line up on the escaped text', () => {
    const cell = 'Evil\\x0a\\x1b[32mCo';
    expect(table([['NAME', 'STATE'], [`Evil\n${ESC}[32mCo`, 'active']])).toBe(`${'NAME'.padEnd(cell.length)}  STATE\n${cell}  active`);
  });

  it('oneLine turns line breaks into spaces and shows the other controls', () => {
    expect(oneLine(`a\nb ${ESC}[2J`, 80)).toBe('a b \\x1b[2J');
    expect(oneLine('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
