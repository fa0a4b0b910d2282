/**
 * A dump given as a tar / tar.gz stream is unpacked into a private scratch
 * directory first: the encoder must read bodies in encoded-key order, which
 * is not the archive's order. Only regular files and directories are
 * accepted (a symlink, hard link or device entry is refused, not
 * recreated); every file is created new (a path given twice is refused),
 * owner-only.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fs from 'node:fs';
import { DecodeError, ioError } from '../errors.js';
import { CREATE_NEW } from '../io/fs-callbacks.js';
import { forEachTarEntry } from '../verify/tar-entries.js';

/** Unpacks the archive into dir (which must exist and be empty). */
export async function extractDumpTar(input: Readable, dir: string, signal?: AbortSignal): Promise<void> {
  const made = new Set<string>(['']);
  const mkdirs = async (rel: string) => {
    if (made.has(rel)) return;
    await mkdirs(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel));
    try {
      await fsp.mkdir(path.join(dir, rel), { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(e, rel, 'cannot unpack the dump');
      const st = await fsp.lstat(path.join(dir, rel));
      if (!st.isDirectory()) throw new DecodeError('ERR_DUMP_INVALID', 'tar entry is both a file and a directory', { path: rel });
    }
    made.add(rel);
  };
  await forEachTarEntry(input, async (e) => {
    signal?.throwIfAborted();
    const rel = e.path.toString('utf8');
    if (e.type === 'directory') return mkdirs(rel);
    if (e.type !== 'file') throw new DecodeError('ERR_DUMP_INVALID', `tar entry is a ${e.type}, not a regular file or directory: refused`, { path: rel });
    const parent = path.posix.dirname(rel);
    await mkdirs(parent === '.' ? '' : parent);
    let fd: number;
    try {
      fd = await new Promise<number>((res, rej) => fs.open(path.join(dir, rel), CREATE_NEW, 0o600, (err, f) => (err ? rej(err) : res(f))));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new DecodeError('ERR_DUMP_INVALID', 'tar entry appears twice (or is also a directory)', { path: rel });
      throw ioError(err, rel, 'cannot unpack the dump');
    }
    await pipeline(e.stream, fs.createWriteStream('', { fd })).catch((err: unknown) => {
      throw ioError(err, rel, 'cannot unpack the dump');
    });
  });
}
