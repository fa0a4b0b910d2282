/**
 * Which chunks make an object's body (SPEC §5.3), offloaded chunk
 * resolution (§5.4), set-based completeness (§5.5) and the size checks of
 * §5.6. Pure: reads the object's collected chunks and the shared chunkblob
 * spans; throws DecodeError (object level for what skips one object, run
 * level for snapshot corruption).
 */
import { DecodeError } from '../errors.js';
import type { ChunkBlobStore, CollectedChunk, ObjectCollection, Span } from '../types.js';
import { decodeChunkRef } from './chunkref.js';
import type { ObjectManifest } from './gojson.js';

type Ctx = { bucket: Buffer; object: Buffer };

/** One declared part of a manifest with the chunks selected for it, in body order. */
export interface PlannedPart {
  partNo: bigint;
  version: bigint;
  offloaded: boolean;
  etag: string;
  /** The selected chunks' payloads in chunkNo order. */
  spans: Span[];
  length: number;
}

/** A declared part with the chunks selected for it, not yet checked for completeness. */
export interface SelectedPart {
  partNo: bigint;
  version: bigint;
  offloaded: boolean;
  chunkCount: bigint;
  sizeBytes: bigint;
  chunkSizes: bigint[];
  etag: string;
  /** Selected chunks by chunkNo (null: a ref whose chunkblob is absent). */
  chunks: Map<bigint, Span | null>;
  /** A chunk index supplied twice (by two uploads under an empty upload_id). */
  duplicate?: bigint;
}

/**
 * The body's parts, each with its chunks' spans, from a selection: §5.5
 * completeness, then (with verify) §5.6 sizes.
 */
export function completeBody(parts: SelectedPart[], m: ObjectManifest, verify: boolean, ctx: Ctx): PlannedPart[] {
  checkCompleteness(parts, ctx);
  const planned = parts.map(toPlannedPart);
  if (verify) checkSizes(parts, m, planned.reduce((n, p) => n + p.length, 0), ctx);
  return planned;
}

/** §5.3 selection plus §5.4 chunkref resolution, parts in body order. */
export function selectParts(o: ObjectCollection, m: ObjectManifest, chunkBlobs: ChunkBlobStore, ctx: Ctx): SelectedPart[] {
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
  for (const c of o.blobs?.values() ?? []) take(c, false)?.chunks.set(c.chunkNo, c.span!);
  for (const c of [...(o.refs?.values() ?? [])].sort(compareChunks)) {
    const part = take(c, true);
    if (!part) continue;
    const ref = decodeChunkRef(c.ref!);
    if (typeof ref === 'string') throw new DecodeError('ERR_S3_INVALID_CHUNKREF', ref, { ...c.where, ...ctx });
    const blob = chunkBlobs.get(ref.digest);
    if (!blob) {
      part.chunks.set(c.chunkNo, null); // a missing chunk, found by the completeness check
      continue;
    }
    const declaredSize = part.chunkSizes[Number(c.chunkNo)];
    if (BigInt(blob.length) !== ref.size || (declaredSize !== undefined && BigInt(blob.length) !== declaredSize)) {
      throw new DecodeError(
        'ERR_S3_INVALID_CHUNKREF',
        `part ${part.partNo} chunk ${c.chunkNo}: chunkblob ${ref.digest} has ${blob.length} bytes, ref says ${ref.size}, manifest says ${declaredSize ?? 'nothing'}`,
        ctx,
        'object',
      );
    }
    part.chunks.set(c.chunkNo, blob);
  }
  return [...declared.values()].sort(compareParts);
}

/** §5.5: each declared part's chunk set is exactly {0 … N−1}. */
function checkCompleteness(parts: SelectedPart[], ctx: Ctx): void {
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

function toPlannedPart(p: SelectedPart): PlannedPart {
  const spans: Span[] = [];
  for (let n = 0n; n < p.chunkCount; n++) spans.push(p.chunks.get(n)!);
  return { partNo: p.partNo, version: p.version, offloaded: p.offloaded, etag: p.etag, spans, length: spans.reduce((s, x) => s + x.length, 0) };
}

/** §5.6 sizes: chunk_sizes, part size_bytes, manifest size_bytes. */
function checkSizes(parts: SelectedPart[], m: ObjectManifest, size: number, ctx: Ctx): void {
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
      for (const span of p.chunks.values()) sum += span?.length ?? 0;
      if (BigInt(sum) !== p.sizeBytes) throw fail(`part ${p.partNo} has ${sum} bytes, size_bytes says ${p.sizeBytes}`);
    }
  }
  if (BigInt(size) !== m.sizeBytes) throw fail(`body has ${size} bytes, size_bytes says ${m.sizeBytes}`);
}

function partId(partNo: bigint, version: bigint, offloaded: boolean): string {
  return `${partNo}/${version}/${offloaded ? 1 : 0}`;
}

/** Body order: (partNo, version, non-offloaded before offloaded). */
function compareParts(x: SelectedPart, y: SelectedPart): number {
  return cmp(x.partNo, y.partNo) || cmp(x.version, y.version) || Number(x.offloaded) - Number(y.offloaded);
}

/** Chunk order: (upload id, partNo, chunkNo, partVersion). */
export function compareChunks(x: CollectedChunk, y: CollectedChunk): number {
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
