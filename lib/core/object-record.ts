/**
 * One version of an object's metadata (a manifest or a chunk, or a
 * tombstone of either) as the bucket collector keeps it: a sort key and a
 * payload, plain bytes, so that millions of them can be sorted on disk
 * (lib/io/external-sort.ts) instead of held in memory.
 *
 * The sort key orders records the way the sink consumes them: by bucket
 * (its directory name, SPEC §6 — the order buckets are written in), then
 * object key bytes, then generation, then arrival (a sequence number), so
 * that one object's versions come together and in the order they arrived.
 *
 *     key:     dir ‖ "/" ‖ esc(object key) ‖ 00 00 ‖ BE64(generation) ‖ BE64(seq)
 *     payload: u32 bucket ‖ u8 type ‖ u64 commit_ts ‖ f64 where
 *              [‖ u32 len ‖ upload id ‖ u64 part ‖ u64 chunk ‖ u64 part version]  (chunks)
 *              [‖ encoded manifest | u32 file ‖ f64 offset ‖ f64 length | chunkref value]  (not tombstones)
 *
 * esc() writes a 00 byte as 00 FF and the key ends with 00 00, so keys
 * compare as their bytes do, whatever bytes they hold. Directory names
 * never hold "/".
 */
import type { ChunkAddress, Span, Where } from '../types.js';
import { encodeManifest } from './manifest-codec.js';

/** Record types (TOMBSTONE is or'ed in). */
export const MANIFEST = 0;
export const BLOB = 1;
export const REF = 2;
export const TOMBSTONE = 0x80;
export type RecordType = typeof MANIFEST | typeof BLOB | typeof REF;

/** Bytes of the key after the escaped object key: terminator, generation, sequence number. */
const KEY_TAIL = 2 + 8 + 8;

/** The sort key of a record of object (generation, key) of the bucket whose directory is dir. */
export function recordKey(dir: Buffer, key: Uint8Array, generation: bigint, seq: number): Buffer {
  let zeros = 0;
  for (const b of key) if (b === 0) zeros++;
  const out = Buffer.allocUnsafe(dir.length + 1 + key.length + zeros + KEY_TAIL);
  let o = dir.copy(out, 0);
  out[o++] = 0x2f;
  if (zeros === 0) {
    out.set(key, o);
    o += key.length;
  } else {
    for (const b of key) {
      out[o++] = b;
      if (b === 0) out[o++] = 0xff;
    }
  }
  out[o++] = 0;
  out[o++] = 0;
  o = out.writeBigUInt64BE(generation, o);
  out.writeBigUInt64BE(BigInt(seq), o);
  return out;
}

/** What a record key says: the object key (a copy) and generation. */
export function parseRecordKey(k: Buffer): { key: Buffer; generation: bigint } {
  const start = k.indexOf(0x2f) + 1;
  const end = k.length - KEY_TAIL;
  let zeros = 0;
  for (let i = start; i < end; i++) if (k[i] === 0) zeros++;
  const key = Buffer.allocUnsafe(end - start - zeros);
  if (zeros === 0) {
    k.copy(key, 0, start, end);
  } else {
    let o = 0;
    for (let i = start; i < end; i++) {
      key[o++] = k[i]!;
      if (k[i] === 0) i++; // the FF after it
    }
  }
  return { key, generation: k.readBigUInt64BE(end + 2) };
}

/** Whether two record keys name the same object (they differ at most in the sequence number). */
export function sameObject(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.compare(b, 0, b.length - 8, 0, a.length - 8) === 0;
}

/** The payload of a manifest version (value null: a tombstone). */
export function manifestPayload(bucket: number, value: Uint8Array | null, commitTs: bigint, where: Where): Buffer {
  const body = value === null ? undefined : encodeManifest(value);
  const out = Buffer.allocUnsafe(HEAD + (body?.length ?? 0));
  const o = writeHead(out, bucket, MANIFEST | (value === null ? TOMBSTONE : 0), commitTs, where);
  if (body) out.set(body, o);
  return out;
}

/** The payload of a chunk version: a blob at span, a chunkref with value ref, or (null) a tombstone. */
export function chunkPayload(bucket: number, type: typeof BLOB | typeof REF, a: ChunkAddress, commitTs: bigint, where: Where, payload: Span | Uint8Array | null): Buffer {
  const size = payload === null ? 0 : payload instanceof Uint8Array ? payload.length : 4 + 8 + 8;
  const out = Buffer.allocUnsafe(HEAD + 4 + a.uploadId.length + 24 + size);
  let o = writeHead(out, bucket, type | (payload === null ? TOMBSTONE : 0), commitTs, where);
  o = out.writeUInt32LE(a.uploadId.length, o);
  out.set(a.uploadId, o);
  o += a.uploadId.length;
  o = out.writeBigUInt64LE(a.partNo, o);
  o = out.writeBigUInt64LE(a.chunkNo, o);
  o = out.writeBigUInt64LE(a.partVersion, o);
  if (payload instanceof Uint8Array) {
    out.set(payload, o);
  } else if (payload !== null) {
    o = out.writeUInt32LE(payload.file.id, o);
    o = out.writeDoubleLE(payload.offset, o);
    out.writeDoubleLE(payload.length, o);
  }
  return out;
}

/** A payload read back. Buffers are views of the payload. */
export type DecodedPayload =
  | { type: typeof MANIFEST; bucket: number; commitTs: bigint; where: number; value: Buffer | null }
  | {
      type: typeof BLOB | typeof REF;
      bucket: number;
      commitTs: bigint;
      where: number;
      uploadId: Buffer;
      partNo: bigint;
      chunkNo: bigint;
      partVersion: bigint;
      /** Blob: spill file id, offset, length; ref: the value; null: a tombstone. */
      payload: { file: number; offset: number; length: number } | Buffer | null;
    };

export function decodePayload(p: Buffer): DecodedPayload {
  const bucket = p.readUInt32LE(0);
  const t = p[4]!;
  const commitTs = p.readBigUInt64LE(5);
  const where = p.readDoubleLE(13);
  const tomb = (t & TOMBSTONE) !== 0;
  const type = (t & ~TOMBSTONE) as RecordType;
  if (type === MANIFEST) return { type, bucket, commitTs, where, value: tomb ? null : p.subarray(HEAD) };
  const ul = p.readUInt32LE(HEAD);
  let o = HEAD + 4;
  const uploadId = p.subarray(o, o + ul);
  o += ul;
  const partNo = p.readBigUInt64LE(o);
  const chunkNo = p.readBigUInt64LE(o + 8);
  const partVersion = p.readBigUInt64LE(o + 16);
  o += 24;
  let payload: { file: number; offset: number; length: number } | Buffer | null = null;
  if (!tomb) payload = type === REF ? p.subarray(o) : { file: p.readUInt32LE(o), offset: p.readDoubleLE(o + 4), length: p.readDoubleLE(o + 12) };
  return { type, bucket, commitTs, where, uploadId, partNo, chunkNo, partVersion, payload };
}

/** Bytes of the payload head: bucket, type, commit_ts, where. */
const HEAD = 4 + 1 + 8 + 8;

function writeHead(out: Buffer, bucket: number, type: number, commitTs: bigint, where: Where): number {
  out.writeUInt32LE(bucket, 0);
  out[4] = type;
  out.writeBigUInt64LE(commitTs, 5);
  out.writeDoubleLE(packWhere(where), 13);
  return HEAD;
}

/**
 * A Where as one number: a line as itself (≥ 0), a byte offset o as −o − 1,
 * none as NaN. (Readers give one or the other; given both, the line is kept.)
 */
export function packWhere(w: Where): number {
  if (w.line !== undefined) return w.line;
  if (w.offset !== undefined) return -w.offset - 1;
  return NaN;
}

export function unpackWhere(n: number): Where {
  if (Number.isNaN(n)) return {};
  return n >= 0 ? { line: n } : { offset: -n - 1 };
}
