/**
 * A bucket's live object keys, in bytewise order, for naming (SPEC §5.8
 * needs each key's neighbours: is k + suffix a key, is some key under
 * k + "/"). A bucket may have millions of keys, so beyond a budget they go
 * to a scratch file, and only every BLOCK_KEYSth key stays in memory as an
 * index: a search reads one block of keys back (and keeps the last few
 * read, since searches stay near the key being named).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ioError } from '../errors.js';
import { sortedArray, type SortedKeys } from '../core/sorted-keys.js';
import { metadataBudget } from './external-sort.js';

/** Key bytes held in memory before the list moves to a scratch file (with a scratch directory). */
export const SORTED_KEYS_BUDGET = 4 * 1024 * 1024;
const BLOCK_KEYS = 64;
const CACHED_BLOCKS = 16;

/**
 * Keys added in order, held in memory up to a budget, then in a scratch
 * file (removed by close()). Build with add(), then use it as SortedKeys.
 */
export class SortedKeyList implements SortedKeys {
  private keys: string[] = [];
  private bytes = 0;
  private readonly budget: number;
  private file: { path: string; fd: number; size: number } | undefined;
  /** File mode: the first key of each block and where the block starts. */
  private readonly firstKeys: string[] = [];
  private readonly blockAt: number[] = [];
  /**
   * Blocks read lately, most recently used last: their numbers and keys.
   * Arrays, not a Map: with a Map given a delete and a set per lookup, much
   * of what the naming pass allocated survived young collections into the
   * old generation (a million keys: +55 MiB of peak RSS, test/sorted-key-list.test.ts).
   */
  private readonly recentIds: number[] = [];
  private readonly recentBlocks: string[][] = [];

  /**
   * dir: the scratch directory (without it, everything stays in memory);
   * budgetBytes: key bytes held before moving there; blockKeys: keys per
   * block read back (tests use tiny ones).
   */
  constructor(
    private readonly dir?: string,
    budgetBytes?: number,
    private readonly blockKeys = BLOCK_KEYS,
  ) {
    this.budget = dir === undefined ? Infinity : (budgetBytes ?? metadataBudget(SORTED_KEYS_BUDGET));
  }

  /** Appends a key (greater than the last one). */
  add(key: string): void {
    this.keys.push(key);
    this.bytes += key.length;
    if (this.bytes >= this.budget || (this.file && this.keys.length === this.blockKeys)) this.spill();
  }

  /** Whether the keys are in a scratch file. */
  get onDisk(): boolean {
    return this.file !== undefined;
  }

  *[Symbol.iterator](): Iterator<string> {
    if (!this.file) {
      yield* this.keys;
      return;
    }
    for (let b = 0; b < this.firstKeys.length; b++) yield* this.readBlock(b);
    yield* this.keys;
  }

  ceiling(t: string): string | undefined {
    if (this.firstKeys.length === 0) return sortedArray(this.keys).ceiling(t);
    // The last block whose first key ≤ t holds the ceiling, or the next block's first key is it.
    let lo = 0;
    let hi = this.firstKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.firstKeys[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    const b = lo - 1;
    if (b < 0) return this.firstKeys[0];
    const found = sortedArray(this.cached(b)).ceiling(t);
    if (found !== undefined) return found;
    return b + 1 < this.firstKeys.length ? this.firstKeys[b + 1] : sortedArray(this.keys).ceiling(t);
  }

  /** Removes the scratch file. */
  close(): void {
    if (!this.file) return;
    fs.closeSync(this.file.fd);
    fs.rmSync(this.file.path, { force: true });
    this.file = undefined;
  }

  /** Writes the held keys out as blocks of BLOCK_KEYS (a last partial block stays held). */
  private spill(): void {
    if (!this.file) {
      const p = path.join(this.dir!, `keys-${randomBytes(4).toString('hex')}`);
      try {
        this.file = { path: p, fd: fs.openSync(p, 'wx+', 0o600), size: 0 };
      } catch (e) {
        throw ioError(e, p, 'cannot create key list');
      }
    }
    const file = this.file;
    const full = this.keys.length - (this.keys.length % this.blockKeys);
    // One buffer, no object per key (a Buffer per key, held until written, would pile up in V8's old generation).
    let bytes = 0;
    for (let i = 0; i < full; i++) bytes += 4 + this.keys[i]!.length;
    const data = Buffer.allocUnsafe(bytes);
    for (let i = 0, o = 0; i < full; i++) {
      const k = this.keys[i]!;
      if (i % this.blockKeys === 0) {
        this.firstKeys.push(k);
        this.blockAt.push(file.size + o);
      }
      o = data.writeUInt32LE(k.length, o);
      o += data.write(k, o, 'latin1');
    }
    file.size += bytes;
    try {
      for (let at = 0; at < data.length; ) at += fs.writeSync(file.fd, data, at, data.length - at, file.size - data.length + at);
    } catch (e) {
      throw ioError(e, file.path, 'cannot write key list');
    }
    this.keys = this.keys.slice(full);
    this.bytes = 0;
    for (const k of this.keys) this.bytes += k.length;
  }

  private cached(b: number): string[] {
    const ids = this.recentIds;
    const i = ids.indexOf(b);
    if (i >= 0 && i === ids.length - 1) return this.recentBlocks[i]!;
    let keys: string[];
    if (i >= 0) {
      keys = this.recentBlocks.splice(i, 1)[0]!;
      ids.splice(i, 1);
    } else {
      keys = this.readBlock(b);
      if (ids.length >= CACHED_BLOCKS) {
        ids.shift();
        this.recentBlocks.shift();
      }
    }
    ids.push(b);
    this.recentBlocks.push(keys);
    return keys;
  }

  private readBlock(b: number): string[] {
    const file = this.file!;
    const start = this.blockAt[b]!;
    const end = b + 1 < this.blockAt.length ? this.blockAt[b + 1]! : file.size;
    const buf = Buffer.allocUnsafe(end - start);
    try {
      for (let at = 0; at < buf.length; ) {
        const got = fs.readSync(file.fd, buf, at, buf.length - at, start + at);
        if (got === 0) throw new Error('key list is truncated');
        at += got;
      }
    } catch (e) {
      throw ioError(e, file.path, 'cannot read key list');
    }
    const keys: string[] = [];
    for (let at = 0; at < buf.length; ) {
      const n = buf.readUInt32LE(at);
      keys.push(buf.toString('latin1', at + 4, at + 4 + n));
      at += 4 + n;
    }
    return keys;
  }
}
