/**
 * Standard input as the decoder reads it. Node's own stdin stream reads a
 * file or a pipe 64 KiB at a time into a new buffer each: fresh memory for
 * every read, and chunks too short for a ~1 MiB blob chunk to lie inside one.
 * So on the main thread, where process.stdin is descriptor 0, a regular file
 * (`< snap.fsm`) is read as openInputFile reads a file (from where it
 * stands), and a pipe or socket (`cat snap.fsm |`) in chunks of the same size
 * (lib/io/pipe-chunks.ts). A worker thread's process.stdin is a stream of its
 * own, not descriptor 0: there, and for anything else (a terminal, a
 * character device), process.stdin is read as it is. A program that reads
 * process.stdin itself hands that stream over as the input, not "-": both
 * would read descriptor 0.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { isatty } from 'node:tty';
import { promisify } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { ioError } from '../errors.js';
import { FileChunks, type ChunkSource } from './file-chunks.js';
import { READ_BYTES, type InputFileOptions } from './input-file.js';
import { PipeChunks } from './pipe-chunks.js';

/**
 * Standard input as a stream of reads of opts.readSize (default READ_BYTES), or
 * process.stdin where that is what is to be read. A directory (`< dir`), of
 * which Node would make an empty stream, is refused (ERR_IO, EISDIR) rather
 * than decoded as nothing.
 */
export function openStdin(opts: InputFileOptions = {}): Readable {
  let st: fs.Stats | undefined;
  try {
    st = fs.fstatSync(0);
  } catch {
    /* process.stdin reports it */
  }
  if (st?.isDirectory()) throw ioError(Object.assign(new Error('illegal operation on a directory'), { code: 'EISDIR' }), '-', 'cannot read input');
  if (st && isMainThread) {
    const readSize = opts.readSize ?? READ_BYTES;
    const shared = opts.shared ?? false;
    if (st.isFIFO() || st.isSocket()) return new PipeChunks(0, readSize, shared);
    if (st.isFile()) return new FileChunks(descriptor0, readSize, shared);
  }
  return process.stdin;
}

/**
 * Whether standard input is a terminal, without making process.stdin on the
 * main thread (it would open descriptor 0 a second time beside PipeChunks).
 */
export function stdinIsTTY(): boolean {
  return isMainThread ? isatty(0) : process.stdin.isTTY === true;
}

const read = promisify(fs.read);

/** Descriptor 0, read where it stands and left open: it is the process's, not this reader's. */
const descriptor0: ChunkSource = {
  read: (buffer, offset, length, position) => read(0, buffer, offset, length, position),
  close: async () => {},
};
