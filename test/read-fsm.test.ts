import test from 'ava';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecodeError } from '../lib/errors.js';
import { createFsmReader } from '../lib/stages/read-snapshot.js';
import type { SnapshotHeader, SnapshotRecord } from '../lib/types.js';
import { buildFsm, buildFsmEntry, type FsmTestEntry } from './helpers/fsm.js';

function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < buf.length; o += size) out.push(buf.subarray(o, o + size));
  return out;
}

async function collect(input: Buffer, size: number): Promise<{ records: SnapshotRecord[]; headers: SnapshotHeader[]; order: string[] }> {
  const reader = createFsmReader();
  const records: SnapshotRecord[] = [];
  const headers: SnapshotHeader[] = [];
  const order: string[] = [];
  reader.on('header', (h: SnapshotHeader) => {
    headers.push(h);
    order.push('header');
  });
  await pipeline(
    Readable.from(chunks(input, size)),
    reader,
    new Writable({
      objectMode: true,
      write(rec: SnapshotRecord, _enc, cb) {
        records.push(rec);
        order.push('record');
        cb();
      },
    }),
  );
  return { records, headers, order };
}

const ENTRIES: FsmTestEntry[] = [
  { key: 'a', value: 'one', commitTs: 3n },
  { key: 'b', tombstone: true, commitTs: 2n },
  { key: 'c', value: Buffer.alloc(5000, 7), commitTs: 1n },
];

test('stream: records and one header event, before the first record', async (t) => {
  const input = buildFsm(ENTRIES, { header: 'v1', footer: true, lastCommitTs: 55n });
  for (const size of [1, 7, 64, 1 << 16]) {
    const { records, headers, order } = await collect(input, size);
    t.deepEqual(headers, [{ format: 'fsm', lastCommitTs: 55n }]);
    t.is(order[0], 'header');
    t.deepEqual(
      records.map((r) => [r.key.toString(), r.value?.length, r.commitTs, r.tombstone, r.where.offset]),
      [
        ['a', 3, 3n, false, 32],
        ['b', 0, 2n, true, 32 + 8 + 9 + 8 + 9 + 3],
        ['c', 5000, 1n, false, 32 + 8 + 9 + 8 + 9 + 3 + 8 + 9 + 8 + 9],
      ],
    );
  }
});

test('stream: modes and header property', async (t) => {
  const reader = createFsmReader();
  t.true(reader.readableObjectMode);
  t.false(reader.writableObjectMode);
  t.is(reader.header, undefined);
  await pipeline(Readable.from([buildFsm([], { lastCommitTs: 4n })]), reader, new Writable({ objectMode: true, write: (_r, _e, cb) => cb() }));
  t.deepEqual(reader.header, { format: 'fsm', lastCommitTs: 4n });
  t.is(reader.bytesRead, 16);
});

test('stream: corruption fails the pipeline with the DecodeError', async (t) => {
  const bad = Buffer.concat([buildFsm(ENTRIES), buildFsmEntry({ key: 'x', value: 'y', flags: 0x02 })]);
  const err = await t.throwsAsync(collect(bad, 10), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_SNAPSHOT_ENCRYPTED');
  const trunc = buildFsm(ENTRIES).subarray(0, 40);
  const err2 = await t.throwsAsync(collect(trunc, 10), { instanceOf: DecodeError });
  t.is(err2?.code, 'ERR_SNAPSHOT_TRUNCATED');
  t.is(err2?.context.offset, 16);
  const crc = buildFsm(ENTRIES, { footer: true });
  crc[crc.length - 2]! ^= 1;
  const err3 = await t.throwsAsync(collect(crc, 3), { instanceOf: DecodeError });
  t.is(err3?.code, 'ERR_SNAPSHOT_CRC_MISMATCH');
  const err4 = await t.throwsAsync(collect(Buffer.from('{"key":"YQ=="}\n'), 4), { instanceOf: DecodeError });
  t.is(err4?.code, 'ERR_SNAPSHOT_BAD_MAGIC');
});

test('stream: backpressure — input is not drained while records are not read', async (t) => {
  const entries: FsmTestEntry[] = [];
  for (let i = 0; i < 2000; i++) entries.push({ key: `key-${i}`, value: Buffer.alloc(1000, i & 0xff), commitTs: BigInt(i) });
  const input = buildFsm(entries);
  const reader = createFsmReader({ readableHighWaterMark: 4 });
  let pulled = 0;
  const source = new Readable({
    highWaterMark: 1024,
    read() {
      const c = pulled;
      pulled += 1024;
      this.push(c < input.length ? input.subarray(c, c + 1024) : null);
    },
  });
  source.pipe(reader);
  await new Promise((r) => setTimeout(r, 50));
  // Nothing reads the records: only a bounded prefix of the input is pulled.
  t.true(pulled < 64 * 1024, `pulled ${pulled}`);
  t.true(reader.readableLength <= 8, `buffered ${reader.readableLength}`);
  // Now consume everything.
  let n = 0;
  for await (const rec of reader as AsyncIterable<SnapshotRecord>) {
    t.is(rec.commitTs, BigInt(n));
    n++;
  }
  t.is(n, 2000);
});
