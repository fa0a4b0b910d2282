/**
 * End-to-end harness: runs the real CLI (`bin/ekv-s3-decode.js`, in a worker
 * thread: see runCli) on snapshots the tests build with test/helpers/snapshot.ts,
 * and reads back the dump tree. Expectations are always written in the test
 * files from the SPEC; this module only runs, reads and applies the checks
 * every run must pass (SPEC §2, §6):
 *
 *   success: file modes 0600 / 0644 (MANIFEST.json, CHECKSUMS), dirs 0755,
 *            only regular files, CHECKSUMS exactly as the SPEC describes it
 *            for the tree found (expectedChecksums hashes every file), and
 *            accepted by the real `sha256sum -c` when it has a line that is
 *            not plain printable ASCII (see needsRealCheck);
 *   failure: DIR absent (or as it was);
 *   always:  nothing left beside DIR (no `DIR.partial-*`) or in TMPDIR.
 *
 * Nothing here imports lib/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import type { BuildFsmOptions } from '../helpers/fsm.js';
import { hostRuns, runOnHost } from './cli-host.js';
import { DEFAULT_LAST_MODIFIED_HLC, md5hex, SnapshotBuilder, type SnapshotEntry } from '../helpers/snapshot.js';

/** The repository root (this file runs from dist/test/e2e/). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.join(REPO, 'bin', 'ekv-s3-decode.js');
export const ENCODE_BIN = path.join(REPO, 'bin', 'ekv-s3-encode.js');
export const VERIFY_BIN = path.join(REPO, 'bin', 'ekv-s3-verify.js');

export type Form = 'jsonl' | 'fsm';
export const FORMS: readonly Form[] = ['jsonl', 'fsm'];

// ---------------------------------------------------------------- processes

/** At most this many CLI processes per ava worker at once (2 cores). */
const MAX_PROCS = 3;
let running = 0;
const waiting: Array<() => void> = [];

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_PROCS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Bytes piped to stdin (otherwise stdin is empty). */
  stdin?: Buffer;
  env?: Record<string, string>;
  /** The command to run (default BIN, ekv-s3-decode). */
  bin?: string;
}

/**
 * Runs `node bin/ekv-s3-decode.js ...args` (or opts.bin) and collects its
 * exit code and output.
 *
 * The command runs in a thread of the test process that has its modules
 * loaded already (cli-host.ts), with its own argv, environment, stdin and
 * stdout: a new process per run cost ~0.4 s of CPU, most of it starting
 * Node and loading modules (issue 10: ~700 runs per `npm test`). A run that
 * needs its own working directory (threads share the process's) is a real
 * child process, as are the tests of what only a process has: bin/'s exit
 * handling, signals, fd limits, a stalled stdout, a terminal
 * (test/e2e/faults.test.ts, signals.test.ts, the shell pipelines).
 */
export function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const bin = opts.bin ?? BIN;
  if (opts.cwd === undefined && hostRuns(bin)) return slot(() => runOnHost(bin, args, { ...process.env, ...opts.env }, opts.stdin));
  return slot(() => runCliProcess(args, opts));
}

/** Runs `node BIN ...args` (or opts.bin) as a child process: what runCli does for a run it cannot host. */
export function runCliProcess(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.stdin.on('error', () => {}); // the CLI may exit before reading it all
    child.stdin.end(opts.stdin ?? Buffer.alloc(0));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

// ---------------------------------------------------------------- temp dirs

/** A fresh directory under os.tmpdir(), removed when the test ends. */
export function tempDir(t: ExecutionContext, prefix = 'ekv-e2e-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------- trees

/**
 * A path for display and comparison: the bytes as UTF-8 when they are valid
 * UTF-8, else latin1 with every byte ≥ 0x80 written `\xHH`.
 */
export function showPath(p: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(p);
  } catch {
    let s = '';
    for (const b of p) s += b >= 0x80 ? `\\x${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b);
    return s;
  }
}

export interface TreeEntry {
  /** Raw path bytes relative to the root, `/`-separated. */
  raw: Buffer;
  data: Buffer;
  mode: number;
}

export interface ReadTree {
  /** Files by showPath(relative path). */
  files: Map<string, TreeEntry>;
  /** Directories (relative, showPath) with their modes; "" is the root. */
  dirs: Map<string, number>;
  /** Anything that is neither a regular file nor a directory. */
  others: string[];
}

/** Reads every file under root, with Buffer paths (object keys need not be UTF-8). */
export function readTree(root: string): ReadTree {
  const tree: ReadTree = { files: new Map(), dirs: new Map(), others: [] };
  const rootBuf = Buffer.from(root);
  const walk = (rel: Buffer): void => {
    const abs = rel.length ? Buffer.concat([rootBuf, Buffer.from('/'), rel]) : rootBuf;
    const st = fs.lstatSync(abs);
    if (st.isDirectory()) {
      tree.dirs.set(showPath(rel), st.mode & 0o7777);
      for (const name of fs.readdirSync(abs, { encoding: 'buffer' })) {
        walk(rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : name);
      }
    } else if (st.isFile()) {
      tree.files.set(showPath(rel), { raw: rel, data: fs.readFileSync(abs), mode: st.mode & 0o7777 });
    } else tree.others.push(showPath(rel));
  };
  walk(Buffer.alloc(0));
  return tree;
}

/** sha256sum's line for one file (SPEC §6 CHECKSUMS, escaped form for \n \r \\). */
export function checksumLine(rel: Buffer, data: Buffer): Buffer {
  const hex = createHash('sha256').update(data).digest('hex');
  const needsEscape = rel.some((b) => b === 0x0a || b === 0x0d || b === 0x5c);
  if (!needsEscape) return Buffer.concat([Buffer.from(`${hex}  `), rel, Buffer.from('\n')]);
  const out: number[] = [];
  for (const b of rel) {
    if (b === 0x0a) out.push(0x5c, 0x6e);
    else if (b === 0x0d) out.push(0x5c, 0x72);
    else if (b === 0x5c) out.push(0x5c, 0x5c);
    else out.push(b);
  }
  return Buffer.concat([Buffer.from(`\\${hex}  `), Buffer.from(out), Buffer.from('\n')]);
}

/**
 * Whether a CHECKSUMS that equals expectedChecksums() must still be shown to
 * the real `sha256sum -c`: when a line is in the escaped form or names a
 * path with a byte outside printable ASCII. A file of plain lines only
 * (`<hex>  <path>`) that equals expectedChecksums() has the hashes of the
 * files read and the form the tar, output-dir, cluster and faults tests
 * check with the real tool. Running it after every decode cost ~250
 * processes per `npm test`, each ~50 ms of CPU when forked from a test
 * process of 500 MiB (against ~10 ms from a small one).
 */
function needsRealCheck(sums: Buffer): boolean {
  return !/^(?:[0-9a-f]{64} {2}[\x20-\x5b\x5d-\x7e]+\n)*$/.test(sums.toString('latin1'));
}

/** The CHECKSUMS the SPEC requires for this tree: every file but CHECKSUMS, sorted bytewise by path. */
export function expectedChecksums(tree: ReadTree): Buffer {
  const files = [...tree.files.values()].filter((f) => !f.raw.equals(Buffer.from('CHECKSUMS')));
  files.sort((a, b) => Buffer.compare(a.raw, b.raw));
  return Buffer.concat(files.map((f) => checksumLine(f.raw, f.data)));
}

// ---------------------------------------------------------------- logs

export interface LogLine {
  level?: string;
  event?: string;
  code?: string;
  message?: string;
  [k: string]: unknown;
}

/** The JSON lines of a --log-format json stderr (other lines are ignored). */
export function jsonLog(stderr: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      /* not JSON */
    }
  }
  return out;
}

// ---------------------------------------------------------------- decode

export interface DecodeOptions {
  /** Extra CLI flags. */
  args?: string[];
  /** Options for toFsm (default: sorted, EKVTHLC1 header, CRC footer, lastCommitTs 1000). */
  fsm?: BuildFsmOptions;
  /** Options for toJsonl. */
  jsonl?: { shuffle?: number; crlf?: boolean; blankLines?: boolean };
  /** Input file name (default in.jsonl / in.fsm). */
  inputName?: string;
  /** Pipe the input through stdin instead of naming a file. */
  stdin?: boolean;
  /** Text log instead of --log-format json. */
  textLog?: boolean;
}

export interface Dump {
  form: Form | 'raw';
  code: number | null;
  stderr: string;
  log: LogLine[];
  /** Warning event names, sorted. */
  warnings: string[];
  /** Error codes from error lines (JSON log) or "error CODE" (text). */
  errors: string[];
  root: string;
  /** The tree when the run succeeded (exit 0 or 3). */
  tree?: ReadTree;
}

export const FSM_DEFAULTS: BuildFsmOptions = { sort: true, header: 'v1', footer: true, lastCommitTs: 1000n };

/** The input bytes of a snapshot in one form. */
export function inputBytes(snap: SnapshotBuilder, form: Form, opts: DecodeOptions = {}): Buffer {
  return form === 'jsonl' ? snap.toJsonl(opts.jsonl ?? {}) : snap.toFsm(opts.fsm ?? FSM_DEFAULTS);
}

/**
 * Decodes a snapshot (or raw input bytes) with the real CLI in a fresh work
 * dir `W` (W/in.*, W/out, TMPDIR=W/tmp), applies the checks every run must
 * pass, and returns what was found.
 */
export async function decode(t: ExecutionContext, snap: SnapshotBuilder | Buffer, form: Form, opts: DecodeOptions = {}): Promise<Dump> {
  const work = tempDir(t);
  const tmp = path.join(work, 'tmp');
  fs.mkdirSync(tmp);
  const input = Buffer.isBuffer(snap) ? snap : inputBytes(snap, form, opts);
  const inputName = opts.inputName ?? `in.${form}`;
  const inputPath = path.join(work, inputName);
  fs.writeFileSync(inputPath, input);
  const out = path.join(work, 'out');
  const args = [...(opts.stdin ? [] : [inputPath]), '-o', out, ...(opts.textLog ? [] : ['--log-format', 'json']), ...(opts.args ?? [])];
  const res = await runCli(args, { env: { TMPDIR: tmp }, ...(opts.stdin ? { stdin: input } : {}) });
  const log = jsonLog(res.stderr);
  const errors = opts.textLog
    ? [...res.stderr.matchAll(/error (ERR_[A-Z0-9_]+)/g)].map((m) => m[1]!)
    : log.filter((l) => l.level === 'error').map((l) => String(l.code));
  const dump: Dump = {
    form: Buffer.isBuffer(snap) ? 'raw' : form,
    code: res.code,
    stderr: res.stderr,
    log,
    warnings: log
      .filter((l) => l.level === 'warn')
      .map((l) => String(l.event))
      .sort(),
    errors,
    root: out,
  };
  const label = `[${form}${opts.args?.length ? ' ' + opts.args.join(' ') : ''}]`;

  // Nothing beside DIR, nothing in TMPDIR.
  const beside = fs.readdirSync(work).sort();
  const allowed = [inputName, 'tmp', ...(res.code === 0 || res.code === 3 ? ['out'] : [])].sort();
  t.deepEqual(beside, allowed, `${label} files beside DIR (stderr: ${res.stderr})`);
  t.deepEqual(fs.readdirSync(tmp), [], `${label} TMPDIR left non-empty`);

  if (res.code === 0 || res.code === 3) {
    const tree = readTree(out);
    dump.tree = tree;
    t.deepEqual(tree.others, [], `${label} non-regular files in the dump`);
    for (const [p, mode] of tree.dirs) t.is(mode, 0o755, `${label} mode of directory '${p}'`);
    for (const [p, f] of tree.files) {
      const want = p === 'MANIFEST.json' || p === 'CHECKSUMS' ? 0o644 : 0o600;
      t.is(f.mode, want, `${label} mode of ${p}`);
    }
    const sums = tree.files.get('CHECKSUMS');
    t.truthy(sums, `${label} CHECKSUMS missing`);
    t.truthy(tree.files.get('MANIFEST.json'), `${label} MANIFEST.json missing`);
    if (sums) {
      t.is(sums.data.toString('latin1'), expectedChecksums(tree).toString('latin1'), `${label} CHECKSUMS content`);
      if (needsRealCheck(sums.data)) {
        const check = spawnSync('sha256sum', ['-c', '--quiet', 'CHECKSUMS'], { cwd: out, encoding: 'utf8' });
        t.is(check.status, 0, `${label} sha256sum -c CHECKSUMS: ${check.stdout}${check.stderr}`);
      }
    }
  } else {
    t.false(fs.existsSync(out), `${label} DIR exists after a failed run`);
  }
  return dump;
}

/** The dump's data files (all but MANIFEST.json and CHECKSUMS), path → bytes. */
export function dataFiles(d: Dump): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [p, f] of d.tree?.files ?? []) if (p !== 'MANIFEST.json' && p !== 'CHECKSUMS') out[p] = f.data;
  return out;
}

export type Expected = Record<string, Buffer | string>;

/** Asserts the data files are exactly `want` (strings are UTF-8), with a readable diff of the path lists first. */
export function assertFiles(t: ExecutionContext, d: Dump, want: Expected, label = ''): void {
  const got = dataFiles(d);
  const tag = `[${d.form}]${label ? ' ' + label : ''}`;
  t.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${tag} paths (stderr: ${d.stderr})`);
  for (const [p, w] of Object.entries(want)) {
    const g = got[p];
    if (g === undefined) continue;
    const wb = typeof w === 'string' ? Buffer.from(w, 'utf8') : w;
    if (!g.equals(wb)) t.fail(`${tag} ${p}: expected ${JSON.stringify(wb.toString('latin1'))}, got ${JSON.stringify(g.toString('latin1'))}`);
    else t.pass();
  }
}

/** Asserts a successful run: the exit code, the data files, and the exact warning event names. */
export function assertDump(t: ExecutionContext, d: Dump, want: { code?: number; files: Expected; warnings?: string[] }): void {
  t.is(d.code, want.code ?? 0, `[${d.form}] exit code (stderr: ${d.stderr})`);
  if (d.tree) assertFiles(t, d, want.files);
  t.deepEqual(d.warnings, [...(want.warnings ?? [])].sort(), `[${d.form}] warnings (stderr: ${d.stderr})`);
}

/** Asserts a failed run: exit 1 (or `code`) and `err` among the error codes on stderr. */
export function assertFailure(t: ExecutionContext, d: Dump, err: string, code = 1): void {
  t.is(d.code, code, `[${d.form}] exit code (stderr: ${d.stderr})`);
  t.true(d.errors.includes(err) || d.stderr.includes(err), `[${d.form}] expected ${err} on stderr, got: ${d.stderr}`);
}

/** Runs the same snapshot in both forms. */
export async function decodeBoth(t: ExecutionContext, snap: SnapshotBuilder, opts: DecodeOptions = {}): Promise<Dump[]> {
  return Promise.all(FORMS.map((f) => decode(t, snap, f, opts)));
}

// ---------------------------------------------------------------- expected files (SPEC §6)

/** A Go json string literal (SPEC §6 escaping, HTML-safe when html). */
export function goString(s: string, html = true): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20) out += `\\u00${c.toString(16).padStart(2, '0')}`;
    else if (html && (ch === '<' || ch === '>' || ch === '&')) out += `\\u00${c.toString(16)}`;
    else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += s.slice(i, i + 2);
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd';
    else out += ch;
  }
  return out + '"';
}

type Field = [string, string | number | Record<string, string>];

/** Go json.MarshalIndent(v, "", "  ") of an object of strings, numbers and string maps (keys already ordered). */
export function goIndent(fields: Field[]): string {
  const lines = fields.map(([k, v]) => {
    let val: string;
    if (typeof v === 'number') val = String(v);
    else if (typeof v === 'string') val = goString(v);
    else {
      const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      val = keys.length === 0 ? '{}' : `{\n${keys.map((mk) => `    ${goString(mk)}: ${goString(v[mk]!)}`).join(',\n')}\n  }`;
    }
    return `  ${goString(k)}: ${val}`;
  });
  return `{\n${lines.join(',\n')}\n}`;
}

/** HLC → RFC 3339 UTC with the fraction trimmed (SPEC §6 time fields); years ≤ 9999. */
export function hlcTime(hlc: bigint): string {
  const ms = Number(hlc >> 16n);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? '.' + frac : ''}Z`;
}

export const DEFAULT_LAST_MODIFIED = '2024-04-29T12:34:56.123Z';

export interface SidecarFields {
  etag?: string;
  size?: number;
  lastModifiedHlc?: bigint | null;
  contentType?: string | null;
  contentEncoding?: string;
  cacheControl?: string;
  contentDisposition?: string;
  userMetadata?: Record<string, string>;
}

/** The sidecar bytes the SPEC requires for a body written by SnapshotBuilder.putObject (defaults as the builder's). */
export function sidecar(body: Buffer, f: SidecarFields = {}): string {
  const fields: Field[] = [
    ['format_version', 1],
    ['etag', f.etag ?? md5hex(body)],
    ['size_bytes', f.size ?? body.length],
  ];
  const hlc = f.lastModifiedHlc === undefined ? DEFAULT_LAST_MODIFIED_HLC : f.lastModifiedHlc;
  if (hlc !== null && hlc !== 0n) fields.push(['last_modified', hlcTime(hlc)]);
  const ct = f.contentType === undefined ? 'application/octet-stream' : f.contentType;
  if (ct) fields.push(['content_type', ct]);
  if (f.contentEncoding) fields.push(['content_encoding', f.contentEncoding]);
  if (f.cacheControl) fields.push(['cache_control', f.cacheControl]);
  if (f.contentDisposition) fields.push(['content_disposition', f.contentDisposition]);
  if (f.userMetadata && Object.keys(f.userMetadata).length) fields.push(['user_metadata', f.userMetadata]);
  return goIndent(fields);
}

/** `_bucket.json` of a bucket made by SnapshotBuilder.bucket(name) with no optional fields. */
export const plainBucketJson = (name: string): string => `{\n  "format_version": 1,\n  "name": ${goString(name)}\n}`;

/** The body and sidecar of one object at `s3/<bucketDir>/<rel>`. */
export function objectFiles(bucketDir: string, rel: string, body: Buffer, f: SidecarFields = {}): Expected {
  return { [`s3/${bucketDir}/${rel}`]: body, [`s3/${bucketDir}/${rel}.elastickv-meta.json`]: sidecar(body, f) };
}

/** Deterministic pseudo-random bytes (for bodies). */
export function bytesOf(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let block = Buffer.alloc(0);
  for (let i = 0; i < n; i++) {
    if (i % 32 === 0) block = createHash('sha256').update(`${seed}:${i / 32}`).digest();
    out[i] = block[i % 32]!;
  }
  return out;
}

/** A KEYMAP.jsonl line (SPEC §6). */
export const keymapLine = (encoded: string, original: Buffer | string, kind: string): string =>
  `{"encoded":${goString(encoded, false)},"original":"${Buffer.from(original).toString('base64url')}","kind":"${kind}"}\n`;

/** Parses _skipped.jsonl and checks its line shape; returns [object key (latin1), reason] pairs in file order. */
export function skippedEntries(t: ExecutionContext, data: Buffer | undefined): Array<[string, string]> {
  if (!data) {
    t.fail('_skipped.jsonl missing');
    return [];
  }
  const text = data.toString('utf8');
  t.true(text.endsWith('\n'), '_skipped.jsonl ends with a newline');
  return text
    .split('\n')
    .filter((l) => l)
    .map((l) => {
      t.regex(l, /^\{"object":"[A-Za-z0-9_-]*","reason":"ERR_[A-Z0-9_]+","detail":".*"\}$/, `_skipped.jsonl line shape: ${l}`);
      const o = JSON.parse(l) as { object: string; reason: string };
      return [Buffer.from(o.object, 'base64url').toString('latin1'), o.reason];
    });
}

/** Object keys (as latin1 strings) sorted by their bytes. */
export const sortKeys = (keys: string[]): string[] => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));

/** A copy of a snapshot's records, each passed through fn (null drops it; an array replaces it). */
export function rebuild(snap: SnapshotBuilder, fn: (e: SnapshotEntry) => SnapshotEntry | SnapshotEntry[] | null): SnapshotBuilder {
  const out = new SnapshotBuilder();
  for (const e of snap.records()) {
    const r = fn(e);
    for (const x of r === null ? [] : Array.isArray(r) ? r : [r]) out.record(x.key, x.value, { commitTs: x.commitTs, tombstone: x.tombstone });
  }
  return out;
}

/** Whether key starts with the given family prefix (e.g. "!s3|chunkblob|"). */
export const hasPrefix = (key: Buffer, prefix: string): boolean => key.subarray(0, prefix.length).equals(Buffer.from(prefix, 'latin1'));
