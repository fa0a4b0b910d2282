/**
 * Small fs helpers for the hot paths: callback style for the stages (callbacks
 * avoid a promise per chunk), every error turned into ERR_IO naming the path;
 * and the one way the sinks create a small file.
 */
import fs from 'node:fs';
import { ioError, type DecodeError } from '../errors.js';

export type Done = (err?: DecodeError | null) => void;

/** pwrite()s all of buf at position, looping over short writes. */
export function writeAll(fd: number, buf: Buffer, position: number, path: string, done: Done): void {
  if (buf.length === 0) return done();
  fs.write(fd, buf, 0, buf.length, position, (err, written) => {
    if (err) return done(ioError(err, path, 'cannot write'));
    if (written < buf.length) return writeAll(fd, buf.subarray(written), position + written, path, done);
    done();
  });
}

/**
 * Open flags for every file the tool creates: it must not exist yet (no
 * reuse of a file or hard link already there) and is never reached through
 * a symlink (O_NOFOLLOW; O_EXCL already refuses a symlink in the last place).
 */
export const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

export function openExclusive(path: string, done: (err: DecodeError | null, fd?: number) => void): void {
  fs.open(path, CREATE_NEW, 0o600, (err, fd) => {
    if (err) return done(ioError(err, path, 'cannot create'));
    done(null, fd);
  });
}

export function closeFd(fd: number, path: string, done: Done): void {
  fs.close(fd, (err) => (err ? done(ioError(err, path, 'cannot close')) : done()));
}

/**
 * Creates a file that must not exist yet (CREATE_NEW) and writes pieces to
 * it, synchronously: small files are cheaper this way than with a thread-pool
 * round trip per open/write/close. With chmod the mode is set explicitly (the
 * umask must not change the modes the SPEC fixes). With mtime (seconds
 * since the epoch) the file's access and modification times are set
 * through the descriptor. Throws the fs error.
 */
export function writeNewFileSync(file: Buffer | string, pieces: Iterable<Uint8Array>, mode: number, chmod: boolean, mtime?: number): void {
  const fd = fs.openSync(file, CREATE_NEW, mode);
  try {
    for (const data of pieces) {
      let done = 0;
      while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done);
    }
    if (chmod) fs.fchmodSync(fd, mode);
    if (mtime !== undefined) fs.futimesSync(fd, mtime, mtime);
  } finally {
    fs.closeSync(fd);
  }
}
