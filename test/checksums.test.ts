import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChecksumList, renderChecksums, type ChecksumEntry } from '../lib/core/checksums.js';

// SPEC §6 CHECKSUMS: sha256sum format, `<64 hex>  <path>\n`, one line per
// file, sorted bytewise by path; a path holding \n, \r or \ is written in
// sha256sum's escaped form (line starts with `\`; those bytes become `\n`,
// `\r`, `\\`), byte by byte.

// SHA-256 of "" and of "abc" (FIPS 180-2 example).
const H_EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const H_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

const entry = (path: string | Buffer, hex = H_EMPTY): ChecksumEntry => ({
  path: typeof path === 'string' ? Buffer.from(path, 'utf8') : path,
  sha256: Buffer.from(hex, 'hex'),
});

/** The path column of each line, as raw bytes in latin1 (one char per byte). */
function pathsOf(out: Buffer): string[] {
  const text = out.toString('latin1');
  if (!text.endsWith('\n')) throw new Error('CHECKSUMS does not end with a newline');
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => l.slice(l.indexOf('  ') + 2));
}

test('line format: 64 lowercase hex, two spaces, the path, newline', (t) => {
  const out = renderChecksums([entry('MANIFEST.json', H_ABC), entry('s3/bkt/hello.txt')]);
  t.is(out.toString('latin1'), `${H_ABC}  MANIFEST.json\n${H_EMPTY}  s3/bkt/hello.txt\n`);
});

test('no entries: an empty file', (t) => {
  t.is(renderChecksums([]).length, 0);
});

test('the input array is not reordered in place', (t) => {
  const entries = [entry('b'), entry('a')];
  renderChecksums(entries);
  t.deepEqual(
    entries.map((e) => e.path.toString()),
    ['b', 'a'],
  );
});

test('sorted bytewise: uppercase < "_" < lowercase; "-" < "." < "/" < "0"; a prefix first', (t) => {
  const names = ['b', 'a_b', 'a/b', '_', 'a0', 'B', 'a', 'a.b', 'MANIFEST.json', 'a-b', 'A', 's3/bkt/x', 'Z', 'z'];
  const out = renderChecksums(names.map((n) => entry(n)));
  t.deepEqual(pathsOf(out), [
    'A', // 0x41
    'B', // 0x42
    'MANIFEST.json', // 0x4d
    'Z', // 0x5a
    '_', // 0x5f
    'a', // 0x61, a prefix of what follows
    'a-b', // a 0x2d
    'a.b', // a 0x2e
    'a/b', // a 0x2f
    'a0', // a 0x30
    'a_b', // a 0x5f
    'b',
    's3/bkt/x',
    'z',
  ]);
});

test('sorted bytewise: non-UTF-8 and multi-byte UTF-8 paths by raw bytes, not by decoded text', (t) => {
  const paths = [
    Buffer.from([0xff]), // invalid UTF-8
    Buffer.from('é'), // c3 a9
    Buffer.from([0x80]), // invalid UTF-8
    Buffer.from('\u{1F600}'), // f0 9f 98 80
    Buffer.from('\uFFFD'), // ef bf bd — what 0x80/0xff would decode to
    Buffer.from('z'),
    Buffer.from([0xc3, 0xa8]), // è
  ];
  const out = renderChecksums(paths.map((p) => entry(p)));
  t.deepEqual(pathsOf(out), ['z', '\x80', '\xc3\xa8', '\xc3\xa9', '\xef\xbf\xbd', '\xf0\x9f\x98\x80', '\xff']);
  // Raw bytes are written as they are (no replacement characters).
  t.true(out.includes(Buffer.from([0x20, 0x20, 0xff, 0x0a])));
  t.true(out.includes(Buffer.from([0x20, 0x20, 0x80, 0x0a])));
});

test('escaped form for a path holding \\n: leading backslash, the newline written as \\n', (t) => {
  const out = renderChecksums([entry('dir/a\nb', H_ABC)]);
  t.is(out.toString('latin1'), `\\${H_ABC}  dir/a\\nb\n`);
});

test('escaped form for a path holding \\r', (t) => {
  const out = renderChecksums([entry('a\rb', H_ABC)]);
  t.is(out.toString('latin1'), `\\${H_ABC}  a\\rb\n`);
});

test('escaped form for a path holding a backslash: doubled', (t) => {
  const out = renderChecksums([entry('a\\b', H_ABC)]);
  t.is(out.toString('latin1'), `\\${H_ABC}  a\\\\b\n`);
});

test('escaped form: every such byte, byte by byte, other bytes untouched', (t) => {
  const p = Buffer.concat([Buffer.from('\\\n\r\\\\x\ty '), Buffer.from([0xff]), Buffer.from('\n')]);
  const out = renderChecksums([entry(p)]);
  const want = Buffer.concat([Buffer.from(`\\${H_EMPTY}  \\\\\\n\\r\\\\\\\\x\ty `), Buffer.from([0xff]), Buffer.from('\\n\n')]);
  t.is(out.toString('hex'), want.toString('hex'));
});

test('no escaping for other control characters or spaces', (t) => {
  const out = renderChecksums([entry('a\tb c\x01')]);
  t.is(out.toString('latin1'), `${H_EMPTY}  a\tb c\x01\n`);
});

test('sorting uses the raw path, not its escaped form', (t) => {
  // Raw: "a\n" (0x0a) < "aZ" (0x5a) < "a\\" (0x5c) < "a]" (0x5d); escaping
  // would turn "a\n" into "a\\n" and move it after "aZ".
  const out = renderChecksums([entry('a]'), entry('a\\'), entry('aZ'), entry('a\n')]);
  t.is(out.toString('latin1'), `\\${H_EMPTY}  a\\n\n${H_EMPTY}  aZ\n\\${H_EMPTY}  a\\\\\n${H_EMPTY}  a]\n`);
});

// ------------------------------------------------------------ real sha256sum

function sh(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string; missing: boolean }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, encoding: 'latin1' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout, stderr, missing: e?.code === 'ENOENT' });
    });
  });
}

test('`sha256sum -c CHECKSUMS` accepts a tree with awkward names (escapes, case, _, /, non-UTF-8)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ekv-checksums-'));
  try {
    const files: Array<[Buffer, Buffer]> = [
      [Buffer.from('MANIFEST.json'), Buffer.from('{}\n')],
      [Buffer.from('s3/bkt/A'), Buffer.from('upper')],
      [Buffer.from('s3/bkt/a'), Buffer.from('lower')],
      [Buffer.from('s3/bkt/_x'), Buffer.from('underscore')],
      [Buffer.from('s3/bkt/d/e'), Buffer.from('nested')],
      [Buffer.from('s3/bkt/line\nbreak'), Buffer.from('newline')],
      [Buffer.from('s3/bkt/back\\slash'), Buffer.from('backslash')],
      [Buffer.from('s3/bkt/carriage\rreturn'), Buffer.from('cr')],
      [Buffer.from('s3/bkt/all\\\n\r'), Buffer.from('all three')],
      [Buffer.concat([Buffer.from('s3/bkt/raw'), Buffer.from([0xff, 0x80, 0xfe])]), Buffer.from('not utf-8')],
      [Buffer.from('s3/bkt/é 日本'), Buffer.from('utf-8 and a space')],
      [Buffer.from('s3/bkt/tab\there'), Buffer.alloc(0)],
    ];
    const root = Buffer.from(`${dir}/`);
    for (const [rel, data] of files) {
      const abs = Buffer.concat([root, rel]);
      const slash = abs.lastIndexOf(0x2f);
      mkdirSync(abs.subarray(0, slash), { recursive: true });
      writeFileSync(abs, data);
    }
    const entries = files.map(([rel, data]) => ({ path: rel, sha256: createHash('sha256').update(data).digest() }));
    writeFileSync(join(dir, 'CHECKSUMS'), renderChecksums(entries));

    const ok = await sh('sha256sum', ['-c', '--strict', 'CHECKSUMS'], dir);
    if (ok.missing) {
      t.log('sha256sum not found on PATH: skipping the real check');
      t.pass();
      return;
    }
    t.is(ok.code, 0, ok.stderr + ok.stdout);
    t.is(ok.stdout.split('\n').filter((l) => l.endsWith(': OK')).length, files.length, ok.stdout);

    // And it really checks: corrupt one awkwardly named file.
    writeFileSync(Buffer.concat([root, Buffer.from('s3/bkt/line\nbreak')]), 'changed');
    const bad = await sh('sha256sum', ['-c', '--quiet', 'CHECKSUMS'], dir);
    t.not(bad.code, 0);
    t.regex(bad.stdout, /line\\nbreak: FAILED/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ChecksumList: pieces() gives the same bytes as render(), in pieces, with their total size; many entries', (t) => {
  const list = new ChecksumList();
  const n = 30000; // several blocks of entries
  const want: Array<[string, string]> = [];
  for (let i = 0; i < n; i++) {
    const path = `s3/b/${(i * 7919) % n}/${'p'.repeat(i % 50)}${i % 97 === 0 ? '\n\\' : ''}`;
    const digest = createHash('sha256').update(String(i)).digest();
    list.add(Buffer.from(path, 'latin1'), digest);
    want.push([path, digest.toString('hex')]);
  }
  t.is(list.length, n);
  const { size, pieces } = list.pieces();
  const parts = Array.from(pieces, (p) => Buffer.from(p));
  t.true(parts.length > 1);
  const all = Buffer.concat(parts);
  t.is(all.length, size);
  t.true(all.equals(list.render()));
  t.true(all.equals(renderChecksums(want.map(([p, h]) => ({ path: Buffer.from(p, 'latin1'), sha256: Buffer.from(h, 'hex') })))));
  // Sorted bytewise, escaped where needed.
  const lines = all.toString('latin1').slice(0, -1).split('\n');
  t.is(lines.filter((l) => l.startsWith('\\')).length, want.filter(([p]) => p.includes('\n')).length);
});

test('ChecksumList with a scratch directory and a tiny budget: sorted runs on disk, merged, give the in-memory bytes; nothing left behind', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ekv-checksums-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const n = 3000;
  const entries: ChecksumEntry[] = [];
  const list = new ChecksumList({ scratchDir: dir, budgetBytes: 4096 });
  for (let i = 0; i < n; i++) {
    const path = Buffer.from(`s3/b/${(i * 7919) % n}${i % 97 === 0 ? '\n\\' : ''}${i % 2 ? '.elastickv-meta.json' : ''}`, 'latin1');
    const sha256 = createHash('sha256').update(String(i)).digest();
    await list.add(path, sha256);
    entries.push({ path, sha256 });
  }
  t.true(list.runs > 10);
  await list.finish();
  const { size, pieces } = list.pieces();
  const all = Buffer.concat(Array.from(pieces, (p) => Buffer.from(p)));
  t.is(all.length, size);
  // Independent: each line from the entries, sorted by path bytes.
  const want = entries
    .slice()
    .sort((x, y) => Buffer.compare(x.path, y.path))
    .map((e) => {
      const p = e.path.toString('latin1');
      const esc = /[\n\r\\]/.test(p);
      return `${esc ? '\\' : ''}${e.sha256.toString('hex')}  ${esc ? p.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : p}\n`;
    })
    .join('');
  t.is(all.toString('latin1'), want);
  t.true(all.equals(renderChecksums(entries)));
  t.deepEqual(readdirSync(dir), []);
});

test('ChecksumList spilled: CHECKSUMS of several pieces is read back through one buffer (each piece overwrites the last), and its bytes are right', async (t) => {
  // A new buffer per piece, taken by a synchronous loop, was tens of MiB of
  // garbage at the end of a million-object decode: its peak.
  const dir = mkdtempSync(join(tmpdir(), 'ekv-checksums-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const n = 12000; // ~2.4 MiB of lines
  const list = new ChecksumList({ scratchDir: dir, budgetBytes: 64 * 1024 });
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const path = `s3/bucket/${String(i).padStart(6, '0')}/${'q'.repeat(100)}`;
    const sha256 = createHash('sha256').update(path).digest();
    await list.add(Buffer.from(path), sha256);
    lines.push(`${sha256.toString('hex')}  ${path}\n`);
  }
  t.true(list.runs > 1);
  await list.finish();
  const { size, pieces } = list.pieces();
  const memory = new Set<ArrayBufferLike>();
  const copies: Buffer[] = [];
  for (const p of pieces) {
    memory.add(p.buffer);
    copies.push(Buffer.from(p));
  }
  t.true(copies.length > 2);
  t.is(memory.size, 1);
  t.is(size, Buffer.concat(copies).length);
  t.is(Buffer.concat(copies).toString('latin1'), lines.join(''));
});
