/**
 * ObjectStore: the objects of one bucket as the bucket collector keeps
 * them until the sink writes them — every (generation, object) with its
 * manifest and its blob and chunkref chunks.
 *
 * There can be millions, and everything here lives until the bucket is
 * written, so nothing is kept as a JavaScript object per object or chunk:
 * fields are columns (typed arrays, indexed by object or chunk number), byte
 * strings (keys, manifests, upload ids, chunkrefs) are packed into an arena,
 * and lookups go through hash indexes over those columns. That is some 100
 * bytes per object and per chunk outside the JavaScript heap, plus the
 * bytes themselves, and nothing that survives young-generation collections
 * (which would make V8 grow its heap). The plan and the sink read objects
 * through ObjectCollection views made on demand (sorted()).
 *
 * Versions (SPEC §3.3) are settled per identity — the manifest of an
 * object; a chunk by (kind, upload id, part, chunk, part version): a version
 * replaces what is held only if its commit_ts is at least as high (equal:
 * the later record wins); a tombstone leaves its commit_ts behind (the chunk
 * stays, dead), so an older version arriving after it is still refused.
 * Chunks iterate in order of arrival of their identity, as a Map's entries
 * would: a replaced chunk keeps its place, and an identity that comes back
 * after a tombstone goes to the end.
 */
import { ByteArena } from './arena.js';
import { HashIndex, hashBytes, hashNumber } from './hash-index.js';
import { decodeManifest, encodeManifest } from './manifest-codec.js';
import type { BucketObjects, ChunkAddress, Chunks, CollectedChunk, ObjectCollection, Span, SpillFile, Where } from '../types.js';

export const BLOB = 0;
export const REF = 1;
export type ChunkKind = typeof BLOB | typeof REF;

/** Chunk states. */
const LIVE = 0;
const DEAD = 1; // a tombstone's mark
const GONE = 2; // replaced by a later entry of the same identity (skipped)

const INITIAL = 256;

export class ObjectStore implements BucketObjects {
  /** Keys, upload ids and chunkref values of this bucket. */
  private readonly arena = new ByteArena();
  /** Manifests (encoded: lib/core/manifest-codec.ts), apart: released object by object as the sink writes them. */
  private readonly manifests = new ByteArena();
  private readonly generationValues: bigint[] = [];

  // Objects. Arena positions are never 0, so 0 means "none".
  private n = 0;
  private keyAt = new Float64Array(INITIAL);
  private keyLength = new Uint32Array(INITIAL);
  private generation = new Uint32Array(INITIAL);
  private manifestAt = new Float64Array(INITIAL);
  private manifestLength = new Uint32Array(INITIAL);
  private manifestWhere = new Float64Array(INITIAL);
  private manifestTs = new BigUint64Array(INITIAL);
  /** 1 once a manifest version (or tombstone) was seen. */
  private manifestSeen = new Uint8Array(INITIAL);
  /** Per object and kind (index 2·object + kind): first and last chunk + 1 (0: none), live chunks. */
  private head = new Int32Array(2 * INITIAL);
  private tail = new Int32Array(2 * INITIAL);
  private live = new Uint32Array(2 * INITIAL);
  private readonly objects = new HashIndex((i) => this.generation[i] === this.probeGeneration && this.arena.equals(this.keyAt[i]!, this.keyLength[i]!, this.probeKey!));
  private probeGeneration = 0;
  private probeKey: Uint8Array | undefined;

  // Chunks.
  private m = 0;
  private chunkObject = new Uint32Array(INITIAL);
  private kind = new Uint8Array(INITIAL);
  private state = new Uint8Array(INITIAL);
  /** Next chunk of the same object and kind + 1 (0: none). */
  private next = new Int32Array(INITIAL);
  private uploadAt = new Float64Array(INITIAL);
  private uploadLength = new Uint32Array(INITIAL);
  private partNo = new BigUint64Array(INITIAL);
  private chunkNo = new BigUint64Array(INITIAL);
  private partVersion = new BigUint64Array(INITIAL);
  private commitTs = new BigUint64Array(INITIAL);
  private where = new Float64Array(INITIAL);
  /** Blob: spill file number, offset, length. Chunkref: −, arena position, length of the value. */
  private file = new Int32Array(INITIAL);
  private offset = new Float64Array(INITIAL);
  private length = new Float64Array(INITIAL);
  private readonly files: SpillFile[] = [];
  private readonly fileNumbers = new Map<SpillFile, number>();
  private readonly chunks = new HashIndex(
    (c) =>
      this.chunkObject[c] === this.probeObject &&
      this.kind[c] === this.probeKind &&
      this.chunkNo[c] === this.probeAddr!.chunkNo &&
      this.partNo[c] === this.probeAddr!.partNo &&
      this.partVersion[c] === this.probeAddr!.partVersion &&
      this.arena.equals(this.uploadAt[c]!, this.uploadLength[c]!, this.probeAddr!.uploadId),
  );
  private probeObject = 0;
  private probeKind = 0;
  private probeAddr: ChunkAddress | undefined;

  /** (generation, object) pairs held. */
  get size(): number {
    return this.n;
  }

  generations(): bigint[] {
    return [...this.generationValues];
  }

  /** The number of object (generation, key), made if new. */
  object(generation: bigint, key: Uint8Array): number {
    let g = this.generationValues.indexOf(generation);
    if (g < 0) g = this.generationValues.push(generation) - 1;
    const h = hashNumber(hashBytes(key), g);
    this.probeGeneration = g;
    this.probeKey = key;
    let i = this.objects.find(h);
    this.probeKey = undefined;
    if (i >= 0) return i;
    i = this.n++;
    if (i === this.keyAt.length) this.growObjects();
    this.keyAt[i] = this.arena.put(key);
    this.keyLength[i] = key.length;
    this.generation[i] = g;
    this.objects.add(h, i);
    return i;
  }

  /** A manifest version of object i (value null: a tombstone). Returns whether it is the newest so far. */
  setManifest(i: number, value: Uint8Array | null, commitTs: bigint, where: Where): boolean {
    if (this.manifestSeen[i] === 1 && commitTs < this.manifestTs[i]!) return false;
    this.manifestSeen[i] = 1;
    this.manifestTs[i] = commitTs;
    this.releaseManifest(i);
    if (value !== null) {
      const encoded = encodeManifest(value);
      this.manifestAt[i] = this.manifests.put(encoded);
      this.manifestLength[i] = encoded.length;
      this.manifestWhere[i] = packWhere(where);
    }
    return true;
  }

  /**
   * A chunk version of object i: a blob at `span` or a chunkref with
   * value `ref`; neither (null) for a tombstone. Returns whether it is the
   * newest so far.
   */
  setChunk(i: number, kind: ChunkKind, a: ChunkAddress, commitTs: bigint, where: Where, payload: Span | Uint8Array | null): boolean {
    let h = hashBytes(a.uploadId, hashNumber(hashNumber(0x811c9dc5, i), kind));
    h = hashNumber(hashNumber(hashNumber(h, Number(a.partNo)), Number(a.chunkNo)), Number(a.partVersion));
    this.probeObject = i;
    this.probeKind = kind;
    this.probeAddr = a;
    try {
      const c = this.chunks.find(h);
      const list = 2 * i + kind;
      if (c < 0) {
        this.chunks.add(h, this.appendChunk(i, kind, a, commitTs, where, payload));
        return true;
      }
      if (commitTs < this.commitTs[c]!) return false;
      if (this.state[c] === LIVE) this.live[list]!--;
      if (this.state[c] === DEAD && payload !== null) {
        // Back after a tombstone: to the end, as a Map's delete and set would.
        // (The index finds c, the entry it holds, before the new chunk.)
        this.state[c] = GONE;
        this.chunks.replace(h, this.appendChunk(i, kind, a, commitTs, where, payload));
        return true;
      }
      this.fillChunk(c, commitTs, where, payload);
      if (payload !== null) this.live[list]!++;
      return true;
    } finally {
      this.probeAddr = undefined;
    }
  }

  /** Every object, sorted by key bytes then generation, as views made now. */
  sorted(): ObjectCollection[] {
    const order = Array.from({ length: this.n }, (_, i) => i);
    // Sorted input adds objects in this order already: the sort has little to do.
    order.sort((x, y) => {
      const c = this.arena.compare(this.keyAt[x]!, this.keyLength[x]!, this.keyAt[y]!, this.keyLength[y]!);
      if (c !== 0) return c;
      const gx = this.generationValues[this.generation[x]!]!;
      const gy = this.generationValues[this.generation[y]!]!;
      return gx < gy ? -1 : gx > gy ? 1 : 0;
    });
    return order.map((i) => new StoredObject(this, i));
  }

  // ---------------------------------------------------------- for views

  /** Object i's key as a 'latin1' string. */
  keyOf(i: number): string {
    return this.arena.view(this.keyAt[i]!, this.keyLength[i]!).toString('latin1');
  }

  generationOf(i: number): bigint {
    return this.generationValues[this.generation[i]!]!;
  }

  manifestOf(i: number): { value: Buffer; where: Where } | undefined {
    const at = this.manifestAt[i]!;
    return at === 0 ? undefined : { value: decodeManifest(this.manifests.view(at, this.manifestLength[i]!)), where: unpackWhere(this.manifestWhere[i]!) };
  }

  /** Lets go of object i's manifest bytes: it reads as absent from now on. */
  releaseManifest(i: number): void {
    const at = this.manifestAt[i]!;
    if (at === 0) return;
    this.manifests.release(at);
    this.manifestAt[i] = 0;
  }

  chunksOf(i: number, kind: ChunkKind): Chunks | undefined {
    const list = 2 * i + kind;
    return this.head[list] === 0 ? undefined : new StoredChunks(this, this.head[list]! - 1, this.live[list]!);
  }

  /** The first live chunk at or after c in its list, or −1. */
  liveFrom(c: number): number {
    while (c >= 0 && this.state[c] !== LIVE) c = this.next[c]! - 1;
    return c;
  }

  /** The chunk after c in its list, or −1. */
  nextOf(c: number): number {
    return this.next[c]! - 1;
  }

  chunkAt(c: number): CollectedChunk {
    const chunk: CollectedChunk = {
      uploadId: this.arena.view(this.uploadAt[c]!, this.uploadLength[c]!).toString('latin1'),
      partNo: this.partNo[c]!,
      chunkNo: this.chunkNo[c]!,
      partVersion: this.partVersion[c]!,
      commitTs: this.commitTs[c]!,
      where: unpackWhere(this.where[c]!),
    };
    if (this.kind[c] === BLOB) chunk.span = { file: this.files[this.file[c]!]!, offset: this.offset[c]!, length: this.length[c]! };
    else chunk.ref = this.arena.view(this.offset[c]!, this.length[c]!);
    return chunk;
  }

  // ---------------------------------------------------------- internals

  private appendChunk(i: number, kind: ChunkKind, a: ChunkAddress, commitTs: bigint, where: Where, payload: Span | Uint8Array | null): number {
    const c = this.m++;
    if (c === this.chunkObject.length) this.growChunks();
    const list = 2 * i + kind;
    this.chunkObject[c] = i;
    this.kind[c] = kind;
    this.partNo[c] = a.partNo;
    this.chunkNo[c] = a.chunkNo;
    this.partVersion[c] = a.partVersion;
    // Most objects have one upload: share the bytes of the previous chunk's.
    const last = this.tail[list]! - 1;
    if (last >= 0 && this.arena.equals(this.uploadAt[last]!, this.uploadLength[last]!, a.uploadId)) {
      this.uploadAt[c] = this.uploadAt[last]!;
    } else {
      this.uploadAt[c] = this.arena.put(a.uploadId);
    }
    this.uploadLength[c] = a.uploadId.length;
    if (last >= 0) this.next[last] = c + 1;
    else this.head[list] = c + 1;
    this.tail[list] = c + 1;
    this.fillChunk(c, commitTs, where, payload);
    if (payload !== null) this.live[list]!++;
    return c;
  }

  private fillChunk(c: number, commitTs: bigint, where: Where, payload: Span | Uint8Array | null): void {
    this.commitTs[c] = commitTs;
    this.where[c] = packWhere(where);
    if (payload === null) {
      this.state[c] = DEAD;
    } else if (payload instanceof Uint8Array) {
      this.state[c] = LIVE;
      this.offset[c] = this.arena.put(payload);
      this.length[c] = payload.length;
    } else {
      this.state[c] = LIVE;
      let s = this.fileNumbers.get(payload.file);
      if (s === undefined) {
        s = this.files.push(payload.file) - 1;
        this.fileNumbers.set(payload.file, s);
      }
      this.file[c] = s;
      this.offset[c] = payload.offset;
      this.length[c] = payload.length;
    }
  }

  private growObjects(): void {
    const n = this.keyAt.length * 2;
    this.keyAt = grow(this.keyAt, n);
    this.keyLength = grow(this.keyLength, n);
    this.generation = grow(this.generation, n);
    this.manifestAt = grow(this.manifestAt, n);
    this.manifestLength = grow(this.manifestLength, n);
    this.manifestWhere = grow(this.manifestWhere, n);
    this.manifestTs = grow(this.manifestTs, n);
    this.manifestSeen = grow(this.manifestSeen, n);
    this.head = grow(this.head, 2 * n);
    this.tail = grow(this.tail, 2 * n);
    this.live = grow(this.live, 2 * n);
  }

  private growChunks(): void {
    const n = this.chunkObject.length * 2;
    this.chunkObject = grow(this.chunkObject, n);
    this.kind = grow(this.kind, n);
    this.state = grow(this.state, n);
    this.next = grow(this.next, n);
    this.uploadAt = grow(this.uploadAt, n);
    this.uploadLength = grow(this.uploadLength, n);
    this.partNo = grow(this.partNo, n);
    this.chunkNo = grow(this.chunkNo, n);
    this.partVersion = grow(this.partVersion, n);
    this.commitTs = grow(this.commitTs, n);
    this.where = grow(this.where, n);
    this.file = grow(this.file, n);
    this.offset = grow(this.offset, n);
    this.length = grow(this.length, n);
  }
}

type Column = Float64Array | Uint32Array | Int32Array | Uint8Array | BigUint64Array;

/** A copy of column a, n long. */
function grow<T extends Column>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  (b as Uint8Array).set(a as Uint8Array);
  return b;
}

/** An object of an ObjectStore, read from its columns. */
class StoredObject implements ObjectCollection {
  readonly key: string;

  constructor(
    private readonly store: ObjectStore,
    private readonly i: number,
  ) {
    this.key = store.keyOf(i);
  }

  get generation(): bigint {
    return this.store.generationOf(this.i);
  }

  get object(): Buffer {
    return Buffer.from(this.key, 'latin1');
  }

  get manifest(): { value: Buffer; where: Where } | undefined {
    return this.store.manifestOf(this.i);
  }

  get blobs(): Chunks | undefined {
    return this.store.chunksOf(this.i, BLOB);
  }

  get refs(): Chunks | undefined {
    return this.store.chunksOf(this.i, REF);
  }

  release(): void {
    this.store.releaseManifest(this.i);
  }
}

/**
 * The live chunks of one object and kind, read from the store's columns.
 * (A plain iterator rather than a generator: generator objects made per
 * object were allocated straight into V8's old space.)
 */
class StoredChunks implements Chunks, IterableIterator<CollectedChunk> {
  private at: number;

  constructor(
    private readonly store: ObjectStore,
    private readonly first: number,
    readonly size: number,
  ) {
    this.at = first;
  }

  values(): IterableIterator<CollectedChunk> {
    return new StoredChunks(this.store, this.first, this.size);
  }

  next(): IteratorResult<CollectedChunk> {
    const c = this.store.liveFrom(this.at);
    if (c < 0) return { done: true, value: undefined };
    this.at = this.store.nextOf(c);
    return { done: false, value: this.store.chunkAt(c) };
  }

  [Symbol.iterator](): IterableIterator<CollectedChunk> {
    return this;
  }
}

/** BucketObjects over ObjectCollections given as they are (tests, other producers). */
export class ObjectList implements BucketObjects {
  constructor(private readonly list: ObjectCollection[]) {}

  get size(): number {
    return this.list.length;
  }

  generations(): bigint[] {
    return [...new Set(this.list.map((o) => o.generation))];
  }

  sorted(): ObjectCollection[] {
    // 'latin1' keys compare bytewise as strings.
    return [...this.list].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.generation < y.generation ? -1 : x.generation > y.generation ? 1 : 0));
  }
}

/**
 * A Where as one number: a line as itself (≥ 0), a byte offset o as −o − 1,
 * none as NaN. (Readers give one or the other; given both, the line is kept.)
 */
export function packWhere(w: Where): number {
  if (w.line !== undefined) return w.line;
  if (w.offset !== undefined) return -w.offset - 1;
  return NaN;
}

export function unpackWhere(n: number): Where {
  if (Number.isNaN(n)) return {};
  return n >= 0 ? { line: n } : { offset: -n - 1 };
}
