/**
 * ekv-snapshot-jsonl end to end (SPEC §2, last paragraph): the real
 * command (through runCli) and in shell pipelines, next to ekv-s3-decode.
 * Inputs come from test/helpers (SnapshotBuilder, buildFsm); expectations
 * are written here.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { main, type ConvertIo } from '../../lib/cli/convert-main.js';
import { buildFsm, type FsmTestEntry } from '../helpers/fsm.js';
import { bucketMetaKey, manifestKey } from '../helpers/keys.js';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { BIN, bytesOf, readTree, REPO, runCli, tempDir, type ReadTree } from './harness.js';

const CONVERT = path.join(REPO, 'bin', 'ekv-snapshot-jsonl.js');
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const MAX64 = (1n << 64n) - 1n;

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function spawnRun(cmd: string, args: string[], opts: { stdin?: Buffer; env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? Buffer.alloc(0));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** `node bin/ekv-snapshot-jsonl.js ...args` */
const convert = (args: string[], opts: { stdin?: Buffer; env?: Record<string, string> } = {}): Promise<Run> => runCli(args, { ...opts, bin: CONVERT });

/** A shell command line, under bash with pipefail. */
const sh = (line: string, env: Record<string, string> = {}): Promise<Run> => spawnRun('bash', ['-o', 'pipefail', '-c', line], { env });

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const NODE = q(process.execPath);
const CONV = `${NODE} ${q(CONVERT)}`;
const DECODE = `${NODE} ${q(BIN)}`;

/** An S3 snapshot with a bit of everything: multipart, offloaded, deleted, old versions, non-S3 records, u64 timestamps. */
function richSnapshot(): SnapshotBuilder {
  const snap = new SnapshotBuilder()
    .bucket('photos', { owner: 'alice', region: 'eu-1', createdAtHlc: 112354531483516928n })
    .bucket('logs')
    .putObject('photos', 'a.txt', Buffer.from('hello'))
    .putObject('photos', '2024/img.bin', bytesOf('img', 5000), { parts: 3, chunkSize: 700, commitTs: (1n << 60n) + 5n })
    .putObject('photos', 'off.bin', bytesOf('off', 3000), { offloaded: true, chunkSize: 1024, contentType: 'image/png' })
    .putObject('logs', 'gone.log', Buffer.from('deleted later'), { commitTs: 50 })
    .tombstone(manifestKey('logs', 1, 'gone.log'), 60)
    .putObject('logs', 'x/y/z.log', bytesOf('z', 1500), { chunkSize: 512, userMetadata: { k: 'v' } })
    .record('!other|not-s3', 'payload', { commitTs: MAX64 })
    .record(bucketMetaKey('photos'), '{"bucket_name":"photos","generation":1}', { commitTs: 1 });
  return snap;
}

interface Tree {
  files: Record<string, string>;
  manifest: Record<string, unknown>;
  manifestText: string;
}

/** The dump's files (MANIFEST.json parsed apart, its CHECKSUMS line dropped). */
function treeOf(t: ExecutionContext, tree: ReadTree): Tree {
  const files: Record<string, string> = {};
  let manifest: Record<string, unknown> = {};
  let manifestText = '';
  for (const [p, f] of tree.files) {
    if (p === 'MANIFEST.json') {
      manifestText = f.data.toString('utf8');
      manifest = JSON.parse(manifestText) as Record<string, unknown>;
      continue;
    }
    let data = f.data.toString('latin1');
    if (p === 'CHECKSUMS') {
      const before = data;
      data = data.replace(/^[0-9a-f]{64} {2}MANIFEST\.json\n/m, '');
      t.not(data, before, 'CHECKSUMS lists MANIFEST.json');
    }
    files[p] = data;
  }
  return { files, manifest, manifestText };
}

function withoutRunFields(m: Record<string, unknown>): Record<string, unknown> {
  const { last_commit_ts: _a, wall_time_iso: _b, source: _c, ...rest } = m;
  return rest;
}

test('ekv-snapshot-jsonl x.fsm | ekv-s3-decode -o A  equals  ekv-s3-decode x.fsm -o B', async (t) => {
  const w = tempDir(t);
  const tmp = path.join(w, 'tmp');
  fs.mkdirSync(tmp);
  const x = path.join(w, 'x.fsm');
  fs.writeFileSync(x, richSnapshot().toFsm({ sort: true, header: 'v1', footer: true, lastCommitTs: 1000n }));
  const A = path.join(w, 'A');
  const B = path.join(w, 'B');
  const [ra, rb] = await Promise.all([sh(`${CONV} ${q(x)} | ${DECODE} -o ${q(A)}`, { TMPDIR: tmp }), sh(`${DECODE} ${q(x)} -o ${q(B)}`, { TMPDIR: tmp })]);
  t.is(ra.code, 0, ra.stderr);
  t.is(rb.code, 0, rb.stderr);
  const a = treeOf(t, readTree(A));
  const b = treeOf(t, readTree(B));
  t.true(Object.keys(b.files).some((p) => p.endsWith('2024/img.bin')), 'the dump has objects');
  t.deepEqual(a.files, b.files);
  t.deepEqual(withoutRunFields(a.manifest), withoutRunFields(b.manifest));
  t.is(b.manifest['last_commit_ts'], 1000);
  t.is(a.manifest['last_commit_ts'], undefined, 'JSONL carries no lastCommitTS');
  t.deepEqual(fs.readdirSync(tmp), []);
});

test('ekv-snapshot-jsonl --to fsm x.jsonl | ekv-s3-decode -o C  equals  ekv-s3-decode x.jsonl -o D', async (t) => {
  const w = tempDir(t);
  const tmp = path.join(w, 'tmp');
  fs.mkdirSync(tmp);
  const x = path.join(w, 'x.jsonl');
  fs.writeFileSync(x, richSnapshot().toJsonl({ shuffle: 11, crlf: true, blankLines: true }));
  const C = path.join(w, 'C');
  const D = path.join(w, 'D');
  const [rc, rd] = await Promise.all([
    sh(`cat ${q(x)} | ${CONV} --to fsm --header v2 --footer | ${DECODE} -o ${q(C)}`, { TMPDIR: tmp }),
    sh(`${DECODE} ${q(x)} -o ${q(D)}`, { TMPDIR: tmp }),
  ]);
  t.is(rc.code, 0, rc.stderr);
  t.is(rd.code, 0, rd.stderr);
  const c = treeOf(t, readTree(C));
  const d = treeOf(t, readTree(D));
  t.deepEqual(c.files, d.files);
  t.deepEqual(withoutRunFields(c.manifest), withoutRunFields(d.manifest));
  // lastCommitTS of the converted snapshot: the largest commit_ts (a u64 one here).
  t.regex(c.manifestText, new RegExp(`"last_commit_ts": ${MAX64}\\b`));
  t.is(d.manifest['last_commit_ts'], undefined);
  t.deepEqual(fs.readdirSync(tmp), [], 'scratch left in TMPDIR');
});

test('native → JSONL → native through files, stdin and stdout is byte-exact', async (t) => {
  const w = tempDir(t);
  const fsm = richSnapshot().toFsm({ sort: true, header: 'v2', footer: true, lastCommitTs: 777n, ceiling: 777n });
  const x = path.join(w, 'x.fsm');
  fs.writeFileSync(x, fsm);
  const j1 = await convert([x]);
  t.is(j1.code, 0, j1.stderr);
  t.is(j1.stderr, '');
  const j2 = await convert(['-'], { stdin: fsm });
  t.deepEqual(j2.stdout, j1.stdout);
  const back = await convert(['--to', 'fsm', '--header', 'v2', '--footer', '--last-commit-ts', '777'], { stdin: j1.stdout });
  t.is(back.code, 0, back.stderr);
  t.true(back.stdout.equals(fsm), 'same bytes');
  const lines = j1.stdout.toString('utf8').trimEnd().split('\n');
  t.is(lines.length, richSnapshot().records().length);
  t.true(lines.every((l) => /^\{"key":"[A-Za-z0-9+/=]*",("value":"[A-Za-z0-9+/=]*",)?"commit_ts":(\d+|"\d+")(,"tombstone":true)?\}$/.test(l)));
  t.true(lines.some((l) => l.includes(`"commit_ts":"${MAX64}"`)));
  t.true(lines.some((l) => l.endsWith(',"tombstone":true}')));
});

test('-o FILE: --header/--footer output equals buildFsm of the sorted entries; no partial file left', async (t) => {
  const w = tempDir(t);
  const entries: FsmTestEntry[] = [
    { key: 'b', value: 'two', commitTs: 2n },
    { key: 'a', value: '', commitTs: 9n, tombstone: true },
    { key: 'a', value: 'one', commitTs: 1n },
    { key: Buffer.from([0x61, 0xff]), value: Buffer.from([0, 1, 2]), commitTs: MAX64 - 1n },
  ];
  const jsonl = entries
    .map((e) => {
      const ts = e.commitTs!;
      const tsText = ts <= BigInt(Number.MAX_SAFE_INTEGER) ? String(ts) : `"${ts}"`;
      const key = Buffer.from(e.key).toString('base64');
      return e.tombstone ? `{"key":"${key}","commit_ts":${tsText},"tombstone":true}\n` : `{"key":"${key}","value":"${Buffer.from(e.value!).toString('base64')}","commit_ts":${tsText}}\n`;
    })
    .join('');
  const input = path.join(w, 'in.jsonl');
  fs.writeFileSync(input, jsonl);
  const cases: Array<[string[], Parameters<typeof buildFsm>[1]]> = [
    [[], { lastCommitTs: MAX64 - 1n }],
    [['--footer'], { lastCommitTs: MAX64 - 1n, footer: true }],
    [['--header', 'v1'], { header: 'v1', ceiling: MAX64 - 1n, lastCommitTs: MAX64 - 1n }],
    [['--header', 'v2', '--footer', '--last-commit-ts', '12', '--ceiling', '34', '--cutover', '56'], { header: 'v2', lastCommitTs: 12n, ceiling: 34n, cutover: 56n, footer: true }],
  ];
  for (const [args, opts] of cases) {
    const out = path.join(w, 'out.fsm');
    const r = await convert(['--to', 'fsm', input, '-o', out, ...args]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout.length, 0);
    t.true(fs.readFileSync(out).equals(buildFsm(entries, { ...opts, sort: true })), args.join(' '));
    t.deepEqual(fs.readdirSync(w).sort(), ['in.jsonl', 'out.fsm']);
  }
  // A failed run leaves an existing FILE as it was and nothing beside it.
  fs.writeFileSync(path.join(w, 'in2.jsonl'), jsonl + 'oops\n');
  const before = fs.readFileSync(path.join(w, 'out.fsm'));
  const r = await convert(['--to', 'fsm', path.join(w, 'in2.jsonl'), '-o', path.join(w, 'out.fsm')]);
  t.is(r.code, 1);
  t.regex(r.stderr, /^ekv-snapshot-jsonl: error ERR_JSONL_LINE: line 5: not valid JSON/);
  t.deepEqual(fs.readFileSync(path.join(w, 'out.fsm')), before);
  t.deepEqual(fs.readdirSync(w).sort(), ['in.jsonl', 'in2.jsonl', 'out.fsm']);
});

test('--scratch-dir is used and left empty; -v prints a summary', async (t) => {
  const w = tempDir(t);
  const scratch = path.join(w, 'scratch');
  fs.mkdirSync(scratch);
  const jsonl = richSnapshot().toJsonl({ shuffle: 3 });
  const r = await convert(['--to', 'fsm', '--scratch-dir', scratch, '-v'], { stdin: jsonl });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /^ekv-snapshot-jsonl: \d+ records \(1 tombstone\) -> \d+ entries, sorted, lastCommitTS 18446744073709551615; /);
  t.deepEqual(fs.readdirSync(scratch), []);
});

test('--help, --version', async (t) => {
  const h = await convert(['--help']);
  t.is(h.code, 0);
  t.regex(h.stdout.toString(), /^Usage: ekv-snapshot-jsonl \[INPUT\]/);
  t.regex(h.stdout.toString(), /Examples:\n/);
  t.regex(h.stdout.toString(), /--to fsm/);
  const v = await convert(['-V']);
  t.is(v.code, 0);
  t.is(v.stdout.toString(), `ekv-snapshot-jsonl ${VERSION}\n`);
});

test('usage errors exit 2 with one error line', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--to', 'xml'], /--to must be jsonl or fsm, not xml/],
    [['--to', 'fsm', '--header', 'v3'], /--header must be v1 or v2, not v3/],
    [['--footer'], /--footer applies to --to fsm only/],
    [['--header', 'v1'], /--header applies to --to fsm only/],
    [['a', 'b'], /one INPUT at most, got 2/],
    [['--to', 'fsm', '--ceiling', '5'], /--ceiling needs --header v1\|v2/],
    [['--to', 'fsm', '--header', 'v1', '--cutover', '5'], /--cutover needs --header v2/],
    [['--to', 'fsm', '--last-commit-ts=-1'], /--last-commit-ts must be a decimal integer in the uint64 range, not -1/],
    [['--to', 'fsm', '--ceiling', '1e3', '--header', 'v1'], /--ceiling must be a decimal integer/],
    [['--to', 'fsm', '--last-commit-ts', '18446744073709551616'], /--last-commit-ts must be a decimal integer in the uint64 range/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['-o', '/nonexistent-dir/x.jsonl'], /the directory of the output file does not exist/],
    [['-o', '/tmp'], /the output is a directory/],
  ];
  for (const [args, re] of cases) {
    const r = await convert(args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /^ekv-snapshot-jsonl: error ERR_USAGE: /, args.join(' '));
    t.regex(r.stderr, re, args.join(' '));
    t.regex(r.stderr, /Try 'ekv-snapshot-jsonl --help'\.\n$/);
  }
});

test('data errors exit 1 and name the code, offset or line', async (t) => {
  const w = tempDir(t);
  const snap = richSnapshot();
  const fsm = snap.toFsm({ sort: true });
  const cases: Array<[string[], Buffer | undefined, RegExp]> = [
    [[], snap.toJsonl(), /error ERR_SNAPSHOT_BAD_MAGIC: byte offset 0: not a native snapshot: .*use --to fsm/],
    [['--to', 'fsm'], fsm, /error ERR_JSONL_LINE: line 1: the input is a native snapshot, not JSON lines/],
    [[path.join(w, 'missing.fsm')], undefined, /error ERR_IO: path .*missing\.fsm: cannot open input: ENOENT/],
    [[], fsm.subarray(0, fsm.length - 3), /error ERR_SNAPSHOT_TRUNCATED: byte offset \d+: truncated snapshot/],
    [['--to', 'fsm'], Buffer.from('{"key":"YQ==","value":"Yg=="}\n{"key":"!!","value":""}\n'), /error ERR_JSONL_LINE: line 2: "key": invalid base64/],
  ];
  for (const [args, stdin, re] of cases) {
    const r = await convert(args, stdin ? { stdin } : {});
    t.is(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /^ekv-snapshot-jsonl: error ERR_[A-Z_]+: .*\n$/);
    t.is(r.stderr.split('\n').length, 2, 'one line');
    t.regex(r.stderr, re);
  }
});

test('native bytes are not written to a terminal; JSONL may be', async (t) => {
  const err: string[] = [];
  const out: Buffer[] = [];
  const io = (stdin: Buffer): ConvertIo => ({
    stdin: () => Readable.from([stdin]),
    stdout: () =>
      new Writable({
        write(c: Buffer, _e, cb) {
          out.push(c);
          cb();
        },
      }),
    print: (s) => out.push(Buffer.from(s)),
    stderr: (s) => err.push(s),
    stdoutIsTTY: true,
  });
  const code = await main(['--to', 'fsm'], io(Buffer.from('{"key":"YQ==","value":"Yg=="}\n')));
  t.is(code, 2);
  t.regex(err.join(''), /^ekv-snapshot-jsonl: error ERR_USAGE: standard output is a terminal: give -o FILE/);
  t.is(out.length, 0);
  const fsm = buildFsm([{ key: 'a', value: 'b', commitTs: 1n }]);
  t.is(await main([], io(fsm)), 0);
  t.is(Buffer.concat(out).toString(), '{"key":"YQ==","value":"Yg==","commit_ts":1}\n');
});
