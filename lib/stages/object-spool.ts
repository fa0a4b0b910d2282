/**
 * ObjectSpool: where the bucket collector keeps every object's metadata
 * versions (manifests, chunk spans and refs, tombstones) until the sink
 * writes the objects. There can be millions, so they are not kept as
 * JavaScript objects: each version is a record of bytes
 * (lib/core/object-record.ts) handed to an external sort that holds up to
 * a byte budget in memory and spills sorted runs to the scratch directory
 * beyond it. At the end of input the runs are merged once into one sorted
 * store — in memory when nothing was spilled, else a scratch file — in
 * which each bucket is a contiguous range, its objects in key order and
 * each object's versions in arrival order. A bucket's objects are then read
 * from its range as often as the plan needs (twice), one object at a time,
 * settled by replaying its versions (lib/core/object-versions.ts). Memory:
 * the budget, plus the merge's read buffers (bounded: see external-sort.ts).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ioError } from '../errors.js';
import { BlockColumn } from '../core/block-column.js';
import { ExternalSorter, metadataBudget } from '../io/external-sort.js';
import { decodePayload, parseRecordKey, recordKey, sameObject } from '../core/object-record.js';
import { ObjectVersions } from '../core/object-versions.js';
import type { BucketObjects, ObjectCollection, SpillFile } from '../types.js';

/** Bytes of metadata records held in memory before a sorted run is spilled. */
export const OBJECT_SPOOL_BUDGET = 16 * 1024 * 1024;

/** Options of an ObjectSpool. */
export interface ObjectSpoolOptions {
  /** Where sorted runs and the merged store go; without it nothing is spilled. */
  scratchDir?: string;
  /** Bytes held before spilling (default OBJECT_SPOOL_BUDGET, or BUDGET_ENV's); tests use tiny ones. */
  budgetBytes?: number;
}

/** The merged records: one buffer, or a scratch file. */
type Store = { buffer: Buffer } | { file: string };

/** Where a bucket's records are in the store, and how many objects they hold. */
export interface Range {
  start: number;
  end: number;
  objects: number;
}

const READ_BYTES = 1 << 20;

export class ObjectSpool {
  private readonly sorter: ExternalSorter;
  private readonly dir: string | undefined;
  /** Name prefix of this spool's scratch files. */
  private readonly name = `objects-${randomBytes(4).toString('hex')}`;
  private seq = 0;
  /** Spill files named by blob spans, by id. */
  private readonly files = new Map<number, SpillFile>();
  private store: Store | undefined;
  /** Each bucket's Range, by bucket number, in columns (an object per bucket would cost ~100 bytes). */
  private readonly starts = new BlockColumn(Float64Array);
  private readonly ends = new BlockColumn(Float64Array);
  private readonly objectCounts = new BlockColumn(Float64Array);

  constructor(opts: ObjectSpoolOptions = {}) {
    this.dir = opts.scratchDir;
    const budget = opts.budgetBytes ?? metadataBudget(OBJECT_SPOOL_BUDGET);
    this.sorter = new ExternalSorter({ dir: opts.scratchDir ?? '', name: this.name, budgetBytes: opts.scratchDir === undefined ? Infinity : budget });
  }

  /** Sorted runs spilled so far. */
  get runs(): number {
    return this.sorter.runCount;
  }

  /**
   * Adds a version of object (generation, key) of bucket number `bucket`,
   * whose directory name is dir (payload from lib/core/object-record.ts).
   * Returns a promise to wait for before the next add() only when a run
   * was spilled.
   */
  add(dir: Buffer, generation: bigint, key: Uint8Array, payload: Buffer): Promise<void> | undefined {
    return this.sorter.add(recordKey(dir, key, generation, this.seq++), payload);
  }

  /** Remembers a spill file a blob span names. */
  noteFile(file: SpillFile): void {
    if (!this.files.has(file.id)) this.files.set(file.id, file);
  }

  /** Merges everything added into the store; call once, after the last add(). */
  async finish(): Promise<void> {
    const spilled = this.sorter.runCount > 0;
    const file = spilled ? path.join(this.dir!, `${this.name}-merged`) : undefined;
    const out = new StoreWriter(file);
    try {
      let prev: Buffer | undefined;
      let bucket = -1;
      let objects = 0;
      for await (const r of this.sorter.sorted()) {
        const b = r.payload.readUInt32LE(0);
        if (b !== bucket) {
          if (bucket >= 0) this.endRange(bucket, out.size, objects);
          this.starts.set(b, out.size);
          bucket = b;
          objects = 0;
          prev = undefined;
        }
        if (prev === undefined || !sameObject(prev, r.key)) objects++;
        // No copy: sorted()'s records stay valid until its iteration ends.
        prev = r.key;
        out.add(r.key, r.payload);
      }
      if (bucket >= 0) this.endRange(bucket, out.size, objects);
      this.store = out.close();
    } finally {
      await this.sorter.close();
    }
  }

  /** The objects of bucket number `bucket` (readable once finish() is done). */
  objectsOf(bucket: number, generations: readonly bigint[]): BucketObjects {
    return new SpooledObjects(this, bucket, generations);
  }

  /** The range of bucket number `bucket` in the store (empty for a bucket without objects). */
  rangeOf(bucket: number): Range {
    return { start: this.starts.get(bucket), end: this.ends.get(bucket), objects: this.objectCounts.get(bucket) };
  }

  private endRange(bucket: number, end: number, objects: number): void {
    this.ends.set(bucket, end);
    this.objectCounts.set(bucket, objects);
  }

  /** The objects of a range, settled one at a time. */
  *read(range: Range): Generator<ObjectCollection> {
    if (!this.store) throw new Error('ObjectSpool: read before finish()');
    let o: ObjectVersions | undefined;
    // The first record key of the object being read, copied into a reused
    // buffer: readRecords' records are views of a buffer it refills in place.
    let held = Buffer.allocUnsafe(256);
    let prev = held.subarray(0, 0);
    for (const r of readRecords(this.store, range)) {
      if (o === undefined || !sameObject(prev, r.key)) {
        if (o) yield o;
        const { key, generation } = parseRecordKey(r.key);
        o = new ObjectVersions(key, generation, this.files);
        if (r.key.length > held.length) held = Buffer.allocUnsafe(2 * r.key.length);
        prev = held.subarray(0, r.key.copy(held));
      }
      o.apply(decodePayload(r.payload));
    }
    if (o) yield o;
  }
}

/** One bucket's objects in the spool (an object, not closures: there may be 50 000 buckets). */
class SpooledObjects implements BucketObjects {
  constructor(
    private readonly spool: ObjectSpool,
    private readonly bucket: number,
    private readonly gens: readonly bigint[],
  ) {}

  get size(): number {
    return this.spool.rangeOf(this.bucket).objects;
  }

  generations(): bigint[] {
    return [...this.gens];
  }

  sorted(): Iterable<ObjectCollection> {
    return this.spool.read(this.spool.rangeOf(this.bucket));
  }
}

/**
 * Writes the merged records ([u32 key length ‖ u32 payload length ‖ key ‖
 * payload]…) to memory or a file, packed into one buffer (no object per
 * record: held across many records, they would pile up in V8's old
 * generation).
 */
class StoreWriter {
  size = 0;
  private buf = Buffer.allocUnsafe(READ_BYTES);
  private used = 0;
  private readonly fd: number | undefined;

  constructor(private readonly file: string | undefined) {
    if (file === undefined) return;
    try {
      this.fd = fs.openSync(file, 'wx', 0o600);
    } catch (e) {
      throw ioError(e, file, 'cannot create object store');
    }
  }

  add(key: Buffer, payload: Buffer): void {
    const n = 8 + key.length + payload.length;
    if (this.used + n > this.buf.length && this.fd !== undefined) this.flush();
    if (this.used + n > this.buf.length) {
      // In memory (or a record larger than the buffer): a bigger buffer.
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.used + n));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    // Copies: the sorter's buffers are views it reuses.
    let at = this.buf.writeUInt32LE(key.length, this.used);
    at = this.buf.writeUInt32LE(payload.length, at);
    at += key.copy(this.buf, at);
    payload.copy(this.buf, at);
    this.used += n;
    this.size += n;
  }

  close(): Store {
    if (this.fd === undefined) return { buffer: this.buf.subarray(0, this.used) };
    try {
      this.flush();
    } finally {
      fs.closeSync(this.fd);
    }
    return { file: this.file! };
  }

  private flush(): void {
    try {
      for (let at = 0; at < this.used; ) at += fs.writeSync(this.fd!, this.buf, at, this.used - at);
    } catch (e) {
      throw ioError(e, this.file!, 'cannot write object store');
    }
    this.used = 0;
  }
}

/** The records of a range of the store, as views valid until the next one. */
function* readRecords(store: Store, range: Range): Generator<{ key: Buffer; payload: Buffer }> {
  if ('buffer' in store) {
    const b = store.buffer;
    for (let at = range.start; at < range.end; ) {
      const kl = b.readUInt32LE(at);
      const pl = b.readUInt32LE(at + 4);
      yield { key: b.subarray(at + 8, at + 8 + kl), payload: b.subarray(at + 8 + kl, at + 8 + kl + pl) };
      at += 8 + kl + pl;
    }
    return;
  }
  let fd: number;
  try {
    fd = fs.openSync(store.file, 'r');
  } catch (e) {
    throw ioError(e, store.file, 'cannot open object store');
  }
  try {
    let buf = Buffer.allocUnsafe(READ_BYTES);
    let have = 0; // bytes of buf holding data from filePos - have
    let pos = 0; // first unread byte in buf
    let filePos = range.start;
    const fill = (n: number): void => {
      if (have - pos >= n) return;
      if (n > buf.length) {
        const bigger = Buffer.allocUnsafe(n);
        buf.copy(bigger, 0, pos, have);
        buf = bigger;
      } else {
        buf.copy(buf, 0, pos, have);
      }
      have -= pos;
      pos = 0;
      while (have < n) {
        const want = Math.min(buf.length - have, range.end - filePos);
        let got: number;
        try {
          got = fs.readSync(fd, buf, have, want, filePos);
        } catch (e) {
          throw ioError(e, store.file, 'cannot read object store');
        }
        if (got === 0) throw ioError(new Error('object store is truncated'), store.file);
        have += got;
        filePos += got;
      }
    };
    for (let at = range.start; at < range.end; ) {
      fill(8);
      const kl = buf.readUInt32LE(pos);
      const pl = buf.readUInt32LE(pos + 4);
      fill(8 + kl + pl);
      yield { key: buf.subarray(pos + 8, pos + 8 + kl), payload: buf.subarray(pos + 8 + kl, pos + 8 + kl + pl) };
      pos += 8 + kl + pl;
      at += 8 + kl + pl;
    }
  } finally {
    fs.closeSync(fd);
  }
}
