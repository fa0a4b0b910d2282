/**
 * CPU time of each thread of a command, from /proc/<pid>/task/<tid>/stat
 * polled every 20 ms (the last values seen before the thread or the process
 * ended; a thread that lives less than 20 ms may be missed).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/thread-cpu.js node bin/ekv-s3-decode.js IN -o OUT -q
 *
 * Node 20 names every thread "node", so the table tells them apart by what
 * they do: the main thread is the one whose id is the process id; the
 * hash workers are the busy threads started after the first read (user
 * time ≈ hashing); libuv's pool is the four threads with system time and
 * almost no user time (file reads and writes); V8's platform threads
 * (background compiling, concurrent marking) are the four started with the
 * process, with a little user time each. Polling costs the command nothing
 * but one more process on the machine.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node dist/bench/thread-cpu.js COMMAND [ARG...]');
  process.exit(2);
}

const TICK = 100; // USER_HZ on Linux
const child = spawn(cmd, args, { stdio: 'inherit' });
const pid = child.pid!;
/** tid → [first seen (poll number), utime ticks, stime ticks] */
const seen = new Map<number, [number, number, number]>();
let polls = 0;

function poll(): void {
  polls++;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const t of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'latin1');
    } catch {
      continue;
    }
    // Fields after the ")" that closes the name: state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const tid = Number(t);
    const first = seen.get(tid)?.[0] ?? polls;
    seen.set(tid, [first, Number(f[11]), Number(f[12])]);
  }
}

const timer = setInterval(poll, 20);
poll();
child.on('exit', (code, signal) => {
  clearInterval(timer);
  const rows = [...seen].sort((a, b) => b[1][1] + b[1][2] - (a[1][1] + a[1][2]));
  let user = 0;
  let sys = 0;
  console.error('| thread | first seen (ms) | user s | system s |');
  console.error('|---|---:|---:|---:|');
  for (const [tid, [first, u, s]] of rows) {
    user += u;
    sys += s;
    console.error(`| ${tid === pid ? `${tid} (main)` : tid} | ${(first - 1) * 20} | ${(u / TICK).toFixed(2)} | ${(s / TICK).toFixed(2)} |`);
  }
  console.error(`| all (${rows.length} threads) | | ${(user / TICK).toFixed(2)} | ${(sys / TICK).toFixed(2)} |`);
  process.exitCode = code ?? (signal ? 128 : 1);
});
