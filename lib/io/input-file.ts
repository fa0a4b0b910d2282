/** Opening a snapshot file for reading. */
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ioError } from '../errors.js';
import { FileChunks } from './file-chunks.js';

/** A snapshot file as a stream of 1 MiB reads, or `readSize`, into reused buffers (ERR_IO naming it when it cannot be opened). */
export async function openInputFile(file: string, readSize = 1 << 20): Promise<Readable> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    throw ioError(e, file, 'cannot open input');
  }
  return new FileChunks(fh, readSize);
}
