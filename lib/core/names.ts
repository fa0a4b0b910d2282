/**
 * Naming rules of the dump tree (SPEC §5.8, §5.10, §6): enc() for bucket
 * directories and orphan names, and the object-key → body-path mapping with
 * its renames, safety checks, long-segment fallback, reserved names and
 * conflict detection.
 *
 * Object keys and paths are handled as 'latin1' strings inside this module:
 * latin1 maps every byte to one UTF-16 code unit and back, so string length
 * is byte length, string order is bytewise order, and non-UTF-8 keys survive
 * untouched. Paths are returned as raw bytes (Buffer).
 */
import { createHash } from 'node:crypto';
import { DecodeError } from '../errors.js';
import type { ChunkAddress } from '../types.js';
import { printable } from './printable.js';
import { sortedArray, type SortedKeys } from './sorted-keys.js';

/** Suffix of an object's metadata sidecar. */
export const META_SUFFIX = '.elastickv-meta.json';
/** Appended (with --rename-collisions) to a key ending in META_SUFFIX. */
export const USER_DATA_SUFFIX = '.user-data';
/** Appended to a key that is also a directory of another key. */
export const LEAF_DATA_SUFFIX = '.elastickv-leaf-data';
/** enc() keeps names up to this many bytes (MANIFEST key_segment_max_bytes). */
export const KEY_SEGMENT_MAX_BYTES = 240;
/** Longest file name most filesystems accept (NAME_MAX). */
export const NAME_MAX = 255;
/** Total length of a long object-key segment's SHA fallback name. */
export const SEGMENT_FALLBACK_BYTES = 128;
/** First path segments an object may not use: the dump's own files (SPEC §5.8 step 5). */
export const RESERVED_FIRST_SEGMENTS: ReadonlySet<string> = new Set([
  '_bucket.json',
  'KEYMAP.jsonl',
  '_skipped.jsonl',
  '_orphans',
  '_incomplete_uploads',
]);

// ------------------------------------------------------------------ enc()

/** Per byte: the byte itself for [A-Za-z0-9._-], else %HH (uppercase). */
const PCT: readonly string[] = Array.from({ length: 256 }, (_, b) => {
  const c = String.fromCharCode(b);
  return /[A-Za-z0-9._-]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
});

/** Percent-encoding by enc() rules, without the SHA fallback. */
export function percentEncode(x: Buffer): string {
  let out = '';
  for (let i = 0; i < x.length; i++) out += PCT[x[i]!]!;
  return out;
}

/** The longest prefix of x's percent-encoding that fits in max bytes, never splitting a %HH. */
function percentEncodePrefix(x: Buffer, max: number): string {
  let out = '';
  for (let i = 0; i < x.length; i++) {
    const t = PCT[x[i]!]!;
    if (out.length + t.length > max) break;
    out += t;
  }
  return out;
}

function sha32(x: Buffer): string {
  return createHash('sha256').update(x).digest('hex').slice(0, 32);
}

const FALLBACK_LOOKALIKE = /^[0-9a-fA-F]{32}__/;

/**
 * enc(x) (SPEC §6): [A-Za-z0-9._-] pass through, other bytes become %HH.
 * SHA fallback — first 32 lowercase hex of SHA-256(x), "__", then the
 * percent-encoding of the first 64 bytes of x — when x is over 240 bytes,
 * the encoding is over 240, or the encoding could be mistaken for a
 * fallback name (/^[0-9a-fA-F]{32}__/) or a "b64." name.
 * enc() does not reject ".", ".." or "": callers that use it as a path
 * segment check those (bucketDirName, orphanChunkPath).
 */
export function enc(x: Buffer): string {
  if (x.length <= KEY_SEGMENT_MAX_BYTES) {
    const e = percentEncode(x);
    if (e.length <= KEY_SEGMENT_MAX_BYTES && !FALLBACK_LOOKALIKE.test(e) && !e.startsWith('b64.')) return e;
  }
  return `${sha32(x)}__${percentEncode(x.subarray(0, 64))}`;
}

function dotName(x: Buffer): string | undefined {
  if (x.length === 0) return 'empty';
  if (x.length <= 2 && x[0] === 0x2e && (x.length === 1 || x[1] === 0x2e)) return `'${x.length === 1 ? '.' : '..'}'`;
  return undefined;
}

/**
 * The directory name of a bucket under s3/: enc(bucket). A bucket named
 * "", "." or ".." is ERR_S3_MALFORMED_KEY (run level).
 */
export function bucketDirName(bucket: Buffer): string {
  const bad = dotName(bucket);
  if (bad !== undefined) throw new DecodeError('ERR_S3_MALFORMED_KEY', `bucket name is ${bad}`, { bucket });
  return enc(bucket);
}

/** KEYMAP `original` / _skipped.jsonl `object`: base64url without padding. */
export function keymapOriginal(key: Buffer): string {
  return key.toString('base64url');
}

/** `<body>.elastickv-meta.json`. */
export function sidecarPath(body: Buffer): Buffer {
  return Buffer.concat([body, Buffer.from(META_SUFFIX, 'latin1')]);
}

// --------------------------------------------------------------- orphans

const hex16 = (n: bigint): string => n.toString(16).padStart(16, '0');

/**
 * Where an orphan or stale-generation blob chunk goes, relative to the
 * bucket directory (SPEC §5.10):
 * `_orphans/<enc(object)>/gen-<gen>/<enc(uploadID)>_<partNo>_<chunkNo>_<partVersion>.bin`
 * with the three numbers as 16 lowercase hex digits. An object key of "",
 * "." or ".." is ERR_S3_MALFORMED_KEY; its level is 'object' (it is an
 * unsafe object key, SPEC §8), so under --keep-going the caller may skip
 * that orphan and report it.
 */
export function orphanChunkPath(addr: ChunkAddress): Buffer {
  const bad = dotName(addr.object);
  if (bad !== undefined) {
    throw new DecodeError('ERR_S3_MALFORMED_KEY', `orphan object key is ${bad}`, { bucket: addr.bucket, object: addr.object }, 'object');
  }
  const name = `${enc(addr.uploadId)}_${hex16(addr.partNo)}_${hex16(addr.chunkNo)}_${hex16(addr.partVersion)}.bin`;
  return Buffer.from(`_orphans/${enc(addr.object)}/gen-${addr.generation.toString(10)}/${name}`, 'latin1');
}

// ---------------------------------------------------------- object paths

/** Why an object's path differs from its key (KEYMAP.jsonl kind). */
export type KeymapKind = 'meta-suffix-rename' | 's3-leaf-data' | 'sha-fallback';

/** One KEYMAP.jsonl record: `encoded` is the body path (relative to the bucket dir). */
export interface KeymapEntry {
  kind: KeymapKind;
  encoded: Buffer;
}

/** Where an object's body goes, relative to its bucket directory, and why when that is not its key. */
export interface ObjectPath {
  /** Body path relative to the bucket directory, '/'-separated, raw bytes. */
  path: Buffer;
  /** Present when the path differs from the key. */
  keymap?: KeymapEntry;
}

/** An object's path, or why it has none (an object-level DecodeError). */
export type ObjectPathResult = ObjectPath | DecodeError;

/** Options of object path assignment. */
export interface AssignOptions {
  /** --rename-collisions. */
  renameCollisions: boolean;
  /** Named in error contexts (and so in _skipped.jsonl details). */
  bucket?: Buffer;
}

/** The key of assignObjectPaths' result map for an object key: its bytes as a 'latin1' string. */
export function objectKeyId(key: Buffer): string {
  return key.toString('latin1');
}

/** SPEC §5.8 step 3, on the original key; undefined when safe. */
function unsafeReason(k: string): string | undefined {
  if (k.length === 0) return 'object key is empty';
  if (k.includes('\0') || k.includes('\\')) return 'object key contains NUL or backslash';
  for (const s of k.split('/')) {
    if (s === '' || s === '.' || s === '..') return "object key has an empty, '.' or '..' segment";
  }
  return undefined;
}

/** A long segment's replacement: 32 hex of SHA-256, "__", then as much of enc as fits in 128 bytes. */
function segmentFallback(seg: string): string {
  const raw = Buffer.from(seg, 'latin1');
  const head = `${sha32(raw)}__`;
  return head + percentEncodePrefix(raw, SEGMENT_FALLBACK_BYTES - head.length);
}

const p = (s: string): string => printable(Buffer.from(s, 'latin1'));

/**
 * Maps every object key of one bucket's active generation (all keys that
 * have a manifest, including ones later skipped) to its body path, applying
 * SPEC §5.8 steps 1–6 in order:
 *
 * 1. A key ending in ".elastickv-meta.json": ERR_S3_META_SUFFIX_COLLISION,
 *    or with renameCollisions the path key + ".user-data" (KEYMAP
 *    meta-suffix-rename), unless that target is itself a key.
 * 2. Otherwise a key that is a proper directory prefix of another key gets
 *    key + ".elastickv-leaf-data" (KEYMAP s3-leaf-data), unless that target
 *    is itself a key (ERR_S3_META_SUFFIX_COLLISION).
 * 3. Unsafe original keys (empty; NUL or backslash; an empty, "." or ".."
 *    segment): ERR_S3_MALFORMED_KEY.
 * 4. A directory segment over 255 bytes, or a last segment that with its
 *    rename suffix and the sidecar suffix would exceed 255 bytes, becomes
 *    `<32 hex of SHA-256(segment)>__<enc prefix>` (128 bytes at most); a
 *    rename suffix is kept, appended after the fallback name (so a renamed
 *    leaf never lands on the fallback directory of its children). One KEYMAP
 *    record of kind sha-fallback, which replaces the rename kind.
 * 5. A first path segment in RESERVED_FIRST_SEGMENTS: ERR_S3_RESERVED_NAME.
 * 6. Among the objects that passed 1–5 (failed ones write nothing), these
 *    are ERR_S3_PATH_CONFLICT: two bodies at one path, or a body at another
 *    object's sidecar path — both objects fail, as neither can be written
 *    without silently losing the other; and a path whose parent directory
 *    is another object's body or sidecar — only the object below fails: the
 *    file's owner can be written whole, and under --keep-going it must not
 *    be skipped for a neighbour's sake. Each error names the other key (the
 *    bytewise smallest one when there are several).
 *
 * All errors are object level, with context { bucket, object }. The result
 * holds one entry per distinct key, keyed by objectKeyId(key).
 */
export function assignObjectPaths(keys: Buffer[], opts: AssignOptions): Map<string, ObjectPathResult> {
  // Default sort compares UTF-16 code units: bytewise for latin1 strings.
  return assignPathsOfSortedKeys(sortedArray([...new Set(keys.map(objectKeyId))].sort()), opts, true);
}

/**
 * assignObjectPaths() for keys given as objectKeyId strings, distinct and
 * sorted (a bucket's may be on disk: lib/io/sorted-keys.ts). With plain false the result leaves out the keys whose body path is
 * simply the key (no rename, no error): a bucket's worth of those need not
 * be held while its objects are written.
 */
export function assignPathsOfSortedKeys(sorted: SortedKeys, opts: AssignOptions, plain: boolean): Map<string, ObjectPathResult> {
  const exists = (t: string): boolean => sorted.ceiling(t) === t;
  const isDirPrefix = (k: string): boolean => {
    const t = k + '/';
    return sorted.ceiling(t)?.startsWith(t) ?? false;
  };

  const results = new Map<string, ObjectPathResult>();
  const fail = (k: string, code: 'ERR_S3_MALFORMED_KEY' | 'ERR_S3_META_SUFFIX_COLLISION' | 'ERR_S3_RESERVED_NAME' | 'ERR_S3_PATH_CONFLICT', detail: string): void => {
    const ctx = opts.bucket === undefined ? { object: Buffer.from(k, 'latin1') } : { bucket: opts.bucket, object: Buffer.from(k, 'latin1') };
    results.set(k, new DecodeError(code, detail, ctx, 'object'));
  };

  // Steps 1–5, per key. Most keys are their own body path: only the others
  // (and the failures) are remembered, so a bucket of millions of plain keys
  // costs nothing beyond the sorted list.
  const failed = new Set<string>(); // keys failing steps 1–5
  const renamed = new Map<string, string>(); // survivor → body path, when not the key itself
  const failStep = (k: string, code: 'ERR_S3_MALFORMED_KEY' | 'ERR_S3_META_SUFFIX_COLLISION' | 'ERR_S3_RESERVED_NAME', detail: string): void => {
    failed.add(k);
    fail(k, code, detail);
  };
  for (const k of sorted) {
    let suffix = '';
    let kind: KeymapKind | undefined;
    if (k.endsWith(META_SUFFIX)) {
      if (!opts.renameCollisions) {
        failStep(k, 'ERR_S3_META_SUFFIX_COLLISION', `object key collides with reserved sidecar suffix ${META_SUFFIX} (use --rename-collisions)`);
        continue;
      }
      if (exists(k + USER_DATA_SUFFIX)) {
        failStep(k, 'ERR_S3_META_SUFFIX_COLLISION', `rename target ${p(k + USER_DATA_SUFFIX)} is also an object key`);
        continue;
      }
      suffix = USER_DATA_SUFFIX;
      kind = 'meta-suffix-rename';
    } else if (isDirPrefix(k)) {
      if (exists(k + LEAF_DATA_SUFFIX)) {
        failStep(k, 'ERR_S3_META_SUFFIX_COLLISION', `leaf-data rename target ${p(k + LEAF_DATA_SUFFIX)} is also an object key`);
        continue;
      }
      suffix = LEAF_DATA_SUFFIX;
      kind = 's3-leaf-data';
    }

    const unsafe = unsafeReason(k);
    if (unsafe !== undefined) {
      failStep(k, 'ERR_S3_MALFORMED_KEY', unsafe);
      continue;
    }

    let path = k + suffix;
    let fallback = false;
    const segs = k.split('/');
    const last = segs.length - 1;
    for (let j = 0; j < last; j++) {
      if (segs[j]!.length > NAME_MAX) {
        segs[j] = segmentFallback(segs[j]!);
        fallback = true;
      }
    }
    if (segs[last]!.length + suffix.length + META_SUFFIX.length > NAME_MAX) {
      segs[last] = segmentFallback(segs[last]!);
      fallback = true;
    }
    if (fallback) {
      segs[last] += suffix;
      path = segs.join('/');
      kind = 'sha-fallback';
    }

    const slash = path.indexOf('/');
    const first = slash < 0 ? path : path.slice(0, slash);
    if (RESERVED_FIRST_SEGMENTS.has(first)) {
      failStep(k, 'ERR_S3_RESERVED_NAME', `path ${p(path)} would overwrite the dump's own ${p(first)}`);
      continue;
    }

    if (path !== k) renamed.set(k, path);
    if (kind !== undefined) {
      const pathBuf = Buffer.from(path, 'latin1');
      results.set(k, { path: pathBuf, keymap: { kind, encoded: pathBuf } });
    } else if (plain) {
      results.set(k, { path: Buffer.from(path, 'latin1') });
    }
  }

  // Step 6: conflicts among the survivors.
  const renamedOwners = new Map<string, string[]>(); // body path → renamed survivors with it, in key order
  for (const [k, path] of renamed) {
    const owners = renamedOwners.get(path);
    if (owners) owners.push(k);
    else renamedOwners.set(path, [k]);
  }
  /** The survivors whose body path is path, in key order. */
  const ownersOf = (path: string): readonly string[] => {
    const plainOwner = exists(path) && !failed.has(path) && !renamed.has(path);
    const others = renamedOwners.get(path);
    if (others === undefined) return plainOwner ? [path] : [];
    return plainOwner ? [path, ...others].sort() : others;
  };
  const conflicts = new Map<string, { other: string; detail: string }>();
  const conflict = (k: string, other: string, detail: string): void => {
    const prev = conflicts.get(k);
    if (prev === undefined || other < prev.other) conflicts.set(k, { other, detail });
  };
  for (const k of sorted) {
    if (failed.has(k)) continue;
    const path = renamed.get(k) ?? k;
    for (const o of ownersOf(path)) {
      if (o !== k) conflict(k, o, `path ${p(path)} is also the path of object ${p(o)}`);
    }
    if (path.endsWith(META_SUFFIX)) {
      for (const o of ownersOf(path.slice(0, -META_SUFFIX.length))) {
        conflict(k, o, `path ${p(path)} is the metadata sidecar of object ${p(o)}`);
        conflict(o, k, `sidecar path ${p(path)} is the path of object ${p(k)}`);
      }
    }
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
      const dir = path.slice(0, i);
      for (const o of ownersOf(dir)) {
        conflict(k, o, `parent directory ${p(dir)} of path ${p(path)} is the file of object ${p(o)}`);
      }
      if (dir.endsWith(META_SUFFIX)) {
        for (const o of ownersOf(dir.slice(0, -META_SUFFIX.length))) {
          conflict(k, o, `parent directory ${p(dir)} of path ${p(path)} is the metadata sidecar of object ${p(o)}`);
        }
      }
    }
  }
  for (const [k, c] of conflicts) fail(k, 'ERR_S3_PATH_CONFLICT', c.detail);

  return results;
}
