/**
 * The checks of SPEC §13 over a dump's facts, one path at a time: CHECKSUMS
 * lists every file but itself exactly once with the right SHA-256; every
 * body has a sidecar and every sidecar a body; a sidecar's size_bytes and
 * plain-MD5 etag match its body; KEYMAP targets exist; nothing but regular
 * files and directories. Reported in path order.
 */
import { parseEtag } from '../core/etag.js';
import { printable } from '../core/printable.js';
import { type Fact, type FactLog, type Problem, pathRole } from './facts.js';

/**
 * One CHECKSUMS line (sha256sum format, SPEC §6) → path and lowercase hex
 * digest, or a message. The escaped form starts with `\` and writes `\n`,
 * `\r`, `\\` for those path bytes.
 */
export function parseChecksumsLine(line: Buffer): { path: Buffer; sha256: string } | string {
  const escaped = line[0] === 0x5c;
  const at = escaped ? 1 : 0;
  if (line.length < at + 67 || line[at + 64] !== 0x20 || line[at + 65] !== 0x20) return 'not a "<sha256>  <path>" line';
  const hex = line.toString('latin1', at, at + 64);
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return 'the digest is not 64 hex digits';
  const raw = line.subarray(at + 66);
  if (!escaped) return { path: Buffer.from(raw), sha256: hex.toLowerCase() };
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b !== 0x5c) {
      out.push(b);
      continue;
    }
    const n = raw[++i];
    if (n === 0x6e) out.push(0x0a);
    else if (n === 0x72) out.push(0x0d);
    else if (n === 0x5c) out.push(0x5c);
    else return 'invalid escape in the path';
  }
  return { path: Buffer.from(out), sha256: hex.toLowerCase() };
}

/** Runs the checks over every path's facts; calls report for each problem, in path order. */
export async function checkFacts(facts: FactLog, report: (p: Problem) => void): Promise<void> {
  for await (const g of facts.groups()) {
    for (const message of checkPath(g.path, g.facts)) report({ path: printable(g.path), message });
  }
}

function checkPath(p: Buffer, facts: Fact[]): string[] {
  const out: string[] = [];
  let file: Extract<Fact, { t: 'file' }> | undefined;
  let other: Extract<Fact, { t: 'other' }> | undefined;
  let hash: Extract<Fact, { t: 'hash' }> | undefined;
  let sidecar: Extract<Fact, { t: 'sidecar' }> | undefined;
  let keymap: Extract<Fact, { t: 'keymap' }> | undefined;
  const listed: string[] = [];
  let files = 0;
  for (const f of facts) {
    if (f.t === 'file') {
      file = f;
      files++;
    }
    else if (f.t === 'other') other = f;
    else if (f.t === 'hash') hash = f;
    else if (f.t === 'sidecar') sidecar = f;
    else if (f.t === 'keymap') keymap = f;
    else if (f.t === 'listed') listed.push(f.sha256);
    else out.push(f.message);
  }
  const role = pathRole(p);
  if (other) out.push(other.what);
  if (files > 1) out.push(`appears ${files} times in the archive`);
  if (role.role === 'checksums') {
    if (listed.length > 0) out.push('CHECKSUMS lists itself');
    return out;
  }
  if (listed.length > 1) out.push(`listed ${listed.length} times in CHECKSUMS`);
  const exists = file !== undefined || other !== undefined;
  if (listed.length > 0 && !exists) out.push('listed in CHECKSUMS but missing');
  if (file && listed.length === 0) out.push('not listed in CHECKSUMS');
  if (hash && listed.length > 0 && !listed.includes(hash.sha256)) out.push(`SHA-256 ${hash.sha256} does not match CHECKSUMS (${listed[0]})`);
  if (role.role === 'stray' && file) out.push('unexpected file outside s3/<bucket>/');
  if (role.role === 'body' && file && !sidecar) out.push('body without sidecar (.elastickv-meta.json)');
  if (sidecar && !file) out.push(other ? 'sidecar of a body that is not a regular file' : 'sidecar without body');
  if (sidecar && hash) {
    if (hash.size !== sidecar.size) out.push(`size ${hash.size} != sidecar size_bytes ${sidecar.size}`);
    const shape = parseEtag(sidecar.etag);
    if (shape.kind === 'md5' && hash.md5 !== undefined && shape.hex !== hash.md5) out.push(`MD5 ${hash.md5} != sidecar etag ${shape.hex}`);
  }
  if (keymap && !file) {
    out.push(keymap.encodedUtf8Lossy ? 'KEYMAP names this path but it is not valid UTF-8, so KEYMAP cannot name it losslessly' : 'KEYMAP target does not exist');
  }
  return out;
}
