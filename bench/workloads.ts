/**
 * Deterministic benchmark workloads, generated record by record and written
 * straight to a file: body bytes are never held in memory beyond one 1 MiB
 * keystream buffer (plus one output staging buffer).
 *
 * Workloads (the issue's definitions; --quick shrinks the counts/sizes):
 *
 *   (a) 64 × 16 MiB single-part objects
 *   (b) 16 × 64 MiB objects of 8 parts (8 MiB each)
 *   (c) 100 000 × 1 KiB objects
 *   (d) one 1 GiB object (single part)
 *   (e) 1 000 000 objects of 0–4 KiB (sizes vary by object; --scale: 3 000 000)
 *
 * Every object is stored the way elastickv stores a non-offloaded object
 * (SPEC §4, §5.2): 1 MiB `!s3|blob|` chunks, a manifest with per-part
 * chunk_sizes and MD5 ETags (`H` for single-part, `H-N` for multipart), and
 * one bucket meta record. Records come in snapshot order, sorted by encoded
 * key, which for these keys is: every blob chunk (objects, then parts, then
 * chunks, in key order), then the bucket meta, then the manifests
 * (`!s3|blob|` < `!s3|bucket|meta|` < `!s3|obj|head|`). The JSONL rendering
 * uses the same order (what `ekv-snapshot-jsonl` would print).
 *
 * Body bytes are an AES-128-CTR keystream keyed by the workload id:
 * incompressible, identical on every run and every machine, and produced at
 * several GB/s so generation is not the bottleneck.
 */
import { createCipheriv, createHash, type Cipher, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRoute, routeRecordKey } from '../lib/cluster/catalog.js';
import { routeOf } from '../lib/cluster/route-key.js';
import { FsmEncoder } from '../lib/core/fsm-encoder.js';
import { blobKey, bucketMetaKey, manifestKey } from '../lib/core/keys.js';

export type WorkloadId = 'a' | 'b' | 'c' | 'd' | 'e';
export type InputFormat = 'fsm' | 'jsonl';

export interface WorkloadSpec {
  id: WorkloadId;
  /** Human description, e.g. "64 × 16 MiB, 1 part". */
  title: string;
  objects: number;
  /** Body bytes per object (with variedSizes: the most, see objectSizeOf). */
  objectSize: number;
  /** Object sizes vary from 0 to objectSize bytes (single part only). */
  variedSizes?: boolean;
  /** 1 = single-part (plain MD5 ETag); > 1 = multipart (H-N ETag), equal parts. */
  parts: number;
  /** Bytes per blob chunk (elastickv uses 1 MiB). */
  chunkSize: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

function spec(id: WorkloadId, objects: number, objectSize: number, parts: number, variedSizes = false): WorkloadSpec {
  const size = objectSize >= GiB ? `${objectSize / GiB} GiB` : objectSize >= MiB ? `${objectSize / MiB} MiB` : `${objectSize / KiB} KiB`;
  const title = `${objects.toLocaleString('en-US')} × ${variedSizes ? `0–${size}` : size}${parts > 1 ? `, ${parts} parts` : ''}`;
  return { id, title, objects, objectSize, parts, chunkSize: MiB, ...(variedSizes ? { variedSizes } : {}) };
}

/** The workloads as the issue defines them. */
export function fullWorkloads(): WorkloadSpec[] {
  return [spec('a', 64, 16 * MiB, 1), spec('b', 16, 64 * MiB, 8), spec('c', 100_000, KiB, 1), spec('d', 1, GiB, 1), spec('e', 1_000_000, 4 * KiB, 1, true)];
}

/** Objects of workload (e) in the --scale mode (not part of the default run). */
export const SCALE_OBJECTS = 3_000_000;

/**
 * Smaller versions for a smoke run (--quick). (c) is 2 000 objects, not
 * 10 000: per-object cost dominates it, and the smoke run must stay under a
 * minute.
 */
export function quickWorkloads(): WorkloadSpec[] {
  return [spec('a', 8, 16 * MiB, 1), spec('b', 2, 64 * MiB, 8), spec('c', 2_000, KiB, 1), spec('d', 1, 256 * MiB, 1), spec('e', 20_000, 4 * KiB, 1, true)];
}

/** w with another object count (for --objects); the title says so. */
export function resize(w: WorkloadSpec, objects: number): WorkloadSpec {
  return { ...spec(w.id, objects, w.objectSize, w.parts, w.variedSizes), chunkSize: w.chunkSize };
}

/**
 * Body bytes of object i: objectSize, or with variedSizes a size spread
 * evenly over 0 … objectSize by a multiplicative hash of i (deterministic).
 */
export function objectSizeOf(w: WorkloadSpec, i: number): number {
  return w.variedSizes ? (Math.imul(i, 2654435761) >>> 0) % (w.objectSize + 1) : w.objectSize;
}

export function bodyBytes(w: WorkloadSpec): number {
  if (!w.variedSizes) return w.objects * w.objectSize;
  let n = 0;
  for (let i = 0; i < w.objects; i++) n += objectSizeOf(w, i);
  return n;
}

export const BUCKET = 'bench';
const GENERATION = 1n;
/** commit_ts of the bucket meta; object i's records use BASE_TS + 1 + i. */
const BASE_TS = 1_000_000n;
/** 2026-01-01T00:00:00Z as an HLC (ms << 16). */
const HLC = BigInt(Date.UTC(2026, 0, 1)) << 16n;

/**
 * Object key of object i: fixed width (6 digits, more when a workload has
 * more objects), so key order = index order; 1000 objects per "directory".
 */
export function objectKey(i: number, digits = 6): string {
  return `data/${String(Math.floor(i / 1000)).padStart(digits - 3, '0')}/obj-${String(i).padStart(digits, '0')}.bin`;
}

/** The digits of workload w's object numbers in keys. */
function keyDigits(w: WorkloadSpec): number {
  return Math.max(6, String(w.objects - 1).length);
}

function uploadId(w: WorkloadSpec, i: number): string {
  return `${w.id}${String(i).padStart(15, '0')}`;
}

/**
 * The body bytes of a workload, as one deterministic stream: object 0's
 * bytes, then object 1's, …  next(n) returns a view that stays valid only
 * until the following call.
 */
export class ByteSource {
  private readonly cipher: Cipher;
  private static readonly ZERO = Buffer.alloc(MiB);
  private buf = Buffer.alloc(0);
  private pos = 0;

  constructor(seed: string) {
    const key = createHash('sha256').update(`ekv-s3-decode bench ${seed}`).digest().subarray(0, 16);
    this.cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  }

  next(n: number): Buffer {
    if (n > MiB) throw new RangeError('ByteSource.next: at most 1 MiB at a time');
    if (this.buf.length - this.pos < n) {
      // Keep any unread tail contiguous with the fresh keystream.
      const tail = this.buf.subarray(this.pos);
      const fresh = this.cipher.update(ByteSource.ZERO);
      this.buf = tail.length > 0 ? Buffer.concat([tail, fresh]) : fresh;
      this.pos = 0;
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

export interface GenRecord {
  key: Buffer;
  value: Buffer;
  commitTs: bigint;
  /** Body bytes carried by this record (0 for meta/manifests). */
  body: number;
}

/**
 * Manifests computed by an earlier generation of the same workload: the
 * bytes are deterministic, so the second format can skip the MD5 work.
 */
const manifestCache = new Map<string, ManifestList>();
const cacheKey = (w: WorkloadSpec): string => `${w.id}:${w.objects}:${w.objectSize}:${w.parts}:${w.chunkSize}`;

/** The seed of a workload's ByteSource (its body bytes). */
export const seedOf = cacheKey;

function jsonManifest(w: WorkloadSpec, i: number, etag: string, partEtags: string[]): Buffer {
  const size = objectSizeOf(w, i);
  const partSize = size / w.parts;
  const chunks = Math.ceil(partSize / w.chunkSize);
  const sizes: number[] = [];
  for (let c = 0; c < chunks; c++) sizes.push(Math.min(w.chunkSize, partSize - c * w.chunkSize));
  const parts = partEtags.map((e, p) => ({ part_no: p + 1, etag: e, size_bytes: partSize, chunk_count: chunks, chunk_sizes: sizes }));
  // Written by hand: the HLC does not fit a JS number exactly.
  const json =
    `{"upload_id":${JSON.stringify(uploadId(w, i))},"etag":${JSON.stringify(etag)},"size_bytes":${size},` +
    `"last_modified_hlc":${HLC + BigInt(i)},"content_type":"application/octet-stream","parts":${JSON.stringify(parts)}}`;
  return Buffer.from(json, 'utf8');
}

/**
 * The manifests of a workload as its bodies are generated: kept whole (and
 * cached for the second format), or — for a many-object workload, whose
 * manifests would take gigabytes — as one MD5 per object (single part),
 * rendered again when the manifests are emitted.
 */
class ManifestList {
  private readonly whole: Buffer[] = [];
  private readonly md5s: Buffer | undefined;

  constructor(private readonly w: WorkloadSpec) {
    if (w.variedSizes) this.md5s = Buffer.alloc(16 * w.objects);
  }

  add(i: number, etag: string, partMd5s: Buffer[], partEtags: string[]): void {
    if (this.md5s) partMd5s[0]!.copy(this.md5s, 16 * i);
    else this.whole.push(jsonManifest(this.w, i, etag, partEtags));
  }

  get(i: number): Buffer {
    if (!this.md5s) return this.whole[i]!;
    const hex = this.md5s.toString('hex', 16 * i, 16 * i + 16);
    return jsonManifest(this.w, i, hex, [hex]);
  }

  /** Whether the list is worth caching for the next format. */
  get cacheable(): boolean {
    return this.md5s === undefined;
  }
}

/** Every record of a workload, in encoded-key order. */
export function* generateRecords(w: WorkloadSpec): Generator<GenRecord> {
  if (w.objectSize % w.parts !== 0) throw new Error(`workload ${w.id}: object size must divide into ${w.parts} equal parts`);
  const digits = keyDigits(w);
  const cached = manifestCache.get(cacheKey(w));
  const manifests = cached ?? new ManifestList(w);
  const src = new ByteSource(cacheKey(w));
  const bucket = Buffer.from(BUCKET);
  let prevKey: Buffer | undefined;
  const ordered = (k: Buffer): Buffer => {
    if (prevKey !== undefined && Buffer.compare(prevKey, k) >= 0) throw new Error(`workload ${w.id}: generator keys out of order`);
    prevKey = k;
    return k;
  };

  for (let i = 0; i < w.objects; i++) {
    const object = Buffer.from(objectKey(i, digits));
    const partSize = objectSizeOf(w, i) / w.parts;
    const chunksPerPart = Math.ceil(partSize / w.chunkSize);
    const upload = Buffer.from(uploadId(w, i));
    const commitTs = BASE_TS + 1n + BigInt(i);
    const whole: Hash | undefined = cached || w.parts > 1 ? undefined : createHash('md5');
    const partEtags: string[] = [];
    const partMd5s: Buffer[] = [];
    for (let p = 0; p < w.parts; p++) {
      const partHash: Hash | undefined = cached ? undefined : createHash('md5');
      for (let c = 0; c < chunksPerPart; c++) {
        const n = Math.min(w.chunkSize, partSize - c * w.chunkSize);
        const value = src.next(n);
        partHash?.update(value);
        whole?.update(value);
        const key = blobKey({ bucket, generation: GENERATION, object, uploadId: upload, partNo: BigInt(p + 1), chunkNo: BigInt(c), partVersion: 0n });
        yield { key: ordered(key), value, commitTs, body: n };
      }
      if (partHash) {
        const d = partHash.digest();
        partMd5s.push(d);
        partEtags.push(d.toString('hex'));
      }
    }
    if (!cached) {
      const etag = whole ? whole.digest('hex') : `${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-${w.parts}`;
      manifests.add(i, etag, partMd5s, partEtags);
    }
  }

  const meta = `{"bucket_name":"${BUCKET}","generation":${GENERATION},"created_at_hlc":${HLC},"owner":"bench","region":"us-east-1"}`;
  yield { key: ordered(bucketMetaKey(BUCKET)), value: Buffer.from(meta), commitTs: BASE_TS, body: 0 };

  for (let i = 0; i < w.objects; i++) {
    yield { key: ordered(manifestKey(BUCKET, GENERATION, objectKey(i, digits))), value: manifests.get(i), commitTs: BASE_TS + 1n + BigInt(i), body: 0 };
  }
  if (!cached && manifests.cacheable) manifestCache.set(cacheKey(w), manifests);
}

/** Buffered synchronous file writer: small pieces are batched, large ones written directly. */
class SyncWriter {
  private readonly fd: number;
  private readonly stage = Buffer.allocUnsafe(4 * MiB);
  private used = 0;
  bytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'wx', 0o600);
  }

  write(b: Buffer): void {
    this.bytes += b.length;
    if (b.length >= 256 * KiB) {
      this.flush();
      writeAll(this.fd, b);
      return;
    }
    if (this.used + b.length > this.stage.length) this.flush();
    b.copy(this.stage, this.used);
    this.used += b.length;
  }

  writeLatin1(s: string): void {
    if (s.length >= 256 * KiB) {
      this.write(Buffer.from(s, 'latin1'));
      return;
    }
    if (this.used + s.length > this.stage.length) this.flush();
    this.used += this.stage.write(s, this.used, 'latin1');
    this.bytes += s.length;
  }

  flush(): void {
    if (this.used > 0) writeAll(this.fd, this.stage.subarray(0, this.used));
    this.used = 0;
  }

  close(fsync: boolean): void {
    this.flush();
    if (fsync) fsyncSync(this.fd);
    closeSync(this.fd);
  }
}

function writeAll(fd: number, b: Buffer): void {
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}

export interface GeneratedInput {
  path: string;
  format: InputFormat;
  inputBytes: number;
  bodyBytes: number;
  records: number;
  /** Seconds spent generating (excluding the optional fsync). */
  seconds: number;
}

/**
 * Writes workload w to path as a native snapshot (EKVTHLC1 header, EKVPBBL1
 * stream, CRC-32C footer — the shape of a node's fsm-snap file) or as JSONL.
 * fsync: flush it to disk afterwards, so its writeback does not compete
 * with the timed runs.
 */
export function writeWorkload(w: WorkloadSpec, format: InputFormat, path: string, fsync = false): GeneratedInput {
  const t0 = process.hrtime.bigint();
  const out = new SyncWriter(path);
  let records = 0;
  let body = 0;
  if (format === 'fsm') {
    const enc = new FsmEncoder({ lastCommitTs: BASE_TS + BigInt(w.objects), header: 'v1', ceiling: BASE_TS + BigInt(w.objects), footer: true });
    out.write(enc.preamble());
    for (const r of generateRecords(w)) {
      for (const piece of enc.entry({ key: r.key, value: r.value, commitTs: r.commitTs, tombstone: false })) out.write(piece);
      records++;
      body += r.body;
    }
    out.write(enc.finish());
  } else {
    for (const r of generateRecords(w)) {
      out.writeLatin1(`{"key":"${r.key.toString('base64')}","value":"`);
      out.writeLatin1(r.value.toString('base64'));
      out.writeLatin1(`","commit_ts":${r.commitTs}}\n`);
      records++;
      body += r.body;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  out.close(fsync);
  return { path, format, inputBytes: out.bytes, bodyBytes: body, records, seconds };
}

/**
 * Writes workload w as a cluster of `groups` Raft groups (SPEC §10): node
 * snapshots at DIR/group-<k>/<16 hex>.fsm, the objects split into equal
 * index ranges, one route per range (route keys `!s3route|…`), the route
 * catalog in group 1. The bucket meta, a raw `!s3|…` key above every route
 * key, lands in the last group — as in a real cluster, away from most of
 * its objects. The same records as writeWorkload, so the same body bytes.
 */
export function writeWorkloadGroups(w: WorkloadSpec, dir: string, groups: number, fsync = false): GeneratedInput & { inputs: string[] } {
  const t0 = process.hrtime.bigint();
  // Route k starts at the route key of its first object.
  const bounds = Array.from({ length: groups - 1 }, (_, k) => routeOf(manifestKey(BUCKET, GENERATION, objectKey(Math.ceil(((k + 1) * w.objects) / groups)))).routeKey);
  const lastCommitTs = BASE_TS + BigInt(w.objects);
  const inputs: string[] = [];
  const files = Array.from({ length: groups }, (_, k) => {
    mkdirSync(join(dir, `group-${k + 1}`), { recursive: true });
    const p = join(dir, `group-${k + 1}`, `${String(k + 1).padStart(16, '0')}.fsm`);
    inputs.push(p);
    const out = new SyncWriter(p);
    const enc = new FsmEncoder({ lastCommitTs, header: 'v1', ceiling: lastCommitTs, footer: true });
    out.write(enc.preamble());
    return { out, enc };
  });
  const put = (k: number, key: Buffer, value: Buffer, commitTs: bigint): void => {
    const f = files[k]!;
    for (const piece of f.enc.entry({ key, value, commitTs, tombstone: false })) f.out.write(piece);
  };
  for (let k = 0; k < groups; k++) {
    const route = { routeId: BigInt(k + 1), groupId: BigInt(k + 1), state: 'active' as const, parentRouteId: 0n, start: k === 0 ? Buffer.alloc(0) : bounds[k - 1]!, end: bounds[k] };
    put(0, routeRecordKey(route.routeId), encodeRoute(route), BASE_TS);
  }
  let records = groups;
  let body = 0;
  for (const r of generateRecords(w)) {
    const rk = routeOf(r.key).routeKey;
    let k = 0;
    while (k < bounds.length && Buffer.compare(rk, bounds[k]!) >= 0) k++;
    put(k, r.key, r.value, r.commitTs);
    records++;
    body += r.body;
  }
  let inputBytes = 0;
  for (const f of files) {
    f.out.write(f.enc.finish());
    inputBytes += f.out.bytes;
    f.out.close(fsync);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { path: dir, format: 'fsm', inputBytes, bodyBytes: body, records, seconds, inputs };
}

/** Expected input size without generating (for the free-space check). */
export function estimateInputBytes(w: WorkloadSpec, format: InputFormat): number {
  const chunks = w.objects * w.parts * Math.ceil(w.objectSize / w.parts / w.chunkSize);
  const perRecord = format === 'fsm' ? 8 + 80 + 8 + 9 : 120;
  const manifest = 300 + w.parts * 120;
  const body = bodyBytes(w);
  return (format === 'fsm' ? body : Math.ceil(body / 3) * 4) + chunks * perRecord + w.objects * (manifest + perRecord);
}
