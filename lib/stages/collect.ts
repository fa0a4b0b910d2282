/**
 * Manifest collector: gathers the payload-free records per bucket and
 * object (metadata only) and, at the end of input, emits one
 * BucketCollection per bucket in output order. A later record of the same
 * identity replaces an earlier one and a tombstone deletes it (the version
 * resolver passes records on newest-so-far).
 *
 * Key components are copied out of the records here: they are views of the
 * reader's input buffers, and keeping them would pin the input in memory.
 */
import { METADATA_RECORDS } from './queue.js';
import { Transform, type TransformCallback } from 'node:stream';
import { ByteArena } from '../core/arena.js';
import { bucketDirName } from '../core/names.js';
import type { BucketCollection, ChunkAddress, ChunkBlobStore, CollectedChunk, ObjectCollection, SpilledRecord, UploadRecord } from '../types.js';

export class ManifestCollector extends Transform {
  private readonly buckets = new Map<string, BucketCollection>();
  /** Long-lived copies of keys and metadata values, packed densely. */
  private readonly arena = new ByteArena();
  private readonly chunkBlobs: ChunkBlobStore = new Map();
  /** Upload records per bucket by raw key (the winning version only). */
  private readonly uploads = new Map<BucketCollection, Map<string, UploadRecord>>();

  constructor() {
    super({ objectMode: true, highWaterMark: METADATA_RECORDS });
  }

  override _transform(rec: SpilledRecord, _enc: BufferEncoding, cb: TransformCallback): void {
    switch (rec.kind) {
      case 'bucket-meta': {
        const b = this.bucket(rec.bucket);
        if (rec.tombstone || rec.value === null) delete b.meta;
        else b.meta = { value: this.arena.copy(rec.value), where: rec.where };
        break;
      }
      case 'manifest': {
        const o = this.object(rec.bucket, rec.generation, rec.object);
        if (rec.tombstone || rec.value === null) delete o.manifest;
        else o.manifest = { value: this.arena.copy(rec.value), where: rec.where };
        break;
      }
      case 'blob':
      case 'chunkref': {
        const o = this.object(rec.addr.bucket, rec.addr.generation, rec.addr.object);
        const id = chunkId(rec.addr);
        const live = rec.kind === 'blob' ? rec.location !== null : rec.value !== null;
        if (rec.tombstone || !live) {
          (rec.kind === 'blob' ? o.blobs : o.refs)?.delete(id);
          break;
        }
        // Maps are made on first use: most objects have no chunkrefs.
        const map = rec.kind === 'blob' ? (o.blobs ??= new Map()) : (o.refs ??= new Map());
        const chunk: CollectedChunk = { addr: this.compactAddress(rec.addr, o), where: rec.where };
        if (rec.kind === 'blob') chunk.location = rec.location!;
        else chunk.ref = this.arena.copy(rec.value!);
        map.set(id, chunk);
        break;
      }
      case 'chunkblob':
        if (rec.tombstone || rec.location === null) this.chunkBlobs.delete(rec.digest);
        else this.chunkBlobs.set(rec.digest, rec.location);
        break;
      case 'upload': {
        const b = this.bucket(rec.bucket);
        let uploads = this.uploads.get(b);
        if (!uploads) this.uploads.set(b, (uploads = new Map()));
        const id = rec.key.toString('latin1');
        if (rec.tombstone || rec.value === null) uploads.delete(id);
        else uploads.set(id, { ...rec, key: this.arena.copy(rec.key), value: this.arena.copy(rec.value), bucket: b.name, object: this.arena.copy(rec.object), uploadId: this.arena.copy(rec.uploadId) });
        break;
      }
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    for (const [b, uploads] of this.uploads) b.uploads = [...uploads.values()];
    const ordered = [...this.buckets.values()]
      .filter((b) => b.meta || b.objects.size > 0 || b.uploads.length > 0)
      .map((b) => ({ b, dir: Buffer.from(bucketDirName(b.name) + '/', 'latin1') }))
      .sort((x, y) => Buffer.compare(x.dir, y.dir));
    for (const { b } of ordered) this.push(b);
    cb();
  }

  private bucket(name: Buffer): BucketCollection {
    const id = name.toString('latin1');
    let b = this.buckets.get(id);
    if (!b) {
      b = { name: this.arena.copy(name), objects: new Map(), uploads: [], chunkBlobs: this.chunkBlobs };
      this.buckets.set(id, b);
    }
    return b;
  }

  /** A chunk address whose buffers are the collection's own (shared, or copied into the arena). */
  private compactAddress(a: ChunkAddress, o: ObjectCollection): ChunkAddress {
    const uploadId = knownUpload(o, a.uploadId) ?? this.arena.copy(a.uploadId);
    return { bucket: this.bucket(a.bucket).name, generation: a.generation, object: o.object, uploadId, partNo: a.partNo, chunkNo: a.chunkNo, partVersion: a.partVersion };
  }

  private object(bucket: Buffer, generation: bigint, object: Buffer): ObjectCollection {
    const b = this.bucket(bucket);
    const id = `${generation}/${object.toString('latin1')}`;
    let o = b.objects.get(id);
    if (!o) {
      o = { generation, object: this.arena.copy(object) };
      b.objects.set(id, o);
    }
    return o;
  }
}

export function createManifestCollector(): ManifestCollector {
  return new ManifestCollector();
}

/** A chunk's identity within its object. */
export function chunkId(a: ChunkAddress): string {
  return `${a.uploadId.length}:${a.uploadId.toString('latin1')}|${a.partNo}|${a.chunkNo}|${a.partVersion}`;
}

/** The first chunk's upload id, when equal to this one (most objects have one upload). */
function knownUpload(o: ObjectCollection, uploadId: Buffer): Buffer | undefined {
  const first = o.blobs?.values().next().value ?? o.refs?.values().next().value;
  return first && first.addr.uploadId.equals(uploadId) ? first.addr.uploadId : undefined;
}
