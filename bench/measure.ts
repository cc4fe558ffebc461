import { readFileSync } from 'node:fs';
import { request, type Agent } from 'node:http';
import { performance } from 'node:perf_hooks';

/*
 * What the fleet benchmarks (fanout.ts, intent.ts, connect.ts) measure with: medians, parallel
 * work with a limit, CPU of other processes from /proc, the bare baseline's POST, and the table
 * they print.
 */

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** `n` split into runs of at most `size` (companies per fleet process). */
export const chunks = (n: number, size: number): number[] => Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size));

export async function inParallel<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

/** CPU time (user + system, ms) of another process, from /proc; undefined where there is none. */
export function cpuMsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return undefined;
  }
}

/** The CPU of several processes together, or undefined if any cannot be read. */
export const sumCpu = (pids: (number | undefined)[]): number | undefined => {
  const values = pids.map(cpuMsOf);
  return values.every((v) => v !== undefined) ? values.reduce((a, b) => a! + b!, 0)! : undefined;
};

/** One bare POST of an envelope to a baseline listener on loopback; resolves with the answer's size. */
export function postDidcomm(agent: Agent, port: number, body: Buffer): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/didcomm', method: 'POST', agent, headers: { 'content-type': 'application/didcomm-encrypted+json', 'content-length': body.length } },
      (res) => {
        let size = 0;
        res.on('data', (chunk: Buffer) => (size += chunk.length));
        res.on('end', () => (res.statusCode === 200 ? resolvePromise(size) : reject(new Error(`HTTP ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One round trip to each port, `concurrency` at a time; returns the wall time in ms. */
export async function bareRoundTrips(ports: number[], concurrency: number, send: (port: number) => Promise<number>): Promise<number> {
  const started = performance.now();
  await inParallel(ports, concurrency, async (port) => {
    await send(port);
  });
  return performance.now() - started;
}

/** Prints a table: the first column left-aligned, the others right-aligned. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(format(row));
}
