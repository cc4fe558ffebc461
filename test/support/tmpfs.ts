import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small tmpfs for the disk-full fault tests. Mounting needs root (or CAP_SYS_ADMIN): where it
 * is not allowed the suite is skipped loudly, as the PostgreSQL and browser suites are; with
 * KITH_TEST_REQUIRE_TMPFS=1 (CI, .ci/run) it fails instead.
 */
export interface SmallDisk {
  dir: string;
  /** Writes a filler file until the disk is full. */
  fill(): void;
  /** Deletes the filler. */
  free(): void;
  unmount(): void;
}

export function mountSmallDisk(sizeBytes: number): SmallDisk | { skipped: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kith-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmdirSync(dir);
    const reason = `cannot mount a tmpfs (${String((error as Error).message).split('\n')[0]})`;
    if (process.env['KITH_TEST_REQUIRE_TMPFS'] === '1') throw new Error(`KITH_TEST_REQUIRE_TMPFS=1 but ${reason}: run as root`);
    console.warn(`!!! disk-full fault tests SKIPPED: ${reason}. Run as root, or set KITH_TEST_REQUIRE_TMPFS=1 to make this fail.`);
    return { skipped: reason };
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(16 * 1024, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      // Lazily: a file a failed test left open must not keep the mount (and the suite) hanging.
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmdirSync(dir);
    },
  };
}
