/**
 * Directory target: the dump as a file tree under `root` (the staging
 * directory). A body that is one whole spilled run is renamed into place
 * (one disk write per byte); a small body is gathered in memory and written
 * in one go once verified; a large one is written to a private tmp file and
 * renamed into place once verified. Files are created exclusively and never
 * through a symlink (O_EXCL | O_NOFOLLOW), directories without following
 * one (lib/io/safe-mkdir.ts).
 */
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ioError } from '../errors.js';
import { printable } from '../core/printable.js';
import { CREATE_NEW } from '../io/fs-callbacks.js';
import { mkdirsNoFollow } from '../io/safe-mkdir.js';
import { SmallFileWriter } from '../io/small-file-writer.js';
import type { SealedRun, Span } from '../types.js';
import { DumpSink, type DumpSinkOptions } from './dump-sink.js';
import type { BodyWriter, Target } from './target.js';

/** Where a directory target writes. */
export interface DirectoryTargetOptions {
  /** The dump root (normally the staging directory). */
  root: string;
  /** A private directory on the same filesystem for body assembly. */
  tmpDir: string;
}

const DATA_MODE = 0o600;

/** Bodies up to this size are gathered in memory (bounded) and written in one go. */
export const SMALL_BODY_BYTES = 1 << 20;

/** The umask (read-only form; in doubt assume it masks everything, so modes are always set). */
function currentUmask(): number {
  try {
    return process.umask();
  } catch {
    return 0o777;
  }
}

export class DirectoryTarget implements Target {
  private readonly rootPrefix: Buffer;
  private readonly madeDirs = new Set<string>();
  private tmpCounter = 0;
  private readonly umask = currentUmask();
  private readonly writer = new SmallFileWriter();

  constructor(private readonly opts: DirectoryTargetOptions) {
    this.rootPrefix = Buffer.from(opts.root.endsWith('/') ? opts.root : `${opts.root}/`);
  }

  async putRun(rel: Buffer, run: SealedRun, mtime?: number): Promise<boolean> {
    this.ensureParent(rel);
    // A run on another file system (--scratch-dir elsewhere) cannot be renamed: the sink copies it.
    if (!(await rename(run.file.path, this.abs(rel), true))) return false;
    if (mtime !== undefined) await setMtime(this.abs(rel), mtime);
    return true;
  }

  async putSpans(rel: Buffer, size: number, _spans: readonly Span[], mtime?: number): Promise<BodyWriter> {
    this.ensureParent(rel);
    const dest = this.abs(rel);
    if (size <= SMALL_BODY_BYTES) return this.memoryBody(dest, size, mtime);
    const tmp = path.join(this.opts.tmpDir, `body-${this.tmpCounter++}`);
    let out: FileHandle;
    try {
      out = await fsp.open(tmp, CREATE_NEW, DATA_MODE);
    } catch (e) {
      throw ioError(e, tmp, 'cannot create');
    }
    let position = 0;
    let open = true;
    const close = async () => {
      if (open) await out.close();
      open = false;
    };
    return {
      wantsBytes: true,
      write: async (bytes) => {
        await writeFully(out, bytes, position, tmp);
        position += bytes.length;
      },
      commit: async () => {
        if (mtime !== undefined) await out.utimes(mtime, mtime);
        await close();
        await rename(tmp, dest, false);
      },
      abort: async () => {
        await close();
        await fsp.rm(tmp, { force: true });
      },
    };
  }

  /** A small body: gathered, then written with one call (a failing body never creates a file). */
  private memoryBody(dest: Buffer, size: number, mtime: number | undefined): BodyWriter {
    const data = Buffer.allocUnsafe(size);
    let at = 0;
    return {
      wantsBytes: true,
      write: async (bytes) => {
        bytes.copy(data, at);
        at += bytes.length;
      },
      commit: () => this.writeNew(dest, [data], DATA_MODE, mtime),
      abort: async () => {},
    };
  }

  async putFile(rel: Buffer, _size: number, pieces: Iterable<Buffer>, mode: number): Promise<void> {
    this.ensureParent(rel);
    await this.writeNew(this.abs(rel), pieces, mode);
  }

  /** Creates a file that must not exist yet, never through a symlink (see SmallFileWriter). */
  private async writeNew(file: Buffer, pieces: Iterable<Buffer>, mode: number, mtime?: number): Promise<void> {
    // The umask must not change the modes the SPEC fixes.
    await this.writer.write(file, pieces, mode, (mode & this.umask) !== 0, mtime);
  }

  async endBucket(): Promise<void> {}

  async finish(): Promise<void> {
    await this.writer.flush();
  }

  async close(): Promise<void> {
    await this.writer.close();
  }

  /** Object keys are raw bytes, UTF-8 or not: file system paths are Buffers. */
  private abs(rel: Buffer): Buffer {
    return Buffer.concat([this.rootPrefix, rel]);
  }

  private ensureParent(rel: Buffer): void {
    const slash = rel.lastIndexOf(0x2f);
    if (slash <= 0) return;
    // Never through a symbolic link planted in the staging area. Directories
    // are 0755 (SPEC §6): set explicitly when the umask would filter it.
    mkdirsNoFollow(this.rootPrefix, rel.subarray(0, slash), { mode: 0o755, setMode: (0o755 & this.umask) !== 0, known: this.madeDirs });
  }
}

/** Options of createDirectorySink(): the sink's and the directory target's. */
export interface DirectorySinkOptions extends DumpSinkOptions, DirectoryTargetOptions {}

/** The finalizing sink writing a directory tree. */
export function createDirectorySink(opts: DirectorySinkOptions): DumpSink {
  return new DumpSink(new DirectoryTarget(opts), opts);
}

/** Sets a file's access and modification times (never through a symlink: lutimes). */
async function setMtime(file: Buffer, mtime: number): Promise<void> {
  try {
    await fsp.lutimes(file, mtime, mtime);
  } catch (e) {
    throw ioError(e, printable(file), 'cannot set the modification time of');
  }
}

/**
 * Moves a finished file into place (planning guarantees the name is new).
 * With crossDeviceOk, a rename across filesystems returns false so the
 * caller copies instead.
 */
async function rename(from: string, to: Buffer, crossDeviceOk: boolean): Promise<boolean> {
  try {
    await fsp.rename(from, to);
    return true;
  } catch (e) {
    if (crossDeviceOk && (e as NodeJS.ErrnoException).code === 'EXDEV') return false;
    throw ioError(e, printable(to), 'cannot publish');
  }
}

async function writeFully(h: FileHandle, buf: Buffer, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    try {
      const { bytesWritten } = await h.write(buf, done, buf.length - done, position + done);
      done += bytesWritten;
    } catch (e) {
      throw ioError(e, file, 'cannot write');
    }
  }
}
