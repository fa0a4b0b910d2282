/**
 * Reading dump files safely and once: opened with O_NOFOLLOW and checked to
 * be a regular file through the open descriptor (a symlink or FIFO swapped
 * in after the directory walk is refused, never followed), hashed as read.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { DecodeError, ioError } from '../errors.js';
import { LineFramer } from '../core/line-framer.js';

/** Small files (sidecars, _bucket.json, MANIFEST.json) are read whole up to this size. */
export const SMALL_FILE_MAX = 16 * 1024 * 1024;
const READ_BYTES = 1 << 20;

export interface FileHashes {
  size: number;
  sha256: string;
  md5?: string;
}

async function openRegular(abs: Buffer, show: string): Promise<fsp.FileHandle> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw ioError(e, show, 'cannot open');
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new DecodeError('ERR_DUMP_INVALID', 'not a regular file', { path: show });
  }
  return fh;
}

/** Reads a whole small file and its SHA-256. */
export async function readSmallFile(abs: Buffer, show: string): Promise<{ bytes: Buffer; sha256: string }> {
  const fh = await openRegular(abs, show);
  try {
    const st = await fh.stat();
    if (st.size > SMALL_FILE_MAX) throw new DecodeError('ERR_DUMP_INVALID', `file of ${st.size} bytes is too large for its role`, { path: show });
    const bytes = await fh.readFile();
    return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch (e) {
    throw ioError(e, show, 'cannot read');
  } finally {
    await fh.close();
  }
}

/**
 * Streams a file through onChunk (each chunk a fresh Buffer of up to
 * chunkBytes; the last may be shorter), computing SHA-256 and optionally MD5.
 */
export async function streamFile(abs: Buffer, show: string, opts: { md5: boolean; chunkBytes?: number; onChunk?: (b: Buffer) => Promise<void> | void }): Promise<FileHashes> {
  const fh = await openRegular(abs, show);
  const sha = createHash('sha256');
  const md5 = opts.md5 ? createHash('md5') : undefined;
  const want = opts.chunkBytes ?? READ_BYTES;
  let size = 0;
  try {
    for (;;) {
      // Fill a whole chunk before handing it on: chunk boundaries are part of the output.
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, null);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got === 0) break;
      const chunk = got === want ? buf : buf.subarray(0, got);
      sha.update(chunk);
      md5?.update(chunk);
      size += got;
      if (opts.onChunk) await opts.onChunk(chunk);
      if (got < want) break;
    }
  } catch (e) {
    throw ioError(e, show, 'cannot read');
  } finally {
    await fh.close();
  }
  return { size, sha256: sha.digest('hex'), ...(md5 ? { md5: md5.digest('hex') } : {}) };
}

/** Feeds chunks, calls onLine (awaited, in order) with each line without its '\n', numbered from 1. */
export class LineFeeder {
  private readonly framer = new LineFramer();
  private readonly pending: Buffer[] = [];
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

  private async drain(): Promise<void> {
    for (const l of this.pending.splice(0)) await this.onLine(l, ++this.n);
  }
}

/** Streams a file line by line (without '\n'), returning its SHA-256. */
export async function readLines(abs: Buffer, show: string, onLine: (line: Buffer, n: number) => Promise<void> | void): Promise<FileHashes> {
  const feeder = new LineFeeder(onLine);
  const h = await streamFile(abs, show, { md5: false, onChunk: (chunk) => feeder.feed(chunk) });
  await feeder.end();
  return h;
}
