/**
 * Route keys (SPEC §10 step 2): the key elastickv's router places a record
 * by. Every record of one object shares one route key, `!s3route|` ‖
 * seg(bucket) ‖ u64(gen) ‖ seg(object), so the object-scoped families map
 * to it; every other key (bucket meta, bucket gen, chunkblob, anything
 * else) is routed by its raw bytes.
 */
import {
  BLOB_PREFIX,
  BUCKET_GEN_PREFIX,
  BUCKET_META_PREFIX,
  CHUNKREF_PREFIX,
  GC_UPLOAD_PREFIX,
  MANIFEST_PREFIX,
  ROUTE_PREFIX,
  UPLOAD_META_PREFIX,
  UPLOAD_PART_PREFIX,
} from '../core/keys.js';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const B_ROUTE = latin1(ROUTE_PREFIX);
/** Families whose key continues with seg(bucket) ‖ u64(gen) ‖ seg(object). */
const OBJECT_SCOPED = [MANIFEST_PREFIX, BLOB_PREFIX, CHUNKREF_PREFIX, UPLOAD_META_PREFIX, UPLOAD_PART_PREFIX, GC_UPLOAD_PREFIX].map(latin1);
/** Families whose key continues with seg(bucket): the bucket a record belongs to, for reports. */
const BUCKET_SCOPED = [BUCKET_META_PREFIX, BUCKET_GEN_PREFIX].map(latin1);

/** Where a record is routed, and the bucket it belongs to when its key names one. */
export interface RouteInfo {
  routeKey: Buffer;
  /** Raw bucket name (seg decoded), when the key is object- or bucket-scoped. */
  bucket?: Buffer;
  /** Raw object key, when the key is object-scoped. */
  object?: Buffer;
}

const startsWith = (key: Buffer, p: Buffer): boolean => key.length >= p.length && key.compare(p, 0, p.length, 0, p.length) === 0;

/** Index just past the seg() starting at `from`, or -1 when the key ends inside it. */
function segEnd(key: Buffer, from: number): number {
  for (let i = key.indexOf(0, from); i >= 0 && i + 1 < key.length; i = key.indexOf(0, i + 2)) {
    if (key[i + 1] === 0x01) return i + 2;
    if (key[i + 1] !== 0xff) return -1;
  }
  return -1;
}

/** seg() bytes back to the raw value (0x00 0xFF → 0x00, terminator dropped). */
function unseg(key: Buffer, from: number, end: number): Buffer {
  const raw = key.subarray(from, end - 2);
  if (raw.indexOf(0) < 0) return raw;
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    out.push(raw[i]!);
    if (raw[i] === 0) i++;
  }
  return Buffer.from(out);
}

/**
 * The route key of a record key. An object-scoped key too short to hold
 * its bucket, generation and object is routed by its raw bytes; the key
 * classifier reports it as malformed later.
 */
export function routeOf(key: Buffer): RouteInfo {
  for (const p of OBJECT_SCOPED) {
    if (!startsWith(key, p)) continue;
    const bucketEnd = segEnd(key, p.length);
    const objectEnd = bucketEnd < 0 || bucketEnd + 8 > key.length ? -1 : segEnd(key, bucketEnd + 8);
    if (objectEnd < 0) return { routeKey: key };
    return {
      routeKey: Buffer.concat([B_ROUTE, key.subarray(p.length, objectEnd)]),
      bucket: unseg(key, p.length, bucketEnd),
      object: unseg(key, bucketEnd + 8, objectEnd),
    };
  }
  for (const p of BUCKET_SCOPED) {
    if (!startsWith(key, p)) continue;
    const end = segEnd(key, p.length);
    return end < 0 ? { routeKey: key } : { routeKey: key, bucket: unseg(key, p.length, end) };
  }
  return { routeKey: key };
}
