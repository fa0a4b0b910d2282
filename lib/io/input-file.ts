/** Opening a snapshot file for reading. */
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ioError } from '../errors.js';
import { FileChunks } from './file-chunks.js';

/**
 * A snapshot file as a stream of 4 MiB reads, or `readSize`, into reused
 * shared buffers (ERR_IO naming it when it cannot be opened). 4 MiB: a
 * ~1 MiB blob chunk lies inside one read 3 times in 4, and is then passed
 * on where it was read (lib/io/shared-blocks.ts viewOf).
 */
export async function openInputFile(file: string, readSize = 4 << 20): Promise<Readable> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    throw ioError(e, file, 'cannot open input');
  }
  return new FileChunks(fh, readSize);
}
