/**
 * Self-time summary of a V8 .cpuprofile (as written by `node --cpu-prof`).
 *
 *   node dist/bench/cpuprofile.js FILE.cpuprofile [TOP]
 *
 * Self time of a function = the sampling intervals whose top frame is that
 * function, summed over every call site (aggregated by name + file + line).
 * Time spent in native code (crypto, fs bindings) is attributed to the JS
 * function that called into it, or to "(program)" / "(garbage collector)".
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  /** file:line (relative, shortened). */
  where: string;
  ms: number;
  pct: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  let p = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const i = p.indexOf('/dist/');
  if (i >= 0) p = p.slice(i + 1);
  const nm = p.lastIndexOf('/node_modules/');
  if (nm >= 0) p = p.slice(nm + 1);
  return p.startsWith('node:') ? p : p.includes('/') ? p : path.basename(p);
}

export interface SelfTimes {
  /** All sampled time, idle included. */
  totalMs: number;
  /** Time the main thread sat idle (waiting for I/O or the thread pool). */
  idleMs: number;
  /** Top functions by self time, "(idle)" left out; pct is of the non-idle time. */
  rows: SelfTime[];
}

/** A .cpuprofile file, parsed. */
export function readProfile(file: string): Profile {
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

/** Top `top` functions by self time. */
export function selfTimes(file: string, top = 10): SelfTimes {
  const prof = readProfile(file);
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  const acc = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    // timeDeltas[i] is the interval before sample i; attribute the interval after
    // sample i (timeDeltas[i + 1]) to it, as Chrome DevTools does.
    const dt = prof.timeDeltas[i + 1] ?? 0;
    const node = byId.get(prof.samples[i]!);
    if (!node || dt <= 0) continue;
    const cf = node.callFrame;
    const name = cf.functionName || '(anonymous)';
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${name}\u0000${where}`;
    const e = acc.get(key) ?? { name, where, us: 0 };
    e.us += dt;
    acc.set(key, e);
    total += dt;
  }
  const idle = [...acc.values()].filter((e) => e.name === '(idle)').reduce((s, e) => s + e.us, 0);
  const busy = total - idle;
  const rows = [...acc.values()]
    .filter((e) => e.name !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000, pct: busy > 0 ? (100 * e.us) / busy : 0 }));
  return { totalMs: total / 1000, idleMs: idle / 1000, rows };
}

export function formatSelfTimes(r: SelfTimes): string {
  const lines = [`| # | self ms | % of busy | function | location |`, `|---:|---:|---:|---|---|`];
  r.rows.forEach((x, i) => lines.push(`| ${i + 1} | ${x.ms.toFixed(0)} | ${x.pct.toFixed(1)} | ${x.name} | ${x.where} |`));
  const pct = r.totalMs > 0 ? ((100 * r.idleMs) / r.totalMs).toFixed(0) : '0';
  lines.push('', `Main thread: ${(r.totalMs / 1000).toFixed(2)} s sampled, ${((r.totalMs - r.idleMs) / 1000).toFixed(2)} s busy, ${pct}% idle (waiting for I/O / the libuv pool).`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/cpuprofile.js FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  console.log(formatSelfTimes(selfTimes(file, Number(process.argv[3] ?? 10))));
}
