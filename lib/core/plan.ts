/**
 * Bucket planning: everything the sink decides before it touches a file.
 * For one BucketCollection this picks the active generation (§5.1), selects
 * and checks each object's chunks (§5.3–§5.5), names its files (§5.8) and
 * lists orphans (§5.7, §5.10) and incomplete uploads (§5.9). Pure: it reads
 * only the collection, and throws for run-level errors.
 */
import { DecodeError } from '../errors.js';
import type { BucketCollection, ChunkAddress, ChunkIdentity, CollectedChunk, ObjectCollection, SpillLocation, SpillSegment, Warning, Where } from '../types.js';
import { decodeChunkRef } from './chunkref.js';
import { encodeLine, GoJsonError, GoMap, marshalIndent, parseBucketMeta, parseManifest, type GoStruct, type ObjectManifest } from './gojson.js';
import { hlcToTime } from './hlc.js';
import { printable } from './printable.js';
import { assignPathsOfSortedKeys, bucketDirName, orphanChunkPath, type ObjectPathResult } from './names.js';

export interface PlanOptions {
  includeOrphans: boolean;
  includeIncompleteUploads: boolean;
  renameCollisions: boolean;
  /** Size checks of §5.6 (ETags are checked by the sink, which has the MD5s). */
  verify: boolean;
}

/** One declared part of a manifest with the chunks selected for it. */
export interface PlannedPart {
  partNo: bigint;
  version: bigint;
  offloaded: boolean;
  etag: string;
  /** Selected chunk payloads in chunkNo order. */
  pieces: SpillLocation[];
  length: number;
}

export interface ObjectPlan {
  key: Buffer;
  /** Body path relative to the bucket directory. */
  relPath: Buffer;
  keymap?: { kind: string; encoded: Buffer };
  manifest: ObjectManifest;
  /** Declared parts in body order. */
  parts: PlannedPart[];
  size: number;
  /** Sidecar file bytes. */
  sidecar: Buffer;
  /** Set when the body is exactly this whole run file (publish by rename). */
  run?: SpillSegment;
}

export interface ObjectFailure {
  object: Buffer;
  error: DecodeError;
}

export interface BucketPlan {
  name: Buffer;
  /** enc(bucket): the bucket's directory under s3/. */
  dir: string;
  bucketJson?: Buffer;
  /**
   * The active generation's objects with a manifest, sorted by key bytes;
   * planObject() plans each one when the sink gets to it, so per-object
   * plans (parsed manifests, sidecars) never pile up for a whole bucket.
   */
  live: ObjectCollection[];
  /**
   * Body paths of the live objects (§5.8) by ObjectCollection.key, for the
   * objects whose path is not simply their key (renamed or failed ones):
   * an object absent here is written at its key.
   */
  names: Map<string, ObjectPathResult>;
  /** Object errors found while planning the bucket (unsafe orphan keys). */
  failures: ObjectFailure[];
  orphans: Array<{ relPath: Buffer; location: SpillLocation }>;
  /** records.jsonl bytes, when incomplete uploads are included and present. */
  uploads?: Buffer;
  warnings: Warning[];
}

export function planBucket(b: BucketCollection, opts: PlanOptions): BucketPlan {
  const dir = bucketDirName(b.name);
  // Warnings name buckets and objects in the printable form errors use.
  const bucketName = printable(b.name);
  const plan: BucketPlan = { name: b.name, dir, live: [], names: new Map(), failures: [], orphans: [], warnings: [] };

  let activeGeneration: bigint | undefined;
  if (b.meta) {
    let meta;
    try {
      meta = parseBucketMeta(b.meta.value);
    } catch (e) {
      throw jsonError('ERR_S3_INVALID_BUCKET_META', 'invalid bucket meta', e, { ...b.meta.where, bucket: b.name });
    }
    if (meta.generation !== 0n) activeGeneration = meta.generation;
    plan.bucketJson = Buffer.from(
      marshalIndent(
        omitEmpty({
          format_version: 1,
          name: b.name,
          creation_time_iso: hlcToTime(meta.createdAtHlc) ?? '',
          owner: meta.owner,
          region: meta.region,
          acl: meta.acl,
        }),
      ),
    );
  }
  if (activeGeneration === undefined && b.objects.size > 0) {
    activeGeneration = 0n;
    for (const g of b.objects.generations()) if (g > activeGeneration) activeGeneration = g;
    plan.warnings.push({ event: 's3_bucket_meta_missing', bucket: bucketName, active_generation: activeGeneration });
  }

  const live = plan.live;
  let stale = 0;
  for (const o of b.objects.sorted()) {
    checkChunkRefs(o, b.name);
    if (o.generation !== activeGeneration) {
      // Manifests are parsed in every generation (live ones in planObject):
      // an undecodable one is snapshot corruption.
      const m = o.manifest;
      if (m) parseObjectManifest(o, m, b.name);
      stale++;
      if (opts.includeOrphans) addOrphans(plan, o);
    } else if (o.manifest) {
      live.push(o);
    } else if (chunkCount(o) > 0) {
      plan.warnings.push({ event: 's3_orphan_chunks', bucket: bucketName, object: printable(o.object), chunks: chunkCount(o) });
      if (opts.includeOrphans) addOrphans(plan, o);
    }
  }
  if (stale > 0) {
    plan.warnings.push({ event: 's3_stale_generation_objects', bucket: bucketName, active_generation: activeGeneration ?? 0n, count: stale });
  }

  // live is sorted by key, one object per key.
  plan.names = assignPathsOfSortedKeys(
    live.map((o) => o.key),
    { renameCollisions: opts.renameCollisions },
    false,
  );

  if (opts.includeIncompleteUploads && b.uploads.length > 0) {
    const lines = [...b.uploads]
      .sort((x, y) => Buffer.compare(x.key, y.key))
      .map((u) => encodeLine({ prefix: u.prefix, key: u.key.toString('base64'), value: (u.value ?? Buffer.alloc(0)).toString('base64') }, { escapeHtml: false }));
    plan.uploads = Buffer.from(lines.join(''));
  }
  return plan;
}

/**
 * Plans one live object of a bucket plan: its chunks (§5.3–§5.5), name
 * (§5.8), sizes (§5.6) and sidecar. Throws an object-level DecodeError when
 * the object cannot be emitted (problems reported in SPEC §5.5's order:
 * chunkref resolution, naming, completeness, sizes), and a run-level one for
 * snapshot corruption.
 */
export function planObject(plan: BucketPlan, o: ObjectCollection, b: BucketCollection, opts: PlanOptions): ObjectPlan {
  const ctx = { bucket: b.name, object: o.object };
  const manifest = parseObjectManifest(o, o.manifest!, b.name);
  const parts = selectParts(o, manifest, b, ctx);
  const name = plan.names.get(o.key) ?? { ok: true, path: ctx.object };
  if (!name.ok) throw name.error;
  checkCompleteness(parts, ctx);
  const planned = toPlannedParts(parts);
  const size = planned.reduce((n, p) => n + p.length, 0);
  if (opts.verify) checkSizes(parts, manifest, size, ctx);
  const obj: ObjectPlan = { key: o.object, relPath: name.path, manifest, parts: planned, size, sidecar: sidecarBytes(manifest) };
  if (name.keymap) obj.keymap = name.keymap;
  const run = wholeRun(planned);
  if (run) obj.run = run;
  return obj;
}

/**
 * §8: a chunkref value that does not decode is snapshot corruption wherever
 * it sits (orphans, stale generations, other uploads, undeclared parts), not
 * only when a manifest selects it. Only live versions are held here:
 * tombstoned and superseded ones never count.
 */
function checkChunkRefs(o: ObjectCollection, bucket: Buffer): void {
  for (const c of o.refs?.values() ?? []) {
    const ref = decodeChunkRef(c.ref!);
    if (typeof ref === 'string') throw new DecodeError('ERR_S3_INVALID_CHUNKREF', ref, { ...c.where, bucket, object: o.object });
  }
}

function chunkCount(o: ObjectCollection): number {
  return (o.blobs?.size ?? 0) + (o.refs?.size ?? 0);
}

/** The full address of a chunk of o, for orphan names. */
function chunkAddress(bucket: Buffer, o: ObjectCollection, c: ChunkIdentity): ChunkAddress {
  return { bucket, generation: o.generation, object: o.object, uploadId: Buffer.from(c.uploadId, 'latin1'), partNo: c.partNo, chunkNo: c.chunkNo, partVersion: c.partVersion };
}

function addOrphans(plan: BucketPlan, o: ObjectCollection): void {
  const chunks = [...(o.blobs?.values() ?? [])].sort(compareChunks);
  try {
    for (const c of chunks) plan.orphans.push({ relPath: orphanChunkPath(chunkAddress(plan.name, o, c)), location: c.location! });
  } catch (e) {
    // An unsafe orphan key (".", ".." or empty) is an object error.
    if (!(e instanceof DecodeError) || e.level !== 'object') throw e;
    plan.failures.push({ object: o.object, error: e });
  }
}

function parseObjectManifest(o: ObjectCollection, manifest: { value: Buffer; where: Where }, bucket: Buffer): ObjectManifest {
  // Made only for an error: object spreads cost V8 old-space memory, once per object.
  const where = () => ({ ...manifest.where, bucket, object: o.object });
  let m: ObjectManifest;
  try {
    m = parseManifest(manifest.value);
  } catch (e) {
    throw jsonError('ERR_S3_INVALID_MANIFEST', 'invalid manifest', e, where());
  }
  for (const p of m.parts) {
    if (p.offloaded && BigInt(p.chunkSizes.length) !== p.chunkCount) {
      throw new DecodeError('ERR_S3_INVALID_MANIFEST', `offloaded part ${p.partNo} declares ${p.chunkCount} chunks but ${p.chunkSizes.length} chunk_sizes`, where());
    }
  }
  return m;
}

function jsonError(code: 'ERR_S3_INVALID_BUCKET_META' | 'ERR_S3_INVALID_MANIFEST', what: string, e: unknown, ctx: object): DecodeError {
  if (e instanceof GoJsonError) return new DecodeError(code, `${what}: ${e.message}`, ctx);
  throw e;
}

interface SelectedPart {
  partNo: bigint;
  version: bigint;
  offloaded: boolean;
  chunkCount: bigint;
  sizeBytes: bigint;
  chunkSizes: bigint[];
  etag: string;
  /** Selected chunks by chunkNo, each with its payload location. */
  chunks: Map<bigint, SpillLocation | null>;
  /** A chunk index supplied twice (by two uploads under an empty upload_id). */
  duplicate?: bigint;
}

/** §5.3 selection plus §5.4 chunkref resolution. */
function selectParts(o: ObjectCollection, m: ObjectManifest, b: BucketCollection, ctx: { bucket: Buffer; object: Buffer }): SelectedPart[] {
  const declared = new Map<string, SelectedPart>();
  for (const p of m.parts) {
    const version = p.offloaded ? p.chunkRefVersion : p.partVersion;
    // Duplicate entries: the later one wins.
    declared.set(partId(p.partNo, version, p.offloaded), {
      partNo: p.partNo,
      version,
      offloaded: p.offloaded,
      chunkCount: p.chunkCount,
      sizeBytes: p.sizeBytes,
      chunkSizes: p.chunkSizes,
      etag: p.etag,
      chunks: new Map(),
    });
  }
  // Chunk upload ids are 'latin1' strings of their bytes.
  const uploadId = m.uploadId === '' ? null : Buffer.from(m.uploadId, 'utf8').toString('latin1');
  const take = (c: CollectedChunk, offloaded: boolean): SelectedPart | undefined => {
    if (uploadId !== null && c.uploadId !== uploadId) return undefined;
    const part = declared.get(partId(c.partNo, c.partVersion, offloaded));
    // Stray chunks of a chunk_count 0 part are ignored.
    if (!part || part.chunkCount === 0n) return undefined;
    if (part.chunks.has(c.chunkNo)) part.duplicate ??= c.chunkNo;
    return part;
  };
  for (const c of o.blobs?.values() ?? []) take(c, false)?.chunks.set(c.chunkNo, c.location!);
  for (const c of [...(o.refs?.values() ?? [])].sort(compareChunks)) {
    const part = take(c, true);
    if (!part) continue;
    const ref = decodeChunkRef(c.ref!);
    if (typeof ref === 'string') throw new DecodeError('ERR_S3_INVALID_CHUNKREF', ref, { ...c.where, ...ctx });
    // An offloaded part declares one chunk_sizes entry per chunk (§5.2): a ref
    // beyond them has no size to agree with (§5.4).
    const declaredSize = part.chunkSizes[Number(c.chunkNo)];
    if (declaredSize === undefined) {
      throw new DecodeError('ERR_S3_INVALID_CHUNKREF', `part ${part.partNo} chunk ${c.chunkNo}: the manifest declares no chunk_sizes entry for it`, ctx, 'object');
    }
    const blob = b.chunkBlobs.get(ref.digest);
    if (!blob) {
      part.chunks.set(c.chunkNo, null); // a missing chunk, found by the completeness check
      continue;
    }
    if (BigInt(blob.length) !== ref.size || BigInt(blob.length) !== declaredSize) {
      throw new DecodeError(
        'ERR_S3_INVALID_CHUNKREF',
        `part ${part.partNo} chunk ${c.chunkNo}: chunkblob ${ref.digest} has ${blob.length} bytes, ref says ${ref.size}, manifest says ${declaredSize}`,
        ctx,
        'object',
      );
    }
    part.chunks.set(c.chunkNo, blob);
  }
  return [...declared.values()].sort(compareParts);
}

/** §5.5: each declared part's chunk set is exactly {0 … N−1}. */
function checkCompleteness(parts: SelectedPart[], ctx: { bucket: Buffer; object: Buffer }): void {
  for (const p of parts) {
    if (p.chunkCount === 0n) continue;
    const fail = (what: string) =>
      new DecodeError('ERR_S3_INCOMPLETE_BLOB_CHUNKS', `part ${p.partNo} version ${p.version} declares ${p.chunkCount} chunks; ${what}`, ctx, 'object');
    if (p.duplicate !== undefined) throw fail(`chunk ${p.duplicate} supplied by more than one upload`);
    for (const n of p.chunks.keys()) if (n >= p.chunkCount) throw fail(`unexpected chunk ${n}`);
    for (let n = 0n; n < p.chunkCount; n++) {
      if (!p.chunks.get(n)) throw fail(`first missing chunk ${n}`);
    }
  }
}

function toPlannedParts(parts: SelectedPart[]): PlannedPart[] {
  return parts.map((p) => {
    const pieces: SpillLocation[] = [];
    for (let n = 0n; n < p.chunkCount; n++) pieces.push(p.chunks.get(n)!);
    return { partNo: p.partNo, version: p.version, offloaded: p.offloaded, etag: p.etag, pieces, length: pieces.reduce((s, x) => s + x.length, 0) };
  });
}

/** §5.6 sizes: chunk_sizes, part size_bytes, manifest size_bytes. */
function checkSizes(parts: SelectedPart[], m: ObjectManifest, size: number, ctx: { bucket: Buffer; object: Buffer }): void {
  const fail = (what: string) => new DecodeError('ERR_S3_SIZE_MISMATCH', what, ctx, 'object');
  for (const p of parts) {
    if (p.chunkSizes.length > 0) {
      if (BigInt(p.chunkSizes.length) !== p.chunkCount) throw fail(`part ${p.partNo} declares ${p.chunkCount} chunks but ${p.chunkSizes.length} chunk_sizes`);
      for (let n = 0; n < p.chunkSizes.length; n++) {
        const len = p.chunks.get(BigInt(n))?.length ?? 0;
        if (BigInt(len) !== p.chunkSizes[n]) throw fail(`part ${p.partNo} chunk ${n} has ${len} bytes, chunk_sizes says ${p.chunkSizes[n]}`);
      }
    }
    if (p.sizeBytes > 0n) {
      let sum = 0;
      for (const loc of p.chunks.values()) sum += loc?.length ?? 0;
      if (BigInt(sum) !== p.sizeBytes) throw fail(`part ${p.partNo} has ${sum} bytes, size_bytes says ${p.sizeBytes}`);
    }
  }
  if (BigInt(size) !== m.sizeBytes) throw fail(`body has ${size} bytes, size_bytes says ${m.sizeBytes}`);
}

/** The run file whose every byte, in order, is exactly this body. */
function wholeRun(parts: PlannedPart[]): SpillSegment | undefined {
  const first = parts.find((p) => p.pieces.length > 0)?.pieces[0];
  const seg = first?.segment;
  if (!seg || seg.kind !== 'run' || !seg.hashes?.sha256.length) return undefined;
  let offset = 0;
  for (const p of parts) {
    for (const loc of p.pieces) {
      if (loc.segment !== seg || loc.offset !== offset) return undefined;
      offset += loc.length;
    }
  }
  return offset === seg.size ? seg : undefined;
}

function sidecarBytes(m: ObjectManifest): Buffer {
  const meta: GoStruct = {
    format_version: 1,
    etag: m.etag,
    size_bytes: m.sizeBytes,
    last_modified: hlcToTime(m.lastModifiedHlc) ?? '',
    content_type: m.contentType,
    content_encoding: m.contentEncoding,
    cache_control: m.cacheControl,
    content_disposition: m.contentDisposition,
  };
  // size_bytes is always present, even when 0.
  const out = omitEmpty(meta, 'size_bytes');
  if (m.userMetadata.size > 0) out.user_metadata = new GoMap(m.userMetadata);
  return Buffer.from(marshalIndent(out));
}

/** Drops empty strings and zero numbers, as the Go structs' omitempty tags do. */
function omitEmpty(s: GoStruct, keep?: string): GoStruct {
  const out: GoStruct = {};
  for (const [k, v] of Object.entries(s)) {
    if (k !== keep && (v === '' || v === 0n || (Buffer.isBuffer(v) && v.length === 0))) continue;
    out[k] = v;
  }
  return out;
}

function partId(partNo: bigint, version: bigint, offloaded: boolean): string {
  return `${partNo}/${version}/${offloaded ? 1 : 0}`;
}

/** Body order: (partNo, version, non-offloaded before offloaded). */
function compareParts(x: SelectedPart, y: SelectedPart): number {
  return cmp(x.partNo, y.partNo) || cmp(x.version, y.version) || Number(x.offloaded) - Number(y.offloaded);
}

function compareChunks(x: CollectedChunk, y: CollectedChunk): number {
  return (
    (x.uploadId < y.uploadId ? -1 : x.uploadId > y.uploadId ? 1 : 0) ||
    cmp(x.partNo, y.partNo) ||
    cmp(x.chunkNo, y.chunkNo) ||
    cmp(x.partVersion, y.partVersion)
  );
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
