import test from 'ava';
import { Readable } from 'node:stream';
import type { ClusterInput } from '../lib/cluster/input.js';
import { CLUSTER_READ_SIZE, clusterReadSize, groupIdFromPath } from '../lib/cluster/input.js';
import { openClusterMerge } from '../lib/cluster/merge.js';
import { DecodeError } from '../lib/errors.js';
import type { SnapshotRecord } from '../lib/types.js';
import { buildFsm, testCrc32c, testEncodedKey, type FsmTestEntry } from './helpers/fsm.js';

// SPEC §10 performance contract and rule 1: native inputs merged by encoded
// key into one sorted stream, ties leaving in input order (the later input
// wins in the resolver); JSON lines concatenated in input order.

const input = (path: string, bytes: Buffer, extra: Partial<ClusterInput> = {}): ClusterInput => ({ path, ...extra, open: async () => Readable.from([bytes]) });

async function drain(inputs: ClusterInput[]): Promise<SnapshotRecord[]> {
  const merge = await openClusterMerge(inputs);
  const out: SnapshotRecord[] = [];
  for await (const r of merge) out.push(r as SnapshotRecord);
  return out;
}

const e = (key: string, ts: number, value = `${key}@${ts}`): FsmTestEntry => ({ key, value, commitTs: BigInt(ts) });
const show = (r: SnapshotRecord): string => `${r.key.toString()}@${r.commitTs}#${r.input}`;

test('native inputs: one stream sorted by encoded key, each record tagged with its input', async (t) => {
  const g0 = [e('a', 5), e('c', 9), e('c', 2), e('e', 1)];
  const g1 = [e('b', 1), e('c', 7), e('d', 3)];
  const g2 = [e('ab', 4), e('f', 1)];
  const recs = await drain([input('g0', buildFsm(g0, { sort: true })), input('g1', buildFsm(g1, { sort: true, footer: true })), input('g2', buildFsm(g2, { sort: true }))]);
  // "ab" sorts before "a"‖¬5: the timestamp bytes (0xff…) are above 'b'.
  t.deepEqual(recs.map(show), ['ab@4#2', 'a@5#0', 'b@1#1', 'c@9#0', 'c@7#1', 'c@2#0', 'd@3#1', 'e@1#0', 'f@1#2']);
  const enc = recs.map((r) => testEncodedKey(r.key, r.commitTs));
  for (let i = 1; i < enc.length; i++) t.true(Buffer.compare(enc[i - 1]!, enc[i]!) <= 0);
});

test('native inputs: equal key and commit_ts leave in input order (the later input comes later)', async (t) => {
  const recs = await drain([input('first', buildFsm([e('k', 5, 'one')])), input('second', buildFsm([e('k', 5, 'two')])), input('third', buildFsm([e('k', 5, 'three')]))]);
  t.deepEqual(
    recs.map((r) => r.value?.toString()),
    ['one', 'two', 'three'],
  );
});

test('JSON-lines inputs (maybe unsorted) are concatenated in the order given', async (t) => {
  const line = (k: string, ts: number): string => `${JSON.stringify({ key: Buffer.from(k).toString('base64'), value: '', commit_ts: ts })}\n`;
  const recs = await drain([input('a.jsonl', Buffer.from(line('z', 1) + line('a', 1))), input('b.jsonl', Buffer.from(line('m', 1) + line('b', 2)))]);
  t.deepEqual(recs.map(show), ['z@1#0', 'a@1#0', 'm@1#1', 'b@2#1']);
});

test('a mix of native and JSON lines is concatenated too', async (t) => {
  const line = `${JSON.stringify({ key: Buffer.from('a').toString('base64'), value: '' })}\n`;
  const recs = await drain([input('x.fsm', buildFsm([e('b', 1)])), input('y.jsonl', Buffer.from(line))]);
  t.deepEqual(recs.map(show), ['b@1#0', 'a@0#1']);
});

test('reports: per input its records, lastCommitTS and verified footer', async (t) => {
  const withFooter = buildFsm([e('a', 1), e('b', 2)], { footer: true, lastCommitTs: 42n });
  const merge = await openClusterMerge([input('g1', withFooter, { groupId: 1n, snapshotIndex: 9n }), input('g2', buildFsm([e('c', 1)]))]);
  for await (const _ of merge);
  const [r1, r2] = merge.reports();
  t.like(r1, { path: 'g1', groupId: 1n, snapshotIndex: 9n, format: 'fsm', lastCommitTs: 42n, records: 2, crc32c: testCrc32c(withFooter.subarray(0, -4)) });
  t.is(r2?.crc32c, undefined);
  t.is(r2?.records, 1);
});

test('requireFooter: a native input without its CRC32C footer fails, naming it', async (t) => {
  const err = await t.throwsAsync(drain([input('ok', buildFsm([e('a', 1)], { footer: true }), { requireFooter: true }), input('cut.fsm', buildFsm([e('b', 1)]), { requireFooter: true })]), {
    instanceOf: DecodeError,
  });
  t.is(err?.code, 'ERR_SNAPSHOT_TRUNCATED');
  t.is(err?.context.path, 'cut.fsm');
  t.regex(err?.message ?? '', /no CRC32C footer/);
});

test('a corrupt input fails the merge with its code and path', async (t) => {
  const good = buildFsm([e('a', 1)]);
  const cut = buildFsm([e('b', 1)]).subarray(0, -3);
  const err = await t.throwsAsync(drain([input('good', good), input('bad.fsm', cut)]), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_SNAPSHOT_TRUNCATED');
  t.is(err?.context.path, 'bad.fsm');
});

test('verify() runs when an input has been read to its end and can fail the run', async (t) => {
  let seen: unknown;
  const err = await t.throwsAsync(
    drain([
      input('v', buildFsm([e('a', 1)], { footer: true }), {
        verify: (end) => {
          seen = end;
          throw new DecodeError('ERR_OFFLOAD_INTEGRITY', 'nope', { path: 'v' });
        },
      }),
    ]),
  );
  t.is((err as DecodeError).code, 'ERR_OFFLOAD_INTEGRITY');
  t.like(seen as object, { footerCrc: testCrc32c(buildFsm([e('a', 1)])) });
});

test('the merge holds one head per input: a slow consumer keeps every input paused', async (t) => {
  const many = (p: string): FsmTestEntry[] => Array.from({ length: 2000 }, (_, i) => e(`${p}${String(i).padStart(5, '0')}`, 1, 'x'.repeat(512)));
  const pieces = (b: Buffer): Buffer[] => Array.from({ length: Math.ceil(b.length / 16384) }, (_, i) => b.subarray(i * 16384, (i + 1) * 16384));
  const inputs = ['a', 'b', 'c', 'd'].map((p): ClusterInput => ({ path: p, open: async () => Readable.from(pieces(buildFsm(many(p), { sort: true }))) }));
  const merge = await openClusterMerge(inputs);
  const first = await new Promise<SnapshotRecord>((resolve) => merge.once('readable', () => resolve(merge.read() as SnapshotRecord)));
  t.is(first.key.toString(), 'a00000');
  await new Promise((r) => setTimeout(r, 50));
  // 8000 records of ~0.5 KiB are waiting; each input decodes about one 16 KiB read ahead.
  t.true(merge.records < 4 * 80, `records decoded ahead: ${merge.records}`);
  merge.destroy();
});

test('group ids from group-<N> path components', (t) => {
  t.is(groupIdFromPath('/data/raft/n1/group-12/fsm-snap/0000000000000001.fsm'), 12n);
  t.is(groupIdFromPath('cluster/group-3/snapshot.jsonl'), 3n);
  t.is(groupIdFromPath('/data/n1/fsm-snap/0000000000000001.fsm'), undefined);
  t.is(groupIdFromPath('/data/my-group-3/x.fsm'), undefined);
});

test('clusterReadSize: 4 MiB reads (as a lone input) for up to 4 inputs, halved as inputs are added, never below CLUSTER_READ_SIZE', (t) => {
  const MiB = 1 << 20;
  t.deepEqual(
    [1, 2, 4, 5, 8, 16, 32, 64, 1000].map((n) => [n, clusterReadSize(n)]),
    [[1, 4 * MiB], [2, 4 * MiB], [4, 4 * MiB], [5, 2 * MiB], [8, 2 * MiB], [16, MiB], [32, MiB / 2], [64, MiB / 4], [1000, MiB / 4]],
  );
  t.is(CLUSTER_READ_SIZE, MiB / 4);
});
