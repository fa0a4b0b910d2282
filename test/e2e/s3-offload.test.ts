/**
 * --from-offload s3://BUCKET[/PREFIX] (SPEC §11) against s3rver: the same
 * offload store as a local directory and as objects under a prefix decode
 * to the same dump; payloads arrive through ranged GETs (pinned to their
 * ETag, resumed when cut off); a tampered payload, a manifest failing its
 * self-hash, a missing bucket, an empty prefix and a 403 fail with one line
 * and publish nothing.
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { offloadPayload, splitCluster, writeOffloadStore, type TestRoute } from '../helpers/cluster.js';
import { startFaultProxy, type FaultRule } from '../helpers/fault-proxy.js';
import * as K from '../helpers/keys.js';
import { putBytes, S3_TEST_ENV, sharedS3Server } from '../helpers/s3-server.js';
import { compositeEtag, SnapshotBuilder } from '../helpers/snapshot.js';
import { bytesOf, objectFiles, plainBucketJson, readTree, runCli, tempDir, type RunResult } from './harness.js';

const s3 = sharedS3Server(test, 'off');

// Objects before "m" in group 1 (which also holds the route catalog), the rest and every raw key in group 2.
const ROUTES: TestRoute[] = [
  { routeId: 1, groupId: 1, start: '', end: K.routeKey('docs', 1, 'm') },
  { routeId: 2, groupId: 2, start: K.routeKey('docs', 1, 'm') },
];
const BODIES = { alpha: bytesOf('alpha', 70_000), zulu: bytesOf('zulu', 400_000), late: bytesOf('late', 900) };

function cluster(): SnapshotBuilder {
  return new SnapshotBuilder()
    .bucket('docs')
    .putObject('docs', 'alpha.bin', BODIES.alpha, { chunkSize: 16384, parts: 2 })
    .putObject('docs', 'zulu/z.txt', BODIES.zulu, { offloaded: true, chunkSize: 8192 })
    .putObject('docs', 'zz-late', BODIES.late);
}

const PREFIX = 'offload/cluster-a';

/** The store written locally under work/store (group 1 also has an older manifest), and the same files uploaded under PREFIX. */
async function storeBoth(t: ExecutionContext, edit?: (rel: string, data: Buffer) => Buffer): Promise<{ work: string; bucket: string; payloads: Map<number, Buffer> }> {
  const work = tempDir(t);
  const store = path.join(work, 'store');
  const payloads = new Map<number, Buffer>();
  for (const [g, b] of splitCluster(cluster(), ROUTES, [1, 2])) payloads.set(g, offloadPayload(b));
  writeOffloadStore(store, [
    ...[...payloads].map(([g, p]) => ({ groupId: g, index: 500 + g, term: 4, payload: p })),
    { groupId: 1, index: 400, term: 9, payload: offloadPayload(new SnapshotBuilder().bucket('docs').putObject('docs', 'stale', Buffer.from('old'))) },
  ]);
  const bucket = await s3.freshBucket();
  for (const e of fs.readdirSync(store, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const rel = path.relative(store, path.join(e.parentPath, e.name));
    const data = fs.readFileSync(path.join(store, rel));
    await putBytes(s3.client, bucket, `${PREFIX}/${rel}`, edit ? edit(rel, data) : data);
  }
  return { work, bucket, payloads };
}

function decode(work: string, args: string[], endpoint = s3.server.endpoint): Promise<RunResult> {
  return runCli([...args, '-o', path.join(work, 'out'), '--s3-endpoint', endpoint, '--s3-path-style'], { env: { ...S3_TEST_ENV, TMPDIR: work } });
}

/** One line on stderr, the given error, and no DIR published. */
function failsWith(t: ExecutionContext, work: string, res: RunResult, line: RegExp): void {
  t.is(res.code, 1, res.stderr);
  const lines = res.stderr.trimEnd().split('\n').filter((l) => !l.includes('offloaded snapshot of group'));
  t.is(lines.length, 1, res.stderr);
  t.regex(lines[0] ?? '', line);
  t.false(fs.existsSync(path.join(work, 'out')), 'nothing published');
  t.deepEqual(fs.readdirSync(work).filter((n) => n.startsWith('ekv-')), [], 'scratch removed');
}

const EXPECTED = {
  's3/docs/_bucket.json': plainBucketJson('docs'),
  ...objectFiles('docs', 'alpha.bin', BODIES.alpha, { etag: compositeEtag([BODIES.alpha.subarray(0, 35_000), BODIES.alpha.subarray(35_000)]) }),
  ...objectFiles('docs', 'zulu/z.txt', BODIES.zulu),
  ...objectFiles('docs', 'zz-late', BODIES.late),
};

test('--from-offload s3://BUCKET/PREFIX decodes to the dump --from-offload DIR gives, byte for byte; payloads come by ranged GETs', async (t) => {
  const { work, bucket } = await storeBoth(t);
  const proxy = await startFaultProxy(s3.server.port, []);
  t.teardown(() => proxy.close());
  const res = await decode(work, ['--from-offload', `s3://${bucket}/${PREFIX}`], proxy.endpoint);
  t.is(res.code, 0, res.stderr);
  const local = await runCli(['--from-offload', path.join(work, 'store'), '-o', path.join(work, 'local'), '-q']);
  t.is(local.code, 0, local.stderr);
  const got = readTree(path.join(work, 'out'));
  const want = readTree(path.join(work, 'local'));
  t.deepEqual([...got.files.keys()].sort(), [...want.files.keys()].sort());
  for (const [p, f] of want.files) if (p !== 'MANIFEST.json' && p !== 'CHECKSUMS') t.true(got.files.get(p)!.data.equals(f.data), p);
  for (const [p, body] of Object.entries(EXPECTED)) t.true(got.files.get(p)!.data.equals(Buffer.from(body)), p);
  // MANIFEST.json differs only in where each payload was read (and the wall time).
  const norm = (m: Buffer): unknown => {
    const j = JSON.parse(m.toString()) as Record<string, unknown>;
    delete j.decoded_at_iso;
    delete j.wall_time_iso;
    return j;
  };
  const m = JSON.parse(got.files.get('MANIFEST.json')!.data.toString()) as { groups: Array<{ group_id: number; snapshot_index: number; path: string }> };
  t.deepEqual(m.groups.map((g) => [g.group_id, g.snapshot_index]), [[1, 501], [2, 502]]);
  for (const g of m.groups) t.regex(g.path, new RegExp(`^s3://${bucket}/${PREFIX}/v1/payloads/sha256/([0-9a-f]{2})/\\1[0-9a-f]{62}\\.fsm$`));
  const localManifest = norm(want.files.get('MANIFEST.json')!.data) as { groups: Array<{ path: string }>; source: { fsm_path: string } };
  const s3Manifest = norm(got.files.get('MANIFEST.json')!.data) as typeof localManifest;
  for (const x of [localManifest, s3Manifest]) {
    for (const g of x.groups) g.path = path.basename(g.path);
    x.source.fsm_path = path.basename(x.source.fsm_path);
  }
  t.deepEqual(s3Manifest, localManifest);
  // Every payload GET is a ranged GET pinned to the ETag its HeadObject returned.
  const payloadGets = proxy.seen.filter((r) => r.method === 'GET' && r.url.includes('/v1/payloads/'));
  t.is(payloadGets.length, 2);
  for (const r of payloadGets) {
    t.regex(String(r.headers.range), /^bytes=0-\d+$/);
    t.truthy(r.headers['if-match']);
  }
});

test('--from-offload s3://: a payload response cut off is resumed where it stopped; --group selects one group', async (t) => {
  const { work, bucket } = await storeBoth(t);
  const rules: FaultRule[] = [{ match: (r) => r.method === 'GET' && r.url.includes('/v1/payloads/'), fault: { kind: 'drop-response', afterBytes: 200_000 }, times: 1 }];
  const proxy = await startFaultProxy(s3.server.port, rules);
  t.teardown(() => proxy.close());
  const res = await decode(work, ['--from-offload', `s3://${bucket}/${PREFIX}`, '--group', '2', '-q'], proxy.endpoint);
  t.is(res.code, 0, res.stderr);
  t.is(proxy.faulted.length, 1);
  const resumed = proxy.seen.filter((r) => r.method === 'GET' && r.url.includes('/v1/payloads/')).map((r) => String(r.headers.range));
  t.is(resumed.length, 2);
  // The bytes that got through (whole socket reads, at most 200 000) are not asked for again.
  const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(resumed[1]!) ?? [];
  t.true(Number(from) > 0 && Number(from) <= 200_000, resumed[1]);
  t.is(to, /^bytes=0-(\d+)$/.exec(resumed[0]!)?.[1]);
  const tree = readTree(path.join(work, 'out'));
  // Group 2 owns zulu/z.txt and zz-late, the bucket meta and the chunkblobs; alpha.bin is in group 1.
  t.deepEqual([...tree.files.keys()].filter((p) => p.startsWith('s3/')).sort(), Object.keys(EXPECTED).filter((p) => !p.includes('alpha.bin')).sort());
  t.is((JSON.parse(tree.files.get('MANIFEST.json')!.data.toString()) as { snapshot_index: number }).snapshot_index, 502);
});

test('--from-offload s3://: a tampered payload is ERR_OFFLOAD_INTEGRITY, nothing published', async (t) => {
  const { work, bucket, payloads } = await storeBoth(t, (rel, data) => {
    if (!rel.includes('payloads')) return data;
    const out = Buffer.from(data);
    out[out.length - 3] = out[out.length - 3]! ^ 0x55; // inside a value: the records still parse
    return out;
  });
  t.is(payloads.size, 2);
  const res = await decode(work, ['--from-offload', `s3://${bucket}/${PREFIX}`, '--log-format', 'json']);
  failsWith(t, work, res, new RegExp(`"code":"ERR_OFFLOAD_INTEGRITY".*s3://${bucket}/${PREFIX}/v1/payloads/sha256/.*payload SHA-256 is [0-9a-f]{64}, the manifest says`));
});

test('--from-offload s3://: a manifest failing its self-hash is ERR_OFFLOAD_MANIFEST, nothing published', async (t) => {
  const { work, bucket } = await storeBoth(t, (rel, data) => (rel.includes('groups/2/') ? Buffer.from(data.toString().replace('"test-cluster"', '"other-cluster"')) : data));
  const res = await decode(work, ['--from-offload', `s3://${bucket}/${PREFIX}`]);
  failsWith(t, work, res, new RegExp(`ERR_OFFLOAD_MANIFEST.*s3://${bucket}/${PREFIX}/v1/groups/2/snapshots/00000000000000000502-00000000000000000004\\.json.*self-hash mismatch`));
});

test('--from-offload s3://: a missing bucket, an empty prefix and access denied are one-line errors', async (t) => {
  const { work, bucket } = await storeBoth(t);
  failsWith(t, work, await decode(work, ['--from-offload', 's3://no-such-bucket/x']), /ERR_S3_REQUEST.*s3:\/\/no-such-bucket\/x\/v1\/groups\/.*ListObjectsV2 failed: NoSuchBucket \(HTTP 404\): the bucket does not exist/);
  failsWith(t, work, await decode(work, ['--from-offload', `s3://${bucket}/offload/other`]), new RegExp(`ERR_OFFLOAD_MANIFEST.*s3://${bucket}/offload/other/v1/groups/.*no offload manifest found`));
  const proxy = await startFaultProxy(s3.server.port, [{ match: (r) => r.method === 'GET' && r.url.includes('/v1/payloads/'), fault: { kind: 'status', status: 403, code: 'AccessDenied' } }]);
  t.teardown(() => proxy.close());
  failsWith(t, work, await decode(work, ['--from-offload', `s3://${bucket}/${PREFIX}`], proxy.endpoint), /ERR_S3_REQUEST.*v1\/payloads\/.*AccessDenied \(HTTP 403\): access denied/);
});
