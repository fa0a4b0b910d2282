/**
 * A high-level snapshot builder for end-to-end tests, independent of lib/
 * (it uses only ./keys.ts, itself written from the SPEC): declare buckets
 * and objects, get the records elastickv would hold — bucket meta, manifests
 * (SPEC §5.2) with correct ETags (§5.6), blob chunks or chunkref+chunkblob
 * pairs (§5.4) — and render them as JSONL (§3.1) or native .fsm (§3.2).
 *
 *   const snap = new SnapshotBuilder()
 *     .bucket('bkt')
 *     .putObject('bkt', 'a.txt', Buffer.from('hello'))
 *     .putObject('bkt', 'big.bin', body, { parts: 3, chunkSize: 4 });
 *   const jsonl = snap.toJsonl({ shuffle: 7 });
 */
import { createHash } from 'node:crypto';
import { buildFsm } from './fsm.js';
import * as K from './keys.js';

export interface SnapshotEntry {
  key: Buffer;
  /** Absent only for a tombstone given without a value. */
  value?: Buffer;
  commitTs: bigint;
  tombstone: boolean;
}

export interface RecordOptions {
  commitTs?: bigint | number;
  tombstone?: boolean;
}

export interface BucketMetaOptions {
  generation?: bigint | number;
  /** Defaults to the bucket's name. */
  bucketName?: string;
  createdAtHlc?: bigint | number;
  owner?: string;
  region?: string;
  acl?: string;
  /** Extra or replacement fields, merged last. */
  extra?: Record<string, JsonValue>;
  commitTs?: bigint | number;
  /** Use this value verbatim instead of JSON (e.g. invalid JSON). */
  rawValue?: Buffer | string;
}

export interface PutObjectOptions {
  /** Default: the bucket's declared generation, else 1. */
  generation?: bigint | number;
  /** Default "up-1". An empty string writes an empty upload_id. */
  uploadId?: string;
  /** Bytes per chunk (default 1 MiB). */
  chunkSize?: number;
  /** Split into N parts of near-equal size (the last one shorter), or parts of exactly these sizes; gives a composite `H-N` ETag. */
  parts?: number | number[];
  /** Part version of every part, or one per part (default 0 = no key trailer). */
  partVersion?: bigint | number | Array<bigint | number>;
  /** Store parts offloaded: chunkref records plus chunkblob payloads (chunkref value version 1). */
  offloaded?: boolean;
  /** Default "application/octet-stream"; null leaves the field out. */
  contentType?: string | null;
  contentEncoding?: string;
  cacheControl?: string;
  contentDisposition?: string;
  userMetadata?: Record<string, string>;
  lastModifiedHlc?: bigint | number;
  /** Object ETag to write instead of the correct one. */
  etag?: string;
  /** Extra or replacement manifest fields, merged last (e.g. { size_bytes: 3 }). */
  manifestPatch?: Record<string, JsonValue>;
  /** Use this manifest value verbatim. */
  rawManifest?: Buffer | string;
  /** Write no manifest (orphan chunks). */
  omitManifest?: boolean;
  /** Chunks whose records are left out: a global chunk ordinal (0-based, in body order) or { partNo, chunkNo }. */
  omitChunks?: Array<number | { partNo: number; chunkNo: number }>;
  /** Additional blob records (stray or duplicate chunks). */
  extraChunks?: Array<{
    partNo: number;
    chunkNo: number;
    data: Buffer;
    partVersion?: bigint | number;
    uploadId?: string;
    generation?: bigint | number;
  }>;
  /** commit_ts of every record of this object (default 100). */
  commitTs?: bigint | number;
}

/** What putObject computed, for assertions. */
export interface PutObjectResult {
  etag: string;
  parts: Array<{ partNo: number; partVersion: bigint; etag: string; bytes: Buffer; chunks: Buffer[] }>;
  manifest?: Buffer;
}

/** JSON values, with bigint for integers beyond 2^53. */
export type JsonValue = string | number | bigint | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** JSON text of v (bigints written as integers), keys in insertion order. */
export function toJson(v: JsonValue): string {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export const md5hex = (b: Buffer): string => createHash('md5').update(b).digest('hex');
export const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

/** The `H-N` ETag of a multipart object: MD5 of the parts' binary MD5s, then "-N". */
export function compositeEtag(parts: Buffer[]): string {
  const md5s = parts.map((p) => createHash('md5').update(p).digest());
  return `${md5hex(Buffer.concat(md5s))}-${parts.length}`;
}

/** A version-1 chunkref value: 0x01 ‖ SHA-256 ‖ u64 BE size ‖ u16 BE peer length ‖ peer. */
export function chunkrefValue(payload: Buffer, sourcePeer = 'n1'): Buffer {
  const size = Buffer.alloc(8);
  size.writeBigUInt64BE(BigInt(payload.length));
  const peer = Buffer.from(sourcePeer, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(peer.length);
  return Buffer.concat([Buffer.from([1]), sha256(payload), size, len, peer]);
}

export const DEFAULT_COMMIT_TS = 100n;
export const DEFAULT_LAST_MODIFIED_HLC = 112354531483516928n;
export const DEFAULT_CHUNK_SIZE = 1 << 20;

function splitBy(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, Math.min(b.length, i + size)));
  return out;
}

/** Deterministic PRNG (mulberry32) for shuffling. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const big = (n: bigint | number | undefined, dflt: bigint): bigint => (n === undefined ? dflt : BigInt(n));

export class SnapshotBuilder {
  private readonly entries: SnapshotEntry[] = [];
  private readonly generations = new Map<string, bigint>();

  /** A raw record. */
  record(key: Buffer | string, value?: Buffer | string, opts: RecordOptions = {}): this {
    const e: SnapshotEntry = { key: K.bytes(key), commitTs: big(opts.commitTs, DEFAULT_COMMIT_TS), tombstone: opts.tombstone ?? false };
    if (value !== undefined) e.value = K.bytes(value);
    this.entries.push(e);
    return this;
  }

  /** A tombstone (no value) for key. */
  tombstone(key: Buffer | string, commitTs: bigint | number = DEFAULT_COMMIT_TS): this {
    return this.record(key, undefined, { commitTs, tombstone: true });
  }

  /** A bucket meta record `{"bucket_name","generation",…}` (generation 1 unless given). */
  bucket(name: string | Buffer, meta: BucketMetaOptions = {}): this {
    const gen = big(meta.generation, 1n);
    this.generations.set(K.bytes(name).toString('latin1'), gen);
    let value: Buffer;
    if (meta.rawValue !== undefined) value = K.bytes(meta.rawValue);
    else {
      const v: Record<string, JsonValue> = {
        bucket_name: meta.bucketName ?? (typeof name === 'string' ? name : name.toString('utf8')),
        generation: gen,
      };
      if (meta.createdAtHlc !== undefined) v.created_at_hlc = BigInt(meta.createdAtHlc);
      if (meta.owner !== undefined) v.owner = meta.owner;
      if (meta.region !== undefined) v.region = meta.region;
      if (meta.acl !== undefined) v.acl = meta.acl;
      value = Buffer.from(toJson({ ...v, ...meta.extra }), 'utf8');
    }
    return this.record(K.bucketMetaKey(name), value, { commitTs: big(meta.commitTs, DEFAULT_COMMIT_TS) });
  }

  /** An object as elastickv stores it; see PutObjectOptions. */
  putObject(bucket: string | Buffer, key: string | Buffer, body: Buffer, opts: PutObjectOptions = {}): this {
    this.putObjectDetailed(bucket, key, body, opts);
    return this;
  }

  /** putObject, returning what was computed (ETags, parts, manifest). */
  putObjectDetailed(bucket: string | Buffer, key: string | Buffer, body: Buffer, opts: PutObjectOptions = {}): PutObjectResult {
    const gen = big(opts.generation, this.generations.get(K.bytes(bucket).toString('latin1')) ?? 1n);
    const uploadId = opts.uploadId ?? 'up-1';
    const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const commitTs = big(opts.commitTs, DEFAULT_COMMIT_TS);
    const rec = { commitTs };

    // Part bodies.
    let partBodies: Buffer[];
    if (opts.parts === undefined) partBodies = body.length === 0 ? [] : [body];
    else {
      let sizes: number[];
      if (Array.isArray(opts.parts)) sizes = opts.parts;
      else {
        const each = Math.ceil(body.length / opts.parts);
        sizes = Array.from({ length: opts.parts }, (_, i) => Math.max(0, Math.min(each, body.length - i * each)));
      }
      if (sizes.reduce((a, b) => a + b, 0) !== body.length) throw new Error('part sizes do not add up to the body length');
      let off = 0;
      partBodies = sizes.map((n) => body.subarray(off, (off += n)));
    }
    const versionOf = (i: number): bigint => {
      const pv = opts.partVersion;
      if (pv === undefined) return 0n;
      if (Array.isArray(pv)) return BigInt(pv[i] ?? 0);
      return BigInt(pv);
    };
    const parts = partBodies.map((bytes, i) => ({
      partNo: i + 1,
      partVersion: versionOf(i),
      etag: md5hex(bytes),
      bytes,
      chunks: splitBy(bytes, chunkSize),
    }));
    const etag = opts.etag ?? (opts.parts === undefined ? md5hex(body) : compositeEtag(partBodies));

    // Chunk records.
    const omitted = (ordinal: number, partNo: number, chunkNo: number): boolean =>
      (opts.omitChunks ?? []).some((o) => (typeof o === 'number' ? o === ordinal : o.partNo === partNo && o.chunkNo === chunkNo));
    let ordinal = 0;
    for (const part of parts) {
      part.chunks.forEach((data, chunkNo) => {
        if (omitted(ordinal++, part.partNo, chunkNo)) return;
        const addr = { bucket, generation: gen, object: key, uploadId, partNo: part.partNo, chunkNo, partVersion: part.partVersion };
        if (opts.offloaded) {
          this.record(K.elastickvChunkKey('chunkref', addr), chunkrefValue(data), rec);
          this.record(K.chunkblobKey(sha256(data)), data, rec);
        } else {
          this.record(K.elastickvChunkKey('blob', addr), data, rec);
        }
      });
    }
    for (const x of opts.extraChunks ?? []) {
      const addr = {
        bucket,
        generation: big(x.generation, gen),
        object: key,
        uploadId: x.uploadId ?? uploadId,
        partNo: x.partNo,
        chunkNo: x.chunkNo,
        partVersion: big(x.partVersion, 0n),
      };
      this.record(K.elastickvChunkKey('blob', addr), x.data, rec);
    }

    // Manifest.
    const result: PutObjectResult = { etag, parts };
    if (opts.omitManifest) return result;
    let manifest: Buffer;
    if (opts.rawManifest !== undefined) manifest = K.bytes(opts.rawManifest);
    else {
      const m: Record<string, JsonValue> = {
        upload_id: uploadId,
        etag,
        size_bytes: body.length,
        last_modified_hlc: big(opts.lastModifiedHlc, DEFAULT_LAST_MODIFIED_HLC),
      };
      if (opts.contentType !== null) m.content_type = opts.contentType ?? 'application/octet-stream';
      if (opts.contentEncoding !== undefined) m.content_encoding = opts.contentEncoding;
      if (opts.cacheControl !== undefined) m.cache_control = opts.cacheControl;
      if (opts.contentDisposition !== undefined) m.content_disposition = opts.contentDisposition;
      if (opts.userMetadata !== undefined) m.user_metadata = opts.userMetadata;
      if (parts.length > 0) {
        m.parts = parts.map((p) => {
          const pj: Record<string, JsonValue> = {
            part_no: p.partNo,
            etag: p.etag,
            size_bytes: p.bytes.length,
            chunk_count: p.chunks.length,
            chunk_sizes: p.chunks.map((c) => c.length),
          };
          if (opts.offloaded) {
            if (p.partVersion !== 0n) pj.chunk_ref_version = p.partVersion;
            pj.offloaded = true;
          } else if (p.partVersion !== 0n) pj.part_version = p.partVersion;
          return pj;
        });
      }
      manifest = Buffer.from(toJson({ ...m, ...opts.manifestPatch }), 'utf8');
    }
    this.record(K.manifestKey(bucket, gen, key), manifest, rec);
    result.manifest = manifest;
    return result;
  }

  /** All records, in the order they were added. */
  records(): SnapshotEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /**
   * JSON lines `{"key":b64,"value":b64,"commit_ts":n,"tombstone":true}`
   * (value omitted when absent, tombstone only when true; commit_ts as a
   * string above 2^53−1). shuffle: a seed for a deterministic shuffle.
   */
  toJsonl(opts: { shuffle?: number; crlf?: boolean; blankLines?: boolean } = {}): Buffer {
    const list = this.records();
    if (opts.shuffle !== undefined) {
      const r = rng(opts.shuffle);
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [list[i], list[j]] = [list[j]!, list[i]!];
      }
    }
    const eol = opts.crlf ? '\r\n' : '\n';
    let out = opts.blankLines ? eol : '';
    for (const e of list) {
      const o: Record<string, JsonValue> = { key: e.key.toString('base64') };
      if (e.value !== undefined) o.value = e.value.toString('base64');
      o.commit_ts = e.commitTs <= BigInt(Number.MAX_SAFE_INTEGER) ? e.commitTs : e.commitTs.toString();
      if (e.tombstone) o.tombstone = true;
      out += toJson(o) + eol;
      if (opts.blankLines) out += '  ' + eol;
    }
    return Buffer.from(out, 'utf8');
  }

  /** A native snapshot of the records, via test/helpers/fsm.ts. */
  toFsm(opts?: Parameters<typeof buildFsm>[1]): Buffer {
    return buildFsm(this.records(), opts);
  }
}
