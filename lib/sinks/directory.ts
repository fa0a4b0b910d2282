/**
 * Directory target: the dump as a file tree under `root` (the staging
 * directory). A body that is exactly one spilled run is renamed into place
 * (its hashes were computed as it was spilled: one disk write per byte);
 * any other body is assembled in a private tmp directory while hashing and
 * renamed into place once verified. Files are created exclusively and never
 * through a symlink (O_EXCL | O_NOFOLLOW).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { DecodeError, ioError } from '../errors.js';
import { printable } from '../core/printable.js';
import type { ObjectPlan } from '../core/plan.js';
import { copyBody, readSmallBody, SMALL_BODY_BYTES, verifyRun } from './body.js';
import { PositionedReader } from '../io/positioned-reader.js';
import { DumpSink, type DumpSinkOptions } from './dump-sink.js';
import { SmallFileWriter } from '../io/small-file-writer.js';
import type { Target } from './target.js';

export interface DirectoryTargetOptions {
  /** The dump root (normally the staging directory). */
  root: string;
  /** A private directory on the same filesystem for body assembly. */
  tmpDir: string;
}

const DATA_MODE = 0o600;

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

  constructor(
    private readonly opts: DirectoryTargetOptions,
    private readonly reader: PositionedReader,
  ) {
    this.rootPrefix = Buffer.from(opts.root.endsWith('/') ? opts.root : `${opts.root}/`);
  }

  async body(rel: Buffer, obj: ObjectPlan, verify: boolean, ctx: { bucket: Buffer; object: Buffer }): Promise<Buffer | DecodeError> {
    const dest = this.abs(rel);
    this.ensureParent(rel);
    const run = obj.run;
    if (run && !run.consumed) {
      const err = verify ? await verifyRun(obj, this.reader, ctx) : null;
      if (err) return err;
      if (await publish(run.path, dest, true)) {
        run.consumed = true;
        return run.hashes!.sha256;
      }
    }
    if (obj.size <= SMALL_BODY_BYTES) {
      // Verified in memory first, so a failing body never creates a file.
      const small = await readSmallBody(obj, this.reader, verify, ctx);
      if (small instanceof DecodeError) return small;
      await this.writeNew(dest, [small.data], DATA_MODE);
      return small.sha256;
    }
    const tmp = path.join(this.opts.tmpDir, `body-${this.tmpCounter++}`);
    const result = await copyBody(obj, tmp, this.reader, verify, ctx);
    if (result instanceof DecodeError) return result;
    await publish(tmp, dest, false);
    return result;
  }

  async file(rel: Buffer, data: Buffer, mode: number): Promise<void> {
    this.ensureParent(rel);
    await this.writeNew(this.abs(rel), [data], mode);
  }

  async fileInPieces(rel: Buffer, _size: number, pieces: Iterable<Buffer>, mode: number): Promise<void> {
    this.ensureParent(rel);
    await this.writeNew(this.abs(rel), pieces, mode);
  }

  /** Creates a file that must not exist yet, never through a symlink (see SmallFileWriter). */
  private async writeNew(file: Buffer, pieces: Iterable<Buffer>, mode: number): Promise<void> {
    // The umask must not change the modes the SPEC fixes.
    await this.writer.write(file, pieces, mode, (mode & this.umask) !== 0);
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
    const dir = rel.subarray(0, slash);
    const id = dir.toString('latin1');
    if (this.madeDirs.has(id)) return;
    try {
      fs.mkdirSync(this.abs(dir), { recursive: true, mode: 0o755 });
    } catch (e) {
      throw ioError(e, printable(this.abs(dir)), 'cannot create directory');
    }
    // mkdir's mode is filtered by the umask (077 would give 0700): directories
    // are 0755 (SPEC §6), so set every new one explicitly when the umask matters.
    for (let i = dir.indexOf(0x2f); ; i = dir.indexOf(0x2f, i + 1)) {
      const sub = i < 0 ? dir : dir.subarray(0, i);
      const subId = sub.toString('latin1');
      if (!this.madeDirs.has(subId)) {
        if ((0o755 & this.umask) !== 0) {
          try {
            fs.chmodSync(this.abs(sub), 0o755);
          } catch (e) {
            throw ioError(e, printable(this.abs(sub)), 'cannot set the mode of directory');
          }
        }
        this.madeDirs.add(subId);
      }
      if (i < 0) break;
    }
    this.madeDirs.add(id);
  }
}

export interface DirectorySinkOptions extends DumpSinkOptions, DirectoryTargetOptions {}

/** The finalizing sink writing a directory tree. */
export function createDirectorySink(opts: DirectorySinkOptions): DumpSink {
  const reader = new PositionedReader();
  return new DumpSink(new DirectoryTarget(opts, reader), opts, reader);
}

/**
 * Moves a finished body into place (planning guarantees the name is new).
 * With crossDeviceOk, a rename across filesystems (a --scratch-dir elsewhere)
 * returns false so the caller copies instead.
 */
async function publish(from: string, to: Buffer, crossDeviceOk: boolean): Promise<boolean> {
  try {
    await fsp.rename(from, to);
    return true;
  } catch (e) {
    if (crossDeviceOk && (e as NodeJS.ErrnoException).code === 'EXDEV') return false;
    throw ioError(e, printable(to), 'cannot publish');
  }
}
