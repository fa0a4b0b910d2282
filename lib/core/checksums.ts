/**
 * CHECKSUMS in sha256sum's format (SPEC §6): `<hex>  <path>\n` sorted
 * bytewise by path. A path holding `\n`, `\r` or `\` is written in
 * sha256sum's escaped form: the line starts with `\` and those bytes become
 * `\n`, `\r`, `\\`.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ioError } from '../errors.js';
import { ExternalSorter, metadataBudget, type SortRecord } from '../io/external-sort.js';

export interface ChecksumEntry {
  /** Path relative to the dump root, '/'-separated, raw bytes. */
  path: Buffer;
  sha256: Buffer;
}

export function renderChecksums(entries: ChecksumEntry[]): Buffer {
  const list = new ChecksumList();
  for (const e of entries) void list.add(e.path, e.sha256);
  return list.render();
}

/** Bytes of entries held in memory before a sorted run is spilled (with a scratch directory). */
export const CHECKSUM_BUDGET = 8 * 1024 * 1024;

/** CHECKSUMS is handed out in pieces of about this many bytes. */
const PIECE_BYTES = 1 << 20;

/**
 * The checksums of a dump as it is written: one per file, and a dump may
 * have millions. Entries go to an external sort (path, digest): held in
 * memory up to a budget, beyond it (given a scratch directory) spilled as
 * sorted runs, which finish() merges into the rendered text in a scratch
 * file; pieces() then reads it back a piece at a time.
 */
export class ChecksumList {
  private readonly sorter: ExternalSorter;
  private readonly dir: string | undefined;
  private n = 0;
  private size = 0;
  /** The rendered text, once finish() merged spilled runs. */
  private merged: string | undefined;

  /** scratchDir: where runs and the merged text go (removed by its owner); without it everything stays in memory. */
  constructor(opts: { scratchDir?: string; budgetBytes?: number } = {}) {
    this.dir = opts.scratchDir;
    const name = `checksums-${randomBytes(4).toString('hex')}`;
    this.sorter = new ExternalSorter({ dir: opts.scratchDir ?? '', name, budgetBytes: opts.scratchDir === undefined ? Infinity : (opts.budgetBytes ?? metadataBudget(CHECKSUM_BUDGET)) });
  }

  get length(): number {
    return this.n;
  }

  /** Sorted runs spilled so far. */
  get runs(): number {
    return this.sorter.runCount;
  }

  /** Adds a file's checksum. Returns a promise, to wait for before the next add(), only when a run was spilled. */
  add(path: Buffer, sha256: Buffer): Promise<void> | undefined {
    this.n++;
    this.size += lineLength(path);
    return this.sorter.add(path, sha256.subarray(0, 32));
  }

  /** After the last add(): merges spilled runs into the rendered text (nothing to do when none were). */
  async finish(): Promise<void> {
    if (this.sorter.runCount === 0) return;
    const file = path.join(this.dir!, `${this.sorter.name}-merged`);
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx', 0o600);
    } catch (e) {
      throw ioError(e, file, 'cannot create CHECKSUMS scratch');
    }
    try {
      // Lines rendered straight into one buffer: records batched until written would pile up in V8's old generation.
      let out = Buffer.allocUnsafe(PIECE_BYTES);
      let used = 0;
      const flush = (): void => {
        for (let at = 0; at < used; ) at += fs.writeSync(fd, out, at, used - at);
        used = 0;
      };
      for await (const r of this.sorter.sorted()) {
        const n = lineLength(r.key);
        if (used + n > out.length) flush();
        if (n > out.length) out = Buffer.allocUnsafe(n);
        used = renderLine(r, out, used);
      }
      flush();
    } catch (e) {
      throw ioError(e, file, 'cannot write CHECKSUMS scratch');
    } finally {
      fs.closeSync(fd);
      await this.sorter.close();
    }
    this.merged = file;
  }

  /** CHECKSUMS bytes, sorted bytewise by path. */
  render(): Buffer {
    const { size, pieces } = this.pieces();
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (const p of pieces) at += p.copy(out, at);
    return out;
  }

  /**
   * CHECKSUMS as pieces of about PIECE_BYTES, made (or read back) as they
   * are consumed, and their total size: a dump of millions of files need
   * not hold the whole text (some 100 bytes per file) at once. Once only;
   * after finish() when runs were spilled. A piece may be overwritten once
   * the next is taken (Target.putFile's contract).
   */
  pieces(): { size: number; pieces: Iterable<Buffer> } {
    const held = this.sorter.inMemory();
    if (held) return { size: this.size, pieces: renderPieces(held) };
    if (this.merged === undefined) throw new Error('ChecksumList: pieces() before finish()');
    return { size: this.size, pieces: readPieces(this.merged) };
  }
}

/** Rendered lines of records in key order, about PIECE_BYTES at a time. */
function* renderPieces(records: Iterable<SortRecord>): Generator<Buffer> {
  let batch: SortRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    batch.push(r);
    bytes += lineLength(r.key);
    if (bytes >= PIECE_BYTES) {
      yield renderLines(batch, bytes);
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) yield renderLines(batch, bytes);
}

/**
 * A rendered file read back in pieces, removed once read. One buffer for
 * every piece: a new one per piece, taken by a synchronous loop (the file
 * written at once), was garbage that V8 collected only after tens of MiB
 * of it (its external-memory trigger), the peak of a million-object decode.
 */
function* readPieces(file: string): Generator<Buffer> {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.allocUnsafe(PIECE_BYTES);
    for (;;) {
      const got = fs.readSync(fd, b, 0, b.length, null);
      if (got === 0) break;
      yield b.subarray(0, got);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

function lineLength(p: Buffer): number {
  return (needsEscape(p) ? 1 + escapePath(p).length : p.length) + 64 + 3;
}

/** The lines of (path, digest) records, bytes long in all. */
function renderLines(records: SortRecord[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let o = 0;
  for (const r of records) o = renderLine(r, out, o);
  return out;
}

/** Renders the line of a (path, digest) record into out at o; returns the offset after it. */
function renderLine(r: SortRecord, out: Buffer, o: number): number {
  let p = r.key;
  if (needsEscape(p)) {
    out[o++] = 0x5c;
    p = escapePath(p);
  }
  o += out.write(r.payload.toString('hex'), o, 'latin1');
  out[o++] = 0x20;
  out[o++] = 0x20;
  o += p.copy(out, o);
  out[o++] = 0x0a;
  return o;
}

function needsEscape(p: Buffer): boolean {
  return p.includes(0x0a) || p.includes(0x0d) || p.includes(0x5c);
}

function escapePath(p: Buffer): Buffer {
  const out: number[] = [];
  for (const b of p) {
    if (b === 0x0a) out.push(0x5c, 0x6e);
    else if (b === 0x0d) out.push(0x5c, 0x72);
    else if (b === 0x5c) out.push(0x5c, 0x5c);
    else out.push(b);
  }
  return Buffer.from(out);
}
