/** Opening a snapshot file for reading. */
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ioError } from '../errors.js';
import { FileChunks } from './file-chunks.js';

/** How a snapshot file is read. */
export interface InputFileOptions {
  /** Bytes per read (default READ_BYTES; SHARED_READ_BYTES is what the decoder reads). */
  readSize?: number;
  /**
   * Read into shared memory that the consumer hands back (recycleChunk,
   * lib/io/file-chunks.ts), for the snapshot reader and FsmToJsonl only: a
   * consumer that does not hand chunks back leaves them to the garbage
   * collector, which frees shared memory late (1 GiB read by such a
   * consumer in 1 MiB reads: 259 MiB peak RSS, against 83 MiB with plain
   * buffers).
   */
  shared?: boolean;
}

/** Bytes per read when InputFileOptions give none. */
export const READ_BYTES = 1 << 20;

/**
 * Read size of the decoder's input: a ~1 MiB blob chunk lies inside one
 * 4 MiB read 3 times in 4, and is then passed on where it was read
 * (lib/io/shared-blocks.ts viewOf).
 */
export const SHARED_READ_BYTES = 4 << 20;

/** A snapshot file as a stream of reads (ERR_IO naming it when it cannot be opened). */
export async function openInputFile(file: string, opts: InputFileOptions = {}): Promise<Readable> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    throw ioError(e, file, 'cannot open input');
  }
  return new FileChunks(fh, opts.readSize ?? READ_BYTES, opts.shared ?? false);
}
