/**
 * Runs the ekv-s3-decode CLI (or, with EKV_BENCH_CLI=encode|verify|restore,
 * ekv-s3-encode / ekv-s3-verify / ekv-s3-restore-objects) in this process, exactly as bin/ does, and just before exiting writes this process's I/O counters
 * (/proc/self/io), peak RSS (VmHWM) and CPU times as JSON to the file named
 * by $EKV_BENCH_STATS. The benchmark spawns this instead of bin/ so it can
 * count the bytes the CLI wrote.
 *
 *   EKV_BENCH_STATS=/tmp/x.json node dist/bench/cli-child.js INPUT -o DIR
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { main as decodeMain } from '../lib/cli/main.js';
import { main as encodeMain } from '../lib/cli/encode-main.js';
import { main as verifyMain } from '../lib/cli/verify-main.js';
import { restoreObjectsMain } from '../lib/cli/restore-objects-main.js';

export interface ChildStats {
  exitCode: number;
  /** /proc/self/io fields (rchar, wchar, read_bytes, write_bytes, cancelled_write_bytes, syscr, syscw); empty when unavailable. */
  io: Record<string, number>;
  /** VmHWM in KiB (0 when unavailable). */
  vmHwmKiB: number;
  /** process.resourceUsage(): maxRSS (KiB), user/system CPU (µs), fs writes/reads (blocks). */
  maxRssKiB: number;
  userCpuUs: number;
  systemCpuUs: number;
}

function procIo(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync('/proc/self/io', 'latin1').split('\n')) {
      const m = /^(\w+):\s+(\d+)$/.exec(line);
      if (m) out[m[1]!] = Number(m[2]);
    }
  } catch {
    // Not Linux, or /proc not mounted.
  }
  return out;
}

function vmHwm(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const cli = process.env['EKV_BENCH_CLI'];
const main = cli === 'encode' ? encodeMain : cli === 'verify' ? verifyMain : cli === 'restore' ? (argv: string[]) => restoreObjectsMain(argv) : decodeMain;
const code = await main(process.argv.slice(2));
process.stdout.write('', () => {
  const statsPath = process.env['EKV_BENCH_STATS'];
  if (statsPath) {
    const ru = process.resourceUsage();
    const stats: ChildStats = {
      exitCode: code,
      io: procIo(),
      vmHwmKiB: vmHwm(),
      maxRssKiB: ru.maxRSS,
      userCpuUs: ru.userCPUTime,
      systemCpuUs: ru.systemCPUTime,
    };
    writeFileSync(statsPath, JSON.stringify(stats));
  }
  process.exit(code);
});
