import test from 'ava';
import { BLOB, chunkPayload, decodePayload, manifestPayload, packWhere, REF, unpackWhere } from '../lib/core/object-record.js';
import { ObjectVersions } from '../lib/core/object-versions.js';
import type { ChunkAddress, CollectedChunk, ObjectCollection, Span, SpillFile, Where } from '../lib/types.js';

// One object's versions replayed in arrival order (lib/core/object-versions.ts):
// per identity the newest version wins (equal commit_ts: the later one), a
// tombstone leaves a mark that refuses older versions; chunks iterate in
// arrival order of their identity, like a Map's entries.

const pool: SpillFile = { id: 0, path: '/p', kind: 'pool' };
const files = new Map([[0, pool]]);
const loc = (offset: number, length = 1): Span => ({ file: pool, offset, length });

function addr(chunkNo: number | bigint, opts: { uploadId?: string | Buffer; partNo?: bigint; partVersion?: bigint } = {}): ChunkAddress {
  const up = opts.uploadId ?? 'up';
  return {
    bucket: Buffer.from('b'),
    generation: 1n,
    object: Buffer.from('o'),
    uploadId: typeof up === 'string' ? Buffer.from(up, 'latin1') : up,
    partNo: opts.partNo ?? 1n,
    chunkNo: BigInt(chunkNo),
    partVersion: opts.partVersion ?? 0n,
  };
}

const fresh = () => new ObjectVersions(Buffer.from('o'), 1n, files);
/** Applies a manifest version the way the spool does: through its record bytes. */
const manifest = (o: ObjectVersions, value: string | null, ts: bigint, where: Where = {}) => o.apply(decodePayload(manifestPayload(7, value === null ? null : Buffer.from(value, 'latin1'), ts, where)));
const blob = (o: ObjectVersions, a: ChunkAddress, ts: bigint, where: Where, span: Span | null) => o.apply(decodePayload(chunkPayload(7, BLOB, a, ts, where, span)));
const blobs = (o: ObjectCollection): CollectedChunk[] => [...(o.blobs?.values() ?? [])];
const offsets = (o: ObjectCollection): number[] => blobs(o).map((c) => c.span!.offset);

test('manifest versions: the highest commit_ts wins whatever the order; equal: the later; a tombstone refuses older versions', (t) => {
  const o = fresh();
  const m = (v: string) => `{"v":"${v}"}`;
  manifest(o, m('5'), 5n, { line: 5 });
  manifest(o, m('3'), 3n, { line: 6 });
  t.is(o.manifest!.value.toString(), '{"v":"5"}');
  t.deepEqual(o.manifest!.where, { line: 5 });
  manifest(o, m('5b'), 5n, { offset: 7 });
  t.is(o.manifest!.value.toString(), '{"v":"5b"}');
  t.deepEqual(o.manifest!.where, { offset: 7 });
  manifest(o, null, 9n, { line: 9 });
  t.is(o.manifest, undefined);
  manifest(o, m('8'), 8n, { line: 10 }); // older than the tombstone
  t.is(o.manifest, undefined);
  manifest(o, m('9'), 9n, { line: 11 }); // equal: the later record
  t.is(o.manifest!.value.toString(), '{"v":"9"}');
  manifest(o, m('2^64-1'), 18446744073709551615n);
  manifest(o, m('2^64-2'), 18446744073709551614n);
  t.is(o.manifest!.value.toString(), '{"v":"2^64-1"}');
});

test('manifest bytes come back exactly (Go-style JSON is kept encoded, anything else as it is)', (t) => {
  for (const v of [
    '{"upload_id":"u","etag":"e","size_bytes":3,"last_modified_hlc":1,"content_type":"application/octet-stream","parts":[{"part_no":1,"etag":"e","size_bytes":3,"chunk_count":1,"chunk_sizes":[3]}]}',
    'not json \x00\x01\x1f',
    '',
  ]) {
    const o = fresh();
    manifest(o, v, 1n);
    t.is(o.manifest!.value.toString('latin1'), v);
  }
});

test('chunks: a newer version replaces in place; an older one is refused; a tombstone leaves a mark; back after it goes to the end', (t) => {
  const o = fresh();
  blob(o, addr(0), 5n, { line: 1 }, loc(10));
  blob(o, addr(1), 5n, { line: 2 }, loc(11));
  blob(o, addr(0), 4n, { line: 3 }, loc(12));
  t.deepEqual(offsets(o), [10, 11]);
  blob(o, addr(0), 5n, { line: 4 }, loc(13)); // equal: later wins, same place
  t.deepEqual(offsets(o), [13, 11]);
  t.deepEqual(blobs(o)[0]!.where, { line: 4 });
  t.is(o.blobs!.size, 2);
  blob(o, addr(0), 7n, { line: 5 }, null); // tombstone
  t.deepEqual(offsets(o), [11]);
  t.is(o.blobs!.size, 1);
  blob(o, addr(0), 6n, { line: 6 }, loc(14)); // older than the tombstone
  t.deepEqual(offsets(o), [11]);
  blob(o, addr(0), 8n, { line: 7 }, loc(15)); // back after the tombstone: at the end
  t.deepEqual(offsets(o), [11, 15]);
  t.is(o.blobs!.size, 2);
  blob(o, addr(0), 8n, { line: 8 }, loc(16)); // replaced in place again
  t.deepEqual(offsets(o), [11, 16]);
  blob(o, addr(2), 1n, { line: 9 }, null); // a tombstone for a chunk never seen
  blob(o, addr(2), 0n, { line: 10 }, loc(17));
  t.is(o.blobs!.size, 2);
  t.deepEqual([...o.blobs!.values()].map((c) => c.span!.offset), [11, 16]); // values() iterates afresh
});

test('chunk identity is (kind, upload id bytes, part, chunk, part version)', (t) => {
  const o = fresh();
  blob(o, addr(0), 1n, {}, loc(1));
  blob(o, addr(0, { uploadId: 'other' }), 1n, {}, loc(2));
  blob(o, addr(0, { uploadId: Buffer.from([0xff, 0x00]) }), 1n, {}, loc(3));
  blob(o, addr(0, { partNo: 2n }), 1n, {}, loc(4));
  blob(o, addr(0, { partVersion: 18446744073709551615n }), 1n, {}, loc(5));
  blob(o, addr(18446744073709551615n), 1n, {}, loc(6));
  o.apply(decodePayload(chunkPayload(7, REF, addr(0), 0n, { line: 3 }, Buffer.from('ref')))); // a chunkref is no blob
  blob(o, addr(0, { uploadId: 'other' }), 0n, {}, loc(7));
  t.deepEqual(offsets(o), [1, 2, 3, 4, 5, 6]);
  t.deepEqual(
    blobs(o).map((c) => [c.uploadId, c.partNo, c.chunkNo, c.partVersion, c.commitTs]),
    [
      ['up', 1n, 0n, 0n, 1n],
      ['other', 1n, 0n, 0n, 1n],
      ['\xff\x00', 1n, 0n, 0n, 1n],
      ['up', 2n, 0n, 0n, 1n],
      ['up', 1n, 0n, 18446744073709551615n, 1n],
      ['up', 1n, 18446744073709551615n, 0n, 1n],
    ],
  );
  const refs = [...o.refs!.values()];
  t.is(refs.length, 1);
  t.is(refs[0]!.ref!.toString(), 'ref');
  t.is(refs[0]!.span, undefined);
  t.deepEqual(refs[0]!.where, { line: 3 });
  t.is(blobs(o)[0]!.ref, undefined);
  t.is(blobs(o)[0]!.span!.file, pool);
});

test('no chunk record: blobs and refs are absent; only tombstones: present and empty', (t) => {
  const o = fresh();
  t.is(o.blobs, undefined);
  t.is(o.refs, undefined);
  blob(o, addr(0), 1n, {}, null);
  t.is(o.blobs!.size, 0);
  t.deepEqual(blobs(o), []);
});

test('where packing round-trips lines, offsets and nothing', (t) => {
  for (const w of [{ line: 0 }, { line: 1 }, { line: 123456789 }, { offset: 0 }, { offset: 5 }, { offset: 2 ** 40 }, {}]) t.deepEqual(unpackWhere(packWhere(w)), w);
});
