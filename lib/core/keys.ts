/**
 * The S3 key codec (SPEC §4): classify a raw record key into its key family
 * and parse its components, and build keys from components.
 *
 *   seg(x)  = x with every 0x00 written as 0x00 0xFF, then 0x00 0x01
 *   u64(n)  = 8-byte big-endian
 *
 * classifyKey runs once per snapshot record, so it avoids allocation: the
 * Buffers it returns are views (subarray) into the key whenever a segment
 * holds no escaped 0x00; only a segment with an escape is copied. Callers
 * that keep a component beyond the life of the key's memory must copy it.
 */
import { DecodeError } from '../errors.js';
import type { ChunkAddress } from '../types.js';
import { MAX_U64 } from './u64.js';

/** Key family prefixes (SPEC §4). */
export const BUCKET_META_PREFIX = '!s3|bucket|meta|';
/** Bucket generation records (ignored). */
export const BUCKET_GEN_PREFIX = '!s3|bucket|gen|';
/** Object manifests. */
export const MANIFEST_PREFIX = '!s3|obj|head|';
/** Body chunks. */
export const BLOB_PREFIX = '!s3|blob|';
/** Offloaded chunk references. */
export const CHUNKREF_PREFIX = '!s3|chunkref|';
/** Offloaded chunk payloads, by SHA-256. */
export const CHUNKBLOB_PREFIX = '!s3|chunkblob|';
/** In-flight multipart uploads. */
export const UPLOAD_META_PREFIX = '!s3|upload|meta|';
/** Parts of in-flight multipart uploads. */
export const UPLOAD_PART_PREFIX = '!s3|upload|part|';
/** Upload garbage collection (ignored). */
export const GC_UPLOAD_PREFIX = '!s3|gc|upload|';
/** Object routing keys (ignored). */
export const ROUTE_PREFIX = '!s3route|';
/** Every S3 family except !s3route| lives under this prefix. */
export const S3_PREFIX = '!s3|';

/** The prefix of an upload record. */
export type UploadPrefix = typeof UPLOAD_META_PREFIX | typeof UPLOAD_PART_PREFIX;
/** The prefixes of families that are skipped without parsing. */
export type IgnoredPrefix = typeof GC_UPLOAD_PREFIX | typeof ROUTE_PREFIX;

/** A snapshot key, parsed: its family and components. */
export type ParsedKey =
  | { family: 'bucket-meta'; bucket: Buffer }
  /** Ignored, and (as in elastickv's decoder) not parsed further. */
  | { family: 'bucket-gen' }
  | { family: 'manifest'; bucket: Buffer; generation: bigint; object: Buffer }
  | { family: 'blob'; addr: ChunkAddress }
  | { family: 'chunkref'; addr: ChunkAddress }
  /** Lowercase hex SHA-256. */
  | { family: 'chunkblob'; digest: string }
  | { family: 'upload-meta'; prefix: typeof UPLOAD_META_PREFIX; bucket: Buffer; generation: bigint; object: Buffer; uploadId: Buffer }
  | {
      family: 'upload-part';
      prefix: typeof UPLOAD_PART_PREFIX;
      bucket: Buffer;
      generation: bigint;
      object: Buffer;
      uploadId: Buffer;
      partNo: bigint;
    }
  | { family: 'ignored'; prefix: IgnoredPrefix }
  /** Under !s3| but of no known family (a newer elastickv may add some). */
  | { family: 'unknown-s3' }
  /** Not an S3 key at all. */
  | { family: 'foreign' };

/** The family names of ParsedKey. */
export type KeyFamily = ParsedKey['family'];

const B_S3 = Buffer.from(S3_PREFIX, 'latin1');
const B_ROUTE = Buffer.from(ROUTE_PREFIX, 'latin1');

/** The families under !s3|. */
const enum Fam {
  BucketMeta,
  BucketGen,
  Manifest,
  Blob,
  ChunkRef,
  ChunkBlob,
  UploadMeta,
  UploadPart,
  GcUpload,
}
interface FamilyPrefix {
  prefix: string;
  bytes: Buffer;
  fam: Fam;
}
const fp = (prefix: string, fam: Fam): FamilyPrefix => ({ prefix, bytes: Buffer.from(prefix, 'latin1'), fam });
const FAMILIES: readonly FamilyPrefix[] = [
  fp(BUCKET_META_PREFIX, Fam.BucketMeta),
  fp(BUCKET_GEN_PREFIX, Fam.BucketGen),
  fp(MANIFEST_PREFIX, Fam.Manifest),
  fp(BLOB_PREFIX, Fam.Blob),
  fp(CHUNKREF_PREFIX, Fam.ChunkRef),
  fp(CHUNKBLOB_PREFIX, Fam.ChunkBlob),
  fp(UPLOAD_META_PREFIX, Fam.UploadMeta),
  fp(UPLOAD_PART_PREFIX, Fam.UploadPart),
  fp(GC_UPLOAD_PREFIX, Fam.GcUpload),
];

/**
 * The families by the byte right after "!s3|", for a cheap first dispatch.
 * No prefix is a prefix of another, so the "longest prefix match" of SPEC §4
 * is the only match.
 */
const BY_FIRST_BYTE = new Map<number, FamilyPrefix[]>();
for (const f of FAMILIES) {
  const b = f.bytes[B_S3.length]!;
  const list = BY_FIRST_BYTE.get(b) ?? [];
  list.push(f);
  BY_FIRST_BYTE.set(b, list);
}

/** Whether key starts with prefix (whose bytes before `from` are known to match). */
export function hasPrefix(key: Buffer, prefix: Buffer, from = 0): boolean {
  if (key.length < prefix.length) return false;
  for (let i = from; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/**
 * A tiny cursor over one key. Parsing is single-threaded and never
 * re-entrant, so one module-level instance is reused (no per-record object).
 */
const EMPTY = Buffer.alloc(0);
let cur: Buffer = EMPTY;
let pos = 0;
let fam = '';

function malformed(key: Buffer, what: string): DecodeError {
  return new DecodeError('ERR_S3_MALFORMED_KEY', `malformed ${fam} key: ${what}`, { key });
}

/** Reads one seg(): returns the decoded bytes (a view when unescaped). */
function readSeg(name: string): Buffer {
  const key = cur;
  const start = pos;
  let z = key.indexOf(0, start);
  if (z < 0) throw malformed(key, `${name} segment has no 0x00 0x01 terminator`);
  if (z + 1 >= key.length) throw malformed(key, `${name} segment is truncated after a 0x00 byte`);
  let next = key[z + 1]!;
  if (next === 0x01) {
    pos = z + 2;
    return key.subarray(start, z);
  }
  // Slow path: the segment holds escaped zeros. Find its end and its
  // decoded length first, then copy once.
  let escapes = 0;
  for (;;) {
    if (next === 0xff) {
      escapes++;
      z = key.indexOf(0, z + 2);
      if (z < 0) throw malformed(key, `${name} segment has no 0x00 0x01 terminator`);
      if (z + 1 >= key.length) throw malformed(key, `${name} segment is truncated after a 0x00 byte`);
      next = key[z + 1]!;
      continue;
    }
    if (next === 0x01) break;
    throw malformed(key, `${name} segment has invalid escape 0x00 0x${hex2(next)} at byte ${z}`);
  }
  const end = z;
  const out = Buffer.allocUnsafe(end - start - escapes);
  let o = 0;
  let i = start;
  while (i < end) {
    const n = key.indexOf(0, i);
    const stop = n < 0 || n >= end ? end : n;
    o += key.copy(out, o, i, stop);
    if (stop === end) break;
    out[o++] = 0;
    i = stop + 2;
  }
  pos = end + 2;
  return out;
}

function readU64(name: string): bigint {
  const key = cur;
  if (key.length - pos < 8) {
    throw malformed(key, key.length === pos ? `key ends before ${name}` : `key ends inside ${name} (${key.length - pos} of 8 bytes)`);
  }
  const v = key.readBigUInt64BE(pos);
  pos += 8;
  return v;
}

function expectEnd(after: string): void {
  const extra = cur.length - pos;
  if (extra !== 0) throw malformed(cur, `${extra} unexpected trailing byte${extra === 1 ? '' : 's'} after ${after}`);
}

function checkBucket(bucket: Buffer): void {
  if (bucket.length === 0) throw malformed(cur, 'bucket name is empty');
  if (bucket.length <= 2 && bucket[0] === 0x2e && (bucket.length === 1 || bucket[1] === 0x2e)) {
    throw malformed(cur, `bucket name is '${bucket.length === 1 ? '.' : '..'}'`);
  }
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

function readBucket(): Buffer {
  const bucket = readSeg('bucket');
  checkBucket(bucket);
  return bucket;
}

function readChunkAddress(): ChunkAddress {
  const bucket = readBucket();
  const generation = readU64('generation');
  const object = readSeg('object');
  const uploadId = readSeg('upload id');
  const partNo = readU64('part number');
  const chunkNo = readU64('chunk number');
  const rest = cur.length - pos;
  let partVersion = 0n;
  if (rest === 8) partVersion = readU64('part version');
  else if (rest !== 0) throw malformed(cur, `trailer of ${rest} byte${rest === 1 ? '' : 's'} after the chunk number (part version must be absent or 8 bytes)`);
  return { bucket, generation, object, uploadId, partNo, chunkNo, partVersion };
}

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46);
}

/**
 * Classifies one raw key and parses its components (SPEC §4). Throws
 * ERR_S3_MALFORMED_KEY (run level, naming the key) for a key of a known
 * family that does not parse, or whose bucket is empty, "." or "..".
 * "!s3|bucket|gen|", "!s3|gc|upload|" and "!s3route|" keys are ignored
 * without being parsed, as elastickv's decoder does.
 */
export function classifyKey(key: Buffer): ParsedKey {
  if (!hasPrefix(key, B_S3)) {
    return hasPrefix(key, B_ROUTE) ? { family: 'ignored', prefix: ROUTE_PREFIX } : { family: 'foreign' };
  }
  const candidates = key.length > B_S3.length ? BY_FIRST_BYTE.get(key[B_S3.length]!) : undefined;
  if (candidates === undefined) return { family: 'unknown-s3' };
  let f: FamilyPrefix | undefined;
  for (const c of candidates) {
    if (hasPrefix(key, c.bytes, B_S3.length + 1)) {
      f = c;
      break;
    }
  }
  if (f === undefined) return { family: 'unknown-s3' };

  cur = key;
  pos = f.bytes.length;
  fam = f.prefix;
  try {
    switch (f.fam) {
      case Fam.BucketGen:
        return { family: 'bucket-gen' };
      case Fam.GcUpload:
        return { family: 'ignored', prefix: GC_UPLOAD_PREFIX };
      case Fam.BucketMeta: {
        const bucket = readBucket();
        expectEnd('the bucket name');
        return { family: 'bucket-meta', bucket };
      }
      case Fam.Manifest: {
        const bucket = readBucket();
        const generation = readU64('generation');
        const object = readSeg('object');
        expectEnd('the object key');
        return { family: 'manifest', bucket, generation, object };
      }
      case Fam.Blob:
        return { family: 'blob', addr: readChunkAddress() };
      case Fam.ChunkRef:
        return { family: 'chunkref', addr: readChunkAddress() };
      case Fam.ChunkBlob: {
        const n = key.length - pos;
        if (n !== 64) throw malformed(key, `digest must be 64 hex characters, got ${n} bytes`);
        for (let i = pos; i < key.length; i++) {
          if (!isHex(key[i]!)) throw malformed(key, `digest has a non-hex byte at byte ${i}`);
        }
        return { family: 'chunkblob', digest: key.toString('latin1', pos).toLowerCase() };
      }
      case Fam.UploadMeta: {
        const bucket = readBucket();
        const generation = readU64('generation');
        const object = readSeg('object');
        const uploadId = readSeg('upload id');
        expectEnd('the upload id');
        return { family: 'upload-meta', prefix: UPLOAD_META_PREFIX, bucket, generation, object, uploadId };
      }
      case Fam.UploadPart: {
        const bucket = readBucket();
        const generation = readU64('generation');
        const object = readSeg('object');
        const uploadId = readSeg('upload id');
        const partNo = readU64('part number');
        expectEnd('the part number');
        return { family: 'upload-part', prefix: UPLOAD_PART_PREFIX, bucket, generation, object, uploadId, partNo };
      }
    }
  } finally {
    cur = EMPTY;
  }
}

// ---------------------------------------------------------------- encoders

/** Key components given as bytes or as a (UTF-8) string. */
export type Bytes = Buffer | string;
const toBuf = (x: Bytes): Buffer => (typeof x === 'string' ? Buffer.from(x, 'utf8') : x);

/** seg(x): 0x00 → 0x00 0xFF, then the terminator 0x00 0x01. */
export function encodeSegment(x: Bytes): Buffer {
  const raw = toBuf(x);
  let zeros = 0;
  for (let i = raw.indexOf(0); i >= 0; i = raw.indexOf(0, i + 1)) zeros++;
  const out = Buffer.allocUnsafe(raw.length + zeros + 2);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    out[o++] = b;
    if (b === 0) out[o++] = 0xff;
  }
  out[o++] = 0;
  out[o] = 1;
  return out;
}

/** u64(n): 8-byte big-endian; n must be in [0, 2^64). */
export function encodeU64(n: bigint | number): Buffer {
  const v = BigInt(n);
  if (v < 0n || v > MAX_U64) throw new RangeError(`u64 out of range: ${v}`);
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64BE(v);
  return out;
}

const p = (s: string): Buffer => Buffer.from(s, 'latin1');

export function bucketMetaKey(bucket: Bytes): Buffer {
  return Buffer.concat([p(BUCKET_META_PREFIX), encodeSegment(bucket)]);
}

export function bucketGenKey(bucket: Bytes): Buffer {
  return Buffer.concat([p(BUCKET_GEN_PREFIX), encodeSegment(bucket)]);
}

export function manifestKey(bucket: Bytes, generation: bigint | number, object: Bytes): Buffer {
  return Buffer.concat([p(MANIFEST_PREFIX), encodeSegment(bucket), encodeU64(generation), encodeSegment(object)]);
}

function chunkKey(prefix: string, a: ChunkAddress): Buffer {
  const parts = [
    p(prefix),
    encodeSegment(a.bucket),
    encodeU64(a.generation),
    encodeSegment(a.object),
    encodeSegment(a.uploadId),
    encodeU64(a.partNo),
    encodeU64(a.chunkNo),
  ];
  // A partVersion of 0 is never written as a trailer (elastickv's VersionedBlobKey).
  if (a.partVersion !== 0n) parts.push(encodeU64(a.partVersion));
  return Buffer.concat(parts);
}

/** !s3|blob| key; the partVersion trailer is written only when non-zero. */
export function blobKey(addr: ChunkAddress): Buffer {
  return chunkKey(BLOB_PREFIX, addr);
}

/** !s3|chunkref| key; the partVersion trailer is written only when non-zero. */
export function chunkrefKey(addr: ChunkAddress): Buffer {
  return chunkKey(CHUNKREF_PREFIX, addr);
}

/** !s3|chunkblob| key from a digest (hex string, written as given, or 32 raw bytes, written as lowercase hex). */
export function chunkblobKey(digest: string | Buffer): Buffer {
  const hex = typeof digest === 'string' ? digest : digest.toString('hex');
  return Buffer.concat([p(CHUNKBLOB_PREFIX), p(hex)]);
}

export function uploadMetaKey(bucket: Bytes, generation: bigint | number, object: Bytes, uploadId: Bytes): Buffer {
  return Buffer.concat([p(UPLOAD_META_PREFIX), encodeSegment(bucket), encodeU64(generation), encodeSegment(object), encodeSegment(uploadId)]);
}

export function uploadPartKey(bucket: Bytes, generation: bigint | number, object: Bytes, uploadId: Bytes, partNo: bigint | number): Buffer {
  return Buffer.concat([
    p(UPLOAD_PART_PREFIX),
    encodeSegment(bucket),
    encodeU64(generation),
    encodeSegment(object),
    encodeSegment(uploadId),
    encodeU64(partNo),
  ]);
}
