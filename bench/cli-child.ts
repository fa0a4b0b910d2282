/**
 * Runs the ekv-s3-decode CLI (or, with EKV_BENCH_CLI=encode|verify|restore,
 * ekv-s3-encode / ekv-s3-verify / ekv-s3-restore-objects) in this process, exactly as bin/ does (young generation capped and old generation growth limited first), and just before exiting writes this process's I/O counters
 * (/proc/self/io), peak RSS (VmHWM) and CPU times as JSON to the file named
 * by $EKV_BENCH_STATS. The benchmark spawns this instead of bin/ so it can
 * count the bytes the CLI wrote.
 *
 *   EKV_BENCH_STATS=/tmp/x.json node dist/bench/cli-child.js INPUT -o DIR
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { capYoungGeneration } from '../lib/cli/young-generation.js';
import { limitOldGenerationGrowth } from '../lib/cli/old-generation.js';

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

/**
 * Only the CLI measured is loaded, as its bin/ script loads it: importing
 * all four (the restore command brings the AWS SDK) cost every decode row
 * 0.2–0.3 s of CPU and ~10 MiB of RSS that the real CLI does not spend.
 */
async function load(cli: string | undefined): Promise<(argv: string[]) => Promise<number>> {
  if (cli === 'encode') return (await import('../lib/cli/encode-main.js')).main;
  if (cli === 'verify') return (await import('../lib/cli/verify-main.js')).main;
  if (cli === 'restore') {
    const { restoreObjectsMain } = await import('../lib/cli/restore-objects-main.js');
    return (argv) => restoreObjectsMain(argv);
  }
  return (await import('../lib/cli/main.js')).main;
}

capYoungGeneration();
limitOldGenerationGrowth();
const main = await load(process.env['EKV_BENCH_CLI']);
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
