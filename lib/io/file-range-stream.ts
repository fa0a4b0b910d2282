/**
 * Bytes [offset, offset + length) of an open file as an Md5Stream
 * (lib/core/md5-lanes.ts), read where the hasher asks with readScratch
 * (lib/io/read-window.ts): a file shorter than the range is an ERR_IO
 * naming it, never a digest of fewer bytes.
 */
import type { Md5Stream } from '../core/md5-lanes.js';
import { readScratch } from './read-window.js';

export function fileRangeStream(fd: number, path: string, offset: number, length: number): Md5Stream {
  return { length, read: (into, position) => readScratch(fd, path, into, 0, into.length, offset + position) };
}
