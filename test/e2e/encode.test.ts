/**
 * ekv-s3-encode end to end (SPEC §12), on dumps written by hand. The
 * expected snapshot bytes are stated here from the SPEC and elastickv's
 * encoder (internal/backup/encode_s3*.go), with the test helpers' own key
 * and native-format writers — never with lib/.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { buildFsm, type FsmTestEntry } from '../helpers/fsm.js';
import { writeDump, rewriteChecksums } from '../helpers/dump.js';
import * as K from '../helpers/keys.js';
import { ENCODE_BIN, REPO, bytesOf, runCli, tempDir } from './harness.js';

const T = 4242n;
const MiB = 1 << 20;
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const encode = (args: string[], stdin?: Buffer) => runCli(args, { bin: ENCODE_BIN, ...(stdin ? { stdin } : {}) });
/** Milliseconds since the epoch ≪ 16: the HLC of a time (SPEC §12). */
const hlc = (iso: string) => BigInt(Date.parse(iso)) << 16n;

const big = bytesOf('big', 2 * MiB + MiB / 2);
const leaf = Buffer.from('leaf body');
const deep = Buffer.from('deep body');

/** The dump: two buckets, an empty body, a 3-chunk body with metadata, a leaf-data rename, a restored multipart ETag. */
function sampleDump(root: string): string {
  return writeDump(
    root,
    {
      's3/bkt/_bucket.json': '{\n  "format_version": 1,\n  "name": "bkt",\n  "creation_time_iso": "2024-04-28T12:34:56Z",\n  "owner": "alice",\n  "region": "r\\u003c1\\u003e",\n  "acl": "private"\n}',
      's3/bkt/empty': '',
      's3/bkt/empty.elastickv-meta.json': `{\n  "format_version": 1,\n  "etag": "${md5('')}",\n  "size_bytes": 0\n}`,
      's3/bkt/big.bin': big,
      's3/bkt/big.bin.elastickv-meta.json':
        `{\n  "format_version": 1,\n  "etag": "${md5(big)}",\n  "size_bytes": ${big.length},\n  "last_modified": "2024-04-29T12:34:56.123Z",\n` +
        `  "content_type": "application/octet-stream",\n  "cache_control": "no-cache",\n  "user_metadata": {\n    "alpha": "\\u003c\\u0026\\u003e",\n    "zeta": "1"\n  }\n}`,
      's3/bkt/a/b.elastickv-leaf-data': leaf,
      's3/bkt/a/b.elastickv-leaf-data.elastickv-meta.json': `{\n  "format_version": 1,\n  "etag": "${md5(leaf)}",\n  "size_bytes": ${leaf.length}\n}`,
      's3/bkt/a/b/c': deep,
      's3/bkt/a/b/c.elastickv-meta.json': `{\n  "format_version": 1,\n  "etag": "${md5(deep)}",\n  "size_bytes": ${deep.length}\n}`,
      's3/bkt/KEYMAP.jsonl': '{"encoded":"a/b.elastickv-leaf-data","original":"YS9i","kind":"s3-leaf-data"}\n',
      's3/b%20x/_bucket.json': '{\n  "format_version": 1,\n  "name": "b x"\n}',
      's3/b%20x/k': 'multi',
      's3/b%20x/k.elastickv-meta.json': `{\n  "format_version": 1,\n  "etag": "\\"0123456789abcdef0123456789abcdef-3\\"",\n  "size_bytes": 5\n}`,
    },
    { lastCommitTs: T, clusterId: 'prod' },
  );
}

const blob = (bucket: string, object: string, chunkNo: number, value: Buffer): FsmTestEntry => ({
  key: K.blobKey({ bucket, generation: 1, object, uploadId: 'elastickv-restore', partNo: 1, chunkNo }),
  value,
  commitTs: T,
});
const rec = (key: Buffer, value: Buffer | string): FsmTestEntry => ({ key, value, commitTs: T });
const part = (etag: string, sizes: number[]) =>
  `[{"part_no":1,"etag":${etag},"size_bytes":${sizes.reduce((a, b) => a + b, 0)},"chunk_count":${sizes.length},"chunk_sizes":[${sizes.join(',')}],"part_version":0,"chunk_ref_version":0,"offloaded":false}]`;
const manifest = (etag: string, size: number, lastModifiedHlc: bigint, rest: string, parts: string) =>
  `{"upload_id":"elastickv-restore","etag":${etag},"size_bytes":${size},"last_modified_hlc":${lastModifiedHlc},${rest},"parts":${parts}}`;

/** The snapshot elastickv's encoder writes for sampleDump (our one difference: created_at_hlc, SPEC §12). */
function expectedEntries(): FsmTestEntry[] {
  const bigEtag = `"${md5(big)}"`;
  const none = '"content_type":"","content_encoding":"","cache_control":"","content_disposition":"","user_metadata":null';
  const multi = '"\\"0123456789abcdef0123456789abcdef-3\\""';
  return [
    rec(K.bucketMetaKey('bkt'), `{"bucket_name":"bkt","generation":1,"created_at_hlc":${hlc('2024-04-28T12:34:56Z')},"owner":"alice","region":"r\\u003c1\\u003e","acl":"private"}`),
    rec(K.bucketGenKey('bkt'), K.u64(1)),
    rec(K.bucketMetaKey('b x'), '{"bucket_name":"b x","generation":1,"created_at_hlc":0,"owner":"","region":"","acl":""}'),
    rec(K.bucketGenKey('b x'), K.u64(1)),
    rec(K.manifestKey('bkt', 1, 'empty'), manifest(`"${md5('')}"`, 0, 0n, none, 'null')),
    blob('bkt', 'big.bin', 0, big.subarray(0, MiB)),
    blob('bkt', 'big.bin', 1, big.subarray(MiB, 2 * MiB)),
    blob('bkt', 'big.bin', 2, big.subarray(2 * MiB)),
    rec(
      K.manifestKey('bkt', 1, 'big.bin'),
      manifest(
        bigEtag,
        big.length,
        hlc('2024-04-29T12:34:56.123Z'),
        '"content_type":"application/octet-stream","content_encoding":"","cache_control":"no-cache","content_disposition":"","user_metadata":{"alpha":"\\u003c\\u0026\\u003e","zeta":"1"}',
        part(bigEtag, [MiB, MiB, MiB / 2]),
      ),
    ),
    // The leaf-data file is the object "a/b" again (KEYMAP reversed).
    blob('bkt', 'a/b', 0, leaf),
    rec(K.manifestKey('bkt', 1, 'a/b'), manifest(`"${md5(leaf)}"`, leaf.length, 0n, none, part(`"${md5(leaf)}"`, [leaf.length]))),
    blob('bkt', 'a/b/c', 0, deep),
    rec(K.manifestKey('bkt', 1, 'a/b/c'), manifest(`"${md5(deep)}"`, deep.length, 0n, none, part(`"${md5(deep)}"`, [deep.length]))),
    blob('b x', 'k', 0, Buffer.from('multi')),
    rec(K.manifestKey('b x', 1, 'k'), manifest(multi, 5, 0n, none, part(multi, [5]))),
  ];
}

test('the snapshot has the bytes elastickv writes for the dump, in encoded-key order', async (t) => {
  const work = tempDir(t);
  const dump = sampleDump(path.join(work, 'dump'));
  const out = path.join(work, 'out.fsm');
  const r = await encode([dump, '-o', out]);
  t.is(r.code, 0, r.stderr);
  const got = fs.readFileSync(out);
  t.true(got.equals(buildFsm(expectedEntries(), { sort: true, lastCommitTs: T })), 'snapshot bytes');
  t.deepEqual(fs.readdirSync(work).sort(), ['dump', 'out.fsm', 'out.fsm.encode_info.json']);

  const info = JSON.parse(fs.readFileSync(`${out}.encode_info.json`, 'utf8')) as Record<string, unknown>;
  const { wall_time_iso: wall, ...rest } = info;
  t.regex(String(wall), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  t.deepEqual(Object.keys(info), [
    'format_version',
    'encoder_version',
    'encoder_key_format_version',
    'wall_time_iso',
    'input_root',
    'output_fsm_path',
    'output_fsm_sha256',
    'last_commit_ts',
    'last_commit_ts_overridden',
    'manifest_last_commit_ts',
    'manifest_cluster_id',
    'adapters_enabled',
    'self_test',
  ]);
  t.like(rest, {
    format_version: 1,
    encoder_key_format_version: 1,
    input_root: dump,
    output_fsm_path: out,
    output_fsm_sha256: sha256(got),
    last_commit_ts: 4242,
    last_commit_ts_overridden: false,
    manifest_last_commit_ts: 4242,
    manifest_cluster_id: 'prod',
    adapters_enabled: ['s3'],
    self_test: { ran: true, matched: true },
  });
  t.regex(String(info.encoder_version), /^ekv-s3-encode \d+\.\d+\.\d+/);
  t.true(fs.readFileSync(`${out}.encode_info.json`, 'utf8').startsWith('{\n  "format_version": 1,\n  "encoder_version": '));
});

test('--header v1|v2 and --footer add the node framing; --last-commit-ts raises T everywhere', async (t) => {
  const work = tempDir(t);
  const dump = sampleDump(path.join(work, 'dump'));
  const T2 = 0x5_0000_0000n;
  const at = (e: FsmTestEntry): FsmTestEntry => ({ ...e, commitTs: T2 });
  for (const header of ['v1', 'v2'] as const) {
    const out = path.join(work, `${header}.fsm`);
    const r = await encode([dump, '-o', out, '--header', header, '--footer', '--last-commit-ts', String(T2), '--no-self-test']);
    t.is(r.code, 0, r.stderr);
    const want = buildFsm(expectedEntries().map(at), { sort: true, lastCommitTs: T2, header, ceiling: (T2 >> 16n) + 1n, footer: true });
    t.true(fs.readFileSync(out).equals(want), `${header} bytes`);
    const info = JSON.parse(fs.readFileSync(`${out}.encode_info.json`, 'utf8')) as Record<string, unknown>;
    t.like(info, { last_commit_ts: Number(T2), last_commit_ts_overridden: true, manifest_last_commit_ts: 4242, self_test: { ran: false, matched: false } });
  }
  const low = await encode([dump, '-o', path.join(work, 'low.fsm'), '--last-commit-ts', '4241']);
  t.is(low.code, 2);
  t.regex(low.stderr, /ERR_USAGE.*below the dump's last_commit_ts 4242/);
  t.false(fs.existsSync(path.join(work, 'low.fsm')));
});

test('a tar, a tar.gz and a tar on stdin encode to the same bytes as the directory', async (t) => {
  const work = tempDir(t);
  const dump = sampleDump(path.join(work, 'dump'));
  const want = buildFsm(expectedEntries(), { sort: true, lastCommitTs: T });
  t.is(spawnSync('tar', ['-cf', path.join(work, 'd.tar'), '-C', dump, '.']).status, 0);
  t.is(spawnSync('tar', ['-czf', path.join(work, 'd.tgz'), '-C', dump, '.']).status, 0);
  for (const [name, args, stdin] of [
    ['tar', [path.join(work, 'd.tar')], undefined],
    ['tgz', [path.join(work, 'd.tgz')], undefined],
    ['stdin', ['-'], fs.readFileSync(path.join(work, 'd.tgz'))],
  ] as const) {
    const out = path.join(work, `${name}.fsm`);
    const r = await encode([...args, '-o', out], stdin);
    t.is(r.code, 0, `${name}: ${r.stderr}`);
    t.true(fs.readFileSync(out).equals(want), `${name} bytes`);
  }
});

/** Runs the encoder on a tampered copy of the sample dump; it must fail with nothing published. */
async function refused(t: import('ava').ExecutionContext, tamper: (dump: string) => void, want: RegExp, code = 1): Promise<void> {
  const work = tempDir(t);
  const dump = sampleDump(path.join(work, 'dump'));
  tamper(dump);
  const out = path.join(work, 'out.fsm');
  const r = await encode([dump, '-o', out]);
  t.is(r.code, code, r.stderr);
  t.regex(r.stderr, want);
  t.false(fs.existsSync(out), 'nothing published');
  t.deepEqual(
    fs.readdirSync(work).filter((f) => f !== 'dump'),
    [],
    'nothing beside OUT',
  );
}

const bkt = (dump: string, rel: string) => path.join(dump, 's3', 'bkt', rel);

test('a flipped byte in a body fails (CHECKSUMS and ETag)', (t) =>
  refused(
    t,
    (d) => {
      const f = bkt(d, 'big.bin');
      const b = fs.readFileSync(f);
      b.writeUInt8(b.readUInt8(MiB + 7) ^ 1, MiB + 7);
      fs.writeFileSync(f, b);
    },
    /ERR_DUMP_INVALID[\s\S]*s3\/bkt\/big\.bin: SHA-256 [0-9a-f]{64} does not match CHECKSUMS[\s\S]*s3\/bkt\/big\.bin: MD5 [0-9a-f]{32} != sidecar etag/,
  ));
test('a missing body fails', (t) => refused(t, (d) => fs.rmSync(bkt(d, 'a/b/c')), /s3\/bkt\/a\/b\/c: listed in CHECKSUMS but missing[\s\S]*sidecar without body/));
test('an extra file fails', (t) => refused(t, (d) => fs.writeFileSync(bkt(d, 'extra'), 'x'), /s3\/bkt\/extra: not listed in CHECKSUMS/));
test('a sidecar whose size disagrees with its body fails, even with CHECKSUMS rewritten', (t) =>
  refused(
    t,
    (d) => {
      fs.writeFileSync(bkt(d, 'a/b/c.elastickv-meta.json'), `{\n  "format_version": 1,\n  "etag": "${md5(deep)}",\n  "size_bytes": 4\n}`);
      rewriteChecksums(d);
    },
    /s3\/bkt\/a\/b\/c: size 9 != sidecar size_bytes 4/,
  ));
test('a symlink in the dump fails', (t) => refused(t, (d) => fs.symlinkSync('empty', bkt(d, 'link')), /s3\/bkt\/link: not a regular file or directory \(symlink\)/));
test('a bucket directory whose name does not match _bucket.json fails', (t) =>
  refused(
    t,
    (d) => {
      fs.renameSync(path.join(d, 's3', 'b%20x'), path.join(d, 's3', 'bx'));
      rewriteChecksums(d);
    },
    /s3\/bx\/_bucket\.json: bucket name "b x" belongs in directory s3\/b%20x, not s3\/bx/,
  ));
test('a bucket directory without _bucket.json fails', (t) =>
  refused(
    t,
    (d) => {
      fs.rmSync(path.join(d, 's3', 'b%20x', '_bucket.json'));
      rewriteChecksums(d);
    },
    /s3\/b%20x\/_bucket\.json: bucket directory has no _bucket\.json/,
  ));
test('a body without sidecar fails', (t) =>
  refused(
    t,
    (d) => {
      fs.rmSync(bkt(d, 'empty.elastickv-meta.json'));
      rewriteChecksums(d);
    },
    /s3\/bkt\/empty: body without sidecar/,
  ));
test('a dump with _skipped.jsonl is refused', (t) =>
  refused(
    t,
    (d) => {
      fs.writeFileSync(bkt(d, '_skipped.jsonl'), '{"object":"eA","reason":"ERR_S3_ETAG_MISMATCH","detail":"x"}\n');
      rewriteChecksums(d);
    },
    /_skipped\.jsonl: the dump skipped objects[\s\S]*--allow-skipped/,
  ));
test('a dump made with include_orphans is refused', (t) =>
  refused(
    t,
    (d) => {
      fs.writeFileSync(path.join(d, 'MANIFEST.json'), fs.readFileSync(path.join(d, 'MANIFEST.json'), 'utf8').replace('"include_orphans": false', '"include_orphans": true'));
      rewriteChecksums(d);
    },
    /MANIFEST\.json: made with include_orphans/,
  ));
test('a user object under _orphans/ (a reserved dump directory) is refused', (t) =>
  refused(
    t,
    (d) => {
      fs.mkdirSync(bkt(d, '_orphans'));
      fs.writeFileSync(bkt(d, '_orphans/x'), 'x');
      fs.writeFileSync(bkt(d, '_orphans/x.elastickv-meta.json'), `{\n  "format_version": 1,\n  "etag": "${md5('x')}",\n  "size_bytes": 1\n}`);
      rewriteChecksums(d);
    },
    /_orphans\/x\.elastickv-meta\.json: a user object collides with a reserved dump directory/,
  ));
test('a KEYMAP target that does not exist is refused', (t) =>
  refused(
    t,
    (d) => {
      fs.appendFileSync(bkt(d, 'KEYMAP.jsonl'), '{"encoded":"gone.elastickv-leaf-data","original":"Z29uZQ","kind":"s3-leaf-data"}\n');
      rewriteChecksums(d);
    },
    /s3\/bkt\/gone\.elastickv-leaf-data: KEYMAP target does not exist/,
  ));
test('an existing output file is not replaced (exit 2)', async (t) => {
  const work = tempDir(t);
  const dump = sampleDump(path.join(work, 'dump'));
  fs.writeFileSync(path.join(work, 'out.fsm'), 'keep');
  const r = await encode([dump, '-o', path.join(work, 'out.fsm')]);
  t.is(r.code, 2);
  t.is(fs.readFileSync(path.join(work, 'out.fsm'), 'utf8'), 'keep');
});

test('a self-test mismatch fails after writing the info file, and publishes nothing', async (t) => {
  const work = tempDir(t);
  const dump = sampleDump(path.join(work, 'dump'));
  // A consistent dump (CHECKSUMS rewritten) whose sidecar is not what the
  // decoder writes: the time in another zone decodes back as UTC.
  const side = bkt(dump, 'a/b/c.elastickv-meta.json');
  fs.writeFileSync(side, fs.readFileSync(side, 'utf8').replace('"size_bytes": 9', '"size_bytes": 9,\n  "last_modified": "2024-04-29T14:34:56+02:00"'));
  rewriteChecksums(dump);
  const out = path.join(work, 'out.fsm');
  const r = await encode([dump, '-o', out]);
  t.is(r.code, 1);
  t.regex(r.stderr, /ERR_SELF_TEST_MISMATCH[\s\S]*s3\/bkt\/a\/b\/c\.elastickv-meta\.json: content differs after the round trip/);
  t.false(fs.existsSync(out));
  const info = JSON.parse(fs.readFileSync(`${out}.encode_info.json`, 'utf8')) as Record<string, unknown>;
  t.deepEqual(info.self_test, { ran: true, matched: false });
});

test('a tar holding a symlink is refused, nothing unpacked is left behind', async (t) => {
  const work = tempDir(t);
  const dump = sampleDump(path.join(work, 'dump'));
  fs.symlinkSync('/etc/passwd', bkt(dump, 'evil'));
  t.is(spawnSync('tar', ['-cf', path.join(work, 'd.tar'), '-C', dump, '.']).status, 0);
  const tmp = path.join(work, 'tmp');
  fs.mkdirSync(tmp);
  const out = path.join(work, 'out.fsm');
  const r = await runCli([path.join(work, 'd.tar'), '-o', out], { bin: ENCODE_BIN, env: { TMPDIR: tmp } });
  t.is(r.code, 1);
  t.regex(r.stderr, /ERR_DUMP_INVALID: path s3\/bkt\/evil: tar entry is a symlink, not a regular file or directory: refused/);
  t.false(fs.existsSync(out));
  t.deepEqual(fs.readdirSync(tmp), [], 'scratch removed');
});

test('a KEYMAP record naming a dump file that is not a body (_bucket.json) is refused', (t) =>
  refused(
    t,
    (d) => {
      fs.appendFileSync(bkt(d, 'KEYMAP.jsonl'), '{"encoded":"_bucket.json","original":"eA","kind":"sha-fallback"}\n');
      rewriteChecksums(d);
    },
    /s3\/bkt\/KEYMAP\.jsonl: line 2: "_bucket\.json" is not where an object body can be/,
  ));

test('SIGINT while encoding: exit 130, nothing published, the temporary file and scratch removed', async (t) => {
  const work = tempDir(t);
  const files: Record<string, string> = { 's3/b/_bucket.json': '{\n  "format_version": 1,\n  "name": "b"\n}' };
  for (let i = 0; i < 3000; i++) {
    const body = `body ${i}`;
    files[`s3/b/${String(i).padStart(5, '0')}`] = body;
    files[`s3/b/${String(i).padStart(5, '0')}.elastickv-meta.json`] = `{\n  "format_version": 1,\n  "etag": "${md5(body)}",\n  "size_bytes": ${body.length}\n}`;
  }
  const dump = writeDump(path.join(work, 'dump'), files, { lastCommitTs: T });
  const tmp = path.join(work, 'tmp');
  fs.mkdirSync(tmp);
  const out = path.join(work, 'out.fsm');
  const child = spawn(process.execPath, [ENCODE_BIN, dump, '-o', out], { cwd: REPO, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  // Interrupt once the output's temporary file exists: the walk is done and entries are being written.
  let partial = false;
  for (let i = 0; i < 600 && !partial; i++) {
    partial = fs.readdirSync(work).some((f) => f.startsWith('out.fsm.partial-'));
    if (!partial) await new Promise((r) => setTimeout(r, 25));
  }
  t.true(partial, 'the temporary output file appeared');
  child.kill('SIGINT');
  t.is(await exited, 130, stderr);
  t.regex(stderr, /interrupted by SIGINT: nothing was published/);
  t.deepEqual(fs.readdirSync(work).sort(), ['dump', 'tmp']);
  t.deepEqual(fs.readdirSync(tmp), []);
});
