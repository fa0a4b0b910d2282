/** Feeding native snapshots to FsmDecoder in chunks and capturing records or the error, for the fsm-* tests. */
import type { ExecutionContext } from 'ava';
import { FsmDecoder, type FsmDecoderOptions } from '../../lib/core/fsm-decoder.js';
import { DecodeError } from '../../lib/errors.js';
import type { SnapshotRecord } from '../../lib/types.js';
import { buildFsmEntry, type FsmTestEntry } from './fsm.js';

export interface Plain {
  key: string;
  value: string | null;
  commitTs: bigint;
  tombstone: boolean;
  offset: number | undefined;
}

export function plain(r: SnapshotRecord): Plain {
  return {
    key: r.key.toString('hex'),
    value: r.value === null ? null : r.value.toString('hex'),
    commitTs: r.commitTs,
    tombstone: r.tombstone,
    offset: r.where.offset,
  };
}

export type Outcome = { ok: true; records: Plain[]; lastCommitTs: bigint | undefined; footer: boolean } | { ok: false; code: string; offset: number | undefined; message: string };

/** Decodes `input` fed as the given chunks (cut points), capturing records or the error. */
export function run(input: Buffer, cuts: number[] = [], opts: FsmDecoderOptions = {}): Outcome {
  const d = new FsmDecoder(opts);
  const records: Plain[] = [];
  let prev = 0;
  try {
    for (const c of [...cuts, input.length]) {
      for (const r of d.push(input.subarray(prev, c))) records.push(plain(r));
      prev = c;
    }
    d.end();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return { ok: false, code: err.code, offset: err.context.offset, message: err.message };
  }
  return { ok: true, records, lastCommitTs: d.header?.lastCommitTs, footer: d.hasFooter };
}

export function expectError(t: ExecutionContext, input: Buffer, code: string, offset: number, message?: RegExp, cuts: number[] = []): void {
  const out = run(input, cuts);
  if (out.ok) {
    t.fail(`expected ${code}, got ${out.records.length} records`);
    return;
  }
  t.is(out.code, code, out.message);
  t.is(out.offset, offset, out.message);
  if (message) t.regex(out.message, message);
}

/** Expected records for entries written by buildFsm (in the given order) after a preamble of `start` bytes. */
export function expected(entries: FsmTestEntry[], start: number): Plain[] {
  let off = start;
  return entries.map((e) => {
    const bytes = buildFsmEntry(e);
    const key = typeof e.key === 'string' ? Buffer.from(e.key) : e.key;
    const value = e.value === undefined ? Buffer.alloc(0) : typeof e.value === 'string' ? Buffer.from(e.value) : e.value;
    const p: Plain = {
      key: key.toString('hex'),
      value: value.toString('hex'),
      commitTs: e.commitTs ?? 0n,
      tombstone: ((e.flags ?? (e.tombstone ? 1 : 0)) & 1) === 1,
      offset: off,
    };
    off += bytes.length;
    return p;
  });
}

/** Entries of every kind: bucket meta, empty value, tombstone, binary key with the largest commit_ts and an expireAt, …. */
export const ENTRIES: FsmTestEntry[] = [
  { key: '!s3|bucket|meta|bkt\x00\x01', value: '{"generation":1}', commitTs: 100n },
  { key: 'k', value: '', commitTs: 0n },
  { key: 'tomb', commitTs: 7n, tombstone: true },
  { key: Buffer.from([0, 0xff, 0, 1]), value: Buffer.from([1, 2, 3]), commitTs: (1n << 64n) - 1n, expireAt: 12345n },
  { key: 'ts-2^32', value: 'v', commitTs: 1n << 32n },
  { key: 'mid', value: Buffer.alloc(300, 0x5a), commitTs: 0x0123456789abcdefn },
];

export function u64le(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}
