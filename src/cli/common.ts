import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { presentError } from '../core/errorTable.js';
import { VaultError, asKithError } from '../core/errors.js';
import { terminalLine, terminalLines } from './terminalText.js';

export interface GlobalOptions {
  home?: string;
  json?: boolean;
}

/**
 * Prints a result: JSON for `--json` (machines; JSON.stringify escapes every control character),
 * the human text otherwise, each of its lines through terminalLine: whatever text of the other
 * side a command put in it, nothing reaches the terminal as a control sequence. Text that may
 * hold line breaks of its own must be put in with terminalBlock (or oneLine) first.
 */
export function output(options: GlobalOptions, value: unknown, human: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : `${terminalLines(human())}\n`);
}

/** Every CLI error ends here: the table's message and exit code, and the error code for scripts. */
export function fail(options: GlobalOptions, thrown: unknown): never {
  const error = asKithError(thrown);
  const presentation = presentError(error.code);
  if (options.json) process.stdout.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
  // A message may quote what the other side sent (a company's name, its problem report).
  process.stderr.write(`error: ${presentation.cli}: ${terminalLine(error.message)} [${error.code}]\n`);
  if (error.code === 'internal' && process.env['KITH_DEBUG']) process.stderr.write(`${String((thrown as Error)?.stack ?? thrown)}\n`);
  process.exit(presentation.exit);
}

export function run(options: () => GlobalOptions, action: () => Promise<void>): Promise<void> {
  return action().catch((error: unknown) => fail(options(), error));
}

/** Reads a line without echoing it (passphrases never go on the command line or the screen). */
function promptHidden(question: string): Promise<string> {
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  process.stderr.write(question);
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

/** Asks a yes/no question on the terminal (stderr, so that --json output stays clean); only "y" or "yes" is yes. */
export function askYes(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  return new Promise((resolve) => {
    rl.question(`${question} [y/N] `, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}

/**
 * A secret from the environment variable, else from a hidden prompt on a terminal.
 * @throws VaultError `vault.passphrase_required` when neither is available (e.g. in CI)
 */
export async function readSecret(envName: string, question: string, confirm = false): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) throw new VaultError('vault.passphrase_required', `set ${envName}, or run in a terminal to be asked for it`);
  const first = await promptHidden(question);
  if (confirm && (await promptHidden('Repeat: ')) !== first) throw new VaultError('vault.passphrase_required', 'The two entries differ');
  if (!first) throw new VaultError('vault.passphrase_required', 'An empty passphrase is not allowed');
  return first;
}

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  // A cell is one line: a line break or control character in the other side's text shows as an escape.
  const cells = rows.map((row) => row.map(terminalLine));
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/**
 * Text from the other side on one line: line breaks become spaces, other control and invisible
 * format characters visible escapes (terminalLine), and it is cut at `max`.
 */
export function oneLine(text: string, max: number): string {
  const flat = terminalLine(text.replace(/[\r\n\u2028\u2029]+/g, ' ').trim());
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * The process that started this one, as it was when the CLI loaded: a server registers its
 * signal handling only once it listens, and a launcher that went away before then (a supervisor
 * stopping npx during a slow start-up) must still count as gone, not be mistaken for init.
 */
const LAUNCHER_AT_START = process.ppid;

/**
 * Stops a server on SIGINT or SIGTERM, and, when npm started it (`npx kith serve`, `npm exec`) or
 * the launcher asked for it (`KITH_STOP_WITH_PARENT=1`: the demo's children), also when that
 * process goes away: npm does not pass a SIGTERM on, and a demo killed outright (SIGKILL, or a
 * closed stdout pipe) cannot stop its children, which would otherwise run on alone under init.
 */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const once = () => {
    if (stopping) return;
    stopping = true;
    void stop().then(() => process.exit(0));
  };
  process.once('SIGINT', once);
  process.once('SIGTERM', once);
  const launcher = LAUNCHER_AT_START;
  const byNpx = process.env['npm_command'] === 'exec' || process.env['npm_lifecycle_event'] === 'npx';
  if (byNpx || process.env['KITH_STOP_WITH_PARENT'] === '1') {
    const watch = setInterval(() => {
      if (process.ppid === launcher) return;
      clearInterval(watch);
      process.stderr.write(`The ${byNpx ? 'npm process' : 'process'} that started this server exited: stopping.\n`);
      once();
    }, 1_000);
    watch.unref();
  }
}
