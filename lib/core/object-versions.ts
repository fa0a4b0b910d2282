/**
 * One object's versions settled (SPEC §3.3): the records of one
 * (generation, object) are replayed in arrival order, and what is left is
 * its ObjectCollection.
 *
 * Per identity — the manifest; a chunk by (kind, upload id, part, chunk,
 * part version) — a version replaces what is held only if its commit_ts is
 * at least as high (equal: the later record wins); a tombstone leaves its
 * commit_ts behind, so an older version arriving after it is still refused.
 * Chunks iterate in order of arrival of their identity, as a Map's entries
 * do: a replaced chunk keeps its place, and an identity that comes back
 * after a tombstone goes to the end.
 */
import type { Chunks, CollectedChunk, ObjectCollection, Span, SpillFile, Where } from '../types.js';
import { decodeManifest } from './manifest-codec.js';
import { supersedes } from './newest-wins.js';
import { BLOB, type DecodedPayload, unpackWhere } from './object-record.js';

interface Held {
  commitTs: bigint;
  /** The live chunk, or undefined after a tombstone. */
  chunk: CollectedChunk | undefined;
}

/** The live chunks of one kind, in arrival order of their identity. */
class ChunkVersions implements Chunks {
  readonly byId = new Map<string, Held>();
  size = 0;

  *values(): IterableIterator<CollectedChunk> {
    for (const h of this.byId.values()) if (h.chunk) yield h.chunk;
  }

  set(id: string, commitTs: bigint, chunk: CollectedChunk | undefined): void {
    const held = this.byId.get(id);
    if (held === undefined) {
      this.byId.set(id, { commitTs, chunk });
      if (chunk) this.size++;
      return;
    }
    if (!supersedes(commitTs, held.commitTs)) return;
    if (held.chunk) this.size--;
    if (chunk) this.size++;
    if (!held.chunk && chunk) {
      // Back after a tombstone: to the end.
      this.byId.delete(id);
      this.byId.set(id, { commitTs, chunk });
      return;
    }
    held.commitTs = commitTs;
    held.chunk = chunk;
  }
}

/**
 * A manifest kept as its encoded bytes and decoded when its value is first
 * asked for: the plan's first pass over a bucket only asks whether an
 * object has one, and most versions replayed are replaced anyway.
 */
class LazyManifest {
  private decoded: Buffer | undefined;

  constructor(
    private readonly encoded: Buffer,
    readonly where: Where,
  ) {}

  get value(): Buffer {
    return (this.decoded ??= decodeManifest(this.encoded));
  }
}

/** An object whose versions are replayed into it, one record at a time, in arrival order. */
export class ObjectVersions implements ObjectCollection {
  readonly key: string;
  manifest: { readonly value: Buffer; readonly where: Where } | undefined;
  private manifestTs: bigint | undefined;
  private readonly chunks: [ChunkVersions | undefined, ChunkVersions | undefined] = [undefined, undefined];

  /** object: the key's bytes (kept); files: spill files by id. */
  constructor(
    readonly object: Buffer,
    readonly generation: bigint,
    private readonly files: ReadonlyMap<number, SpillFile>,
  ) {
    this.key = object.toString('latin1');
  }

  get blobs(): Chunks | undefined {
    return this.chunks[0];
  }

  get refs(): Chunks | undefined {
    return this.chunks[1];
  }

  /** Applies one record's version (record buffers are copied where kept). */
  apply(r: DecodedPayload): void {
    if (r.type === 0) {
      if (this.manifestTs !== undefined && !supersedes(r.commitTs, this.manifestTs)) return;
      this.manifestTs = r.commitTs;
      // A copy: the record's bytes are a view of a reused buffer.
      this.manifest = r.value === null ? undefined : new LazyManifest(Buffer.from(r.value), unpackWhere(r.where));
      return;
    }
    const uploadId = r.uploadId.toString('latin1');
    const id = `${uploadId.length}:${uploadId}/${r.partNo}/${r.chunkNo}/${r.partVersion}`;
    let chunk: CollectedChunk | undefined;
    if (r.payload !== null) {
      chunk = { uploadId, partNo: r.partNo, chunkNo: r.chunkNo, partVersion: r.partVersion, commitTs: r.commitTs, where: unpackWhere(r.where) };
      if (Buffer.isBuffer(r.payload)) chunk.ref = Buffer.from(r.payload);
      else chunk.span = this.span(r.payload);
    }
    const k = r.type === BLOB ? 0 : 1;
    (this.chunks[k] ??= new ChunkVersions()).set(id, r.commitTs, chunk);
  }

  private span(p: { file: number; offset: number; length: number }): Span {
    const file = this.files.get(p.file);
    if (!file) throw new Error(`object versions: spill file ${p.file} unknown`);
    return { file, offset: p.offset, length: p.length };
  }
}
