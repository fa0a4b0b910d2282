/**
 * Reading dump files safely and once: opened with O_NOFOLLOW and checked to
 * be a regular file through the open descriptor (a symlink or FIFO swapped
 * in after the directory walk is refused, never followed), hashed as read.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { DecodeError, ioError } from '../errors.js';
import { LineFramer } from '../core/line-framer.js';
import { Breather } from '../io/breather.js';
import { BLOCK_BYTES, releaseBlock, takeBlock } from '../io/shared-blocks.js';
import type { HashPool } from '../stages/hash-pool.js';

/** Small files (sidecars, _bucket.json, MANIFEST.json) are read whole up to this size. */
export const SMALL_FILE_MAX = 16 * 1024 * 1024;
const READ_BYTES = 1 << 20;

export interface FileHashes {
  size: number;
  sha256: string;
  md5?: string;
}

/**
 * Opens a regular file for reading (never through a symlink, never blocking
 * on a FIFO). Synchronous on purpose: a dump is mostly small files, read
 * one after another, where a trip through the thread pool per call costs
 * more than the call.
 */
function openRegular(abs: Buffer, show: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw ioError(e, show, 'cannot open');
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new DecodeError('ERR_DUMP_INVALID', 'not a regular file', { path: show });
  }
  return { fd, size: st.size };
}

/** Reads up to n bytes at the current position; fewer only at end of file, or once `enough` are in (see readInto). */
function readUpTo(fd: number, n: number, show: string, enough = n): Buffer {
  const buf = Buffer.allocUnsafe(n);
  const got = readInto(fd, buf, show, enough);
  return got === n ? buf : buf.subarray(0, got);
}

const grew = (show: string) => new DecodeError('ERR_DUMP_INVALID', 'the file changed while it was read', { path: show });

/** Reads a whole small file and its SHA-256. */
export function readSmallFile(abs: Buffer, show: string): { bytes: Buffer; sha256: string } {
  const { fd, size } = openRegular(abs, show);
  try {
    if (size > SMALL_FILE_MAX) throw new DecodeError('ERR_DUMP_INVALID', `file of ${size} bytes is too large for its role`, { path: show });
    const bytes = readUpTo(fd, size + 1, show, size);
    if (bytes.length !== size) throw grew(show);
    return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Streams a file through onChunk (chunks of chunkBytes, default 1 MiB; the
 * last may be shorter), computing SHA-256 and optionally MD5. A chunk is
 * valid until onChunk's promise resolves: every chunk of the file is read
 * into one block taken from the shared free list (lib/io/shared-blocks.ts)
 * and given back at the end, so a dump of a million small files is read
 * without a new buffer per file. The size is taken when the file is
 * opened: a file that grows or shrinks meanwhile is an error, not a
 * silently different body.
 */
export async function streamFile(
  abs: Buffer,
  show: string,
  opts: { md5: boolean; chunkBytes?: number; onChunk?: (b: Buffer) => Promise<void> | void; pool?: HashPool },
): Promise<FileHashes> {
  const { fd, size } = openRegular(abs, show);
  if (opts.pool && !opts.onChunk && size >= POOL_MIN) return hashOnWorkers(fd, size, show, opts.pool, opts.md5);
  const sha = createHash('sha256');
  const md5 = opts.md5 ? createHash('md5') : undefined;
  const want = opts.chunkBytes ?? READ_BYTES;
  // A file shorter than a chunk gets one byte of room more, so that its one
  // read can ask past the end and, coming back short, find it.
  const n = Math.max(1, Math.min(want, size + 1));
  const buf = n <= BLOCK_BYTES ? takeBlock(n) : Buffer.allocUnsafe(n);
  try {
    for (let done = 0; ; ) {
      const length = Math.min(want, size - done);
      const last = done + length === size;
      const past = last && length < buf.length;
      const got = readInto(fd, buf.subarray(0, past ? length + 1 : length), show, length);
      if (got !== length) throw grew(show);
      done += length;
      if (length > 0) {
        const chunk = buf.subarray(0, length);
        sha.update(chunk);
        md5?.update(chunk);
        if (opts.onChunk) await opts.onChunk(chunk);
      }
      if (!last) continue;
      // A last chunk that fills the buffer: the end takes a read of its own.
      if (!past && readInto(fd, buf.subarray(0, 1), show) !== 0) throw grew(show);
      break;
    }
  } finally {
    fs.closeSync(fd);
    releaseBlock(buf);
  }
  return { size, sha256: sha.digest('hex'), ...(md5 ? { md5: md5.digest('hex') } : {}) };
}

/** Files at least this large are hashed on the pool's workers (below, a round trip per file costs more than it saves). */
const POOL_MIN = 4 << 20;
let nextRun = 0;

/**
 * streamFile's hashing on a HashPool: each read goes into a shared block
 * the workers hash in place, SHA-256 and MD5 on two cores while this thread
 * reads on. Closes fd.
 */
async function hashOnWorkers(fd: number, size: number, show: string, pool: HashPool, md5: boolean): Promise<FileHashes> {
  const id = nextRun++;
  pool.begin(id);
  try {
    for (let done = 0; done < size; ) {
      const block = takeBlock(Math.min(BLOCK_BYTES, size - done));
      let got = 0;
      try {
        got = readInto(fd, block, show);
        if (got > 0) await pool.update(id, 1n, 0n, block.subarray(0, got));
      } finally {
        releaseBlock(block);
      }
      if (got < block.length) throw grew(show);
      done += got;
    }
    if (readUpTo(fd, 1, show).length !== 0) throw grew(show);
  } catch (e) {
    await pool.seal(id).catch(() => {}); // the workers forget the run
    throw e;
  } finally {
    fs.closeSync(fd);
  }
  const h = await pool.seal(id);
  const part = h.parts[0];
  return { size, sha256: h.sha256.toString('hex'), ...(md5 && part?.md5 ? { md5: part.md5.toString('hex') } : {}) };
}

/**
 * Reads into buf from the current position until `enough` bytes are in
 * (all of buf unless told) or the file ends; returns the bytes read. With
 * `enough` one short of buf's length, a read that stops there (a regular
 * file's read is short only at its end) saves the read that would return 0.
 */
function readInto(fd: number, buf: Buffer, show: string, enough = buf.length): number {
  let got = 0;
  try {
    do {
      const r = fs.readSync(fd, buf, got, buf.length - got, null);
      if (r === 0) break;
      got += r;
    } while (got < enough);
  } catch (e) {
    throw ioError(e, show, 'cannot read');
  }
  return got;
}

/** Feeds chunks, calls onLine (awaited, in order) with each line without its '\n', numbered from 1. */
export class LineFeeder {
  /** reuse: streamFile's chunks are not to be kept, and collect copies each line. */
  private readonly framer = new LineFramer({ reuse: true });
  private readonly pending: Buffer[] = [];
  private readonly breather = new Breather();
  private n = 0;
  private readonly collect = (l: Buffer) => {
    this.pending.push(Buffer.from(l));
  };

  constructor(private readonly onLine: (line: Buffer, n: number) => Promise<void> | void) {}

  async feed(chunk: Buffer): Promise<void> {
    this.framer.write(chunk, this.collect);
    await this.drain();
  }

  /** The last line when it has no '\n'. */
  async end(): Promise<void> {
    this.framer.end(this.collect);
    await this.drain();
  }

  /**
   * The reads are synchronous and a large dump's CHECKSUMS is hundreds of
   * MiB of lines, so the loop is let turn between lines (lib/io/breather.ts).
   */
  private async drain(): Promise<void> {
    for (const l of this.pending.splice(0)) {
      await this.onLine(l, ++this.n);
      // The clock read every 256 lines: on every line it cost 20 % of the reading.
      if ((this.n & 255) === 0 && this.breather.due) await this.breather.breathe();
    }
  }
}

/**
 * readLines' reads. A chunk's lines are copied and held until handled, so
 * small: with 1 MiB reads (~10 000 lines of CHECKSUMS held at once) the
 * (c) encode peaked 183–191 MiB on Node 24, with 64 KiB 173–184.
 */
const LINES_CHUNK_BYTES = 64 * 1024;

/**
 * A file's lines pulled one at a time (without '\n'), for walking two
 * sorted files side by side. Lines are views of 64 KiB reads taken fresh
 * each time (a line spanning two reads is joined), so a line stays valid
 * after the next one is read. No hash is computed.
 */
export class LineCursor {
  private readonly fd: number;
  private readonly framer = new LineFramer();
  private readonly lines: Buffer[] = [];
  private head = 0;
  private ended = false;
  private readonly collect = (l: Buffer) => {
    this.lines.push(l);
  };
  /** Lines taken so far: the number of the line next() returned last. */
  n = 0;

  constructor(
    abs: Buffer,
    private readonly show: string,
  ) {
    this.fd = openRegular(abs, show).fd;
  }

  /** The next line, or undefined at the end of the file. */
  next(): Buffer | undefined {
    while (this.head === this.lines.length) {
      if (this.ended) return undefined;
      this.lines.length = 0;
      this.head = 0;
      const chunk = Buffer.allocUnsafe(LINES_CHUNK_BYTES);
      const got = readInto(this.fd, chunk, this.show);
      if (got > 0) this.framer.write(chunk.subarray(0, got), this.collect);
      else {
        this.framer.end(this.collect);
        this.ended = true;
      }
    }
    this.n++;
    return this.lines[this.head++];
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Streams a file line by line (without '\n'), returning its SHA-256. */
export async function readLines(abs: Buffer, show: string, onLine: (line: Buffer, n: number) => Promise<void> | void): Promise<FileHashes> {
  const feeder = new LineFeeder(onLine);
  const h = await streamFile(abs, show, { md5: false, chunkBytes: LINES_CHUNK_BYTES, onChunk: (chunk) => feeder.feed(chunk) });
  await feeder.end();
  return h;
}
