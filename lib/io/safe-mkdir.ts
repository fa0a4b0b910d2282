/**
 * Creating a dump's directories without following symbolic links. Node has
 * no mkdirat/openat, so each directory below a trusted root is made one
 * component at a time and then opened with O_DIRECTORY | O_NOFOLLOW: a
 * symbolic link (or a file) found where a directory belongs — planted in the
 * staging area while the run works — fails the run instead of sending files
 * elsewhere. The mode is set through that descriptor (fchmod), never
 * through a path that could have been swapped meanwhile.
 */
import fs from 'node:fs';
import { DecodeError, ioError } from '../errors.js';
import { printable } from '../core/printable.js';

const OPEN_DIR_NOFOLLOW = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;

/** How mkdirsNoFollow makes directories, and which it has made already. */
export interface SafeMkdirOptions {
  mode: number;
  /** Set the mode explicitly (when the umask would filter it). */
  setMode: boolean;
  /** Directories (relative, latin1) already made and checked: skipped. */
  known: Set<string>;
}

/** Makes root + dir and every directory between them (root ends with '/', and is trusted). */
export function mkdirsNoFollow(root: Buffer, dir: Buffer, opts: SafeMkdirOptions): void {
  if (opts.known.has(dir.toString('latin1'))) return;
  for (let i = dir.indexOf(0x2f); ; i = dir.indexOf(0x2f, i + 1)) {
    const sub = i < 0 ? dir : dir.subarray(0, i);
    const id = sub.toString('latin1');
    if (!opts.known.has(id)) {
      mkdirNoFollow(Buffer.concat([root, sub]), opts);
      opts.known.add(id);
    }
    if (i < 0) return;
  }
}

function mkdirNoFollow(abs: Buffer, opts: SafeMkdirOptions): void {
  try {
    fs.mkdirSync(abs, { mode: opts.mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(e, printable(abs), 'cannot create directory');
  }
  let fd: number;
  try {
    fd = fs.openSync(abs, OPEN_DIR_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      throw new DecodeError('ERR_IO', `${code}: a symbolic link or a file is where the dump needs a directory (not followed)`, { path: printable(abs) }, 'run', { cause: e });
    }
    throw ioError(e, printable(abs), 'cannot open directory');
  }
  try {
    if (opts.setMode) fs.fchmodSync(fd, opts.mode);
  } catch (e) {
    throw ioError(e, printable(abs), 'cannot set the mode of directory');
  } finally {
    fs.closeSync(fd);
  }
}
