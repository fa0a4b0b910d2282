/**
 * BucketTable: the bucket collector's state per bucket, kept from the
 * bucket's first record until the end of input (a bucket's records come in
 * three key ranges — chunks, bucket meta, manifests — so none is finished
 * before the input ends). There may be 50 000 buckets and more, so a bucket
 * is a row number, not JavaScript objects: its bytes (name, directory name,
 * bucket meta and the first generation of its objects) are in an arena, by
 * position, and the rest are numbers in columns. What it costs is the map
 * entry of its name, a few dozen bytes of columns and its bytes. Only the
 * rare extras (more than one generation, upload records) are JavaScript
 * objects, made when needed.
 */
import { ByteArena } from '../core/arena.js';
import { BlockColumn } from '../core/block-column.js';
import { bucketDirName } from '../core/names.js';
import type { UploadRecord, Where } from '../types.js';

/** flags bits. */
const HAS_META_TS = 1;
const HAS_META = 2;
const HAS_GENERATION = 4;

/** Upload records by raw key: the newest version, or a tombstone's commit_ts. */
export type BucketUploads = Map<string, UploadRecord | bigint>;

/** A bucket's row and the views its records need often (made once per run of records of one bucket). */
export interface BucketRow {
  index: number;
  name: Buffer;
  /** enc(name) (SPEC §6). */
  dir: Buffer;
}

export class BucketTable {
  /** Row numbers by name (latin1), until the end of input. */
  private readonly rows = new Map<string, number>();
  /** Rows 0 … count − 1. */
  private count = 0;
  private readonly arena = new ByteArena();
  private readonly namePos = new BlockColumn(Float64Array);
  private readonly nameLen = new BlockColumn(Uint32Array);
  /** enc(name) + "/": the output order's sort key. */
  private readonly dirPos = new BlockColumn(Float64Array);
  private readonly dirLen = new BlockColumn(Uint32Array);
  /** The bucket meta held: commit_ts (u64 LE) ‖ value (the value is absent after a tombstone). */
  private readonly metaPos = new BlockColumn(Float64Array);
  private readonly metaLen = new BlockColumn(Uint32Array);
  /** Where the bucket meta came from: line, offset + 1 (0: not given). */
  private readonly metaLine = new BlockColumn(Float64Array);
  private readonly metaOffset = new BlockColumn(Float64Array);
  /** The first generation of the bucket's objects (u64 LE). */
  private readonly genPos = new BlockColumn(Float64Array);
  private readonly flags = new BlockColumn(Uint8Array);
  /** Further generations, of the few buckets that have more than one. */
  private readonly moreGenerations = new Map<number, bigint[]>();
  private readonly uploadsOf = new Map<number, BucketUploads>();
  private readonly u64 = Buffer.alloc(8);
  /** The row and generation addGeneration() noted last: a bucket's records of one generation come in runs. */
  private lastGenRow = -1;
  private lastGen = 0n;

  /** The row of bucket `name`, added if new (throws a DecodeError for a name that cannot be a directory). */
  row(name: Buffer): BucketRow {
    const id = name.toString('latin1');
    let index = this.rows.get(id);
    if (index === undefined) {
      const dir = Buffer.from(`${bucketDirName(name)}/`, 'latin1');
      index = this.count++;
      this.namePos.set(index, this.arena.put(name));
      this.nameLen.set(index, name.length);
      this.dirPos.set(index, this.arena.put(dir));
      this.dirLen.set(index, dir.length);
      this.rows.set(id, index);
    }
    return { index, name: this.name(index), dir: this.dir(index) };
  }

  /** The bucket's name (a view). */
  name(i: number): Buffer {
    return this.arena.view(this.namePos.get(i), this.nameLen.get(i));
  }

  /** commit_ts of the bucket meta held, or of the tombstone that deleted it. */
  metaTs(i: number): bigint | undefined {
    if (!(this.flags.get(i) & HAS_META_TS)) return undefined;
    return this.arena.view(this.metaPos.get(i), 8).readBigUInt64LE(0);
  }

  /** Sets the bucket meta: its value (null: deleted by a tombstone at ts). */
  setMeta(i: number, ts: bigint, value: Uint8Array | null, where: Where): void {
    const flags = this.flags.get(i);
    if (flags & HAS_META_TS) this.arena.release(this.metaPos.get(i));
    const bytes = Buffer.allocUnsafe(8 + (value?.length ?? 0));
    bytes.writeBigUInt64LE(ts, 0);
    if (value) bytes.set(value, 8);
    this.metaPos.set(i, this.arena.put(bytes));
    this.metaLen.set(i, bytes.length);
    this.metaLine.set(i, where.line ?? 0);
    this.metaOffset.set(i, where.offset === undefined ? 0 : where.offset + 1);
    this.flags.set(i, value ? flags | HAS_META_TS | HAS_META : (flags | HAS_META_TS) & ~HAS_META);
  }

  /** Whether the bucket has a bucket meta (not deleted). */
  hasMeta(i: number): boolean {
    return (this.flags.get(i) & HAS_META) !== 0;
  }

  /** The bucket meta held (a view), if any. */
  meta(i: number): { value: Buffer; where: Where } | undefined {
    if (!(this.flags.get(i) & HAS_META)) return undefined;
    const where: Where = {};
    const line = this.metaLine.get(i);
    const offset = this.metaOffset.get(i);
    if (line !== 0) where.line = line;
    if (offset !== 0) where.offset = offset - 1;
    return { value: this.arena.view(this.metaPos.get(i) + 8, this.metaLen.get(i) - 8), where };
  }

  /** Notes that the bucket has objects of generation g. */
  addGeneration(i: number, g: bigint): void {
    if (i === this.lastGenRow && g === this.lastGen) return;
    this.lastGenRow = i;
    this.lastGen = g;
    const flags = this.flags.get(i);
    if (!(flags & HAS_GENERATION)) {
      this.u64.writeBigUInt64LE(g, 0);
      this.genPos.set(i, this.arena.put(this.u64));
      this.flags.set(i, flags | HAS_GENERATION);
      return;
    }
    this.u64.writeBigUInt64LE(g, 0);
    if (this.arena.equals(this.genPos.get(i), 8, this.u64)) return;
    const more = this.moreGenerations.get(i);
    if (more === undefined) this.moreGenerations.set(i, [g]);
    else if (!more.includes(g)) more.push(g);
  }

  /** The generations of the bucket's objects, in order of first arrival. */
  generations(i: number): bigint[] {
    if (!(this.flags.get(i) & HAS_GENERATION)) return [];
    return [this.arena.view(this.genPos.get(i), 8).readBigUInt64LE(0), ...(this.moreGenerations.get(i) ?? [])];
  }

  /** The bucket's upload records, made when asked for. */
  uploads(i: number): BucketUploads {
    let u = this.uploadsOf.get(i);
    if (u === undefined) this.uploadsOf.set(i, (u = new Map()));
    return u;
  }

  /** The bucket's live upload records, in order of first arrival. */
  liveUploads(i: number): UploadRecord[] {
    const out: UploadRecord[] = [];
    for (const u of this.uploadsOf.get(i)?.values() ?? []) if (typeof u !== 'bigint') out.push(u);
    return out;
  }

  /** A long-lived copy of bytes (for upload records). */
  copy(src: Uint8Array): Buffer {
    return this.arena.copy(src);
  }

  /**
   * At the end of input: the rows `keep` accepts, in output order (enc(name)
   * + "/" bytewise). No row can be added after: names are no longer looked up.
   */
  ordered(keep: (i: number) => boolean): Uint32Array {
    this.rows.clear();
    const list = new Uint32Array(this.count);
    let n = 0;
    for (let i = 0; i < list.length; i++) if (keep(i)) list[n++] = i;
    const { arena, dirPos, dirLen } = this;
    return list.subarray(0, n).sort((a, b) => arena.compare(dirPos.get(a), dirLen.get(a), dirPos.get(b), dirLen.get(b)));
  }

  /** enc(name), without the "/" (a view). */
  private dir(i: number): Buffer {
    return this.arena.view(this.dirPos.get(i), this.dirLen.get(i) - 1);
  }
}
