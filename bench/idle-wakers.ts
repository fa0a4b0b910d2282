/**
 * What the main thread waited for: each stretch of "(idle)" samples in a V8
 * CPU profile is charged to the first frames of the sample that ended it
 * (the callback that woke the thread: a write's completion, a read's, a
 * stream resumed...). Summed per waking stack, largest first.
 *
 *   node --cpu-prof --cpu-prof-interval 200 --cpu-prof-dir=P bin/ekv-s3-decode.js IN -o OUT -q
 *   npx tsc -p tsconfig.json && node dist/bench/idle-wakers.js P/CPU....cpuprofile [--from MS] [--depth N] [--top N]
 *
 * --from skips the first MS of the profile (start-up), --depth is how many
 * frames from the bottom of the waking stack name it (default 9).
 */
import { parseArgs } from 'node:util';
import { readProfile } from './cpuprofile.js';

const { values, positionals } = parseArgs({
  options: { from: { type: 'string', default: '0' }, depth: { type: 'string', default: '9' }, top: { type: 'string', default: '12' } },
  allowPositionals: true,
});
const file = positionals[0];
if (!file) {
  console.error('usage: node dist/bench/idle-wakers.js PROFILE.cpuprofile [--from MS] [--depth N] [--top N]');
  process.exit(2);
}
const profile = readProfile(file);
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** Function names from the bottom of the stack, without V8's pseudo-frames. */
function stack(id: number): string[] {
  const names: string[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) names.push(nodes.get(at)!.callFrame.functionName || '(anonymous)');
  return names.reverse().filter((f) => f !== '(root)' && f !== '(program)');
}

const from = Number(values.from) * 1000;
const depth = Number(values.depth);
const woken = new Map<string, { times: number; us: number }>();
let t = 0;
let idleSince = -1;
let idle = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i]!;
  if (t < from) continue;
  const id = profile.samples[i]!;
  if (nodes.get(id)!.callFrame.functionName === '(idle)') {
    if (idleSince < 0) idleSince = t;
    continue;
  }
  if (idleSince < 0) continue;
  const key = stack(id).slice(0, depth).join(' > ');
  const w = woken.get(key) ?? { times: 0, us: 0 };
  w.times++;
  w.us += t - idleSince;
  idle += t - idleSince;
  woken.set(key, w);
  idleSince = -1;
}
console.log(`idle ${(idle / 1000).toFixed(0)} ms after the first ${values.from} ms`);
for (const [key, w] of [...woken].sort((a, b) => b[1].us - a[1].us).slice(0, Number(values.top))) {
  console.log(`${(w.us / 1000).toFixed(0)} ms idle, ${w.times}×, woken by: ${key}`);
}
