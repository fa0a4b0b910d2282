/**
 * Bytes [offset, offset + length) of an open file as an Md5Stream
 * (lib/core/md5-lanes.ts): read with readSync where the hasher asks. A file
 * shorter than the range is an error (code ERR_SHORT_FILE), never a
 * digest of fewer bytes.
 */
import { readSync } from 'node:fs';
import type { Md5Stream } from '../core/md5-lanes.js';

export function fileRangeStream(fd: number, offset: number, length: number): Md5Stream {
  return {
    length,
    read(into: Uint8Array, position: number) {
      for (let at = 0; at < into.length; ) {
        const got = readSync(fd, into, at, into.length - at, offset + position + at);
        if (got === 0) throw Object.assign(new Error(`the file ended at byte ${offset + position + at}, inside a range to hash`), { code: 'ERR_SHORT_FILE' });
        at += got;
      }
    },
  };
}
