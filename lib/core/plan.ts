/**
 * Bucket planning: everything the sink decides before it touches a file.
 * planBucket() picks a bucket's active generation (§5.1), lists its live
 * objects, orphans (§5.7, §5.10) and incomplete uploads (§5.9) and names
 * every live object's file (§5.8); planObjects() then plans each live
 * object in turn — its body's chunks (./selection.ts) and sidecar — or
 * reports why it cannot be emitted. Reads only the collection (and writes
 * nothing but a scratch list of a big bucket's keys), and throws for
 * run-level errors.
 */
import { DecodeError } from '../errors.js';
import type { BucketCollection, ChunkAddress, ChunkIdentity, ObjectCollection, Span, Warning, Where } from '../types.js';
import { renderBucketJson, renderSidecar, renderUploads } from './dump-files.js';
import { decodeChunkRef } from './chunkref.js';
import { GoJsonError } from './gojson-error.js';
import { printable } from './printable.js';
import { parseBucketMeta, parseManifest, type ObjectManifest } from './s3-schemas.js';
import { assignPathsOfSortedKeys, bucketDirName, orphanChunkPath, type KeymapEntry, type ObjectPathResult } from './names.js';
import { compareChunks, completeBody, selectParts, type PlannedPart } from './selection.js';
import { SortedKeyList } from '../io/sorted-key-list.js';

export type { PlannedPart } from './selection.js';

/** The flags that change what a plan includes and checks. */
export interface PlanOptions {
  includeOrphans: boolean;
  includeIncompleteUploads: boolean;
  renameCollisions: boolean;
  /** Size checks of §5.6 (ETags are checked by the sink, which has the MD5s). */
  verify: boolean;
}

/** An object ready to be written: where, what bytes, what metadata. */
export interface ObjectPlan {
  key: Buffer;
  /** Body path relative to the bucket directory. */
  relPath: Buffer;
  keymap?: KeymapEntry;
  manifest: ObjectManifest;
  /** Declared parts in body order. */
  parts: PlannedPart[];
  size: number;
  /** Sidecar file bytes. */
  sidecar: Buffer;
}

/** An object that cannot be emitted, and why (an object-level DecodeError). */
export interface ObjectFailure {
  object: Buffer;
  error: DecodeError;
}

/** What the sink writes for one bucket, decided before any file is touched. */
export interface BucketPlan {
  name: Buffer;
  /** enc(bucket): the bucket's directory under s3/. */
  dir: string;
  bucketJson?: Buffer;
  /**
   * The active generation (undefined: no objects): its objects with a
   * manifest are the live ones, which planObjects() reads again and plans
   * one at a time when the sink gets to them, so neither they nor their
   * plans pile up for a whole bucket.
   */
  activeGeneration: bigint | undefined;
  /**
   * Body paths of the live objects (§5.8) by ObjectCollection.key, for the
   * objects whose path is not simply their key (renamed or failed ones):
   * an object absent here is written at its key.
   */
  names: Map<string, ObjectPathResult>;
  /** Object errors found while planning the bucket (unsafe orphan keys). */
  failures: ObjectFailure[];
  orphans: Array<{ relPath: Buffer; span: Span }>;
  /** records.jsonl bytes, when incomplete uploads are included and present. */
  uploads?: Buffer;
  warnings: Warning[];
}

/**
 * Plans a bucket: active generation, live objects and their names, orphans,
 * uploads and warnings. scratchDir: where the live keys go when there are
 * many (naming needs them all); without it they stay in memory.
 */
export function planBucket(b: BucketCollection, opts: PlanOptions, scratchDir?: string): BucketPlan {
  const dir = bucketDirName(b.name);
  // Warnings name buckets and objects in the printable form errors use.
  const bucketName = printable(b.name);
  const plan: BucketPlan = { name: b.name, dir, activeGeneration: undefined, names: new Map(), failures: [], orphans: [], warnings: [] };

  let activeGeneration: bigint | undefined;
  if (b.meta) {
    let meta;
    try {
      meta = parseBucketMeta(b.meta.value);
    } catch (e) {
      throw jsonError('ERR_S3_INVALID_BUCKET_META', 'invalid bucket meta', e, { ...b.meta.where, bucket: b.name });
    }
    if (meta.generation !== 0n) activeGeneration = meta.generation;
    plan.bucketJson = renderBucketJson(b.name, meta);
  }
  if (activeGeneration === undefined && b.objects.size > 0) {
    activeGeneration = 0n;
    for (const g of b.objects.generations()) if (g > activeGeneration) activeGeneration = g;
    plan.warnings.push({ event: 's3_bucket_meta_missing', bucket: bucketName, active_generation: activeGeneration });
  }

  plan.activeGeneration = activeGeneration;
  // Keys of the live objects, for naming: sorted, one object per key.
  const live = new SortedKeyList(scratchDir);
  try {
    planObjectsOf(b, opts, plan, activeGeneration, live);
    plan.names = assignPathsOfSortedKeys(live, { renameCollisions: opts.renameCollisions }, false);
  } finally {
    live.close();
  }
  if (opts.includeIncompleteUploads && b.uploads.length > 0) plan.uploads = renderUploads(b.uploads);
  return plan;
}

/** Goes through a bucket's objects once: checks, warnings, orphans, and the live keys. */
function planObjectsOf(b: BucketCollection, opts: PlanOptions, plan: BucketPlan, activeGeneration: bigint | undefined, live: SortedKeyList): void {
  const bucketName = printable(b.name);
  let stale = 0;
  for (const o of b.objects.sorted()) {
    checkChunkRefs(o, b.name);
    if (o.generation !== activeGeneration) {
      // Manifests are parsed in every generation (live ones in planObjects):
      // an undecodable one is snapshot corruption.
      const m = o.manifest;
      if (m) parseObjectManifest(o, m, b.name);
      stale++;
      if (opts.includeOrphans) addOrphans(plan, o);
    } else if (o.manifest) {
      live.add(o.key);
    } else if (chunkCount(o) > 0) {
      plan.warnings.push({ event: 's3_orphan_chunks', bucket: bucketName, object: printable(o.object), chunks: chunkCount(o) });
      if (opts.includeOrphans) addOrphans(plan, o);
    }
  }
  if (stale > 0) {
    plan.warnings.push({ event: 's3_stale_generation_objects', bucket: bucketName, active_generation: activeGeneration ?? 0n, count: stale });
  }
}

/**
 * Plans the bucket's live objects one at a time, in key order, yielding
 * each object's plan or, for an object that cannot be emitted, its failure
 * (problems reported in SPEC §5.5's order: chunkref resolution, naming,
 * completeness, sizes). Run-level errors are thrown.
 */
export function* planObjects(plan: BucketPlan, b: BucketCollection, opts: PlanOptions): Generator<ObjectPlan | ObjectFailure> {
  for (const o of b.objects.sorted()) {
    if (o.generation !== plan.activeGeneration || !o.manifest) continue;
    let planned: ObjectPlan | ObjectFailure;
    try {
      planned = planObject(plan, o, b, opts);
    } catch (e) {
      if (!(e instanceof DecodeError) || e.level !== 'object') throw e;
      planned = { object: o.object, error: e };
    }
    yield planned;
  }
}

/** Whether planObjects() yielded a failure. */
export function isFailure(x: ObjectPlan | ObjectFailure): x is ObjectFailure {
  return 'error' in x;
}

function planObject(plan: BucketPlan, o: ObjectCollection, b: BucketCollection, opts: PlanOptions): ObjectPlan {
  const ctx = { bucket: b.name, object: o.object };
  const manifest = parseObjectManifest(o, o.manifest!, b.name);
  // §5.5's order: chunkref resolution, naming, completeness, sizes.
  const selected = selectParts(o, manifest, b.chunkBlobs, ctx);
  const name = plan.names.get(o.key) ?? { path: ctx.object };
  if (name instanceof DecodeError) throw name;
  const parts = completeBody(selected, manifest, opts.verify, ctx);
  const obj: ObjectPlan = { key: o.object, relPath: name.path, manifest, parts, size: parts.reduce((n, p) => n + p.length, 0), sidecar: renderSidecar(manifest) };
  if (name.keymap) obj.keymap = name.keymap;
  return obj;
}

/**
 * §8: a chunkref value that does not decode is snapshot corruption wherever
 * it sits (orphans, stale generations, other uploads, undeclared parts), not
 * only when a manifest selects it. Only live versions are held here:
 * tombstoned and superseded ones never count.
 */
function checkChunkRefs(o: ObjectCollection, bucket: Buffer): void {
  for (const c of o.refs?.values() ?? []) decodeChunkRef(c.ref!, { ...c.where, bucket, object: o.object });
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
    for (const c of chunks) plan.orphans.push({ relPath: orphanChunkPath(chunkAddress(plan.name, o, c)), span: c.span! });
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
