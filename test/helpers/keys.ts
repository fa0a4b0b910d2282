/**
 * An independent encoder of elastickv S3 keys (SPEC §4) for tests. It is
 * written plainly from the SPEC and imports nothing from lib/, so tests can
 * state their inputs without trusting the code under test.
 *
 *   seg(x) = x with each 0x00 written as 0x00 0xFF, then 0x00 0x01
 *   u64(n) = 8-byte big-endian
 */

export type Bytes = Buffer | string;
export type U64 = bigint | number;

/** Strings are UTF-8. */
export function bytes(x: Bytes): Buffer {
  return typeof x === 'string' ? Buffer.from(x, 'utf8') : x;
}

export function seg(x: Bytes): Buffer {
  const out: number[] = [];
  for (const b of bytes(x)) {
    if (b === 0x00) out.push(0x00, 0xff);
    else out.push(b);
  }
  out.push(0x00, 0x01);
  return Buffer.from(out);
}

export function u64(n: U64): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

const cat = (prefix: string, ...parts: Buffer[]): Buffer => Buffer.concat([Buffer.from(prefix, 'latin1'), ...parts]);

export function bucketMetaKey(bucket: Bytes): Buffer {
  return cat('!s3|bucket|meta|', seg(bucket));
}

export function bucketGenKey(bucket: Bytes): Buffer {
  return cat('!s3|bucket|gen|', seg(bucket));
}

export function manifestKey(bucket: Bytes, generation: U64, object: Bytes): Buffer {
  return cat('!s3|obj|head|', seg(bucket), u64(generation), seg(object));
}

export interface ChunkKeyParts {
  bucket: Bytes;
  generation: U64;
  object: Bytes;
  uploadId: Bytes;
  partNo: U64;
  chunkNo: U64;
  /** Written as a trailer when given (even 0); omitted when undefined. */
  partVersion?: U64;
}

function chunkKey(prefix: string, c: ChunkKeyParts): Buffer {
  const parts = [seg(c.bucket), u64(c.generation), seg(c.object), seg(c.uploadId), u64(c.partNo), u64(c.chunkNo)];
  if (c.partVersion !== undefined) parts.push(u64(c.partVersion));
  return cat(prefix, ...parts);
}

/** A blob key. As elastickv writes them, pass partVersion only when non-zero (or use elastickvChunkKey). */
export function blobKey(c: ChunkKeyParts): Buffer {
  return chunkKey('!s3|blob|', c);
}

export function chunkrefKey(c: ChunkKeyParts): Buffer {
  return chunkKey('!s3|chunkref|', c);
}

/** The way elastickv writes a chunk key: the partVersion trailer only when non-zero. */
export function elastickvChunkKey(family: 'blob' | 'chunkref', c: ChunkKeyParts): Buffer {
  const v = c.partVersion === undefined ? 0n : BigInt(c.partVersion);
  const parts = { ...c, partVersion: v === 0n ? undefined : v };
  return family === 'blob' ? blobKey(parts) : chunkrefKey(parts);
}

/** A chunkblob key: "!s3|chunkblob|" + the digest as given (hex string) or lowercase hex of raw bytes. */
export function chunkblobKey(digest: string | Buffer): Buffer {
  return cat('!s3|chunkblob|', Buffer.from(typeof digest === 'string' ? digest : digest.toString('hex'), 'latin1'));
}

export function uploadMetaKey(bucket: Bytes, generation: U64, object: Bytes, uploadId: Bytes): Buffer {
  return cat('!s3|upload|meta|', seg(bucket), u64(generation), seg(object), seg(uploadId));
}

export function uploadPartKey(bucket: Bytes, generation: U64, object: Bytes, uploadId: Bytes, partNo: U64): Buffer {
  return cat('!s3|upload|part|', seg(bucket), u64(generation), seg(object), seg(uploadId), u64(partNo));
}

export function gcUploadKey(bucket: Bytes, generation: U64, object: Bytes, uploadId: Bytes): Buffer {
  return cat('!s3|gc|upload|', seg(bucket), u64(generation), seg(object), seg(uploadId));
}

export function routeKey(bucket: Bytes, generation: U64, object: Bytes): Buffer {
  return cat('!s3route|', seg(bucket), u64(generation), seg(object));
}

/** Concatenates raw pieces (strings as latin1, numbers as single bytes) — for hand-made malformed keys. */
export function raw(...parts: Array<Buffer | string | number>): Buffer {
  return Buffer.concat(
    parts.map((x) => (typeof x === 'number' ? Buffer.from([x]) : typeof x === 'string' ? Buffer.from(x, 'latin1') : x)),
  );
}
